package engine

import (
	"context"
	"errors"
)

// applying is the record apply is working on and where it came from,
// carried in the context apply passes to exit: the exit action's
// condition reads the record, and a poll that batches queues the exit
// write in its batch (origin.batch).
type applying[S any] struct {
	rec *S
	o   origin
}

type applyingKey struct{}

func withApplying[S any](ctx context.Context, rec *S, o origin) context.Context {
	return context.WithValue(ctx, applyingKey{}, &applying[S]{rec: rec, o: o})
}

// errExitQueued is exit's answer when it queued the exit write in the
// poll's batch: apply stops there (the record's state moves out of scope
// only when the batch is settled), and process reports the record queued.
var errExitQueued = errors.New("engine: exit write queued in the batch")

// exit runs the sync's exit action (Sync.OnExit) on the target record of a
// source record that left the scope, when its condition (Sync.OnExitWhen)
// holds on the record. The target key is the one the state remembers,
// else the xref's; with neither, no target record was ever written and
// there is nothing to act on.
//
// In a poll that batches, and when the target's batch write takes exit
// writes (Sync.BatchExit), the write is queued in the batch instead of
// sent alone: the state that says the record is out is committed after
// the batch was written (as a queued write's commit), so a crash in
// between leaves the record in and the exit write is sent again.
func (r *runner[S, W]) exit(ctx context.Context, sourceKey, targetKey string) error {
	s, e := r.s, r.e
	a, _ := ctx.Value(applyingKey{}).(*applying[S])
	if s.OnExitWhen != nil && a != nil && !s.OnExitWhen(a.rec) {
		return nil // left for another reason: no exit action
	}
	if targetKey == "" {
		tk, ok, err := e.store.LookupXref(ctx, r.xref, sourceKey)
		if err != nil {
			return tag(stageStore, err)
		}
		if !ok {
			return nil
		}
		targetKey = tk
	}
	if a != nil && s.BatchExit && r.batching() {
		if b, ok := a.o.batch.(*batcher[S, W]); ok {
			st, found, err := e.store.LoadRecord(ctx, s.Name, sourceKey)
			if err != nil {
				return tag(stageStore, err)
			}
			ver := s.Version(a.rec)
			b.add(&batchItem[S, W]{key: sourceKey, exit: true, targetKey: targetKey, out: OutcomeSkipped,
				finish: func(string, string) *Commit {
					c := &Commit{Sync: s.Name, SourceKey: sourceKey}
					if found && st.In {
						ns := st
						ns.In, ns.Version, ns.UpdatedAt = false, ver, e.cfg.now()
						c.State = &ns
						c.ResolveDeadLetters = true
					}
					return a.o.done(c)
				}})
			return errExitQueued
		}
	}
	return tag(stageTarget, s.OnExit(ctx, targetKey))
}
