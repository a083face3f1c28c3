package enginetest

import (
	"context"
	"maps"
	"testing"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// testRecordXref checks engine.RecordXrefLoader, for stores that have it,
// against LoadRecord and LookupXref: every combination of a record and an
// xref being there or not, and neighbours (another sync, another table)
// that must not be read.
func testRecordXref(t *testing.T, s engine.Store) {
	l, ok := s.(engine.RecordXrefLoader)
	if !ok {
		t.Log("the store has no LoadRecordXref (optional)")
		return
	}
	ctx := context.Background()
	st := engine.RecordState{Sync: "a", SourceKey: "both", TargetKey: "t1", In: true, Version: 3,
		Snapshot: map[string]string{"email": `"x"`}, Pending: map[string]string{"name": `"n"`}, UpdatedAt: t0}
	must(t, s.Commit(ctx, &engine.Commit{Sync: "a", SourceKey: "both", State: &st, Xref: &engine.Xref{Table: "x", SourceKey: "both", TargetKey: "t1"}}))
	rec := engine.RecordState{Sync: "a", SourceKey: "rec", In: false, Version: 1, UpdatedAt: t0}
	must(t, s.Commit(ctx, &engine.Commit{Sync: "a", SourceKey: "rec", State: &rec}))
	must(t, s.Commit(ctx, &engine.Commit{Sync: "a", SourceKey: "xref", Xref: &engine.Xref{Table: "x", SourceKey: "xref", TargetKey: "t2"}}))
	// Neighbours: the same keys in another sync and another table.
	other := engine.RecordState{Sync: "b", SourceKey: "none", TargetKey: "tb", In: true, Version: 9, UpdatedAt: t0}
	must(t, s.Commit(ctx, &engine.Commit{Sync: "b", SourceKey: "none", State: &other, Xref: &engine.Xref{Table: "y", SourceKey: "none", TargetKey: "ty"}}))
	for _, key := range []string{"both", "rec", "xref", "none"} {
		got, found, tk, xfound, err := l.LoadRecordXref(ctx, "a", key, "x")
		must(t, err)
		want, wfound, err := s.LoadRecord(ctx, "a", key)
		must(t, err)
		wtk, wxfound, err := s.LookupXref(ctx, "x", key)
		must(t, err)
		if found != wfound || xfound != wxfound || tk != wtk {
			t.Fatalf("%s: LoadRecordXref found=%v xref=%q,%v; LoadRecord and LookupXref found=%v xref=%q,%v", key, found, tk, xfound, wfound, wtk, wxfound)
		}
		if got.Sync != want.Sync || got.SourceKey != want.SourceKey || got.TargetKey != want.TargetKey || got.In != want.In ||
			got.Version != want.Version || !got.UpdatedAt.Equal(want.UpdatedAt) || !maps.Equal(got.Snapshot, want.Snapshot) || !maps.Equal(got.Pending, want.Pending) {
			t.Fatalf("%s: LoadRecordXref state %+v, LoadRecord %+v", key, got, want)
		}
	}
	// Spot checks, so that two wrong methods cannot agree.
	if got, found, tk, xfound, _ := l.LoadRecordXref(ctx, "a", "both", "x"); !found || got.Version != 3 || got.Pending["name"] != `"n"` || !xfound || tk != "t1" {
		t.Fatalf("both: %+v %v %q %v", got, found, tk, xfound)
	}
	if _, found, tk, xfound, _ := l.LoadRecordXref(ctx, "a", "xref", "x"); found || !xfound || tk != "t2" {
		t.Fatalf("xref only: %v %q %v", found, tk, xfound)
	}
	if _, found, _, xfound, _ := l.LoadRecordXref(ctx, "a", "none", "x"); found || xfound {
		t.Fatalf("none: read a neighbour: %v %v", found, xfound)
	}
}
