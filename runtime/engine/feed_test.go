package engine_test

import (
	"context"
	"iter"
	"testing"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// feedSource is a source whose records have no change time: changes are
// read from its events (sequence number → record key), as Stripe's.
type feedSource struct {
	*twoWay
	events []string // index+1 is the event's sequence number
	reads  []int64  // the since of every feed read
}

func (f *feedSource) change(id string, fields map[string]string) {
	f.put(id, fields)
	f.events = append(f.events, id)
}

func (f *feedSource) feed(ctx context.Context, since engine.Cursor) iter.Seq2[engine.Change[twoRec], error] {
	f.reads = append(f.reads, since.Int)
	return func(yield func(engine.Change[twoRec], error) bool) {
		for i, id := range f.events {
			seq := int64(i + 1)
			if seq < since.Int {
				continue
			}
			// Each event re-reads its record as it is now.
			rec := twoRec{ID: id, F: f.get(id)}
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
