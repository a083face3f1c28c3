package service

import (
	"context"
	"fmt"
	"log/slog"

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
