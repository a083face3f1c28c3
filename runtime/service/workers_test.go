package service

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// fakeWorkers is a WorkerStore whose executor records its life cycle and
// the units it runs (in place, as a River worker would).
type fakeWorkers struct {
	keepOpen
	// scheduler makes the executor a WorkerScheduler.
	scheduler bool
	mu        sync.Mutex
	events    []string
}

func (f *fakeWorkers) note(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, s)
}

func (f *fakeWorkers) has(s string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.events {
		if e == s {
			return true
		}
	}
	return false
}

func (f *fakeWorkers) Executor(ctx context.Context, log *slog.Logger) (engine.Executor, error) {
	f.note("executor")
	if f.scheduler {
		return &fakeSchedExec{fakeExec{f: f}}, nil
	}
	return &fakeExec{f: f}, nil
}

// fakeSchedExec is a fakeExec that schedules the syncs itself (as
// riverexec does with River periodic jobs).
type fakeSchedExec struct{ fakeExec }

func (x *fakeSchedExec) Schedule(sync string, every, queueEvery time.Duration) error {
	if x.eng == nil {
		x.f.note("schedule before bind")
	}
	x.f.note(fmt.Sprintf("schedule %s every %s queue %s", sync, every, queueEvery))
	return nil
}

type fakeExec struct {
	f   *fakeWorkers
	eng *engine.Engine
}

func (x *fakeExec) Execute(ctx context.Context, u engine.Unit) error {
	x.f.note("execute " + string(u.Kind) + " " + u.Sync)
	return u.Run(ctx)
}
func (x *fakeExec) Bind(e *engine.Engine) { x.eng = e; x.f.note("bind") }
func (x *fakeExec) Start(ctx context.Context) error {
	if x.eng == nil {
		x.f.note("start before bind")
	}
	x.f.note("start")
	return nil
}
func (x *fakeExec) Stop(ctx context.Context) error { x.f.note("stop"); return nil }

// TestRunUsesWorkerStoreExecutor: run asks a WorkerStore for its
// executor, puts the engine's units on it, binds, starts and stops it;
// once and the operator commands use the store alone.
func TestRunUsesWorkerStoreExecutor(t *testing.T) {
	tgt := &fakeTarget{recs: map[string]string{}}
	c, st := fakeConnector(t, []rec{{"1", "Ann"}}, tgt)
	fw := &fakeWorkers{keepOpen: keepOpen{st}}
	c.Stores = map[string]StoreOpener{"pgfake": func(context.Context, *url.URL) (engine.Store, error) { return fw, nil }}

	if code, _, errs := run(c, "", "once", "-state=pgfake://x"); code != 0 {
		t.Fatalf("once: %d %s", code, errs)
	}
	if fw.has("executor") {
		t.Fatal("once asked for the workers' executor; it must run in process")
	}

	sig := make(chan struct{})
	var errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Main(c, []string{"run", "-state=pgfake://x", "-addr=127.0.0.1:0", "-every=1h"}, IO{Stdout: &bytes.Buffer{}, Stderr: &errb, Getenv: func(string) string { return "" }, Signals: sig})
	}()
	// The first pass's poll goes through the executor.
	guard := time.Now().Add(30 * time.Second)
	for !fw.has("execute poll people") {
		if time.Now().After(guard) {
			close(sig)
			<-done
			t.Fatalf("the first poll did not go through the store's executor (hang guard); events %v\n%s", fw.events, errb.String())
		}
		select {
		case code := <-done:
			t.Fatalf("run exited %d:\n%s", code, errb.String())
		default:
		}
		runtimeGosched()
	}
	close(sig)
	if code := <-done; code != 0 {
		t.Fatalf("run exit %d:\n%s", code, errb.String())
	}
	fw.mu.Lock()
	got := strings.Join(fw.events, ", ")
	fw.mu.Unlock()
	for _, want := range []string{"executor", "bind", "start", "stop"} {
		if !fw.has(want) {
			t.Errorf("no %q in the executor's life cycle: %s", want, got)
		}
	}
	if fw.has("start before bind") {
		t.Errorf("started before the engine was bound: %s", got)
	}
	if i, j := strings.Index(got, "bind"), strings.Index(got, "start"); i > j {
		t.Errorf("bind after start: %s", got)
	}
	if !strings.HasSuffix(got, "stop") {
		t.Errorf("the executor was not stopped last: %s", got)
	}
}

// runtimeGosched yields while a test polls for a condition.
func runtimeGosched() { time.Sleep(5 * time.Millisecond) }

// TestRunHandsSchedulesToWorkerScheduler: on an executor that schedules
// itself (River periodic jobs: one job per sync and interval, inserted by
// the elected leader), run hands it each sync's interval before Start and
// runs no schedule loop of its own: no poll is asked for by the process
// (each process's own loop waiting on a shared job is what let one stuck
// or snoozed job stall a sync for every process).
func TestRunHandsSchedulesToWorkerScheduler(t *testing.T) {
	tgt := &fakeTarget{recs: map[string]string{}}
	c, st := fakeConnector(t, []rec{{"1", "Ann"}}, tgt)
	fw := &fakeWorkers{keepOpen: keepOpen{st}, scheduler: true}
	c.Stores = map[string]StoreOpener{"pgfake": func(context.Context, *url.URL) (engine.Store, error) { return fw, nil }}

	sig := make(chan struct{})
	var errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Main(c, []string{"run", "-state=pgfake://x", "-addr=127.0.0.1:0", "-every=50ms"}, IO{Stdout: &bytes.Buffer{}, Stderr: &errb, Getenv: func(string) string { return "" }, Signals: sig})
	}()
	guard := time.Now().Add(30 * time.Second)
	for !fw.has("start") {
		if time.Now().After(guard) {
			close(sig)
			<-done
			t.Fatalf("the executor was not started (hang guard); events %v\n%s", fw.events, errb.String())
		}
		select {
		case code := <-done:
			t.Fatalf("run exited %d:\n%s", code, errb.String())
		default:
		}
		runtimeGosched()
	}
	// Several of the overridden 50 ms intervals: a process loop would
	// have polled by now.
	time.Sleep(300 * time.Millisecond)
	close(sig)
	if code := <-done; code != 0 {
		t.Fatalf("run exit %d:\n%s", code, errb.String())
	}
	fw.mu.Lock()
	got := strings.Join(fw.events, ", ")
	fw.mu.Unlock()
	if !fw.has("schedule people every 50ms queue 0s") {
		t.Errorf("the sync's schedule was not handed to the executor: %s", got)
	}
	if fw.has("schedule before bind") {
		t.Errorf("scheduled before the engine was bound: %s", got)
	}
	if i, j := strings.Index(got, "schedule people"), strings.Index(got, "start"); i < 0 || i > j {
		t.Errorf("the schedule was not handed over before Start: %s", got)
	}
	if strings.Contains(got, "execute poll") {
		t.Errorf("the process polled on its own schedule besides the workers': %s", got)
	}
}
