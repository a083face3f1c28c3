package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

// lossyStore loses the state commit that follows a write while lose is set,
// as a crash between the write and the commit would; it counts the
// write-ahead intents it sees.
type lossyStore struct {
	engine.Store
	lose    atomic.Bool
	intents atomic.Int64
}

func (l *lossyStore) Commit(ctx context.Context, c *engine.Commit) error {
	if c.Intent != nil && c.State == nil {
		l.intents.Add(1)
	}
	if l.lose.Load() && c.State != nil {
		return errors.New("injected: the process died before the commit")
	}
	return l.Store.Commit(ctx, c)
}

// lostCommitFixture syncs lead a (name "Src1") with the name field under
// policy p, then changes the name to "Src2" and loses the commit after the
// update reached the target.
func lostCommitFixture(t *testing.T, p engine.Policy) (*fixture, *lossyStore, string) {
	t.Helper()
	ls := &lossyStore{Store: engine.NewMemoryStore()}
	f := setup(t, ls)
	f.sync.Fields[1].Policy = p
	f.add(t)
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Src1"})
	f.run(t)
	id, _ := f.tgt.byEmail("a@x.io")
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Src2"})
	ls.lose.Store(true)
	var sd *engine.SystemDownError
	if _, err := f.eng.RunOnce(context.Background(), "leads"); !errors.As(err, &sd) || sd.System != engine.StoreSystem {
		t.Fatalf("run with a lost commit: %v", err)
	}
	ls.lose.Store(false)
	if _, m := f.tgt.byEmail("a@x.io"); m["name"] != `"Src2"` {
		t.Fatalf("name %s after the update whose commit was lost", m["name"])
	}
	return f, ls, id
}

func (f *fixture) name(t *testing.T) string {
	t.Helper()
	_, m := f.tgt.byEmail("a@x.io")
	s, err := strconv.Unquote(m["name"])
	if err != nil {
		t.Fatalf("member %v", m)
	}
	return s
}

func (f *fixture) state(t *testing.T) engine.RecordState {
	t.Helper()
	st, ok, err := f.store.LoadRecord(context.Background(), "leads", "a")
	if err != nil || !ok {
		t.Fatalf("LoadRecord: %v %v", ok, err)
	}
	return st
}

// TestLostCommitIsOwnWrite: after a lost commit, the target holds the
// engine's own write; the next source change is written, whatever the
// field's policy, and raises no conflict.
func TestLostCommitIsOwnWrite(t *testing.T) {
	for _, p := range []engine.Policy{engine.TargetWins, engine.LastWriterWins, engine.Queue} {
		t.Run(fmt.Sprint("policy", p), func(t *testing.T) {
			f, _, _ := lostCommitFixture(t, p)
			if st := f.state(t); st.Snapshot["name"] != `"Src1"` || st.Pending["name"] != `"Src2"` {
				t.Fatalf("state after the lost commit %+v", st)
			}
			f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Src3"})
			rep := f.run(t)
			if rep.Updated != 1 || rep.Conflicts != 0 {
				t.Fatalf("%+v", rep)
			}
			if n := f.name(t); n != "Src3" {
				t.Fatalf("name %q, want Src3: the engine took its own uncommitted write for a change in the target", n)
			}
			if cs, _ := f.eng.Conflicts(context.Background(), "leads"); len(cs) != 0 {
				t.Fatalf("conflicts %+v", cs)
			}
			if st := f.state(t); st.Snapshot["name"] != `"Src3"` || len(st.Pending) != 0 {
				t.Fatalf("state %+v", st)
			}
		})
	}
}

// TestLostCommitRerunSettles: the same source version read again after a
// lost commit finds its write in the target and only commits the state.
func TestLostCommitRerunSettles(t *testing.T) {
	f, _, _ := lostCommitFixture(t, engine.TargetWins)
	_, up0, _ := f.tgt.counts()
	rep := f.run(t)
	if rep.Unchanged != 1 || rep.Updated != 0 || rep.Conflicts != 0 {
		t.Fatalf("%+v", rep)
	}
	if _, up, _ := f.tgt.counts(); up != up0 {
		t.Fatalf("%d updates, want %d", up, up0)
	}
	if st := f.state(t); st.Snapshot["name"] != `"Src2"` || len(st.Pending) != 0 || st.Version != 2 {
		t.Fatalf("state %+v", st)
	}
	// And a kept-target-value check still works from the new snapshot.
	id, _ := f.tgt.byEmail("a@x.io")
	f.tgt.edit(id, "name", "Tgt", f.src.now())
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Src3"})
	f.run(t)
	if n := f.name(t); n != "Tgt" {
		t.Fatalf("name %q, want the target's Tgt", n)
	}
}

// TestLostCommitThenTargetEdit: a change made in the target after the
// lost commit is still a change made in the target.
func TestLostCommitThenTargetEdit(t *testing.T) {
	f, _, id := lostCommitFixture(t, engine.Queue)
	f.tgt.edit(id, "name", "Tgt", f.src.now())
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Src3"})
	rep := f.run(t)
	if rep.Conflicts != 1 {
		t.Fatalf("%+v", rep)
	}
	if n := f.name(t); n != "Tgt" {
		t.Fatalf("name %q, want Tgt", n)
	}
	cs, _ := f.eng.Conflicts(context.Background(), "leads")
	if len(cs) != 1 || cs[0].TargetValue != `"Tgt"` || cs[0].SourceValue != `"Src3"` {
		t.Fatalf("conflicts %+v", cs)
	}
	// The pending value is resolved (the target shows another value).
	if st := f.state(t); len(st.Pending) != 0 || st.Snapshot["name"] != `"Src1"` {
		t.Fatalf("state %+v", st)
	}
}

// TestLostCommitSourceReverts: after a lost commit the source goes back to
// the committed value; the target, which holds the uncommitted write, is
// written again.
func TestLostCommitSourceReverts(t *testing.T) {
	f, _, _ := lostCommitFixture(t, engine.TargetWins)
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Src1"})
	rep := f.run(t)
	if rep.Updated != 1 || rep.Conflicts != 0 {
		t.Fatalf("%+v", rep)
	}
	if n := f.name(t); n != "Src1" {
		t.Fatalf("name %q, want Src1", n)
	}
}

// TestLostCommitThenFailedWrite: a lost commit, then a write that fails
// before reaching the target (the intent of which is recorded): the
// target's value is still recognised as the engine's own write.
func TestLostCommitThenFailedWrite(t *testing.T) {
	f, _, _ := lostCommitFixture(t, engine.TargetWins)
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Src3"})
	f.tgt.setFail(func(*write) error { return down(transport.ErrServer) })
	if _, err := f.eng.RunOnce(context.Background(), "leads"); err == nil {
		t.Fatal("the failing write did not stop the run")
	}
	f.tgt.setFail(nil)
	if n := f.name(t); n != "Src2" {
		t.Fatalf("name %q after the failed write", n)
	}
	if st := f.state(t); st.Snapshot["name"] != `"Src2"` || st.Pending["name"] != `"Src3"` {
		t.Fatalf("state after the failed write %+v", st)
	}
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Src4"})
	if rep := f.run(t); rep.Updated != 1 || rep.Conflicts != 0 {
		t.Fatalf("%+v", rep)
	}
	if n := f.name(t); n != "Src4" {
		t.Fatalf("name %q, want Src4", n)
	}
}

// TestIntentOnlyWithPolicies: a sync whose fields are all SourceWins never
// records an intent; one with a policy records one per update, none per
// create and none when nothing changed.
func TestIntentOnlyWithPolicies(t *testing.T) {
	for _, p := range []engine.Policy{engine.SourceWins, engine.TargetWins} {
		t.Run(fmt.Sprint("policy", p), func(t *testing.T) {
			ls := &lossyStore{Store: engine.NewMemoryStore()}
			f := setup(t, ls)
			f.sync.Fields[1].Policy = p
			f.add(t)
			for i := range 3 {
				f.src.put(lead{ID: fmt.Sprint("l", i), Email: fmt.Sprintf("l%d@x.io", i), Name: "N"})
			}
			f.run(t)
			f.run(t)
			if n := ls.intents.Load(); n != 0 {
				t.Fatalf("%d intents for creates and unchanged records", n)
			}
			for i := range 3 {
				f.src.put(lead{ID: fmt.Sprint("l", i), Email: fmt.Sprintf("l%d@x.io", i), Name: "M"})
			}
			if rep := f.run(t); rep.Updated != 3 {
				t.Fatalf("%+v", rep)
			}
			want := int64(3)
			if p == engine.SourceWins {
				want = 0
			}
			if n := ls.intents.Load(); n != want {
				t.Fatalf("%d intents for 3 updates, want %d", n, want)
			}
		})
	}
}
