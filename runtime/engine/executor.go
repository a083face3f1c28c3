package engine

import "context"

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

// InlineExecutor runs units in the caller's goroutine. (Work on one
// source record is serialised by the engine itself, whatever the
// executor.)
type InlineExecutor struct{}

// NewInlineExecutor returns the default in-process executor.
func NewInlineExecutor() InlineExecutor { return InlineExecutor{} }

// Execute implements Executor.
func (InlineExecutor) Execute(ctx context.Context, u Unit) error { return u.Run(ctx) }
