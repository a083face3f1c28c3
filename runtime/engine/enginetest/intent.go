package enginetest

import (
	"context"
	"errors"
	"iter"
	"maps"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// testIntent checks RecordState.Pending and Commit.Intent, the write-ahead
// record of a target write.
func testIntent(t *testing.T, s engine.Store) {
	ctx := context.Background()
	// An intent for a record without state leaves it without one.
	must(t, s.Commit(ctx, &engine.Commit{Sync: "a", SourceKey: "none", Intent: &engine.Intent{
		Snapshot: map[string]string{"f": `"x"`}, Pending: map[string]string{"f": `"y"`}}}))
	if st, ok, err := s.LoadRecord(ctx, "a", "none"); err != nil || ok {
		t.Fatalf("intent created a record: %+v %v %v", st, ok, err)
	}
	// State carries Pending.
	st := engine.RecordState{Sync: "a", SourceKey: "k", TargetKey: "t", In: true, Version: 3,
		Snapshot: map[string]string{"f": `"1"`, "g": `"g"`}, Pending: map[string]string{"f": `"2"`}, UpdatedAt: t0}
	must(t, s.Commit(ctx, &engine.Commit{Sync: "a", SourceKey: "k", State: &st}))
	got, ok, err := s.LoadRecord(ctx, "a", "k")
	must(t, err)
	if !ok || len(got.Pending) != 1 || got.Pending["f"] != `"2"` {
		t.Fatalf("pending not stored: %+v", got)
	}
	// An intent replaces the snapshot and the pending values, and nothing
	// else; with other parts in the same commit.
	q, err := s.Enqueue(ctx, engine.QueuedEvent{Sync: "a", EventID: "ev", SourceKey: "k", ReceivedAt: t0})
	must(t, err)
	if !q {
		t.Fatal("not queued")
	}
	in := &engine.Intent{Snapshot: map[string]string{"f": `"2"`, "g": `"g"`}, Pending: map[string]string{"f": `"3"`, "h": `"h"`}}
	must(t, s.Commit(ctx, &engine.Commit{Sync: "a", SourceKey: "k", Intent: in}))
	got, _, _ = s.LoadRecord(ctx, "a", "k")
	if got.TargetKey != "t" || !got.In || got.Version != 3 || !got.UpdatedAt.Equal(t0) ||
		!maps.Equal(got.Snapshot, in.Snapshot) || !maps.Equal(got.Pending, in.Pending) {
		t.Fatalf("after intent: %+v", got)
	}
	if n, _ := s.QueueDepth(ctx, "a"); n != 1 {
		t.Fatal("queue changed by an intent")
	}
	// Idempotent.
	must(t, s.Commit(ctx, &engine.Commit{Sync: "a", SourceKey: "k", Intent: in}))
	// Returned maps are copies.
	got.Pending["f"] = "mutated"
	in.Pending["f"] = "mutated too"
	if again, _, _ := s.LoadRecord(ctx, "a", "k"); again.Pending["f"] != `"3"` {
		t.Fatalf("store shares its pending map: %+v", again)
	}
	// With State in the same commit, State wins.
	st2 := st
	st2.Version, st2.Snapshot, st2.Pending = 4, map[string]string{"f": `"3"`}, nil
	must(t, s.Commit(ctx, &engine.Commit{Sync: "a", SourceKey: "k", State: &st2,
		Intent: &engine.Intent{Snapshot: map[string]string{"x": "1"}, Pending: map[string]string{"x": "2"}}}))
	got, _, _ = s.LoadRecord(ctx, "a", "k")
	if got.Version != 4 || len(got.Pending) != 0 || len(got.Snapshot) != 1 || got.Snapshot["f"] != `"3"` {
		t.Fatalf("state commit did not replace pending: %+v", got)
	}
	// An intent of empty maps clears both.
	must(t, s.Commit(ctx, &engine.Commit{Sync: "a", SourceKey: "k", Intent: &engine.Intent{}}))
	got, _, _ = s.LoadRecord(ctx, "a", "k")
	if len(got.Snapshot) != 0 || len(got.Pending) != 0 || got.Version != 4 {
		t.Fatalf("after empty intent: %+v", got)
	}
}

// losingStore loses every state commit while lose is set, as a process
// that dies between a target write and its commit does.
type losingStore struct {
	engine.Store
	lose atomic.Bool
}

func (l *losingStore) Commit(ctx context.Context, c *engine.Commit) error {
	if l.lose.Load() && c.State != nil {
		return errors.New("injected: the process died before the commit")
	}
	return l.Store.Commit(ctx, c)
}

type lcRec struct {
	Name    string
	Version int64
}

// testLostCommit runs the engine on the store: a target-wins field is
// written, the commit of its next update is lost, and the update after that
// must still be written (the engine must not take its own uncommitted write
// for a change made in the target).
func testLostCommit(t *testing.T, s engine.Store) {
	ctx := context.Background()
	ls := &losingStore{Store: s}
	var mu sync.Mutex
	src := lcRec{Name: "A", Version: 1}
	var tgt map[string]string
	var tgtChanged time.Time
	now := t0
	put := func(name string) {
		mu.Lock()
		src.Name, src.Version = name, src.Version+1
		now = now.Add(time.Second)
		mu.Unlock()
	}
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	field := func(path string, p engine.Policy) engine.Field[map[string]string] {
		return engine.Field[map[string]string]{Path: path, Policy: p,
			Value: func(w *map[string]string) (string, bool) { v, ok := (*w)[path]; return v, ok },
			Clear: func(w *map[string]string) { delete(*w, path) }}
	}
	write := func(w *map[string]string) {
		if tgt == nil {
			tgt = map[string]string{}
		}
		maps.Copy(tgt, *w)
		tgtChanged = now
	}
	sy := &engine.Sync[lcRec, map[string]string]{
		Name: "lost", SourceSystem: "src", TargetSystem: "dst", Source: "src.Rec", Target: "dst.Rec",
		Poll: func(context.Context, engine.Cursor) iter.Seq2[lcRec, error] {
			mu.Lock()
			r := src
			mu.Unlock()
			return func(yield func(lcRec, error) bool) { yield(r, nil) }
		},
		Key:     func(*lcRec) string { return "k" },
		Version: func(r *lcRec) int64 { return r.Version },
		Cursor:  func(r *lcRec) engine.Cursor { return engine.Cursor{Time: t0} },
		Map: func(_ context.Context, r *lcRec, _ engine.Lookups, _ bool) (map[string]string, error) {
			return map[string]string{"id": `"k"`, "name": strconv.Quote(r.Name)}, nil
		},
		Fields: []engine.Field[map[string]string]{field("id", engine.SourceWins), field("name", engine.TargetWins)},
		Match:  []engine.MatchStep{engine.MatchXref, engine.MatchCreate},
		Create: func(_ context.Context, w *map[string]string, _ string) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			write(w)
			return "t1", nil
		},
		Update: func(_ context.Context, _ string, w *map[string]string, _ string) error {
			mu.Lock()
			defer mu.Unlock()
			write(w)
			return nil
		},
		Current: func(context.Context, string) (map[string]string, time.Time, error) {
			mu.Lock()
			defer mu.Unlock()
			return maps.Clone(tgt), tgtChanged, nil
		},
		Retry:      engine.RetryPolicy{MaxAttempts: 1},
		DeadLetter: true,
	}
	e := engine.New(ls, engine.WithClock(clock))
	must(t, engine.Add(e, sy))
	name := func() string {
		mu.Lock()
		defer mu.Unlock()
		return tgt["name"]
	}
	if _, err := e.RunOnce(ctx, "lost"); err != nil {
		t.Fatal(err)
	}
	put("B")
	ls.lose.Store(true)
	if _, err := e.RunOnce(ctx, "lost"); err == nil {
		t.Fatal("the lost commit did not stop the run")
	}
	ls.lose.Store(false)
	if n := name(); n != `"B"` {
		t.Fatalf("name %s after the update whose commit was lost", n)
	}
	put("C")
	rep, err := e.RunOnce(ctx, "lost")
	must(t, err)
	if n := name(); n != `"C"` || rep.Updated != 1 || rep.Conflicts != 0 {
		t.Fatalf("name %s (report %+v), want \"C\": the engine took its own uncommitted write for a change in the target", n, rep)
	}
	st, ok, err := s.LoadRecord(ctx, "lost", "k")
	must(t, err)
	if !ok || st.Snapshot["name"] != `"C"` || len(st.Pending) != 0 || st.Version != 3 {
		t.Fatalf("state %+v", st)
	}
}
