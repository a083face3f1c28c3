package engine_test

import (
	"context"
	"fmt"
	"iter"
	"maps"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// twoWay is an in-memory system for the two-way tests: records are string
// maps; every change takes the next sequence number as its version and
// cursor, and every write through the connector is counted.
type twoWay struct {
	// failAfterApply makes the next n updates (failCreateAfterApply:
	// creates) apply and then answer an error (a 500 after the write, a
	// lost answer).
	failAfterApply, failCreateAfterApply int

	mu     sync.Mutex
	recs   map[string]map[string]string
	ver    map[string]int64
	seq    *int64
	next   int
	prefix string
	writes int
}

type twoRec struct {
	ID  string
	F   map[string]string
	Ver int64
}

func newTwoWay(prefix string, seq *int64) *twoWay {
	return &twoWay{recs: map[string]map[string]string{}, ver: map[string]int64{}, seq: seq, prefix: prefix}
}

func (s *twoWay) set(id string, f map[string]string) {
	*s.seq++
	if s.recs[id] == nil {
		s.recs[id] = map[string]string{}
	}
	maps.Copy(s.recs[id], f)
	s.ver[id] = *s.seq
}

// put is a user's change.
func (s *twoWay) put(id string, f map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.set(id, f)
}

func (s *twoWay) get(id string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.recs[id])
}

func (s *twoWay) poll(_ context.Context, since engine.Cursor) iter.Seq2[twoRec, error] {
	s.mu.Lock()
	var out []twoRec
	for id, f := range s.recs {
		if s.ver[id] >= since.Int {
			out = append(out, twoRec{ID: id, F: maps.Clone(f), Ver: s.ver[id]})
		}
	}
	s.mu.Unlock()
	return func(yield func(twoRec, error) bool) {
		for _, r := range out {
			if !yield(r, nil) {
				return
			}
		}
	}
}

func (s *twoWay) create(_ context.Context, w *write, _ string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	id := s.prefix + strconv.Itoa(s.next)
	s.set(id, unquote(w.F))
	s.writes++
	if s.failCreateAfterApply > 0 {
		s.failCreateAfterApply--
		return "", fmt.Errorf("500 after the create applied")
	}
	return id, nil
}

// find returns the record whose field holds value (a natural-key find).
func (s *twoWay) find(field string) func(context.Context, string) (string, bool, error) {
	return func(_ context.Context, value string) (string, bool, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		for id, f := range s.recs {
			if f[field] == value {
				return id, true, nil
			}
		}
		return "", false, nil
	}
}

// fetch reads one record (a webhook's or a re-read's Fetch).
func (s *twoWay) fetch(_ context.Context, id string) (twoRec, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.recs[id] == nil {
		return twoRec{}, fmt.Errorf("%s: %w", id, engine.ErrNotFound)
	}
	return twoRec{ID: id, F: maps.Clone(s.recs[id]), Ver: s.ver[id]}, nil
}

func (s *twoWay) update(_ context.Context, id string, w *write, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.recs[id] == nil {
		return fmt.Errorf("%s: %w", id, engine.ErrNotFound)
	}
	s.set(id, unquote(w.F))
	s.writes++
	if s.failAfterApply > 0 {
		s.failAfterApply--
		return fmt.Errorf("500 after the write applied")
	}
	return nil
}

// current reads a record's fields as the target's Current does, renamed
// to target paths.
func (s *twoWay) current(names map[string]string) func(context.Context, string) (map[string]string, time.Time, error) {
	return func(_ context.Context, id string) (map[string]string, time.Time, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.recs[id] == nil {
			return nil, time.Time{}, fmt.Errorf("%s: %w", id, engine.ErrNotFound)
		}
		return quoted(s.recs[id], names), time.Time{}, nil
	}
}

func (s *twoWay) writeCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

func unquote(f map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range f {
		u, err := strconv.Unquote(v)
		if err != nil {
			panic(err)
		}
		out[k] = u
	}
	return out
}

// quoted returns the named fields of f as canonical JSON strings, renamed.
func quoted(f map[string]string, names map[string]string) map[string]string {
	out := map[string]string{}
	for from, to := range names {
		if v, ok := f[from]; ok {
			out[to] = strconv.Quote(v)
		}
	}
	return out
}

func field(path string, createOnly bool) engine.Field[write] {
	return engine.Field[write]{Path: path, CreateOnly: createOnly,
		Value: func(w *write) (string, bool) { v, ok := w.F[path]; return v, ok },
		Clear: func(w *write) { delete(w.F, path) }}
}

// twoWaySyncs are a customer ⇄ contact pair in the shape of pairing 3:
// billing goes from customers to contacts (and the name once, when a
// contact is created), the name from contacts back to customers, only for
// contacts the first sync linked.
func twoWaySyncs(cust, cont *twoWay, echo bool) (*engine.Sync[twoRec, write], *engine.Sync[twoRec, write]) {
	common := func(s *engine.Sync[twoRec, write]) {
		s.Key = func(r *twoRec) string { return r.ID }
		s.Version = func(r *twoRec) int64 { return r.Ver }
		s.CursorKind = engine.CursorInt
		s.Cursor = func(r *twoRec) engine.Cursor { return engine.Cursor{Int: r.Ver} }
	}
	out := &engine.Sync[twoRec, write]{Name: "customers_to_contacts", Source: "billing.Customer", Target: "crm.Contact",
		Poll: cust.poll, Create: cont.create, Update: cont.update,
		Map: func(_ context.Context, r *twoRec, _ engine.Lookups, create bool) (write, error) {
			names := map[string]string{"balance": "billing_balance"}
			if create {
				names["name"] = "fullname"
			}
			return write{F: quoted(r.F, names)}, nil
		},
		Fields: []engine.Field[write]{field("billing_balance", false), field("fullname", true)},
		Match:  []engine.MatchStep{engine.MatchXref, engine.MatchCreate}}
	back := &engine.Sync[twoRec, write]{Name: "contacts_to_customers", Source: "crm.Contact", Target: "billing.Customer",
		Poll: cont.poll, Update: cust.update,
		Map: func(_ context.Context, r *twoRec, _ engine.Lookups, _ bool) (write, error) {
			return write{F: quoted(r.F, map[string]string{"fullname": "name", "phone": "phone"})}, nil
		},
		Fields: []engine.Field[write]{field("name", false), field("phone", false)},
		// Only contacts linked to a customer: no create.
		Match: []engine.MatchStep{engine.MatchXref}}
	common(out)
	common(back)
	if echo {
		// Each side's Fields read the other sync's target fields from its
		// own source record (the generated code does this from the
		// mapping's read paths).
		out.Echo = &engine.Echo[twoRec]{Reverse: back.Name, Fields: func(r *twoRec) map[string]string {
			return quoted(r.F, map[string]string{"name": "name", "phone": "phone"})
		}}
		back.Echo = &engine.Echo[twoRec]{Reverse: out.Name, Fields: func(r *twoRec) map[string]string {
			return quoted(r.F, map[string]string{"billing_balance": "billing_balance"})
		}}
	}
	return out, back
}

func runBoth(t *testing.T, e *engine.Engine) {
	t.Helper()
	for _, n := range []string{"customers_to_contacts", "contacts_to_customers"} {
		if _, err := e.RunOnce(t.Context(), n); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
	}
}

// TestEchoSuppressionTwoWay: with echo suppression, the contacts the first
// direction created are not written back to the customers they came from
// (they hold the customers' own values), rounds without a user change
// write nothing, and real changes on either side go across once, without
// coming back.
func TestEchoSuppressionTwoWay(t *testing.T) {
	var seq int64
	cust, cont := newTwoWay("cus_", &seq), newTwoWay("ct_", &seq)
	for i := range 3 {
		cust.put(fmt.Sprintf("cus_%d", i), map[string]string{"name": fmt.Sprintf("Ann %d", i), "phone": "+1555000" + strconv.Itoa(i), "balance": strconv.Itoa(100 * i)})
	}
	// The customer has a phone; the created contact does not (the forward
	// sync does not map it): the reverse sync must not clear it either.
	e := engine.New(engine.NewMemoryStore())
	out, back := twoWaySyncs(cust, cont, true)
	if err := engine.Add(e, out); err != nil {
		t.Fatal(err)
	}
	if err := engine.Add(e, back); err != nil {
		t.Fatal(err)
	}
	runBoth(t, e)
	if cont.writeCount() != 3 || cust.writeCount() != 0 {
		t.Fatalf("initial sync: %d contact writes (want 3 creates), %d customer writes (want 0: the contacts hold the customers' own names)", cont.writeCount(), cust.writeCount())
	}
	for range 3 {
		runBoth(t, e)
	}
	if cont.writeCount() != 3 || cust.writeCount() != 0 {
		t.Fatalf("rounds without change wrote: %d contact writes, %d customer writes", cont.writeCount()-3, cust.writeCount())
	}
	// Sales fix a name in the CRM: it goes to billing once, and the
	// customer's change (its version moved) does not come back.
	var ct string
	for id, f := range cont.recs {
		if f["fullname"] == "Ann 1" {
			ct = id
		}
	}
	cont.put(ct, map[string]string{"fullname": "Ann Lee"})
	runBoth(t, e)
	runBoth(t, e)
	if got := cust.get("cus_1")["name"]; got != "Ann Lee" {
		t.Fatalf("customer name = %q, want the contact's", got)
	}
	if cust.writeCount() != 1 || cont.writeCount() != 3 {
		t.Fatalf("after a name change: %d customer writes (want 1), %d contact writes (want 3)", cust.writeCount(), cont.writeCount())
	}
	// Billing changes the balance: it goes to the CRM once.
	cust.put("cus_2", map[string]string{"balance": "999"})
	runBoth(t, e)
	runBoth(t, e)
	if cont.writeCount() != 4 || cust.writeCount() != 1 {
		t.Fatalf("after a balance change: %d contact writes (want 4), %d customer writes (want 1)", cont.writeCount(), cust.writeCount())
	}
	// Billing changes the name (the CRM owns it): the echo snapshot now
	// holds billing's value, so the contact's next change of another field
	// writes the CRM's name back (the CRM wins).
	cust.put("cus_0", map[string]string{"name": "Typo"})
	runBoth(t, e)
	for id, f := range cont.recs {
		if f["fullname"] == "Ann 0" {
			ct = id
		}
	}
	cont.put(ct, map[string]string{"phone": "+15559999"})
	runBoth(t, e)
	if got := cust.get("cus_0"); got["name"] != "Ann 0" || got["phone"] != "+15559999" {
		t.Fatalf("customer cus_0 = %v, want the contact's name and phone", got)
	}
}

// TestNoEchoSuppressionWritesBack is the same pair without echo
// suppression: the reverse sync writes every created contact back to its
// customer (equal values), the ping the test above proves is gone. It
// keeps that test honest: it must fail if Echo did nothing.
func TestNoEchoSuppressionWritesBack(t *testing.T) {
	var seq int64
	cust, cont := newTwoWay("cus_", &seq), newTwoWay("ct_", &seq)
	for i := range 3 {
		cust.put(fmt.Sprintf("cus_%d", i), map[string]string{"name": fmt.Sprintf("Ann %d", i), "balance": "1"})
	}
	e := engine.New(engine.NewMemoryStore())
	out, back := twoWaySyncs(cust, cont, false)
	// Without the echo there is no link either: give the reverse sync the
	// forward sync's xref reversed, as a hand-written pair would.
	back.Match = []engine.MatchStep{engine.MatchXref}
	if err := engine.Add(e, out); err != nil {
		t.Fatal(err)
	}
	if err := engine.Add(e, back); err != nil {
		t.Fatal(err)
	}
	if _, err := e.RunOnce(t.Context(), out.Name); err != nil {
		t.Fatal(err)
	}
	st := e.Store()
	for i := range 3 {
		src := fmt.Sprintf("cus_%d", i)
		tk, ok, err := st.LookupXref(t.Context(), "customers_to_contacts", src)
		if err != nil || !ok {
			t.Fatalf("xref of %s: %v %v", src, ok, err)
		}
		if err := st.Commit(t.Context(), &engine.Commit{Sync: back.Name, SourceKey: tk, Xref: &engine.Xref{Table: back.Name, SourceKey: tk, TargetKey: src}}); err != nil {
			t.Fatal(err)
		}
	}
	runBoth(t, e)
	if cust.writeCount() != 3 {
		t.Fatalf("without echo suppression: %d customer writes, want 3 (one echo per created contact)", cust.writeCount())
	}
}

// TestEchoOfAWriteWhoseAnswerWasLost: the reverse sync's write to the
// customer lands but its answer is lost (a 500 after the write), so no echo
// is recorded before the forward sync reads the changed customer. The
// forward sync, which reads the contact for its conflict policy, finds the
// contact already holding the value and writes nothing; it records the
// echo the failed write could not, so the reverse sync's retry writes
// nothing either, and quiet rounds stay quiet.
func TestEchoOfAWriteWhoseAnswerWasLost(t *testing.T) {
	var seq int64
	cust, cont := newTwoWay("cus_", &seq), newTwoWay("ct_", &seq)
	cust.put("cus_0", map[string]string{"name": "Ann 0", "balance": "1"})
	e := engine.New(engine.NewMemoryStore(), engine.WithRetryBackoff(time.Millisecond, time.Millisecond))
	out, back := twoWaySyncs(cust, cont, true)
	// The forward sync also keeps the name current, the CRM winning it
	// (pairing 3's target_wins), so it reads the contact before writing.
	out.Map = func(_ context.Context, r *twoRec, _ engine.Lookups, _ bool) (write, error) {
		return write{F: quoted(r.F, map[string]string{"balance": "billing_balance", "name": "fullname"})}, nil
	}
	name := field("fullname", false)
	name.Policy = engine.TargetWins
	out.Fields = []engine.Field[write]{field("billing_balance", false), name}
	out.Current = cont.current(map[string]string{"billing_balance": "billing_balance", "fullname": "fullname"})
	out.Echo.Fields = func(r *twoRec) map[string]string {
		return quoted(r.F, map[string]string{"name": "name", "phone": "phone"})
	}
	back.Echo.Fields = func(r *twoRec) map[string]string {
		return quoted(r.F, map[string]string{"balance": "billing_balance", "name": "fullname"})
	}
	back.Retry.MaxAttempts = 1
	for _, s := range []*engine.Sync[twoRec, write]{out, back} {
		if err := engine.Add(e, s); err != nil {
			t.Fatal(err)
		}
	}
	runBoth(t, e)
	runBoth(t, e)
	if cont.writeCount() != 1 || cust.writeCount() != 0 {
		t.Fatalf("initial sync: %d contact writes (want 1 create), %d customer writes (want 0)", cont.writeCount(), cust.writeCount())
	}
	ct := "ct_1"
	cont.put(ct, map[string]string{"fullname": "Ann Lee"})
	cust.failAfterApply = 1
	if _, err := e.RunOnce(t.Context(), back.Name); err == nil {
		t.Log("the reverse run reported no error; the record failed alone")
	}
	if got := cust.get("cus_0")["name"]; got != "Ann Lee" || cust.writeCount() != 1 {
		t.Fatalf("the lost-answer write: customer name %q after %d writes, want \"Ann Lee\" after 1", got, cust.writeCount())
	}
	// The forward sync sees the customer's change (its version moved)
	// before any echo of it was recorded.
	for range 3 {
		runBoth(t, e)
	}
	if cont.writeCount() != 1 {
		t.Fatalf("the forward sync wrote the contact %d times after the lost answer, want 0 (it holds the name already)", cont.writeCount()-1)
	}
	if cust.writeCount() != 1 {
		t.Fatalf("the reverse sync wrote the customer %d more times, want 0 (the forward sync recorded the echo)", cust.writeCount()-1)
	}
	if got := cont.get(ct)["fullname"]; got != "Ann Lee" {
		t.Fatalf("contact name %q, want the user's", got)
	}
}

// TestLostEchoIsRestored: the echo that links a created contact back to
// its customer was lost (here: the first engine ran without echo
// suppression, as a crash between the create's commit and the echo
// leaves it). The next time the forward sync sees the customer unchanged
// it restores the link, so a later change made in the CRM still reaches
// billing instead of being skipped for want of a link.
func TestLostEchoIsRestored(t *testing.T) {
	var seq int64
	cust, cont := newTwoWay("cus_", &seq), newTwoWay("ct_", &seq)
	cust.put("cus_0", map[string]string{"name": "Ann 0", "balance": "1"})
	store := engine.NewMemoryStore()
	add := func(e *engine.Engine, echo bool) {
		out, back := twoWaySyncs(cust, cont, echo)
		for _, s := range []*engine.Sync[twoRec, write]{out, back} {
			if err := engine.Add(e, s); err != nil {
				t.Fatal(err)
			}
		}
	}
	lost := engine.New(store)
	add(lost, false)
	runBoth(t, lost)
	if cont.writeCount() != 1 {
		t.Fatalf("%d contact writes, want the create", cont.writeCount())
	}
	e := engine.New(store)
	add(e, true)
	// Billing touches the customer without changing a mapped field: the
	// forward sync sees it unchanged.
	cust.put("cus_0", map[string]string{"note": "x"})
	runBoth(t, e)
	cont.put("ct_1", map[string]string{"fullname": "Ann Lee"})
	runBoth(t, e)
	if got := cust.get("cus_0")["name"]; got != "Ann Lee" {
		t.Fatalf("customer name %q, want the CRM's change (the reverse sync found no link)", got)
	}
}

// TestLinkAfterReverseSkipRereads: the forward sync's create landed but its
// answer was lost, so the contact exists with no link back to its
// customer. A user renames the contact and the reverse sync reads it then:
// no link, skipped. The forward sync's retry finds the contact by email,
// sees it holds its values and links it without a write (nothing moves
// the contact's change time). The reverse sync must read the contact again
// when the link arrives, or the rename never reaches billing.
func TestLinkAfterReverseSkipRereads(t *testing.T) {
	var seq int64
	cust, cont := newTwoWay("cus_", &seq), newTwoWay("ct_", &seq)
	cust.put("cus_0", map[string]string{"name": "Ann 0", "balance": "1", "email": "ann@example.com"})
	e := engine.New(engine.NewMemoryStore(), engine.WithRetryBackoff(time.Millisecond, time.Millisecond))
	out, back := twoWaySyncs(cust, cont, true)
	// Pairing 3's forward sync: found by email, the CRM wins the name.
	out.Map = func(_ context.Context, r *twoRec, _ engine.Lookups, _ bool) (write, error) {
		return write{F: quoted(r.F, map[string]string{"balance": "billing_balance", "name": "fullname", "email": "email"})}, nil
	}
	name := field("fullname", false)
	name.Policy = engine.TargetWins
	out.Fields = []engine.Field[write]{field("billing_balance", false), name, field("email", false)}
	out.Current = cont.current(map[string]string{"billing_balance": "billing_balance", "fullname": "fullname", "email": "email"})
	out.Match = []engine.MatchStep{engine.MatchXref, engine.MatchNaturalKey, engine.MatchCreate}
	out.NaturalKey = func(w *write) string { s, _ := strconv.Unquote(w.F["email"]); return s }
	out.Find = cont.find("email")
	out.Retry.MaxAttempts = 1
	back.Fetch = cont.fetch
	for _, s := range []*engine.Sync[twoRec, write]{out, back} {
		if err := engine.Add(e, s); err != nil {
			t.Fatal(err)
		}
	}
	cont.failCreateAfterApply = 1
	if _, err := e.RunOnce(t.Context(), out.Name); err == nil {
		t.Log("the forward run reported no error; the record failed alone")
	}
	if cont.writeCount() != 1 {
		t.Fatalf("%d contact writes, want the create whose answer was lost", cont.writeCount())
	}
	cont.put("ct_1", map[string]string{"fullname": "Ann Lee"})
	// Another contact changed later moves the reverse sync's cursor past
	// ct_1 (the source is read from the cursor on).
	cont.put("ct_9", map[string]string{"fullname": "Bo Ek"})
	if _, err := e.RunOnce(t.Context(), back.Name); err != nil {
		t.Fatal(err)
	}
	if cust.writeCount() != 0 {
		t.Fatalf("%d customer writes before the link, want 0", cust.writeCount())
	}
	if _, err := e.RunOnce(t.Context(), out.Name); err != nil {
		t.Fatal(err)
	}
	if cont.writeCount() != 1 {
		t.Fatalf("the retry wrote the contact again (%d writes), want it found and linked without a write", cont.writeCount())
	}
	for range 2 {
		runBoth(t, e)
	}
	if got := cust.get("cus_0")["name"]; got != "Ann Lee" {
		t.Fatalf("customer name %q, want the rename made before the link (%q)", got, "Ann Lee")
	}
	if cust.writeCount() != 1 {
		t.Fatalf("%d customer writes, want 1", cust.writeCount())
	}
	writes := cont.writeCount() + cust.writeCount()
	for range 2 {
		runBoth(t, e)
	}
	if n := cont.writeCount() + cust.writeCount() - writes; n != 0 {
		t.Fatalf("%d writes in rounds without a change, want 0", n)
	}
}

// TestMatchKeyFrom: a sync matching by key_from updates the target record
// the source names (a contact's customer_id) with no link of its own,
// reads it first so that values it already holds are not written, and,
// with key_from listed before xref, follows the source when it names
// another record; listed after, the stored link wins.
func TestMatchKeyFrom(t *testing.T) {
	for _, first := range []bool{true, false} {
		t.Run(map[bool]string{true: "key_from first", false: "xref first"}[first], func(t *testing.T) {
			var seq int64
			cust, cont := newTwoWay("cus_", &seq), newTwoWay("ct_", &seq)
			cust.put("cus_0", map[string]string{"name": "Ann Lee"})
			cust.put("cus_1", map[string]string{"name": "Bo Ek"})
			cont.put("ct_0", map[string]string{"fullname": "Ann Lee", "customer_id": "cus_0"})
			_, back := twoWaySyncs(cust, cont, false)
			back.KeyFrom = func(r *twoRec) string { return r.F["customer_id"] }
			back.Match = []engine.MatchStep{engine.MatchXref, engine.MatchKeyFrom}
			if first {
				back.Match = []engine.MatchStep{engine.MatchKeyFrom, engine.MatchXref}
			}
			back.Current = cust.current(map[string]string{"name": "name", "phone": "phone"})
			e := engine.New(engine.NewMemoryStore())
			if err := engine.Add(e, back); err != nil {
				t.Fatal(err)
			}
			run := func() {
				t.Helper()
				if _, err := e.RunOnce(t.Context(), back.Name); err != nil {
					t.Fatal(err)
				}
			}
			run()
			if n := cust.writeCount(); n != 0 {
				t.Fatalf("%d customer writes for a contact holding its customer's name, want 0 (read first)", n)
			}
			cont.put("ct_0", map[string]string{"fullname": "Ann Moss"})
			run()
			if got := cust.get("cus_0")["name"]; got != "Ann Moss" || cust.writeCount() != 1 {
				t.Fatalf("rename: customer name %q after %d writes, want \"Ann Moss\" after 1", got, cust.writeCount())
			}
			// The contact now names another customer.
			cont.put("ct_0", map[string]string{"customer_id": "cus_1", "fullname": "Ann Park"})
			run()
			want0, want1 := "Ann Moss", "Ann Park"
			if !first {
				want0, want1 = "Ann Park", "Bo Ek"
			}
			if got0, got1 := cust.get("cus_0")["name"], cust.get("cus_1")["name"]; got0 != want0 || got1 != want1 {
				t.Fatalf("re-linked contact: customers %q and %q, want %q and %q", got0, got1, want0, want1)
			}
		})
	}
}
