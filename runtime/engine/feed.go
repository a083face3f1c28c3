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
type Change[S any] struct {
	Record S
	Cursor Cursor
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
