// Package enginetest holds a conformance suite for engine.Store
// implementations.
package enginetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// StoreSuite runs the conformance tests against stores made by open. Each
// subtest gets a fresh, empty store and closes it.
func StoreSuite(t *testing.T, open func(t *testing.T) engine.Store) {
	t.Helper()
	tests := []struct {
		name string
		f    func(t *testing.T, s engine.Store)
	}{
		{"Records", testRecords},
		{"CommitAtomicParts", testCommitParts},
		{"Cursors", testCursors},
		{"Status", testStatus},
		{"Queue", testQueue},
		{"DeadLetters", testDeadLetters},
		{"Conflicts", testConflicts},
		{"Tokens", testTokens},
		{"Concurrent", testConcurrent},
		{"Intent", testIntent},
		{"LostCommit", testLostCommit},
		{"Lock", testLock},
		{"LockToken", testLockToken},
		{"Audit", testAudit},
		{"RecordXref", testRecordXref},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			tc.f(t, s)
		})
	}
}

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func testRecords(t *testing.T, s engine.Store) {
	ctx := context.Background()
	_, ok, err := s.LoadRecord(ctx, "a", "k1")
	must(t, err)
	if ok {
		t.Fatal("empty store has a record")
	}
	st := engine.RecordState{Sync: "a", SourceKey: "k1", TargetKey: "t1", In: true, Version: 7,
		Snapshot: map[string]string{"email": `"x@y"`, "merge_fields.FNAME": `"Ann"`}, UpdatedAt: t0}
	must(t, s.Commit(ctx, &engine.Commit{Sync: "a", SourceKey: "k1", State: &st, Xref: &engine.Xref{Table: "leads", SourceKey: "k1", TargetKey: "t1"}}))
	got, ok, err := s.LoadRecord(ctx, "a", "k1")
	must(t, err)
	if !ok || got.TargetKey != "t1" || !got.In || got.Version != 7 || len(got.Snapshot) != 2 || got.Snapshot["merge_fields.FNAME"] != `"Ann"` || !got.UpdatedAt.Equal(t0) {
		t.Fatalf("LoadRecord = %+v, %v", got, ok)
	}
	// Same source key in another sync is another record.
	if _, ok, _ := s.LoadRecord(ctx, "b", "k1"); ok {
		t.Fatal("records are not keyed by sync")
	}
	tk, ok, err := s.LookupXref(ctx, "leads", "k1")
	must(t, err)
	if !ok || tk != "t1" {
		t.Fatalf("LookupXref = %q %v", tk, ok)
	}
	if _, ok, _ := s.LookupXref(ctx, "other", "k1"); ok {
		t.Fatal("xrefs are not keyed by table")
	}
	// Replace: snapshot is replaced, not merged.
	st2 := engine.RecordState{Sync: "a", SourceKey: "k1", TargetKey: "t1", In: false, Version: 9, Snapshot: map[string]string{"email": `"z"`}, UpdatedAt: t0}
	must(t, s.Commit(ctx, &engine.Commit{Sync: "a", SourceKey: "k1", State: &st2}))
	got, _, _ = s.LoadRecord(ctx, "a", "k1")
	if got.In || got.Version != 9 || len(got.Snapshot) != 1 {
		t.Fatalf("after replace: %+v", got)
	}
	// Mutating the returned snapshot does not change the store.
	got.Snapshot["email"] = "mutated"
	again, _, _ := s.LoadRecord(ctx, "a", "k1")
	if again.Snapshot["email"] != `"z"` {
		t.Fatal("store shares its snapshot map")
	}
	// Idempotent: the same commit twice.
	must(t, s.Commit(ctx, &engine.Commit{Sync: "a", SourceKey: "k1", State: &st2}))
}

func testCommitParts(t *testing.T, s engine.Store) {
	ctx := context.Background()
	q1, err := s.Enqueue(ctx, engine.QueuedEvent{Sync: "a", EventID: "e1", SourceKey: "k1", Version: 3, ReceivedAt: t0})
	must(t, err)
	if !q1 {
		t.Fatal("first enqueue not queued")
	}
	evs, err := s.Queued(ctx, "a", 0, 10)
	must(t, err)
	if len(evs) != 1 {
		t.Fatalf("queued %d", len(evs))
	}
	dl := engine.DeadLetter{Sync: "a", SourceKey: "k1", Version: 2, Attempts: 5, Error: "boom", Payload: []byte(`{"id":"k1"}`), CreatedAt: t0, UpdatedAt: t0}
	must(t, s.Commit(ctx, &engine.Commit{Sync: "a", SourceKey: "k1", DeadLetter: &dl, DoneEvents: []int64{evs[0].ID}}))
	if n, _ := s.QueueDepth(ctx, "a"); n != 0 {
		t.Fatalf("queue depth %d after commit", n)
	}
	dls, err := s.DeadLetters(ctx, "a")
	must(t, err)
	if len(dls) != 1 || dls[0].Error != "boom" || string(dls[0].Payload) != `{"id":"k1"}` || dls[0].ID == 0 || dls[0].Attempts != 5 {
		t.Fatalf("dead letters %+v", dls)
	}
	// Upsert by (sync, key, version).
	dl.Error, dl.Attempts = "boom again", 10
	must(t, s.Commit(ctx, &engine.Commit{Sync: "a", SourceKey: "k1", DeadLetter: &dl}))
	dls, _ = s.DeadLetters(ctx, "a")
	if len(dls) != 1 || dls[0].Error != "boom again" || dls[0].Attempts != 10 {
		t.Fatalf("dead letter upsert: %+v", dls)
	}
	// Resolve by applying a newer version.
	st := engine.RecordState{Sync: "a", SourceKey: "k1", TargetKey: "t", In: true, Version: 4, UpdatedAt: t0}
	must(t, s.Commit(ctx, &engine.Commit{Sync: "a", SourceKey: "k1", State: &st, ResolveDeadLetters: true}))
	if n, _ := s.DeadLetterCount(ctx, "a"); n != 0 {
		t.Fatalf("dead letters after resolve: %d", n)
	}
	// A dead letter for a newer version survives ResolveDeadLetters.
	dl2 := engine.DeadLetter{Sync: "a", SourceKey: "k1", Version: 8, Error: "x", CreatedAt: t0, UpdatedAt: t0}
	must(t, s.Commit(ctx, &engine.Commit{Sync: "a", SourceKey: "k1", DeadLetter: &dl2}))
	must(t, s.Commit(ctx, &engine.Commit{Sync: "a", SourceKey: "k1", State: &st, ResolveDeadLetters: true}))
	dls, _ = s.DeadLetters(ctx, "a")
	if len(dls) != 1 {
		t.Fatalf("newer dead letter resolved: %+v", dls)
	}
	must(t, s.Commit(ctx, &engine.Commit{Sync: "a", SourceKey: "k1", DeleteDeadLetter: dls[0].ID}))
	if n, _ := s.DeadLetterCount(ctx, "a"); n != 0 {
		t.Fatal("DeleteDeadLetter left it")
	}
}

func testCursors(t *testing.T, s engine.Store) {
	ctx := context.Background()
	if _, ok, err := s.LoadCursor(ctx, "a"); err != nil || ok {
		t.Fatalf("LoadCursor on empty store: %v %v", ok, err)
	}
	c := engine.Cursor{Time: t0}
	run := engine.RunRecord{StartedAt: t0, FinishedAt: t0.Add(time.Second), OK: true, Report: []byte(`{"seen":1}`)}
	st := engine.SyncStatus{Sync: "a", LastSuccess: t0, LastRun: t0, ConsecutiveFailures: 0}
	must(t, s.FinishRun(ctx, &engine.RunResult{Sync: "a", Cursor: &c, Status: st, Run: run}))
	got, ok, err := s.LoadCursor(ctx, "a")
	must(t, err)
	if !ok || !got.Time.Equal(t0) || got.Int != 0 {
		t.Fatalf("cursor %+v", got)
	}
	// nil cursor leaves it.
	st.ConsecutiveFailures = 1
	must(t, s.FinishRun(ctx, &engine.RunResult{Sync: "a", Status: st, Run: engine.RunRecord{StartedAt: t0, FinishedAt: t0, Error: "down"}}))
	got, _, _ = s.LoadCursor(ctx, "a")
	if !got.Time.Equal(t0) {
		t.Fatal("nil cursor changed the checkpoint")
	}
	ci := engine.Cursor{Int: 42}
	must(t, s.FinishRun(ctx, &engine.RunResult{Sync: "b", Cursor: &ci, Run: engine.RunRecord{StartedAt: t0, FinishedAt: t0}}))
	got, _, _ = s.LoadCursor(ctx, "b")
	if got.Int != 42 || !got.Time.IsZero() {
		t.Fatalf("int cursor %+v", got)
	}
	runs, err := s.Runs(ctx, "a", 10)
	must(t, err)
	if len(runs) != 2 || runs[0].Error != "down" || !runs[1].OK || string(runs[1].Report) != `{"seen":1}` {
		t.Fatalf("runs %+v", runs)
	}
	if runs, _ := s.Runs(ctx, "a", 1); len(runs) != 1 {
		t.Fatal("limit ignored")
	}
	status, err := s.LoadStatus(ctx, "a")
	must(t, err)
	if status.ConsecutiveFailures != 1 || !status.LastSuccess.Equal(t0) {
		t.Fatalf("status %+v", status)
	}
}

func testStatus(t *testing.T, s engine.Store) {
	ctx := context.Background()
	st, err := s.LoadStatus(ctx, "a")
	must(t, err)
	if st.Sync != "a" || st.Paused || st.ConsecutiveFailures != 0 {
		t.Fatalf("empty status %+v", st)
	}
	must(t, s.SaveStatus(ctx, engine.SyncStatus{Sync: "a", Paused: true, ConsecutiveFailures: 3, LastError: "x", LastRun: t0}))
	st, _ = s.LoadStatus(ctx, "a")
	if !st.Paused || st.ConsecutiveFailures != 3 || st.LastError != "x" || !st.LastRun.Equal(t0) {
		t.Fatalf("status %+v", st)
	}
}

func testQueue(t *testing.T, s engine.Store) {
	ctx := context.Background()
	for i := range 5 {
		q, err := s.Enqueue(ctx, engine.QueuedEvent{Sync: "a", EventID: fmt.Sprint("e", i), SourceKey: fmt.Sprint("k", i%2), Version: int64(i), ReceivedAt: t0})
		must(t, err)
		if !q {
			t.Fatalf("event %d not queued", i)
		}
	}
	q, err := s.Enqueue(ctx, engine.QueuedEvent{Sync: "a", EventID: "e1", SourceKey: "k1", ReceivedAt: t0})
	must(t, err)
	if q {
		t.Fatal("duplicate event queued")
	}
	// Same event ID in another sync is another event.
	if q, _ := s.Enqueue(ctx, engine.QueuedEvent{Sync: "b", EventID: "e1", SourceKey: "k1", ReceivedAt: t0}); !q {
		t.Fatal("dedupe is not per sync")
	}
	if n, _ := s.QueueDepth(ctx, "a"); n != 5 {
		t.Fatalf("depth %d", n)
	}
	evs, err := s.Queued(ctx, "a", 0, 3)
	must(t, err)
	if len(evs) != 3 || evs[0].EventID != "e0" || evs[2].EventID != "e2" || evs[0].ID >= evs[1].ID || evs[1].SourceKey != "k1" || evs[2].Version != 2 {
		t.Fatalf("Queued %+v", evs)
	}
	rest, _ := s.Queued(ctx, "a", evs[2].ID, 10)
	if len(rest) != 2 || rest[0].EventID != "e3" {
		t.Fatalf("Queued after %+v", rest)
	}
	must(t, s.Commit(ctx, &engine.Commit{Sync: "a", SourceKey: "k0", DoneEvents: []int64{evs[0].ID, evs[2].ID}}))
	if n, _ := s.QueueDepth(ctx, "a"); n != 3 {
		t.Fatalf("depth after done %d", n)
	}
	// A processed event stays deduplicated until pruned.
	if q, _ := s.Enqueue(ctx, engine.QueuedEvent{Sync: "a", EventID: "e0", SourceKey: "k0", ReceivedAt: t0}); q {
		t.Fatal("processed event queued again")
	}
	n, err := s.PruneDedupe(ctx, t0.Add(time.Hour))
	must(t, err)
	if n != 2 { // e0 and e2 of sync a are processed; still-queued ones stay
		t.Fatalf("pruned %d", n)
	}
	if q, _ := s.Enqueue(ctx, engine.QueuedEvent{Sync: "a", EventID: "e0", SourceKey: "k0", ReceivedAt: t0.Add(2 * time.Hour)}); !q {
		t.Fatal("pruned event still deduplicated")
	}
	if q, _ := s.Enqueue(ctx, engine.QueuedEvent{Sync: "a", EventID: "e3", SourceKey: "k1", ReceivedAt: t0}); q {
		t.Fatal("queued event pruned from the ledger")
	}
}

func testDeadLetters(t *testing.T, s engine.Store) {
	ctx := context.Background()
	for i := range 3 {
		must(t, s.Commit(ctx, &engine.Commit{Sync: "a", SourceKey: fmt.Sprint("k", i), DeadLetter: &engine.DeadLetter{
			Sync: "a", SourceKey: fmt.Sprint("k", i), Version: 1, Error: "e", Payload: []byte("{}"), CreatedAt: t0, UpdatedAt: t0}}))
	}
	dls, err := s.DeadLetters(ctx, "a")
	must(t, err)
	if len(dls) != 3 || dls[0].SourceKey != "k0" || !dls[0].CreatedAt.Equal(t0) {
		t.Fatalf("%+v", dls)
	}
	d, ok, err := s.DeadLetter(ctx, "a", dls[1].ID)
	must(t, err)
	if !ok || d.SourceKey != "k1" {
		t.Fatalf("DeadLetter %+v %v", d, ok)
	}
	if _, ok, _ := s.DeadLetter(ctx, "b", dls[1].ID); ok {
		t.Fatal("dead letter found under another sync")
	}
	// Update by ID keeps CreatedAt.
	d.Error, d.Attempts, d.UpdatedAt, d.CreatedAt = "again", 9, t0.Add(time.Hour), time.Time{}
	must(t, s.Commit(ctx, &engine.Commit{Sync: "a", SourceKey: "k1", DeadLetter: &d}))
	d2, _, _ := s.DeadLetter(ctx, "a", d.ID)
	if d2.Error != "again" || d2.Attempts != 9 || !d2.CreatedAt.Equal(t0) || !d2.UpdatedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("updated %+v", d2)
	}
	must(t, s.DeleteDeadLetter(ctx, "a", d.ID))
	must(t, s.DeleteDeadLetter(ctx, "a", 999999))
	if n, _ := s.DeadLetterCount(ctx, "a"); n != 2 {
		t.Fatalf("count %d", n)
	}
}

func testConflicts(t *testing.T, s engine.Store) {
	ctx := context.Background()
	c := engine.Conflict{Sync: "a", SourceKey: "k", TargetKey: "t", Field: "name", SourceValue: `"A"`, TargetValue: `"B"`, Snapshot: `"C"`, DetectedAt: t0}
	must(t, s.Commit(ctx, &engine.Commit{Sync: "a", SourceKey: "k", Conflicts: []engine.Conflict{c}}))
	c.SourceValue = `"A2"`
	must(t, s.Commit(ctx, &engine.Commit{Sync: "a", SourceKey: "k", Conflicts: []engine.Conflict{c}}))
	cs, err := s.Conflicts(ctx, "a")
	must(t, err)
	if len(cs) != 1 || cs[0].SourceValue != `"A2"` || cs[0].TargetValue != `"B"` || cs[0].ID == 0 {
		t.Fatalf("conflicts %+v", cs)
	}
	must(t, s.DeleteConflict(ctx, "a", cs[0].ID))
	if cs, _ := s.Conflicts(ctx, "a"); len(cs) != 0 {
		t.Fatal("conflict not deleted")
	}
}

func testTokens(t *testing.T, s engine.Store) {
	ctx := context.Background()
	if _, ok, err := s.LoadToken(ctx, "crm"); ok || err != nil {
		t.Fatal("empty store has a token")
	}
	must(t, s.SaveToken(ctx, "crm", []byte(`{"refresh_token":"r1"}`)))
	must(t, s.SaveToken(ctx, "crm", []byte(`{"refresh_token":"r2"}`)))
	b, ok, err := s.LoadToken(ctx, "crm")
	must(t, err)
	if !ok || string(b) != `{"refresh_token":"r2"}` {
		t.Fatalf("token %s", b)
	}
}

func testConcurrent(t *testing.T, s engine.Store) {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 400)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := fmt.Sprint("k", i)
			for v := range 3 {
				st := engine.RecordState{Sync: "a", SourceKey: k, TargetKey: "t" + k, In: true, Version: int64(v), Snapshot: map[string]string{"f": fmt.Sprint(v)}, UpdatedAt: t0}
				if err := s.Commit(ctx, &engine.Commit{Sync: "a", SourceKey: k, State: &st, Xref: &engine.Xref{Table: "a", SourceKey: k, TargetKey: "t" + k}}); err != nil {
					errs <- err
				}
			}
			if _, err := s.Enqueue(ctx, engine.QueuedEvent{Sync: "a", EventID: k, SourceKey: k, ReceivedAt: t0}); err != nil {
				errs <- err
			}
			if _, _, err := s.LoadRecord(ctx, "a", k); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range 100 {
		st, ok, _ := s.LoadRecord(ctx, "a", fmt.Sprint("k", i))
		if !ok || st.Version != 2 || st.Snapshot["f"] != "2" {
			t.Fatalf("record %d: %+v", i, st)
		}
	}
	if n, _ := s.QueueDepth(ctx, "a"); n != 100 {
		t.Fatalf("depth %d", n)
	}
}
