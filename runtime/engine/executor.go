package engine

import (
	"context"
	"sync"
)

// UnitKind names a kind of unit of work.
type UnitKind string

// Unit kinds.
const (
	// UnitPoll is one poll pass of a sync. Key: the sync name.
	UnitPoll UnitKind = "poll"
	// UnitApply applies one source record. Key: sync, source key and
	// source version.
	UnitApply UnitKind = "apply"
	// UnitQueue drains a sync's webhook queue. Key: the sync name.
	UnitQueue UnitKind = "queue"
	// UnitReplay replays one dead letter. Key: sync and dead letter ID.
	UnitReplay UnitKind = "replay"
)

// Unit is one unit of work. Units are idempotent: running a unit twice, or
// again after a crash, leaves the same state, because everything a unit
// changes is committed in one store transaction keyed by Key and writes
// carry stable idempotency keys.
type Unit struct {
	Kind UnitKind
	Sync string
	// Key identifies the unit: two units with the same Key do the same
	// work, so an executor may run only one of them.
	Key string
	// Run does the work.
	Run func(ctx context.Context) error
}

// Executor runs units of work. The default, NewInlineExecutor, runs them
// in the calling goroutine. A distributed executor (a job queue on
// Postgres such as River) can dispatch poll, queue and replay units by
// (Kind, Sync, Key) to workers that call Engine.RunOnce, ProcessQueue and
// Replay; units must then be uniquely keyed by Key, which they are.
type Executor interface {
	Execute(ctx context.Context, u Unit) error
}

// InlineExecutor runs units in the caller's goroutine; concurrent units
// with the same Key run once and share the result.
type InlineExecutor struct {
	mu       sync.Mutex
	inflight map[string]*call
}

type call struct {
	done chan struct{}
	err  error
}

// NewInlineExecutor returns the default in-process executor.
func NewInlineExecutor() *InlineExecutor {
	return &InlineExecutor{inflight: map[string]*call{}}
}

// Execute implements Executor.
func (x *InlineExecutor) Execute(ctx context.Context, u Unit) error {
	k := string(u.Kind) + "\x00" + u.Key
	x.mu.Lock()
	if c, ok := x.inflight[k]; ok {
		x.mu.Unlock()
		select {
		case <-c.done:
			return c.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c := &call{done: make(chan struct{})}
	x.inflight[k] = c
	x.mu.Unlock()
	defer func() {
		x.mu.Lock()
		delete(x.inflight, k)
		x.mu.Unlock()
		close(c.done)
	}()
	c.err = u.Run(ctx)
	return c.err
}
