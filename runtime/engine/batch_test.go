package engine_test

import (
	"context"
	"errors"
	"maps"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// bulkTarget is a bulk-upsert target (SendGrid's PUT of a list of
// contacts): records are found by email, a batch call writes every record
// it carries and answers with a job id.
type bulkTarget struct {
	mu      sync.Mutex
	recs    map[string]map[string]string // by email (quoted JSON)
	batches []int                        // records per batch call
	singles int
	exits   int            // exit writes carried in batches
	onExits int            // exit writes sent alone (Sync.OnExit)
	writes  map[string]int // writes per email
	// fail, when set, refuses a whole batch (or single write) that carries
	// a record it returns an error for.
	fail func(w *write) error
	// flaky fails the next n batch calls with a retryable error.
	flaky int
}

func newBulkTarget() *bulkTarget {
	return &bulkTarget{recs: map[string]map[string]string{}, writes: map[string]int{}}
}

func (b *bulkTarget) upsertLocked(w *write) string {
	email := w.F["email"]
	r, ok := b.recs[email]
	if !ok {
		r = map[string]string{}
		b.recs[email] = r
	}
	maps.Copy(r, w.F)
	b.writes[email]++
	k, _ := strconv.Unquote(email)
	return k
}

func (b *bulkTarget) WriteBatch(_ context.Context, ws []engine.BatchWrite[write]) (engine.BatchResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.flaky > 0 {
		b.flaky--
		return engine.BatchResult{}, errors.New("502 from the load balancer")
	}
	if b.fail != nil {
		for _, w := range ws {
			if err := b.fail(w.W); err != nil {
				return engine.BatchResult{}, err
			}
		}
	}
	b.batches = append(b.batches, len(ws))
	res := engine.BatchResult{Job: "job-" + strconv.Itoa(len(b.batches))}
	for _, w := range ws {
		if w.Exit {
			// The exit action's final write, found by its target key.
			b.exits++
			res.Keys = append(res.Keys, b.upsertLocked(exitWrite(w.TargetKey)))
			continue
		}
		res.Keys = append(res.Keys, b.upsertLocked(w.W))
	}
	return res, nil
}

// exitWrite is the exit action of the bulk tests: status customer.
func exitWrite(targetKey string) *write {
	return &write{F: map[string]string{"email": strconv.Quote(targetKey), "status": `"customer"`}}
}

func (b *bulkTarget) single(w *write) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail != nil {
		if err := b.fail(w); err != nil {
			return "", err
		}
	}
	b.singles++
	return b.upsertLocked(w), nil
}

func bulkFixture(t *testing.T, store engine.Store) (*fixture, *bulkTarget) {
	f := setup(t, store)
	bt := newBulkTarget()
	s := f.sync
	s.Match = []engine.MatchStep{engine.MatchXref, engine.MatchCreate}
	s.Find, s.NaturalKey, s.Current = nil, nil, nil
	s.Create = func(_ context.Context, w *write, _ string) (string, error) { return bt.single(w) }
	s.Update = func(_ context.Context, _ string, w *write, _ string) error { _, err := bt.single(w); return err }
	s.WriteBatch = bt.WriteBatch
	s.BatchSize = 3
	f.add(t)
	return f, bt
}

func TestBatchWrites(t *testing.T) {
	f, bt := bulkFixture(t, engine.NewMemoryStore())
	for i := range 7 {
		f.src.put(lead{ID: strconv.Itoa(i), Email: "p" + strconv.Itoa(i) + "@x.io", Name: "P" + strconv.Itoa(i)})
	}
	f.src.put(lead{ID: "out", Email: "out@x.io", Name: "Out", Status: "cold"})
	rep := f.run(t)
	if rep.Created != 7 || rep.Failed != 0 {
		t.Fatalf("report %+v", rep)
	}
	if want := []int{3, 3, 1}; !equalInts(bt.batches, want) || bt.singles != 0 {
		t.Fatalf("batches %v singles %d, want %v and 0", bt.batches, bt.singles, want)
	}
	// State, xrefs and audit entries (with the job id) are committed.
	for i := range 7 {
		st, ok, err := f.store.LoadRecord(context.Background(), "leads", strconv.Itoa(i))
		if err != nil || !ok || st.TargetKey != "p"+strconv.Itoa(i)+"@x.io" || !st.In {
			t.Fatalf("record %d state %+v %v %v", i, st, ok, err)
		}
	}
	au, err := f.store.Audit(context.Background(), engine.AuditQuery{Sync: "leads"})
	if err != nil || len(au) != 7 {
		t.Fatalf("audit %v %+v", err, au)
	}
	for _, a := range au {
		if a.Job == "" || a.Outcome != engine.AuditCreated {
			t.Fatalf("audit entry %+v: no job id", a)
		}
	}
	// Nothing changed: nothing is written.
	if rep := f.run(t); rep.Unchanged != 7 || len(bt.batches) != 3 {
		t.Fatalf("second run %+v, batches %v", rep, bt.batches)
	}
	// Two changes: one batch of two updates.
	f.src.put(lead{ID: "1", Email: "p1@x.io", Name: "P1 renamed"})
	f.src.put(lead{ID: "5", Email: "p5@x.io", Name: "P5 renamed"})
	if rep := f.run(t); rep.Updated != 2 || len(bt.batches) != 4 || bt.batches[3] != 2 {
		t.Fatalf("third run %+v, batches %v", rep, bt.batches)
	}
	if bt.recs[`"p5@x.io"`]["name"] != `"P5 renamed"` {
		t.Fatalf("p5 not updated: %v", bt.recs[`"p5@x.io"`])
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A batch failing for a while is retried as a whole; a record that makes
// every batch carrying it fail is dead-lettered on its own and the others
// are written.
func TestBatchRetryAndPoisonRecord(t *testing.T) {
	f, bt := bulkFixture(t, engine.NewMemoryStore())
	for i := range 5 {
		f.src.put(lead{ID: strconv.Itoa(i), Email: "p" + strconv.Itoa(i) + "@x.io", Name: "P" + strconv.Itoa(i)})
	}
	bt.flaky = 2
	if rep := f.run(t); rep.Created != 5 || bt.singles != 0 || !equalInts(bt.batches, []int{3, 2}) {
		t.Fatalf("flaky batches: report %+v batches %v singles %d", rep, bt.batches, bt.singles)
	}
	f.src.put(lead{ID: "poison", Email: "poison@x.io", Name: "Poison"})
	f.src.put(lead{ID: "1", Email: "p1@x.io", Name: "P1 again"})
	f.src.put(lead{ID: "9", Email: "p9@x.io", Name: "P9"})
	bt.fail = func(w *write) error {
		if w.F["email"] == `"poison@x.io"` {
			return engine.Permanent(errors.New("400: invalid email"))
		}
		return nil
	}
	rep := f.run(t)
	if rep.DeadLettered != 1 || rep.Created != 1 || rep.Updated != 1 {
		t.Fatalf("poison run: report %+v", rep)
	}
	if bt.singles != 2 {
		t.Fatalf("the failed batch's good records were written %d times one by one, want 2", bt.singles)
	}
	dls, err := f.eng.DeadLetters(context.Background(), "leads")
	if err != nil || len(dls) != 1 || dls[0].SourceKey != "poison" {
		t.Fatalf("dead letters %v %+v", err, dls)
	}
	if c, ok := f.cursor(t); !ok || !c.Time.Equal(rep.Cursor.Time) {
		t.Fatal("the cursor did not move past the dead letter")
	}
}

// crashStore fails every commit while crashed: a process that dies after
// a batch's request and before its commits.
type crashStore struct {
	engine.Store
	crashed atomic.Bool
}

func (c *crashStore) Commit(ctx context.Context, cm *engine.Commit) error {
	if c.crashed.Load() && cm.State != nil {
		return errors.New("the process died")
	}
	return c.Store.Commit(ctx, cm)
}

func TestBatchLostCommitResends(t *testing.T) {
	cs := &crashStore{Store: engine.NewMemoryStore()}
	f, bt := bulkFixture(t, cs)
	for i := range 4 {
		f.src.put(lead{ID: strconv.Itoa(i), Email: "p" + strconv.Itoa(i) + "@x.io", Name: "P" + strconv.Itoa(i)})
	}
	cs.crashed.Store(true)
	if _, err := f.eng.RunOnce(context.Background(), "leads"); err == nil {
		t.Fatal("a run whose commits failed succeeded")
	}
	if _, ok := f.cursor(t); ok {
		t.Fatal("the checkpoint moved past records whose state was not committed")
	}
	if len(bt.batches) == 0 {
		t.Fatal("no batch was sent before the crash")
	}
	cs.crashed.Store(false)
	rep := f.run(t)
	if rep.Created+rep.Updated != 4 {
		t.Fatalf("after restart: %+v", rep)
	}
	// Re-sent, upserted by email: still one contact each, none lost.
	if len(bt.recs) != 4 {
		t.Fatalf("target holds %d contacts, want 4", len(bt.recs))
	}
	for i := range 4 {
		if st, ok, _ := f.store.LoadRecord(context.Background(), "leads", strconv.Itoa(i)); !ok || st.TargetKey == "" {
			t.Fatalf("record %d not committed: %+v", i, st)
		}
	}
	if rep := f.run(t); rep.Unchanged != 4 {
		t.Fatalf("third run %+v", rep)
	}
}

// A batch of hundreds of records holds the locks of keys that share a
// lock stripe: it must not wait on itself.
func TestBatchManyRecords(t *testing.T) {
	f, bt := bulkFixture(t, engine.NewMemoryStore())
	f.sync.BatchSize = 500
	for i := range 1200 {
		f.src.put(lead{ID: strconv.Itoa(i), Email: "p" + strconv.Itoa(i) + "@x.io", Name: "P"})
	}
	if rep := f.run(t); rep.Created != 1200 || !equalInts(bt.batches, []int{500, 500, 200}) {
		t.Fatalf("report %+v batches %v", rep, bt.batches)
	}
}

// Two bulk syncs polling at once hold the locks of their batches' records;
// keys of both share lock stripes, and neither may wait on the other.
func TestTwoBatchingSyncsAtOnce(t *testing.T) {
	f, _ := bulkFixture(t, engine.NewMemoryStore())
	f.sync.BatchSize = 500
	bt2 := newBulkTarget()
	s2 := *f.sync
	s2.Name, s2.Xref = "leads2", "leads2_members"
	s2.WriteBatch = bt2.WriteBatch
	s2.Create = func(_ context.Context, w *write, _ string) (string, error) { return bt2.single(w) }
	s2.Update = func(_ context.Context, _ string, w *write, _ string) error { _, err := bt2.single(w); return err }
	if err := engine.Add(f.eng, &s2); err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		f.src.put(lead{ID: strconv.Itoa(i), Email: "p" + strconv.Itoa(i) + "@x.io", Name: "P"})
	}
	var wg sync.WaitGroup
	reps := make([]engine.Report, 2)
	errs := make([]error, 2)
	for i, name := range []string{"leads", "leads2"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reps[i], errs[i] = f.eng.RunOnce(context.Background(), name)
		}()
	}
	wg.Wait()
	for i := range 2 {
		if errs[i] != nil || reps[i].Created != 1000 {
			t.Fatalf("sync %d: %v %+v", i, errs[i], reps[i])
		}
	}
	if len(bt2.recs) != 1000 {
		t.Fatalf("second target holds %d contacts", len(bt2.recs))
	}
}

// exitFixture is bulkFixture with an exit action (status customer) that
// runs only for records leaving as customers, and whose batch write takes
// exit writes.
func exitFixture(t *testing.T, store engine.Store, batchExit bool) (*fixture, *bulkTarget) {
	f := setup(t, store)
	bt := newBulkTarget()
	s := f.sync
	s.Match = []engine.MatchStep{engine.MatchXref, engine.MatchCreate}
	s.Find, s.NaturalKey, s.Current = nil, nil, nil
	s.Create = func(_ context.Context, w *write, _ string) (string, error) { return bt.single(w) }
	s.Update = func(_ context.Context, _ string, w *write, _ string) error { _, err := bt.single(w); return err }
	s.WriteBatch = bt.WriteBatch
	s.BatchSize = 3
	s.OnExit = func(_ context.Context, tk string) error {
		bt.mu.Lock()
		defer bt.mu.Unlock()
		bt.onExits++
		bt.upsertLocked(exitWrite(tk))
		return nil
	}
	s.OnExitWhen = func(l *lead) bool { return l.Status == "customer" }
	s.BatchExit = batchExit
	f.add(t)
	return f, bt
}

// requests is every target request made so far: batches, single writes
// and exit writes sent alone.
func (b *bulkTarget) requests() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.batches) + b.singles + b.onExits
}

// Exit writes of a batching poll go in its batches (one request for
// several records leaving), only for records leaving as customers; the
// state moves out of scope with the batch's commits, and a later run
// writes nothing. Without BatchExit each exit write is a request of its
// own.
func TestBatchExitWrites(t *testing.T) {
	for _, batchExit := range []bool{true, false} {
		f, bt := exitFixture(t, engine.NewMemoryStore(), batchExit)
		for i := range 6 {
			f.src.put(lead{ID: strconv.Itoa(i), Email: "p" + strconv.Itoa(i) + "@x.io", Name: "P" + strconv.Itoa(i)})
		}
		if rep := f.run(t); rep.Created != 6 || bt.requests() != 2 {
			t.Fatalf("BatchExit=%v: initial run %+v, %d requests", batchExit, rep, bt.requests())
		}
		// Four become customers, one goes back to lead (out of scope, no
		// exit write), one is renamed (an update).
		for i := range 4 {
			f.src.put(lead{ID: strconv.Itoa(i), Email: "p" + strconv.Itoa(i) + "@x.io", Name: "P" + strconv.Itoa(i), Status: "customer"})
		}
		f.src.put(lead{ID: "4", Email: "p4@x.io", Name: "P4", Status: "lead"})
		f.src.put(lead{ID: "5", Email: "p5@x.io", Name: "P5 renamed"})
		before := bt.requests()
		rep := f.run(t)
		if rep.Failed != 0 || rep.Updated != 1 || rep.Skipped != 5 {
			t.Fatalf("BatchExit=%v: report %+v", batchExit, rep)
		}
		want := 2 // five writes (four exits, one update), three a batch
		if !batchExit {
			want = 1 + 4 // the update batched, each exit alone
		}
		if got := bt.requests() - before; got != want {
			t.Errorf("BatchExit=%v: %d target requests for four exits and one update, want %d (batches %v, singles %d, exits alone %d)",
				batchExit, got, want, bt.batches, bt.singles, bt.onExits)
		}
		if batchExit && (bt.onExits != 0 || bt.exits != 4) {
			t.Errorf("exit writes: %d in batches, %d alone; want 4 and 0", bt.exits, bt.onExits)
		}
		for i := range 5 {
			email := strconv.Quote("p" + strconv.Itoa(i) + "@x.io")
			got, want := bt.recs[email]["status"], `"customer"`
			if i == 4 {
				want = `"subscribed"` // left as a lead: untouched
			}
			if got != want {
				t.Errorf("BatchExit=%v: %s status %s, want %s", batchExit, email, got, want)
			}
			st, ok, err := f.store.LoadRecord(context.Background(), "leads", strconv.Itoa(i))
			if err != nil || !ok || st.In {
				t.Errorf("BatchExit=%v: record %d state %+v %v %v, want out of scope", batchExit, i, st, ok, err)
			}
		}
		before = bt.requests()
		// A record already out becoming a customer gets no exit write: it
		// did not leave now.
		f.src.put(lead{ID: "4", Email: "p4@x.io", Name: "P4", Status: "customer"})
		if rep := f.run(t); rep.Failed != 0 || bt.requests() != before {
			t.Errorf("BatchExit=%v: a run with no record leaving made %d requests (%+v)", batchExit, bt.requests()-before, rep)
		}
	}
}

// A crash after a batch carrying exit writes was sent and before its
// commits leaves the records in scope; the next run sends the exit writes
// again (harmless: an upsert of constants) and then records them out.
func TestBatchExitLostCommitResends(t *testing.T) {
	cs := &crashStore{Store: engine.NewMemoryStore()}
	f, bt := exitFixture(t, cs, true)
	for i := range 2 {
		f.src.put(lead{ID: strconv.Itoa(i), Email: "p" + strconv.Itoa(i) + "@x.io", Name: "P" + strconv.Itoa(i)})
	}
	f.run(t)
	for i := range 2 {
		f.src.put(lead{ID: strconv.Itoa(i), Email: "p" + strconv.Itoa(i) + "@x.io", Name: "P" + strconv.Itoa(i), Status: "customer"})
	}
	cs.crashed.Store(true)
	if _, err := f.eng.RunOnce(context.Background(), "leads"); err == nil {
		t.Fatal("a run whose commits failed succeeded")
	}
	if bt.exits != 2 {
		t.Fatalf("%d exit writes sent before the crash, want 2 in one batch (batches %v)", bt.exits, bt.batches)
	}
	for i := range 2 {
		if st, _, _ := f.store.LoadRecord(context.Background(), "leads", strconv.Itoa(i)); !st.In {
			t.Fatalf("record %d is out of scope though its exit write's commit failed", i)
		}
	}
	cs.crashed.Store(false)
	if rep := f.run(t); rep.Failed != 0 || bt.exits != 4 {
		t.Fatalf("after restart: %+v, %d exit writes, want 4 (2 again)", rep, bt.exits)
	}
	for i := range 2 {
		if st, _, _ := f.store.LoadRecord(context.Background(), "leads", strconv.Itoa(i)); st.In {
			t.Fatalf("record %d still in scope after its exit write was committed", i)
		}
	}
	n := bt.requests()
	if f.run(t); bt.requests() != n {
		t.Fatalf("a third run sent %d requests", bt.requests()-n)
	}
}
