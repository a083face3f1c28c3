package enginetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// testAudit checks that Commit.Audit entries are appended with the commit,
// read back newest first with filters, and pruned by age.
func testAudit(t *testing.T, s engine.Store) {
	ctx := context.Background()
	for i, k := range []string{"a", "b", "c"} {
		must(t, s.Commit(ctx, &engine.Commit{Sync: "s", SourceKey: k,
			State: &engine.RecordState{Sync: "s", SourceKey: k, TargetKey: "t" + k, Version: 1, UpdatedAt: t0},
			Audit: []engine.AuditEntry{{Sync: "s", RunID: "r1", SourceKey: k, TargetKey: "t" + k, Fields: []string{"email", "name"},
				Outcome: engine.AuditCreated, Job: "job-" + k, At: t0.Add(time.Duration(i) * time.Hour)}}}))
	}
	must(t, s.Commit(ctx, &engine.Commit{Sync: "other", SourceKey: "x",
		Audit: []engine.AuditEntry{{Sync: "other", SourceKey: "x", Outcome: engine.AuditFailed, Error: "boom", At: t0}}}))

	all, err := s.Audit(ctx, engine.AuditQuery{Sync: "s"})
	must(t, err)
	if len(all) != 3 || all[0].SourceKey != "c" || all[2].SourceKey != "a" {
		t.Fatalf("Audit(sync s) = %+v, want c, b, a", all)
	}
	if all[0].ID == 0 || all[0].RunID != "r1" || all[0].TargetKey != "tc" || !slices.Equal(all[0].Fields, []string{"email", "name"}) ||
		all[0].Outcome != engine.AuditCreated || all[0].Job != "job-c" || !all[0].At.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("entry not stored as committed: %+v", all[0])
	}
	one, err := s.Audit(ctx, engine.AuditQuery{SourceKey: "x"})
	must(t, err)
	if len(one) != 1 || one[0].Outcome != engine.AuditFailed || one[0].Error != "boom" {
		t.Fatalf("Audit(key x) = %+v", one)
	}
	lim, err := s.Audit(ctx, engine.AuditQuery{Limit: 2})
	must(t, err)
	if len(lim) != 2 {
		t.Fatalf("Limit 2 returned %d", len(lim))
	}
	since, err := s.Audit(ctx, engine.AuditQuery{Sync: "s", Since: t0.Add(time.Hour)})
	must(t, err)
	if len(since) != 2 {
		t.Fatalf("Since returned %d entries, want 2", len(since))
	}
	n, err := s.PruneAudit(ctx, t0.Add(90*time.Minute))
	must(t, err)
	if n != 3 {
		t.Fatalf("PruneAudit removed %d, want 3 (a, b and other/x)", n)
	}
	left, err := s.Audit(ctx, engine.AuditQuery{})
	must(t, err)
	if len(left) != 1 || left[0].SourceKey != "c" {
		t.Fatalf("after prune: %+v", left)
	}
}
