package engine_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// TestOnExit: leaving the scope runs the exit action on the record's
// target; a failed action is retried (the record stays in until it
// succeeds), and once it succeeded a later change of the record, still
// out, does not run it again. A record that never entered has no target
// and no action.
func TestOnExit(t *testing.T) {
	f := setup(t, engine.NewMemoryStore())
	var mu sync.Mutex
	var calls []string
	fails := 2
	f.sync.OnExit = func(_ context.Context, targetKey string) error {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, targetKey)
		if fails > 0 {
			fails--
			return errors.New("target busy")
		}
		return nil
	}
	f.add(t)

	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Ann", Status: "qualified"})
	f.src.put(lead{ID: "b", Email: "b@x.io", Name: "Bob", Status: "new"})
	if rep := f.run(t); rep.Created != 1 {
		t.Fatalf("enter %+v", rep)
	}
	tk, _ := f.tgt.byEmail("a@x.io")
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Ann", Status: "customer"})
	f.src.put(lead{ID: "b", Email: "b@x.io", Name: "Bob", Status: "lost"})
	f.run(t)
	mu.Lock()
	got := append([]string(nil), calls...)
	mu.Unlock()
	if len(got) != 3 || got[0] != tk || got[2] != tk {
		t.Fatalf("exit action calls = %q, want three attempts (two failures, one success) on %q", got, tk)
	}
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Ann B.", Status: "customer"})
	f.run(t)
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 3 {
		t.Errorf("a change while out ran the exit action again: %q", calls)
	}
}

// TestWebhookDeletionExit: a webhook event for a record the source no
// longer has runs the exit action on its target. An action that fails
// every attempt is dead-lettered (the event is done: a deletion must not
// hold the queue) with the record still in; replaying the dead letter runs
// the action once and takes the record out.
func TestWebhookDeletionExit(t *testing.T) {
	f := setup(t, engine.NewMemoryStore(), engine.WithRetryBackoff(time.Millisecond, time.Millisecond))
	var mu sync.Mutex
	var calls []string
	fails := 3 // the sync's MaxAttempts
	f.sync.OnExit = func(_ context.Context, targetKey string) error {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, targetKey)
		if fails > 0 {
			fails--
			return errors.New("target busy")
		}
		return nil
	}
	f.add(t)
	h := newHook(t, f)
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Ann", Status: "qualified"})
	f.run(t)
	tk, _ := f.tgt.byEmail("a@x.io")
	f.src.mu.Lock()
	delete(f.src.recs, "a")
	f.src.mu.Unlock()
	if code := h.send("id=e1;key=a;deleted=true"); code != http.StatusOK && code != http.StatusAccepted {
		t.Fatalf("webhook: %d", code)
	}
	drain := func() {
		t.Helper()
		if _, err := f.eng.ProcessQueue(t.Context(), "leads"); err != nil {
			t.Fatal(err)
		}
	}
	state := func() bool {
		t.Helper()
		st, _, err := f.store.LoadRecord(t.Context(), "leads", "a")
		if err != nil {
			t.Fatal(err)
		}
		return st.In
	}
	drain()
	dls, err := f.eng.DeadLetters(t.Context(), "leads")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(calls); n != 3 || h.depth() != 0 || !state() || len(dls) != 1 || dls[0].SourceKey != "a" || !strings.Contains(dls[0].Error, "deleted at the source") {
		t.Fatalf("failing exit: %d calls (want 3), queue %d (want 0), in %v (want true), dead letters %+v (want one for a)", n, h.depth(), state(), dls)
	}
	if err := f.eng.Replay(t.Context(), "leads", dls[0].ID); err != nil {
		t.Fatal(err)
	}
	dls, err = f.eng.DeadLetters(t.Context(), "leads")
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 4 || calls[3] != tk || state() || len(dls) != 0 {
		t.Fatalf("replayed: calls %v (want a 4th on %s), in %v, dead letters %+v; want the record out and no dead letter", calls, tk, state(), dls)
	}
	drain()
	if len(calls) != 4 {
		t.Fatalf("after done: calls %v", calls)
	}
}
