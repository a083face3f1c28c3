package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// blockingConnector has one sync with one record whose write waits for
// release (or for its context to end).
func blockingConnector(st engine.Store, started chan<- struct{}, release <-chan struct{}) Connector {
	var once sync.Once
	return Connector{
		Name:    "blocky",
		Systems: []System{{Name: "a", Environments: []Environment{{Name: "production", URL: "https://a.example", Production: true}}}, {Name: "b", Environments: []Environment{{Name: "production", URL: "https://b.example", Production: true}}}},
		Syncs:   []SyncInfo{{Name: "s", SourceSystem: "a", TargetSystem: "b", Every: time.Hour}},
		Stores:  map[string]StoreOpener{"mem": func(context.Context, *url.URL) (engine.Store, error) { return keepOpen{st}, nil }},
		Register: func(ctx context.Context, s *Setup) error {
			return engine.Add(s.Engine, &engine.Sync[rec, wr]{
				Name: "s", SourceSystem: "a", TargetSystem: "b",
				Poll: func(context.Context, engine.Cursor) iter.Seq2[rec, error] {
					return func(yield func(rec, error) bool) { yield(rec{"1", "x"}, nil) }
				},
				Key:     func(r *rec) string { return r.ID },
				Version: func(*rec) int64 { return 1 },
				Cursor:  func(*rec) engine.Cursor { return engine.Cursor{} },
				Map:     func(_ context.Context, r *rec, _ engine.Lookups, _ bool) (wr, error) { return wr{Name: r.Name}, nil },
				Fields:  []engine.Field[wr]{{Path: "name", Value: func(w *wr) (string, bool) { return `"x"`, true }, Clear: func(*wr) {}}},
				Create: func(ctx context.Context, w *wr, _ string) (string, error) {
					once.Do(func() { close(started) })
					select {
					case <-release:
						return "t1", nil
					case <-ctx.Done():
						return "", ctx.Err()
					}
				},
				Update: func(context.Context, string, *wr, string) error { return nil },
			})
		},
	}
}

// runUntilSignal starts `run`, waits for the write to be in flight, sends
// the stop signal and returns the exit status.
func runUntilSignal(t *testing.T, st engine.Store, drain string, releaseAfterSignal bool) int {
	t.Helper()
	started, release, sig := make(chan struct{}), make(chan struct{}), make(chan struct{})
	c := blockingConnector(st, started, release)
	var errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Main(c, []string{"run", "-state=mem://x", "-addr=127.0.0.1:0", "-drain-timeout=" + drain}, IO{Stdout: &bytes.Buffer{}, Stderr: &errb, Getenv: func(string) string { return "" }, Signals: sig})
	}()
	<-started
	close(sig)
	if releaseAfterSignal {
		time.Sleep(50 * time.Millisecond) // the drain has begun
		close(release)
	}
	code := <-done
	if !strings.Contains(errb.String(), `"msg":"draining"`) || !strings.Contains(errb.String(), `"msg":"stopped"`) {
		t.Fatalf("no drain in the log:\n%s", errb.String())
	}
	return code
}

// TestDrainFinishesInFlight: a write in flight when the stop signal comes
// finishes within the drain time and is committed.
func TestDrainFinishesInFlight(t *testing.T) {
	st := engine.NewMemoryStore()
	if code := runUntilSignal(t, st, "1m", true); code != 0 {
		t.Fatalf("exit %d", code)
	}
	rs, ok, _ := st.LoadRecord(context.Background(), "s", "1")
	if !ok || rs.TargetKey != "t1" {
		t.Fatalf("the in-flight record was not committed: %+v %v", rs, ok)
	}
}

// TestDrainAbandonsAfterTimeout: a write still in flight at the drain
// deadline is abandoned (its context canceled, nothing committed, so the
// next process applies it) and the process still exits 0.
func TestDrainAbandonsAfterTimeout(t *testing.T) {
	st := engine.NewMemoryStore()
	if code := runUntilSignal(t, st, "100ms", false); code != 0 {
		t.Fatalf("exit %d", code)
	}
	// Only the engine's write-ahead intent may be there: no target key,
	// no applied version.
	if rs, ok, _ := st.LoadRecord(context.Background(), "s", "1"); ok && (rs.TargetKey != "" || rs.Version != 0) {
		t.Fatalf("an abandoned record was committed: %+v", rs)
	}
}

// TestDryRunAndConflicts: dry-run prints the writes and changes nothing;
// conflicts list and resolve -take source.
func TestDryRunAndConflicts(t *testing.T) {
	tgt := &fakeTarget{recs: map[string]string{}}
	c, st := fakeConnector(t, []rec{{"1", "Ann"}}, tgt)
	code, out, errs := run(c, "", "dry-run", "-state=mem://x")
	if code != 0 || !strings.Contains(out, `people create 1 → (new) name="Ann"`) {
		t.Fatalf("dry-run: %d %q %q", code, out, errs)
	}
	if len(tgt.recs) != 0 {
		t.Fatal("dry-run wrote to the target")
	}
	ctx := context.Background()
	if err := st.Commit(ctx, &engine.Commit{Sync: "people", SourceKey: "1",
		State:     &engine.RecordState{Sync: "people", SourceKey: "1", TargetKey: "t1", Version: 3, Snapshot: map[string]string{"name": `"Ann"`}},
		Conflicts: []engine.Conflict{{Sync: "people", SourceKey: "1", TargetKey: "t1", Field: "name", SourceValue: `"Anna"`, TargetValue: `"Annie"`, Snapshot: `"Ann"`}}}); err != nil {
		t.Fatal(err)
	}
	code, out, _ = run(c, "", "conflicts", "list", "-state=mem://x", "-json")
	var cs []engine.Conflict
	if err := json.Unmarshal([]byte(out), &cs); code != 0 || err != nil || len(cs) != 1 {
		t.Fatalf("conflicts list: %s", out)
	}
	if code, _, _ := run(c, "", "conflicts", "resolve", "-state=mem://x", "-sync", "people", "-take", "source", fmt.Sprint(cs[0].ID)); code != 0 {
		t.Fatal("resolve failed")
	}
	rs, _, _ := st.LoadRecord(ctx, "people", "1")
	left, _ := st.Conflicts(ctx, "people")
	if len(left) != 0 || rs.Snapshot["name"] != `"Annie"` || rs.Version != 0 {
		t.Fatalf("after resolve -take source: conflicts %v, state %+v", left, rs)
	}
	if code, _, _ := run(c, "", "conflicts", "resolve", "-state=mem://x", "-sync", "people", "99"); code != 1 {
		t.Fatal("resolving an unknown conflict succeeded")
	}
}

// TestStoreSelection: an unknown scheme names the known ones; no -state is
// a clear error; a password in a postgres URL is not echoed.
func TestStoreSelection(t *testing.T) {
	c, _ := fakeConnector(t, nil, &fakeTarget{})
	if code, _, errs := run(c, "", "status", "-state=postgres://u:hunter2@db/x"); code != 1 || !strings.Contains(errs, `no store for scheme "postgres" (this connector knows mem)`) || strings.Contains(errs, "hunter2") {
		t.Fatalf("%d %s", code, errs)
	}
	if code, _, errs := run(c, "", "status"); code != 1 || !strings.Contains(errs, "no state store: set -state or CONNECTOR_STATE") {
		t.Fatalf("%d %s", code, errs)
	}
	var errb bytes.Buffer
	code := Main(c, []string{"audit", "-json"}, IO{Stdout: &bytes.Buffer{}, Stderr: &errb, Getenv: func(k string) string {
		if k == "CONNECTOR_STATE" {
			return "mem://from-env"
		}
		return ""
	}})
	if code != 0 {
		t.Fatalf("CONNECTOR_STATE not used: %s", errb.String())
	}
}

// Example runs a connector's operator command through the service host, as
// a generated main does with os.Args.
func Example() {
	st := engine.NewMemoryStore()
	c := Connector{
		Name:     "example",
		Syncs:    []SyncInfo{{Name: "leads"}},
		Stores:   map[string]StoreOpener{"mem": func(context.Context, *url.URL) (engine.Store, error) { return st, nil }},
		Register: func(context.Context, *Setup) error { return nil },
	}
	code := Main(c, []string{"dead-letters", "list", "-state=mem://", "-json"}, IO{Stdout: os.Stdout, Stderr: os.Stderr})
	fmt.Println("exit", code)
	// Output:
	// []
	// exit 0
}
