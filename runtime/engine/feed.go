package engine

import (
	"context"
	"iter"
	"sync"
)

// Change is one record read from a source with the cursor value it was
// read at. A Poll's record carries its own cursor field; a record read
// through an events feed (Sync.Feed) carries the cursor of the event that
// named it, since the record itself may have no change time (Stripe
// customers).
//
// A change with Gone set reports a record deleted at the source (an events
// feed's deletion event, such as Stripe's customer.deleted): Gone is its
// key and Record is unused, since a deleted record cannot be read. The
// record leaves the sync's scope with the exit action (Sync.OnExit), as a
// webhook's deleted record does; the cursor is held until that succeeded.
type Change[S any] struct {
	Record S
	Cursor Cursor
	Gone   string
}

// changes is what one poll reads: the Feed's changes, or the Poll's
// records with their own cursors.
func (r *runner[S, W]) changes(ctx context.Context, since Cursor) iter.Seq2[Change[S], error] {
	s := r.s
	if s.Feed != nil {
		return s.Feed(ctx, since)
	}
	return func(yield func(Change[S], error) bool) {
		for rec, err := range s.Poll(ctx, since) {
			if err != nil {
				yield(Change[S]{}, err)
				return
			}
			if !yield(Change[S]{Record: rec, Cursor: s.Cursor(&rec)}, nil) {
				return
			}
		}
	}
}

// inflight counts, by key, the records of a poll handed to its workers and
// not applied yet: a deletion (Change.Gone) waits until the changes of its
// record read before it are applied, so that a change re-read before the
// deletion cannot be applied after it (bringing the record back in scope).
type inflight struct {
	mu   sync.Mutex
	cond *sync.Cond
	n    map[string]int
}

func newInflight() *inflight {
	f := &inflight{n: map[string]int{}}
	f.cond = sync.NewCond(&f.mu)
	return f
}

func (f *inflight) add(key string) {
	f.mu.Lock()
	f.n[key]++
	f.mu.Unlock()
}

func (f *inflight) done(key string) {
	f.mu.Lock()
	if f.n[key]--; f.n[key] <= 0 {
		delete(f.n, key)
	}
	f.mu.Unlock()
	f.cond.Broadcast()
}

// wait returns when no record of key is in flight.
func (f *inflight) wait(key string) {
	f.mu.Lock()
	for f.n[key] > 0 {
		f.cond.Wait()
	}
	f.mu.Unlock()
}
