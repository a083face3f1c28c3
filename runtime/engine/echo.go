package engine

import (
	"context"
	"log/slog"
	"maps"
	"strconv"
)

// Echo pairs a sync with the sync that writes the other way between the
// same two entities (a two-way integration, echo_suppression in the
// mapping), so that a write made by one direction does not come back as a
// change in the other.
//
// After this sync wrote target record T from source record R, the engine
// records in the reverse sync's state, for source record T: the link T → R
// (its xref and target key) and, as its field snapshot, the values R holds
// in the reverse sync's target fields (Fields). When the reverse sync next
// reads T (the echo of this write: T's change time moved), the fields it
// maps equal that snapshot unless someone changed them in T, so it writes
// nothing. A real change to one of those fields in T differs from the
// snapshot and is written, as always. Nothing is suppressed by time or by
// guess: only values equal to what the reverse target already holds.
type Echo[S any] struct {
	// Reverse is the name of the sync writing the other way; ReverseXref
	// its xref table (its name when it declares none).
	Reverse, ReverseXref string
	// Fields returns the reverse sync's target fields as source record s
	// holds them: target path of the reverse sync → canonical JSON (as
	// Field.Value), absent fields left out (the engine records those the
	// reverse sync updates as null: an absent value maps to a clear).
	Fields func(s *S) map[string]string
}

// echo records, after a write of rec, what the reverse sync would find
// unchanged (see Echo). It runs after the record's own commit and outside
// its key lock. A failure only costs the reverse sync one redundant write
// of equal values, so it is logged, not returned.
func (r *runner[S, W]) echo(ctx context.Context, rec *S) { r.echoIf(ctx, rec, false) }

// relink records the echo of rec only when the reverse sync does not link
// its target record back to rec: an echo lost before (see process).
func (r *runner[S, W]) relink(ctx context.Context, rec *S) { r.echoIf(ctx, rec, true) }

func (r *runner[S, W]) echoIf(ctx context.Context, rec *S, unlinkedOnly bool) {
	s, e := r.s, r.e
	if s.Echo == nil || s.Echo.Fields == nil || e.cfg.dryRun {
		return
	}
	key := s.Key(rec)
	st, found, err := e.store.LoadRecord(ctx, s.Name, key)
	if err != nil || !found || st.TargetKey == "" {
		if err != nil {
			r.echoFailed(ctx, key, err)
		}
		return
	}
	back, tk := s.Echo.Reverse, st.TargetKey
	xref := s.Echo.ReverseXref
	if xref == "" {
		xref = back
	}
	unlock := e.lockKey(back, tk)
	defer unlock()
	rs, found, err := e.store.LoadRecord(ctx, back, tk)
	if err != nil {
		r.echoFailed(ctx, key, err)
		return
	}
	if unlinkedOnly && found && rs.TargetKey == key {
		return
	}
	ns := RecordState{Sync: back, SourceKey: tk}
	if found {
		ns = rs
		if rs.TargetKey != key {
			// Linked to another record before: its pending writes were
			// to that one.
			ns.Pending = nil
		}
	}
	rv, rerr := e.runner(back)
	snap := s.Echo.Fields(rec)
	if rerr == nil {
		// A field rec does not hold maps, in the reverse sync, to a clear
		// (null): what the reverse target already "holds" for it.
		for _, p := range rv.updatedFields() {
			if _, ok := snap[p]; !ok {
				if snap == nil {
					snap = map[string]string{}
				}
				snap[p] = "null"
			}
		}
	}
	ns.TargetKey, ns.Snapshot, ns.UpdatedAt = key, snap, e.cfg.now()
	if found && rs.TargetKey == key && maps.Equal(rs.Snapshot, ns.Snapshot) {
		return
	}
	c := &Commit{Sync: back, SourceKey: tk, State: &ns}
	if !found || rs.TargetKey != key {
		c.Xref = &Xref{Table: xref, SourceKey: tk, TargetKey: key}
	}
	if err := e.store.Commit(ctx, c); err != nil {
		r.echoFailed(ctx, key, err)
		return
	}
	if found && rs.In && rs.TargetKey == "" {
		// The reverse sync read tk in scope before this link existed and
		// skipped it (runner.go: no target record matched): what tk held
		// then, a change made there meanwhile included, was never
		// compared with what rec holds. It reads tk again on its next run.
		r.reread(ctx, rv, tk, rs.Version)
	}
}

// reread asks the reverse sync rv to fetch and apply its source record tk
// on its next run (a queued event, as a webhook's). Without a fetch
// operation it cannot: tk's values reach rec's record with its next change.
func (r *runner[S, W]) reread(ctx context.Context, rv syncRunner, tk string, seen int64) {
	e := r.e
	if rv == nil {
		return
	}
	b := rv.base()
	if !b.requeue {
		e.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "engine: a record linked after the reverse sync skipped it cannot be read again (the reverse sync has no fetch operation); its values are applied with its next change",
			slog.String("sync", b.name), slog.String("key", tk))
		return
	}
	ev := QueuedEvent{Sync: b.name, EventID: "engine:relinked:" + tk + ":" + strconv.FormatInt(seen, 10), SourceKey: tk, ReceivedAt: e.cfg.now()}
	if _, err := e.store.Enqueue(ctx, ev); err != nil {
		r.echoFailed(ctx, tk, err)
		return
	}
	select {
	case b.signal <- struct{}{}:
	default:
	}
}

func (r *runner[S, W]) echoFailed(ctx context.Context, key string, err error) {
	r.e.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "engine: echo suppression state not recorded (the reverse sync may write equal values once)",
		slog.String("sync", r.s.Name), slog.String("key", key), slog.String("error", redactError(err)))
}
