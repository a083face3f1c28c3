package engine_test

import (
	"context"
	"errors"
	"sync"
	"testing"

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
