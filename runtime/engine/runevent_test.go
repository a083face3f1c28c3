package engine_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// runEvents records the RunEvents an engine reports.
type runEvents struct {
	engine.NopObserver
	mu  sync.Mutex
	evs []engine.RunEvent
}

func (r *runEvents) ObserveRun(ev engine.RunEvent) {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.mu.Unlock()
}

// TestRunEventDuration: the RunEvent of a run carries the run's duration
// (the report's), so that observers can time runs (the OTel run span had
// zero length while it was left unset).
func TestRunEventDuration(t *testing.T) {
	obs := &runEvents{}
	// A clock that moves 10 ms each time it is read: the run lasts a known,
	// non-zero time whatever the machine's speed.
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var ticks atomic.Int64
	clock := func() time.Time { return base.Add(time.Duration(ticks.Add(1)) * 10 * time.Millisecond) }
	f := setup(t, engine.NewMemoryStore(), engine.WithObserver(obs), engine.WithClock(clock))
	f.add(t)
	f.src.put(lead{ID: "1", Email: "a@example.com", Name: "A"})
	rep := f.run(t)
	if rep.Created != 1 {
		t.Fatalf("report %+v: want 1 created", rep)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(obs.evs) != 1 {
		t.Fatalf("%d run events, want 1", len(obs.evs))
	}
	ev := obs.evs[0]
	if ev.Duration <= 0 || ev.Duration != rep.Duration {
		t.Errorf("RunEvent.Duration = %s, want the report's %s (> 0)", ev.Duration, rep.Duration)
	}
}
