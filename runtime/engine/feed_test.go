package engine_test

import (
	"context"
	"errors"
	"iter"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// feedSource is a source whose records have no change time: changes are
// read from its events (sequence number → record key), as Stripe's.
type feedSource struct {
	*twoWay
	events []string // index+1 is the event's sequence number
	reads  []int64  // the since of every feed read
	// deleted holds the sequence numbers of deletion events.
	deleted map[int64]bool
	// asWas, when set, makes each event carry its record as it was at
	// the event (read before a later deletion) instead of re-reading it.
	asWas bool
	was   map[int64]map[string]string
}

func (f *feedSource) change(id string, fields map[string]string) {
	f.put(id, fields)
	f.events = append(f.events, id)
	if f.was == nil {
		f.was = map[int64]map[string]string{}
	}
	f.was[int64(len(f.events))] = f.get(id)
}

// remove deletes a record and appends its deletion event.
func (f *feedSource) remove(id string) {
	f.mu.Lock()
	delete(f.recs, id)
	f.mu.Unlock()
	f.events = append(f.events, id)
	if f.deleted == nil {
		f.deleted = map[int64]bool{}
	}
	f.deleted[int64(len(f.events))] = true
}

func (f *feedSource) feed(ctx context.Context, since engine.Cursor) iter.Seq2[engine.Change[twoRec], error] {
	f.reads = append(f.reads, since.Int)
	return func(yield func(engine.Change[twoRec], error) bool) {
		for i, id := range f.events {
			seq := int64(i + 1)
			if seq < since.Int {
				continue
			}
			if f.deleted[seq] {
				// A deletion names its record; there is none to read.
				if !yield(engine.Change[twoRec]{Gone: id, Cursor: engine.Cursor{Int: seq}}, nil) {
					return
				}
				continue
			}
			// Each event re-reads its record as it is now.
			rec := twoRec{ID: id, F: f.get(id)}
			if f.asWas {
				rec.F = f.was[seq]
			}
			if !yield(engine.Change[twoRec]{Record: rec, Cursor: engine.Cursor{Int: seq}}, nil) {
				return
			}
		}
	}
}

// TestFeed: a sync reading an events feed applies each event's record,
// checkpoints on the events' cursor (the records have none), and reads
// from that checkpoint on the next run.
func TestFeed(t *testing.T) {
	var seq int64
	src := &feedSource{twoWay: newTwoWay("cus_", &seq)}
	dst := newTwoWay("ct_", &seq)
	src.change("cus_1", map[string]string{"balance": "1"})
	src.change("cus_2", map[string]string{"balance": "2"})
	s := &engine.Sync[twoRec, write]{Name: "feed", Source: "billing.Customer", Target: "crm.Contact",
		Feed: src.feed, Create: dst.create, Update: dst.update,
		Key:        func(r *twoRec) string { return r.ID },
		Version:    func(r *twoRec) int64 { return 0 },
		CursorKind: engine.CursorInt,
		Map: func(_ context.Context, r *twoRec, _ engine.Lookups, _ bool) (write, error) {
			return write{F: quoted(r.F, map[string]string{"balance": "balance"})}, nil
		},
		Fields: []engine.Field[write]{field("balance", false)}}
	e := engine.New(engine.NewMemoryStore())
	if err := engine.Add(e, s); err != nil {
		t.Fatal(err)
	}
	run := func() engine.Report {
		rep, err := e.RunOnce(t.Context(), "feed")
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	run()
	if dst.writeCount() != 2 {
		t.Fatalf("initial: %d writes, want 2", dst.writeCount())
	}
	src.change("cus_1", map[string]string{"balance": "10"})
	rep := run()
	if dst.writeCount() != 3 || rep.Cursor.Int != 3 {
		t.Fatalf("after one change: %d writes (want 3), checkpoint %d (want 3, the last event)", dst.writeCount(), rep.Cursor.Int)
	}
	if got := src.reads[len(src.reads)-1]; got != 2 {
		t.Fatalf("second run read the feed from %d, want 2 (the first run's last event, inclusive)", got)
	}
	var got []string
	for _, r := range dst.recs {
		got = append(got, r["balance"])
	}
	want := map[string]bool{"10": true, "2": true}
	if len(got) != 2 || !want[got[0]] || !want[got[1]] {
		t.Fatalf("target balances %v, want 10 and 2", got)
	}
}

// TestFeedDeletion: a deletion reported by the events feed runs the exit
// action once on the deleted record's target, holds the checkpoint while
// the action fails (retried on the next run), and does nothing when the
// same event is read again; records never in scope get no action. Both
// poll paths: record by record and batched.
func TestFeedDeletion(t *testing.T) {
	for _, batched := range []bool{false, true} {
		t.Run(map[bool]string{false: "single", true: "batched"}[batched], func(t *testing.T) {
			var seq int64
			src := &feedSource{twoWay: newTwoWay("cus_", &seq)}
			dst := newTwoWay("ct_", &seq)
			src.change("cus_1", map[string]string{"balance": "1", "email": "a@x"})
			src.change("cus_2", map[string]string{"balance": "2", "email": "b@x"})
			src.change("cus_3", map[string]string{"balance": "3"}) // no email: never in scope
			var mu sync.Mutex
			var exits []string
			failing := 0
			s := &engine.Sync[twoRec, write]{Name: "feed", Source: "billing.Customer", Target: "crm.Contact",
				Feed: src.feed, Create: dst.create, Update: dst.update,
				Key:        func(r *twoRec) string { return r.ID },
				Version:    func(r *twoRec) int64 { return 0 },
				CursorKind: engine.CursorInt,
				Enter:      func(r *twoRec) bool { return r.F["email"] != "" },
				Retry:      engine.RetryPolicy{MaxAttempts: 2},
				Map: func(_ context.Context, r *twoRec, _ engine.Lookups, _ bool) (write, error) {
					return write{F: quoted(r.F, map[string]string{"balance": "balance"})}, nil
				},
				OnExit: func(_ context.Context, tk string) error {
					mu.Lock()
					defer mu.Unlock()
					if failing > 0 {
						failing--
						return errors.New("target: 500")
					}
					exits = append(exits, tk)
					return nil
				},
				Fields: []engine.Field[write]{field("balance", false)}}
			if batched {
				s.BatchSize = 10
				s.WriteBatch = func(ctx context.Context, ws []engine.BatchWrite[write]) (engine.BatchResult, error) {
					var res engine.BatchResult
					for _, w := range ws {
						if w.Create {
							k, err := dst.create(ctx, w.W, "")
							if err != nil {
								return res, err
							}
							res.Keys = append(res.Keys, k)
							continue
						}
						if err := dst.update(ctx, w.TargetKey, w.W, ""); err != nil {
							return res, err
						}
						res.Keys = append(res.Keys, w.TargetKey)
					}
					return res, nil
				}
			}
			e := engine.New(engine.NewMemoryStore(), engine.WithRetryBackoff(time.Millisecond, time.Millisecond))
			if err := engine.Add(e, s); err != nil {
				t.Fatal(err)
			}
			run := func() engine.Report {
				rep, err := e.RunOnce(t.Context(), "feed")
				if err != nil {
					t.Fatal(err)
				}
				return rep
			}
			run()
			if dst.writeCount() != 2 {
				t.Fatalf("initial: %d writes, want 2", dst.writeCount())
			}
			var target string
			for k, r := range dst.recs {
				if r["balance"] == "1" {
					target = k
				}
			}
			if target == "" {
				t.Fatal("no target record for cus_1")
			}
			src.remove("cus_1")
			src.remove("cus_3")
			// The target fails both attempts: the deletion is not done, the
			// checkpoint stays before it.
			failing = 2
			rep := run()
			if len(exits) != 0 || rep.Cursor.Int > 4 {
				t.Fatalf("failing exit: %d exits, checkpoint %d; want 0 exits and a checkpoint at most 4 (the deletion, read again)", len(exits), rep.Cursor.Int)
			}
			rep = run()
			if len(exits) != 1 || exits[0] != target {
				t.Fatalf("retried deletion: exits %v, want [%s]", exits, target)
			}
			if rep.Cursor.Int != 5 {
				t.Fatalf("checkpoint %d after the deletion was done, want 5", rep.Cursor.Int)
			}
			// The next run reads event 5 again (inclusive), and a later
			// change of cus_2 re-reads from there: no second exit.
			run()
			src.change("cus_2", map[string]string{"balance": "20"})
			run()
			if len(exits) != 1 {
				t.Fatalf("deletion read again: exits %v, want one", exits)
			}
			if got := dst.writeCount(); got != 3 {
				t.Fatalf("%d target writes, want 3 (2 creates, cus_2's update)", got)
			}
		})
	}
}

// TestFeedDeletionAfterChange: a change of a record read before its
// deletion in the same poll is applied before the deletion, even when
// records are applied concurrently and that change is slow to write: the
// record ends out of scope, its exit action run once.
func TestFeedDeletionAfterChange(t *testing.T) {
	var seq int64
	src := &feedSource{twoWay: newTwoWay("cus_", &seq)}
	dst := newTwoWay("ct_", &seq)
	src.change("cus_1", map[string]string{"balance": "1", "email": "a@x"})
	var exits atomic.Int32
	slow := make(chan struct{})
	s := &engine.Sync[twoRec, write]{Name: "feed", Source: "billing.Customer", Target: "crm.Contact",
		Feed: src.feed, Create: dst.create,
		Update: func(ctx context.Context, id string, w *write, idem string) error {
			<-slow // the change's write is slow
			return dst.update(ctx, id, w, idem)
		},
		Key:        func(r *twoRec) string { return r.ID },
		Version:    func(r *twoRec) int64 { return 0 },
		CursorKind: engine.CursorInt,
		Enter:      func(r *twoRec) bool { return r.F["email"] != "" },
		Map: func(_ context.Context, r *twoRec, _ engine.Lookups, _ bool) (write, error) {
			return write{F: quoted(r.F, map[string]string{"balance": "balance"})}, nil
		},
		OnExit: func(context.Context, string) error { exits.Add(1); return nil },
		Fields: []engine.Field[write]{field("balance", false)}}
	e := engine.New(engine.NewMemoryStore(), engine.WithConcurrency(4))
	if err := engine.Add(e, s); err != nil {
		t.Fatal(err)
	}
	if _, err := e.RunOnce(t.Context(), "feed"); err != nil {
		t.Fatal(err)
	}
	src.asWas = true
	src.change("cus_1", map[string]string{"balance": "2"})
	src.remove("cus_1")
	go func() {
		time.Sleep(50 * time.Millisecond)
		close(slow)
	}()
	if _, err := e.RunOnce(t.Context(), "feed"); err != nil {
		t.Fatal(err)
	}
	st, found, err := e.Store().LoadRecord(t.Context(), "feed", "cus_1")
	if err != nil || !found {
		t.Fatalf("state of cus_1: %v %v", found, err)
	}
	if st.In || exits.Load() != 1 {
		t.Fatalf("after a change then a deletion: in scope %v, %d exits; want out, 1 exit", st.In, exits.Load())
	}
}

// TestFeedDeletionDeadLettered: a deletion whose exit action fails for
// good (the target record was removed by hand: 404 on every attempt) is
// dead-lettered instead of holding the feed's checkpoint forever, so later
// changes still flow; once the target answers again, replaying the dead
// letter runs the exit action and takes the record out of scope.
func TestFeedDeletionDeadLettered(t *testing.T) {
	var seq int64
	src := &feedSource{twoWay: newTwoWay("cus_", &seq)}
	dst := newTwoWay("ct_", &seq)
	src.change("cus_1", map[string]string{"balance": "1", "email": "a@x"})
	src.change("cus_2", map[string]string{"balance": "2", "email": "b@x"})
	var mu sync.Mutex
	var exits []string
	broken := true
	s := &engine.Sync[twoRec, write]{Name: "feed", Source: "billing.Customer", Target: "crm.Contact",
		Feed: src.feed, Fetch: src.fetch, Create: dst.create, Update: dst.update,
		Key:        func(r *twoRec) string { return r.ID },
		Version:    func(r *twoRec) int64 { return 0 },
		CursorKind: engine.CursorInt,
		Enter:      func(r *twoRec) bool { return r.F["email"] != "" },
		Retry:      engine.RetryPolicy{MaxAttempts: 3},
		DeadLetter: true,
		Map: func(_ context.Context, r *twoRec, _ engine.Lookups, _ bool) (write, error) {
			return write{F: quoted(r.F, map[string]string{"balance": "balance"})}, nil
		},
		OnExit: func(_ context.Context, tk string) error {
			mu.Lock()
			defer mu.Unlock()
			if broken {
				return engine.Permanent(errors.New("target: 404"))
			}
			exits = append(exits, tk)
			return nil
		},
		Fields: []engine.Field[write]{field("balance", false)}}
	e := engine.New(engine.NewMemoryStore(), engine.WithRetryBackoff(time.Millisecond, time.Millisecond))
	if err := engine.Add(e, s); err != nil {
		t.Fatal(err)
	}
	run := func() engine.Report {
		t.Helper()
		rep, err := e.RunOnce(t.Context(), "feed")
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	run()
	src.remove("cus_1")
	src.change("cus_2", map[string]string{"balance": "20"})
	rep := run()
	if rep.Cursor.Int != 4 || rep.DeadLettered != 1 {
		t.Fatalf("checkpoint %d, %d dead-lettered; want 4 (past the deletion) and 1", rep.Cursor.Int, rep.DeadLettered)
	}
	if got := dst.get("ct_2")["balance"]; got != "20" {
		t.Fatalf("cus_2's change after the failed deletion: contact balance %q, want 20", got)
	}
	dls, err := e.DeadLetters(t.Context(), "feed")
	if err != nil || len(dls) != 1 || dls[0].SourceKey != "cus_1" {
		t.Fatalf("dead letters %+v (%v), want one for cus_1", dls, err)
	}
	// Still broken: the replay fails and the dead letter stays.
	if err := e.Replay(t.Context(), "feed", dls[0].ID); err == nil {
		t.Fatal("replay while the target still refuses: no error")
	}
	mu.Lock()
	broken = false
	mu.Unlock()
	if err := e.Replay(t.Context(), "feed", dls[0].ID); err != nil {
		t.Fatal(err)
	}
	if len(exits) != 1 || exits[0] != "ct_1" {
		t.Fatalf("exits %v, want [ct_1]", exits)
	}
	if dls, _ := e.DeadLetters(t.Context(), "feed"); len(dls) != 0 {
		t.Fatalf("dead letters after the replay: %+v", dls)
	}
	run()
	if len(exits) != 1 {
		t.Fatalf("exits %v after another run, want one", exits)
	}
}
