package engine

import (
	"context"
	"errors"
)

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
//
// rec is the record that left, nil when it is gone from the source (a
// conditioned action then does not run: the condition cannot hold on a
// record that is no more); o is where it came from.
func (r *runner[S, W]) exit(ctx context.Context, rec *S, o origin, sourceKey, targetKey string) error {
	s, e := r.s, r.e
	if s.OnExitWhen != nil && (rec == nil || !s.OnExitWhen(rec)) {
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
	if rec != nil && s.BatchExit && r.batching() {
		if b, ok := o.batch.(*batcher[S, W]); ok {
			st, found, err := e.store.LoadRecord(ctx, s.Name, sourceKey)
			if err != nil {
				return tag(stageStore, err)
			}
			ver := s.Version(rec)
			b.add(&batchItem[S, W]{key: sourceKey, exit: true, targetKey: targetKey, out: OutcomeSkipped,
				finish: func(string, string) *Commit {
					c := &Commit{Sync: s.Name, SourceKey: sourceKey}
					if found && st.In {
						ns := st
						ns.In, ns.Version, ns.UpdatedAt = false, ver, e.cfg.now()
						c.State = &ns
						c.ResolveDeadLetters = true
					}
					return o.done(c)
				}})
			return errExitQueued
		}
	}
	return tag(stageTarget, s.OnExit(ctx, targetKey))
}
