package engine

import (
	"context"
)

// exit runs the sync's exit action (Sync.OnExit) on the target record of a
// source record that left the scope. The target key is the one the state
// remembers, else the xref's; with neither, no target record was ever
// written and there is nothing to act on.
func (r *runner[S, W]) exit(ctx context.Context, sourceKey, targetKey string) error {
	if targetKey == "" {
		tk, ok, err := r.e.store.LookupXref(ctx, r.xref, sourceKey)
		if err != nil {
			return tag(stageStore, err)
		}
		if !ok {
			return nil
		}
		targetKey = tk
	}
	return tag(stageTarget, r.s.OnExit(ctx, targetKey))
}
