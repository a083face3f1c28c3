package engine

import (
	"context"
	"iter"
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
