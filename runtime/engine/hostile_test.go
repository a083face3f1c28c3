package engine_test

// Regression tests for issue 7 (sync correctness under hostile sources).

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/rest"
)

// TestCheckpointFromSourceData: the time checkpoint is the largest cursor
// read from the source's own records, never the engine's clock. A source
// whose clock is 10 minutes behind the engine's, with no lookback, must not
// lose a change made after the first run.
func TestCheckpointFromSourceData(t *testing.T) {
	f := setup(t, engine.NewMemoryStore())
	f.sync.Lookback = 0
	// The engine's clock runs 10 minutes ahead of the source's.
	f.eng = engine.New(f.store, engine.WithRetryBackoff(time.Millisecond, 5*time.Millisecond),
		engine.WithClock(func() time.Time { return f.src.now().Add(10 * time.Minute) }))
	f.add(t)
	a := f.src.put(lead{ID: "a", Email: "a@x.io", Name: "A"})
	f.run(t)
	c, ok := f.cursor(t)
	if !ok || !c.Time.Equal(a.Updated) {
		t.Fatalf("checkpoint %v, want the largest cursor read %v", c.Time, a.Updated)
	}
	b := f.src.put(lead{ID: "b", Email: "b@x.io", Name: "B"})
	rep := f.run(t)
	if rep.Created != 1 {
		t.Fatalf("change behind the engine's clock lost: %+v", rep)
	}
	if c, _ := f.cursor(t); !c.Time.Equal(b.Updated) {
		t.Fatalf("checkpoint %v, want %v", c.Time, b.Updated)
	}
	// A run that reads nothing new keeps the checkpoint.
	f.src.advance(time.Hour)
	f.run(t)
	if c, _ := f.cursor(t); !c.Time.Equal(b.Updated) {
		t.Fatalf("checkpoint moved without data: %v", c.Time)
	}
}

// TestCheckpointSecondPrecision: two records in the same second of a
// coarse source timestamp, the second one written after the run read the
// first; the inclusive bound at the largest cursor read catches it.
func TestCheckpointSecondPrecision(t *testing.T) {
	f := setup(t, engine.NewMemoryStore())
	f.sync.Lookback = 0
	f.add(t)
	sec := time.Date(2025, 1, 1, 0, 0, 30, 0, time.UTC)
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "A", Updated: sec})
	f.src.advance(time.Hour) // the engine's clock is well past the second
	f.run(t)
	f.src.put(lead{ID: "b", Email: "b@x.io", Name: "B", Updated: sec})
	if rep := f.run(t); rep.Created != 1 {
		t.Fatalf("record in the checkpoint's second lost: %+v", rep)
	}
}

// TestCheckpointSourceAheadBoundedByClock: a source clock ahead of the
// engine's keeps the checkpoint at the engine's clock (the upper bound
// filters it), so records are read again rather than skipped.
func TestCheckpointSourceAheadBoundedByClock(t *testing.T) {
	f := setup(t, engine.NewMemoryStore())
	f.eng = engine.New(f.store, engine.WithClock(func() time.Time { return f.src.now().Add(-10 * time.Minute) }))
	f.add(t)
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "A"})
	f.run(t)
	c, _ := f.cursor(t)
	if want := f.src.now().Add(-10 * time.Minute); c.Time.After(want) {
		t.Fatalf("checkpoint %v past the run's upper bound %v", c.Time, want)
	}
}

// dropAfterWrite loses the state commit that follows a successful target
// write (the one carrying the xref) while lose is set, as a store error or
// a crash between the write and the commit would.
type dropAfterWrite struct {
	engine.Store
	lose atomic.Bool
}

func (d *dropAfterWrite) Commit(ctx context.Context, c *engine.Commit) error {
	if d.lose.Load() && c.Xref != nil {
		return errors.New("injected: commit lost after the write")
	}
	return d.Store.Commit(ctx, c)
}

// TestLostCreateCommitNoDuplicate: with the default match [xref, create]
// (no natural key), the commit recording the xref after a successful
// create is lost, then the record changes. The next run must recognise the
// create as done (one target record, with the new values), not create a
// second one.
func TestLostCreateCommitNoDuplicate(t *testing.T) {
	ds := &dropAfterWrite{Store: engine.NewMemoryStore()}
	f := setup(t, ds)
	f.sync.Match = nil
	f.sync.Find, f.sync.NaturalKey = nil, nil
	f.add(t)
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "One"})
	ds.lose.Store(true)
	if _, err := f.eng.RunOnce(context.Background(), "leads"); err == nil {
		t.Fatal("run with a lost commit succeeded")
	}
	ds.lose.Store(false)
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Two"})
	f.run(t)
	if cr, _, n := f.tgt.counts(); cr != 1 || n != 1 {
		t.Fatalf("%d creates, %d target records: the lost commit duplicated the record", cr, n)
	}
	if _, m := f.tgt.byEmail("a@x.io"); m["name"] != `"Two"` {
		t.Fatalf("target record %v, want the new name", m)
	}
	if rep := f.run(t); rep.Created+rep.Updated != 0 {
		t.Fatalf("third run wrote again: %+v", rep)
	}
}

// TestCancelAfterCreateStillCommits: a graceful shutdown (the run's context
// cancelled) right after Create returned must not lose the commit that
// records the new target record.
func TestCancelAfterCreateStillCommits(t *testing.T) {
	f := setup(t, engine.NewMemoryStore(), engine.WithConcurrency(1))
	f.sync.Match = nil
	f.sync.Find, f.sync.NaturalKey = nil, nil
	f.add(t)
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "One"})
	ctx, cancel := context.WithCancel(context.Background())
	f.tgt.afterWrite = cancel
	_, err := f.eng.RunOnce(ctx, "leads")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want the cancellation", err)
	}
	f.tgt.afterWrite = nil
	st, ok, err := f.store.LoadRecord(context.Background(), "leads", "a")
	if err != nil || !ok || st.TargetKey == "" {
		t.Fatalf("state after a cancelled run: %+v %v %v: the commit after the create was dropped", st, ok, err)
	}
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Two"})
	f.run(t)
	if cr, _, n := f.tgt.counts(); cr != 1 || n != 1 {
		t.Fatalf("%d creates, %d target records", cr, n)
	}
}

// TestPoisonRecordDeadLettered: one record that always gets a 500 and one
// that always gets a 403 from the target while the other writes succeed are
// those records' failures: retried, then dead-lettered; the run succeeds
// and the checkpoint moves on. They never wedge the sync.
func TestPoisonRecordDeadLettered(t *testing.T) {
	f := setup(t, engine.NewMemoryStore(), engine.WithConcurrency(4))
	f.add(t)
	ctx := context.Background()
	for i := range 30 {
		f.src.put(lead{ID: fmt.Sprint("l", i), Email: fmt.Sprintf("l%d@x.io", i), Name: "N"})
	}
	var poisonCalls atomic.Int64
	f.tgt.setFail(func(w *write) error {
		switch w.F["email"] {
		case `"l7@x.io"`:
			poisonCalls.Add(1)
			return &rest.Error{Operation: "createMember", Method: "POST", StatusCode: 500}
		case `"l19@x.io"`:
			poisonCalls.Add(1)
			return &rest.Error{Operation: "createMember", Method: "POST", StatusCode: 403}
		}
		return nil
	})
	for run := 1; run <= 2; run++ {
		rep, err := f.eng.RunOnce(ctx, "leads")
		if err != nil {
			t.Fatalf("run %d: a poison record stopped the sync: %v (%+v)", run, err, rep)
		}
		if run == 1 && (rep.Created != 28 || rep.DeadLettered != 2) {
			t.Fatalf("run 1: %+v", rep)
		}
	}
	dls, _ := f.store.DeadLetters(ctx, "leads")
	if len(dls) != 2 {
		t.Fatalf("dead letters %+v", dls)
	}
	for _, dl := range dls {
		if (dl.SourceKey != "l7" && dl.SourceKey != "l19") || dl.Attempts != 3 {
			t.Errorf("dead letter %+v", dl)
		}
	}
	if c, ok := f.cursor(t); !ok || c.Time.IsZero() {
		t.Fatal("no checkpoint after a run with poison records")
	}
	if n := f.alerts.count(engine.AlertSystemDown, false) + f.alerts.count(engine.AlertReauthorize, false); n != 0 {
		t.Fatalf("poison records raised system alerts: %+v", f.alerts.get())
	}
}

// TestAllWritesFailingIsSystemDown: when every write fails with a 500 (the
// target is down, not one record), the run stops as system down without
// dead-lettering anything.
func TestAllWritesFailingIsSystemDown(t *testing.T) {
	f := setup(t, engine.NewMemoryStore(), engine.WithConcurrency(4))
	f.add(t)
	ctx := context.Background()
	for i := range 30 {
		f.src.put(lead{ID: fmt.Sprint("l", i), Email: fmt.Sprintf("l%d@x.io", i), Name: "N"})
	}
	f.tgt.setFail(func(*write) error { return &rest.Error{StatusCode: 502} })
	rep, err := f.eng.RunOnce(ctx, "leads")
	var sd *engine.SystemDownError
	if !errors.As(err, &sd) || sd.System != "email" {
		t.Fatalf("err %v (%+v)", err, rep)
	}
	if n, _ := f.store.DeadLetterCount(ctx, "leads"); n != 0 || rep.DeadLettered != 0 {
		t.Fatalf("%d dead letters while the target was down", n)
	}
	if _, ok := f.cursor(t); ok {
		t.Fatal("checkpoint moved while the target was down")
	}
}

// laggingFetch makes the sync's Fetch return version 1 of every record
// (a lagging replica) while lag is set.
func laggingFetch(f *fixture, lag *atomic.Bool, v1 lead) {
	inner := f.sync.Fetch
	f.sync.Fetch = func(ctx context.Context, key string) (lead, error) {
		if lag.Load() {
			f.src.fetchN.Add(1)
			return v1, nil
		}
		return inner(ctx, key)
	}
}

// TestWebhookStaleFetchKeepsEvent: the event says version 2, the re-fetch
// returns version 1 (replica lag). The event must not be consumed by the
// stale read: the fetch is retried until it reaches the event's version.
func TestWebhookStaleFetchKeepsEvent(t *testing.T) {
	f := setup(t, engine.NewMemoryStore())
	v1 := f.src.put(lead{ID: "a", Email: "a@x.io", Name: "v1"})
	h := newHook(t, f)
	ctx := context.Background()
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "v2"})
	// The replica catches up after two stale reads (Retry.MaxAttempts is 3).
	var reads atomic.Int64
	inner := f.sync.Fetch
	f.sync.Fetch = func(ctx context.Context, key string) (lead, error) {
		if reads.Add(1) <= 2 {
			return v1, nil
		}
		return inner(ctx, key)
	}
	f.add(t)
	if code := h.send("id=e2;key=a;version=2"); code != 202 {
		t.Fatalf("delivery: %d", code)
	}
	if _, err := f.eng.ProcessQueue(ctx, "leads"); err != nil {
		t.Fatal(err)
	}
	if _, m := f.tgt.byEmail("a@x.io"); m["name"] != `"v2"` {
		t.Fatalf("member %v: version 2 was never applied", m)
	}
	if st, _, _ := f.store.LoadRecord(ctx, "leads", "a"); st.Version != 2 {
		t.Fatalf("applied version %d", st.Version)
	}
}

// TestWebhookStaleFetchDeadLettersWithKey: a replica that stays behind
// exhausts the bounded retries; the event becomes a dead letter under the
// event's key and version (not "?"), and replay applies version 2 once the
// source has caught up.
func TestWebhookStaleFetchDeadLettersWithKey(t *testing.T) {
	f := setup(t, engine.NewMemoryStore())
	var lag atomic.Bool
	v1 := f.src.put(lead{ID: "a", Email: "a@x.io", Name: "v1"})
	laggingFetch(f, &lag, v1)
	f.add(t)
	h := newHook(t, f)
	ctx := context.Background()
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "v2"})
	lag.Store(true)
	h.send("id=e2;key=a;version=2")
	rep, err := f.eng.ProcessQueue(ctx, "leads")
	if err != nil || rep.DeadLettered != 1 {
		t.Fatalf("%v %+v", err, rep)
	}
	if h.depth() != 0 {
		t.Fatal("event still queued after dead-lettering")
	}
	dls, _ := f.store.DeadLetters(ctx, "leads")
	if len(dls) != 1 || dls[0].SourceKey != "a" || dls[0].Version != 2 {
		t.Fatalf("dead letters %+v", dls)
	}
	// Replay while still stale fails and keeps the dead letter.
	if err := f.eng.Replay(ctx, "leads", dls[0].ID); err == nil {
		t.Fatal("replay applied a stale read")
	}
	if n, _ := f.store.DeadLetterCount(ctx, "leads"); n != 1 {
		t.Fatalf("%d dead letters after a failed replay", n)
	}
	lag.Store(false)
	if err := f.eng.Replay(ctx, "leads", dls[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, m := f.tgt.byEmail("a@x.io"); m["name"] != `"v2"` {
		t.Fatalf("member %v", m)
	}
}

// TestWebhookFailedFetchDeadLetterHasKey: a re-fetch that keeps failing
// dead-letters the event under the event's key, and replay (with the
// source back) applies the record instead of failing "record not found".
func TestWebhookFailedFetchDeadLetterHasKey(t *testing.T) {
	f := setup(t, engine.NewMemoryStore())
	var broken atomic.Bool
	inner := f.sync.Fetch
	f.sync.Fetch = func(ctx context.Context, key string) (lead, error) {
		if broken.Load() {
			return lead{}, errors.New("decoding the lead: unexpected end of JSON input")
		}
		return inner(ctx, key)
	}
	f.add(t)
	h := newHook(t, f)
	ctx := context.Background()
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "v1"})
	broken.Store(true)
	h.send("id=e1;key=a;version=1")
	if rep, err := f.eng.ProcessQueue(ctx, "leads"); err != nil || rep.DeadLettered != 1 {
		t.Fatalf("%v %+v", err, rep)
	}
	dls, _ := f.store.DeadLetters(ctx, "leads")
	if len(dls) != 1 || dls[0].SourceKey != "a" || dls[0].Version != 1 {
		t.Fatalf("dead letters %+v", dls)
	}
	broken.Store(false)
	if err := f.eng.Replay(ctx, "leads", dls[0].ID); err != nil {
		t.Fatalf("replay: %v", err)
	}
	if _, m := f.tgt.byEmail("a@x.io"); m["name"] != `"v1"` {
		t.Fatalf("member %v", m)
	}
}

// TestSecondEngineOnSameStoreRefused: two engines sharing one store (one
// state) never run the same sync at once: the second is refused with
// ErrLocked while the first runs, and records are created once.
func TestSecondEngineOnSameStoreRefused(t *testing.T) {
	f := setup(t, engine.NewMemoryStore(), engine.WithConcurrency(1))
	f.add(t)
	inRun, proceed := make(chan struct{}), make(chan struct{})
	var once sync.Once
	f.tgt.afterWrite = func() { once.Do(func() { close(inRun); <-proceed }) }
	for i := range 5 {
		f.src.put(lead{ID: fmt.Sprint("l", i), Email: fmt.Sprintf("l%d@x.io", i), Name: "N"})
	}
	e2 := engine.New(f.store, engine.WithClock(f.src.now))
	if err := engine.Add(e2, newSync("leads", f.src, f.tgt)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := f.eng.RunOnce(context.Background(), "leads"); done <- err }()
	<-inRun
	if _, err := e2.RunOnce(context.Background(), "leads"); !errors.Is(err, engine.ErrLocked) {
		t.Fatalf("second engine: %v, want ErrLocked", err)
	}
	if _, err := e2.ProcessQueue(context.Background(), "leads"); !errors.Is(err, engine.ErrLocked) {
		t.Fatalf("second engine's queue drain: %v, want ErrLocked", err)
	}
	// The first engine's own overlapping work shares its lock.
	if _, err := f.eng.ProcessQueue(context.Background(), "leads"); err != nil {
		t.Fatalf("first engine's queue drain during its run: %v", err)
	}
	close(proceed)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := e2.RunOnce(context.Background(), "leads"); err != nil {
		t.Fatalf("second engine after the first finished: %v", err)
	}
	if cr, _, n := f.tgt.counts(); cr != 5 || n != 5 {
		t.Fatalf("%d creates, %d members", cr, n)
	}
}

// TestPollErrorKeepsCheckpoint: a listing that cannot be read to its end
// (the iterator yields a *rest.PaginationError after some records) is a
// failed poll: the records read are applied, the checkpoint does not move,
// the run fails, and the next good run reads everything.
func TestPollErrorKeepsCheckpoint(t *testing.T) {
	f := setup(t, engine.NewMemoryStore())
	f.add(t)
	ctx := context.Background()
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "A"})
	f.run(t)
	c0, _ := f.cursor(t)
	for i := range 10 {
		f.src.put(lead{ID: fmt.Sprint("l", i), Email: fmt.Sprintf("l%d@x.io", i), Name: "N"})
	}
	inner := f.sync.Poll
	truncate := true
	f.sync.Poll = func(ctx context.Context, since engine.Cursor) iter.Seq2[lead, error] {
		return func(yield func(lead, error) bool) {
			n := 0
			for l, err := range inner(ctx, since) {
				if truncate && n == 4 {
					yield(lead{}, &rest.PaginationError{Operation: "listLeads", Page: 2, Reason: "repeated cursor", Cursor: "c2"})
					return
				}
				n++
				if !yield(l, err) {
					return
				}
			}
		}
	}
	rep, err := f.eng.RunOnce(ctx, "leads")
	if !errors.Is(err, rest.ErrPagination) || engine.IsSystemDown(err) {
		t.Fatalf("err %v, want the pagination error (not system down)", err)
	}
	if c, _ := f.cursor(t); !c.Time.Equal(c0.Time) {
		t.Fatalf("checkpoint moved after a truncated listing: %v -> %v", c0.Time, c.Time)
	}
	if st, _ := f.store.LoadStatus(ctx, "leads"); st.ConsecutiveFailures != 1 {
		t.Fatalf("status %+v", st)
	}
	truncate = false
	rep = f.run(t)
	if _, _, n := f.tgt.counts(); n != 11 {
		t.Fatalf("%d members after the good run (%+v)", n, rep)
	}
}

// TestPollDeadline: a listing that never ends (fresh cursors forever) is
// cut by the poll deadline (WithPollTimeout): the run fails with
// ErrPollTimeout and the checkpoint does not move.
func TestPollDeadline(t *testing.T) {
	f := setup(t, engine.NewMemoryStore(), engine.WithPollTimeout(50*time.Millisecond))
	var n atomic.Int64
	f.sync.Poll = func(ctx context.Context, since engine.Cursor) iter.Seq2[lead, error] {
		return func(yield func(lead, error) bool) {
			for i := 0; ; i++ {
				// A source that ignores ctx: the engine must stop anyway.
				time.Sleep(time.Millisecond)
				n.Add(1)
				l := lead{ID: fmt.Sprint("l", i%5), Email: fmt.Sprintf("l%d@x.io", i%5), Name: "N", Version: 1, Status: "qualified",
					Updated: time.Date(2025, 1, 1, 0, 0, i%5, 0, time.UTC)}
				if !yield(l, nil) {
					return
				}
			}
		}
	}
	f.add(t)
	_, err := f.eng.RunOnce(context.Background(), "leads")
	if !errors.Is(err, engine.ErrPollTimeout) || engine.IsSystemDown(err) {
		t.Fatalf("err %v, want ErrPollTimeout", err)
	}
	if _, ok := f.cursor(t); ok {
		t.Fatal("checkpoint written by a poll cut by its deadline")
	}
}

// TestMissingFromListIsNotDeleted: deletes are never inferred. A record
// that no longer appears in the source's listing (filtered out, on a page
// the source skipped, or deleted without a signal) leaves its target
// record and its state alone; only an explicit signal (a soft-delete field
// here) takes it out of scope, and even then nothing is deleted in the
// target.
func TestMissingFromListIsNotDeleted(t *testing.T) {
	f := setup(t, engine.NewMemoryStore())
	f.add(t)
	ctx := context.Background()
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "A"})
	f.src.put(lead{ID: "b", Email: "b@x.io", Name: "B"})
	f.run(t)
	// b disappears from the source without a signal.
	f.src.mu.Lock()
	delete(f.src.recs, "b")
	f.src.mu.Unlock()
	f.src.advance(time.Hour)
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "A2"})
	f.run(t)
	if _, m := f.tgt.byEmail("b@x.io"); m == nil {
		t.Fatal("target record of a lead missing from the listing was removed")
	}
	if st, ok, _ := f.store.LoadRecord(ctx, "leads", "b"); !ok || !st.In {
		t.Fatalf("state of the missing lead changed: %+v %v", st, ok)
	}
	// An explicit soft delete takes a out of scope; the target keeps it.
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "A2", Deleted: true})
	rep := f.run(t)
	if st, _, _ := f.store.LoadRecord(ctx, "leads", "a"); st.In || rep.Skipped != 1 {
		t.Fatalf("soft delete: state %+v, report %+v", st, rep)
	}
	if _, _, n := f.tgt.counts(); n != 2 {
		t.Fatalf("%d target records, want 2 (nothing deleted)", n)
	}
}
