package twoway

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/golden/syncs/twoway/billing"
	"github.com/connectorgen/connectorgen/golden/syncs/twoway/crm"
	"github.com/connectorgen/connectorgen/runtime/engine"
)

// world is a stateful billing system (customers, an events feed paged
// newest first with starting_after, form-encoded updates) and CRM
// (contacts with a string map of properties) on loopback HTTP. It counts
// the writes each receives and records the events lists' queries.
type world struct {
	mu        sync.Mutex
	t         *testing.T
	customers map[string]map[string]any
	events    []map[string]any // oldest first
	clock     int64            // event times (unix seconds), one per change
	contacts  map[string]map[string]string
	updated   map[string]time.Time
	nextCt    int
	writes    map[string]int // "billing" / "crm"
	queries   []string
}

func newWorld(t *testing.T) *world {
	return &world{t: t, customers: map[string]map[string]any{}, contacts: map[string]map[string]string{},
		updated: map[string]time.Time{}, writes: map[string]int{}, clock: 1_700_000_000}
}

// customerChanged records an event (the caller holds mu).
func (w *world) customerChanged(id, typ string) {
	w.clock++
	w.events = append(w.events, map[string]any{"id": fmt.Sprintf("evt_%d", len(w.events)+1), "type": typ, "created": w.clock,
		"data": map[string]any{"object": map[string]any{"id": id}}})
}

func (w *world) putCustomer(id string, f map[string]any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	typ := "customer.updated"
	if w.customers[id] == nil {
		w.customers[id] = map[string]any{"id": id, "created": w.clock}
		typ = "customer.created"
	}
	for k, v := range f {
		w.customers[id][k] = v
	}
	w.customerChanged(id, typ)
}

// deleteCustomer deletes a customer: its event is customer.deleted, and
// the customer can no longer be read (404).
func (w *world) deleteCustomer(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.customers, id)
	w.customerChanged(id, "customer.deleted")
}

func (w *world) putContact(id string, props map[string]string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, v := range props {
		w.contacts[id][k] = v
	}
	w.touch(id)
}

func (w *world) touch(id string) {
	w.clock++
	w.updated[id] = time.Unix(w.clock, 0).UTC()
}

func (w *world) contactBy(prop, value string) (string, map[string]string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for id, p := range w.contacts {
		if p[prop] == value {
			return id, p
		}
	}
	return "", nil
}

func (w *world) writeCounts() (int, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writes["billing"], w.writes["crm"]
}

func (w *world) serve(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	defer w.mu.Unlock()
	reply := func(v any) {
		rw.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(rw).Encode(v)
	}
	contact := func(id string) map[string]any {
		return map[string]any{"id": id, "properties": w.contacts[id], "updatedAt": w.updated[id].Format(time.RFC3339)}
	}
	switch {
	case r.Method == "GET" && r.URL.Path == "/v1/events":
		q := r.URL.Query()
		w.queries = append(w.queries, q.Encode())
		gte, _ := strconv.ParseInt(q.Get("created[gte]"), 10, 64)
		want := map[string]bool{}
		for k, vs := range q {
			if strings.HasPrefix(k, "types") {
				for _, v := range vs {
					want[v] = true
				}
			}
		}
		var page []map[string]any
		after := q.Get("starting_after")
		skipping := after != ""
		for i := len(w.events) - 1; i >= 0; i-- { // newest first
			ev := w.events[i]
			if skipping {
				skipping = ev["id"] != after
				continue
			}
			if ev["created"].(int64) >= gte && want[ev["type"].(string)] {
				page = append(page, ev)
			}
		}
		more := len(page) > 2
		if more {
			page = page[:2]
		}
		reply(map[string]any{"object": "list", "url": "/v1/events", "has_more": more, "data": page})
	case strings.HasPrefix(r.URL.Path, "/v1/customers/"):
		id := strings.TrimPrefix(r.URL.Path, "/v1/customers/")
		c := w.customers[id]
		if c == nil {
			rw.WriteHeader(http.StatusNotFound)
			return
		}
		if r.Method == "POST" {
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
				w.t.Errorf("customer update sent %q, want a form", ct)
			}
			if err := r.ParseForm(); err != nil {
				w.t.Error(err)
			}
			for k := range r.PostForm {
				c[k] = r.PostForm.Get(k)
			}
			w.writes["billing"]++
			w.customerChanged(id, "customer.updated")
		}
		reply(c)
	case r.Method == "GET" && r.URL.Path == "/contacts":
		var ids []string
		for id := range w.contacts {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		var page []map[string]any
		for _, id := range ids {
			page = append(page, contact(id))
		}
		reply(map[string]any{"data": page})
	case r.Method == "POST" && r.URL.Path == "/contacts":
		var in struct{ Properties map[string]string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		w.nextCt++
		id := "ct_" + strconv.Itoa(w.nextCt)
		w.contacts[id] = in.Properties
		w.touch(id)
		w.writes["crm"]++
		rw.WriteHeader(http.StatusCreated)
		reply(contact(id))
	case strings.HasPrefix(r.URL.Path, "/contacts/"):
		id := strings.TrimPrefix(r.URL.Path, "/contacts/")
		if w.contacts[id] == nil {
			rw.WriteHeader(http.StatusNotFound)
			return
		}
		if r.Method == "PATCH" {
			var in struct{ Properties map[string]string }
			_ = json.NewDecoder(r.Body).Decode(&in)
			for k, v := range in.Properties {
				w.contacts[id][k] = v
			}
			w.touch(id)
			w.writes["crm"]++
		}
		reply(contact(id))
	default:
		w.t.Errorf("unexpected %s %s", r.Method, r.URL)
		rw.WriteHeader(http.StatusNotFound)
	}
}

// TestTwoWayNoPingPong runs both generated syncs on one engine against the
// two systems: billing changes reach the CRM through the events feed
// (created[gte] from the checkpoint), CRM name and phone changes reach
// billing as form posts, and rounds without a user change write nothing
// in either system (echo suppression).
func TestTwoWayNoPingPong(t *testing.T) {
	w := newWorld(t)
	srv := httptest.NewServer(http.HandlerFunc(w.serve))
	t.Cleanup(srv.Close)
	b, err := billing.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := crm.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		w.putCustomer(fmt.Sprintf("cus_%d", i), map[string]any{"email": fmt.Sprintf("c%d@example.com", i),
			"name": fmt.Sprintf("Ann %d", i), "phone": fmt.Sprintf("+1555000%d", i), "balance": 100 * i})
	}
	w.putCustomer("cus_x", map[string]any{"name": "No Email"}) // out of scope
	// A customer without a phone: its contact has none either, which the
	// reverse sync maps to a clear; the echo must count that as held.
	w.putCustomer("cus_np", map[string]any{"email": "np@example.com", "name": "No Phone", "balance": 7})
	e := engine.New(engine.NewMemoryStore())
	if err := Register(e, Clients{Billing: b, CRM: c}); err != nil {
		t.Fatal(err)
	}
	round := rounds(t, e)
	round()
	if bw, cw := w.writeCounts(); bw != 0 || cw != 6 {
		t.Fatalf("initial sync: %d billing writes (want 0: the contacts hold the customers' own values), %d CRM writes (want 6 creates)", bw, cw)
	}
	if id, p := w.contactBy("billing_id", "cus_3"); id == "" || p["name"] != "Ann 3" || p["balance"] != "300" || p["email"] != "c3@example.com" {
		t.Fatalf("contact of cus_3: %s %v", id, p)
	}
	for range 3 {
		round()
	}
	if bw, cw := w.writeCounts(); bw != 0 || cw != 6 {
		t.Fatalf("rounds without change: %d billing writes, %d CRM writes (want 0, 6)", bw, cw)
	}
	// Sales fix a phone; billing changes a balance.
	id1, _ := w.contactBy("billing_id", "cus_1")
	w.putContact(id1, map[string]string{"phone": "+15551111"})
	w.putCustomer("cus_2", map[string]any{"balance": 999})
	round()
	round()
	round()
	if bw, cw := w.writeCounts(); bw != 1 || cw != 7 {
		t.Fatalf("after one change on each side: %d billing writes (want 1), %d CRM writes (want 7)", bw, cw)
	}
	w.mu.Lock()
	phone, q := w.customers["cus_1"]["phone"], w.queries[len(w.queries)-1]
	w.mu.Unlock()
	if phone != "+15551111" {
		t.Errorf("cus_1 phone = %v, want the CRM's", phone)
	}
	if _, p := w.contactBy("billing_id", "cus_2"); p["balance"] != "999" {
		t.Errorf("cus_2's contact balance = %q, want 999", p["balance"])
	}
	if !strings.Contains(q, "created%5Bgte%5D=") {
		t.Errorf("the events feed was read without a lower bound: %s", q)
	}
}

// TestTwoWayDeletion: a customer.deleted event (events.deleted) makes the
// customer leave customers_to_contacts' scope with its exit action, which
// clears the contact's billing_id (the deleted customer is never re-read);
// the contact then leaves contacts_to_customers' scope (present: true)
// and nothing more is written, in either system, on later rounds.
func TestTwoWayDeletion(t *testing.T) {
	w := newWorld(t)
	srv := httptest.NewServer(http.HandlerFunc(w.serve))
	t.Cleanup(srv.Close)
	b, _ := billing.NewClient(srv.URL)
	c, _ := crm.NewClient(srv.URL)
	for i := range 3 {
		w.putCustomer(fmt.Sprintf("cus_%d", i), map[string]any{"email": fmt.Sprintf("c%d@example.com", i),
			"name": fmt.Sprintf("Ann %d", i), "phone": fmt.Sprintf("+1555000%d", i)})
	}
	e := engine.New(engine.NewMemoryStore())
	if err := Register(e, Clients{Billing: b, CRM: c}); err != nil {
		t.Fatal(err)
	}
	round := rounds(t, e)
	round()
	if bw, cw := w.writeCounts(); bw != 0 || cw != 3 {
		t.Fatalf("initial sync: %d billing writes, %d CRM writes (want 0, 3 creates)", bw, cw)
	}
	id1, _ := w.contactBy("billing_id", "cus_1")
	if id1 == "" {
		t.Fatal("no contact linked to cus_1")
	}
	w.deleteCustomer("cus_1")
	round()
	w.mu.Lock()
	p1 := maps.Clone(w.contacts[id1])
	q := w.queries[len(w.queries)-1]
	w.mu.Unlock()
	if p1["billing_id"] != "" || p1["email"] != "c1@example.com" {
		t.Fatalf("contact of the deleted cus_1: %v, want billing_id cleared and the rest kept", p1)
	}
	if !strings.Contains(q, "customer.deleted") {
		t.Errorf("the events feed was read without the deletion type: %s", q)
	}
	if bw, cw := w.writeCounts(); bw != 0 || cw != 4 {
		t.Fatalf("after the deletion: %d billing writes, %d CRM writes (want 0, 4: 3 creates and the exit write)", bw, cw)
	}
	for range 3 {
		round()
	}
	if bw, cw := w.writeCounts(); bw != 0 || cw != 4 {
		t.Fatalf("rounds after the deletion: %d billing writes, %d CRM writes (want 0, 4)", bw, cw)
	}
	if id, _ := w.contactBy("billing_id", "cus_2"); id == "" {
		t.Error("cus_2's contact lost its link")
	}
}

func rounds(t *testing.T, e *engine.Engine) func() {
	return func() {
		t.Helper()
		for _, n := range []string{"customers_to_contacts", "contacts_to_customers"} {
			if _, err := e.RunOnce(t.Context(), n); err != nil {
				t.Fatalf("%s: %v", n, err)
			}
		}
	}
}

// TestTwoWayWithoutEchoSuppression keeps the test above honest: the same
// syncs with their Echo removed never link the contacts back (nothing
// records the link the reverse sync matches by), and with the link given
// they write every created contact back to its customer.
func TestTwoWayWithoutEchoSuppression(t *testing.T) {
	w := newWorld(t)
	srv := httptest.NewServer(http.HandlerFunc(w.serve))
	t.Cleanup(srv.Close)
	b, _ := billing.NewClient(srv.URL)
	c, _ := crm.NewClient(srv.URL)
	for i := range 3 {
		w.putCustomer(fmt.Sprintf("cus_%d", i), map[string]any{"email": fmt.Sprintf("c%d@example.com", i), "name": fmt.Sprintf("Ann %d", i)})
	}
	cl := Clients{Billing: b, CRM: c}
	out, back := CustomersToContacts(cl), ContactsToCustomers(cl)
	if out.Echo == nil || back.Echo == nil {
		t.Fatal("the generated syncs carry no Echo although both declare echo_suppression")
	}
	out.Echo, back.Echo = nil, nil
	e := engine.New(engine.NewMemoryStore())
	if err := engine.Add(e, out); err != nil {
		t.Fatal(err)
	}
	if err := engine.Add(e, back); err != nil {
		t.Fatal(err)
	}
	if _, err := e.RunOnce(t.Context(), out.Name); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		src := fmt.Sprintf("cus_%d", i)
		tk, ok, err := e.Store().LookupXref(t.Context(), out.Name, src)
		if err != nil || !ok {
			t.Fatalf("xref of %s: %v %v", src, ok, err)
		}
		if err := e.Store().Commit(t.Context(), &engine.Commit{Sync: back.Name, SourceKey: tk, Xref: &engine.Xref{Table: back.Name, SourceKey: tk, TargetKey: src}}); err != nil {
			t.Fatal(err)
		}
	}
	rounds(t, e)()
	if bw, _ := w.writeCounts(); bw != 3 {
		t.Fatalf("without echo suppression: %d billing writes, want 3 (each created contact echoed back)", bw)
	}
}
