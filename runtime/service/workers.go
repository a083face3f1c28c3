package service

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// WorkerStore is implemented by a store whose opener can also run the
// engine's units of work on workers that share the store, such as
// runtime/riverexec's opener for postgres:// URLs (River jobs in the same
// PostgreSQL). The run command asks it for an executor, so that any number
// of processes started with the same -state URL share the syncs; once,
// dry-run and the operator commands use the store alone (its one-writer
// lock keeps them from colliding with the workers). The host never imports
// the implementation: it only sees these methods.
type WorkerStore interface {
	engine.Store
	// Executor builds the executor of a run process. Its result must also
	// implement WorkerExecutor.
	Executor(ctx context.Context, log *slog.Logger) (engine.Executor, error)
}

// WorkerExecutor is the life cycle of a WorkerStore's executor: the host
// binds the engine once the syncs are registered, starts it with the
// schedule and stops it before closing the store.
type WorkerExecutor interface {
	engine.Executor
	Bind(e *engine.Engine)
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// WorkerScheduler is a WorkerExecutor that also schedules the syncs on the
// shared workers (runtime/riverexec: River periodic jobs, inserted by the
// one elected leader, one job per sync and interval). When the executor
// implements it, the run command hands it every sync's poll interval and
// webhook queue drain interval before Start instead of running a schedule
// loop of its own in each process: N processes then poll a sync once per
// interval together, and a job that waits (a snoozed system-down retry)
// or was stranded by a killed process blocks only its own interval.
type WorkerScheduler interface {
	Schedule(sync string, every, queueEvery time.Duration) error
}

// workerExecutor returns the executor of st when it is a WorkerStore.
func workerExecutor(ctx context.Context, st engine.Store, log *slog.Logger) (WorkerExecutor, error) {
	ws, ok := st.(WorkerStore)
	if !ok {
		return nil, nil
	}
	x, err := ws.Executor(ctx, log)
	if err != nil {
		return nil, err
	}
	wx, ok := x.(WorkerExecutor)
	if !ok {
		return nil, fmt.Errorf("the state store's executor %T has no Bind, Start and Stop", x)
	}
	return wx, nil
}
