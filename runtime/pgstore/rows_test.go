package pgstore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// TestOneStatementShapes commits every combination of the parts a commit
// sends as one statement (state or intent, xref, dead-letter resolution,
// done events, 0 to 5 audit entries: 5 takes the statement path) and
// reads each part back.
func TestOneStatementShapes(t *testing.T) {
	s := open(t)
	defer s.Close()
	ctx := context.Background()
	at := time.Date(2025, 4, 1, 0, 0, 0, 123456789, time.UTC)
	n := 0
	for _, rec := range []string{"none", "state", "intent"} {
		for _, xref := range []bool{false, true} {
			for _, resolve := range []bool{false, true} {
				for _, events := range []int{0, 2} {
					for _, audits := range []int{0, 1, 3, 5} {
						n++
						key := fmt.Sprintf("k%d", n)
						name := fmt.Sprintf("%s/xref=%v/resolve=%v/events=%d/audit=%d", rec, xref, resolve, events, audits)
						// Seed a record (for the intent), two dead letters (one
						// resolved by version 5, one not) and the events.
						seed := engine.RecordState{Sync: "s", SourceKey: key, TargetKey: "old", In: true, Version: 1,
							Snapshot: map[string]string{"a": `"1"`}, UpdatedAt: at}
						must(t, s.Commit(ctx, &engine.Commit{Sync: "s", SourceKey: key, State: &seed}))
						for _, v := range []int64{4, 9} {
							must(t, s.Commit(ctx, &engine.Commit{Sync: "s", SourceKey: key,
								DeadLetter: &engine.DeadLetter{Sync: "s", SourceKey: key, Version: v, Error: "e", CreatedAt: at, UpdatedAt: at}}))
						}
						var ids []int64
						for i := range events {
							if _, err := s.Enqueue(ctx, engine.QueuedEvent{Sync: "s", EventID: fmt.Sprint(key, "e", i), SourceKey: key, Version: 1, ReceivedAt: at}); err != nil {
								t.Fatal(err)
							}
						}
						evs, err := s.Queued(ctx, "s", 0, 0)
						must(t, err)
						for _, ev := range evs {
							if ev.SourceKey == key {
								ids = append(ids, ev.ID)
							}
						}
						c := &engine.Commit{Sync: "s", SourceKey: key, DoneEvents: ids, ResolveDeadLetters: resolve}
						switch rec {
						case "state":
							c.State = &engine.RecordState{Sync: "s", SourceKey: key, TargetKey: "t" + key, In: true, Version: 5,
								Snapshot: map[string]string{"a": `"2"`, "b": `"x"`}, Pending: map[string]string{"c": `3`}, UpdatedAt: at}
						case "intent":
							c.Intent = &engine.Intent{Snapshot: map[string]string{"a": `"0"`}, Pending: map[string]string{"a": `"9"`}}
						}
						if xref {
							c.Xref = &engine.Xref{Table: "x", SourceKey: key, TargetKey: "t" + key}
						}
						// Field paths that need quoting in an array literal.
						fields := []string{"email", `say "hi"`, `back\slash`, "a,b", "{braces}", "NULL", " spaced "}
						for i := range audits {
							c.Audit = append(c.Audit, engine.AuditEntry{Sync: "s", RunID: name, SourceKey: key, TargetKey: "t" + key,
								Fields: fields[:min(len(fields), 1+2*i)], Outcome: engine.AuditUpdated, Error: fmt.Sprint("err", i), Job: fmt.Sprint("job", i), At: at})
						}
						if audits == 3 {
							c.Audit[1].Fields = nil
						}
						must(t, s.Commit(ctx, c))

						got, found, err := s.LoadRecord(ctx, "s", key)
						must(t, err)
						switch {
						case !found:
							t.Fatalf("%s: record lost", name)
						case rec == "state" && (got.TargetKey != "t"+key || got.Version != 5 || got.Snapshot["b"] != `"x"` || got.Pending["c"] != "3" || !got.UpdatedAt.Equal(at)):
							t.Fatalf("%s: state %+v", name, got)
						case rec == "intent" && (got.TargetKey != "old" || got.Version != 1 || got.Snapshot["a"] != `"0"` || got.Pending["a"] != `"9"`):
							t.Fatalf("%s: intent %+v", name, got)
						case rec == "none" && (got.TargetKey != "old" || got.Snapshot["a"] != `"1"` || got.Pending != nil):
							t.Fatalf("%s: untouched record %+v", name, got)
						}
						tk, xfound, err := s.LookupXref(ctx, "x", key)
						must(t, err)
						if xfound != xref || (xref && tk != "t"+key) {
							t.Fatalf("%s: xref %q %v", name, tk, xfound)
						}
						dls, err := s.DeadLetters(ctx, "s")
						must(t, err)
						var vers []int64
						for _, d := range dls {
							if d.SourceKey == key {
								vers = append(vers, d.Version)
							}
						}
						want := []int64{4, 9}
						if resolve && rec == "state" {
							want = []int64{9}
						}
						if !slices.Equal(vers, want) {
							t.Fatalf("%s: dead letter versions %v, want %v", name, vers, want)
						}
						left, err := s.Queued(ctx, "s", 0, 0)
						must(t, err)
						for _, ev := range left {
							if ev.SourceKey == key {
								t.Fatalf("%s: event %d left in the queue", name, ev.ID)
							}
						}
						as, err := s.Audit(ctx, engine.AuditQuery{RunID: name})
						must(t, err)
						if len(as) != audits {
							t.Fatalf("%s: %d audit entries, want %d", name, len(as), audits)
						}
						for i, a := range as {
							w := c.Audit[len(as)-1-i] // newest first: in commit order
							wf := w.Fields
							if wf == nil {
								wf = []string{}
							}
							if a.SourceKey != key || a.TargetKey != w.TargetKey || !slices.Equal(a.Fields, wf) || a.Outcome != w.Outcome ||
								a.Error != w.Error || a.Job != w.Job || !a.At.Equal(at) {
								t.Fatalf("%s: audit entry %d = %+v, want %+v", name, i, a, w)
							}
						}
					}
				}
			}
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
