package engine_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// TestAuditEveryWrite: each create and update is in the audit log with its
// run, keys and field paths (never values); unchanged records add nothing;
// a dead-lettered record is a failed entry.
func TestAuditEveryWrite(t *testing.T) {
	ctx := context.Background()
	f := setup(t, engine.NewMemoryStore())
	f.add(t)
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Ann"})
	f.src.put(lead{ID: "b", Email: "b@x.io", Name: "Bob"})
	f.run(t)
	f.run(t) // unchanged: no entries
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Secret Anna"})
	f.run(t)

	got, err := f.store.Audit(ctx, engine.AuditQuery{Sync: "leads"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("audit has %d entries, want 3 (2 creates, 1 update): %+v", len(got), got)
	}
	upd := got[0]
	if upd.Outcome != engine.AuditUpdated || upd.SourceKey != "a" || upd.TargetKey == "" || upd.RunID == "" || !slices.Contains(upd.Fields, "name") {
		t.Fatalf("update entry %+v", upd)
	}
	if got[1].Outcome != engine.AuditCreated || got[2].Outcome != engine.AuditCreated || got[1].RunID != got[2].RunID || got[1].RunID == upd.RunID {
		t.Fatalf("create entries %+v %+v (same run, not the update's)", got[1], got[2])
	}
	for _, e := range got {
		for _, p := range e.Fields {
			if strings.Contains(p, "Anna") || strings.Contains(p, "@") {
				t.Fatalf("audit entry carries a value: %+v", e)
			}
		}
	}

	f.tgt.setFail(func(w *write) error { return engine.Permanent(errors.New("rejected")) })
	f.src.put(lead{ID: "c", Email: "c@x.io", Name: "Cid"})
	f.run(t)
	got, _ = f.store.Audit(ctx, engine.AuditQuery{SourceKey: "c"})
	if len(got) != 1 || got[0].Outcome != engine.AuditFailed || got[0].Error == "" {
		t.Fatalf("dead-lettered record's audit %+v", got)
	}
}
