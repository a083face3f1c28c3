package engine

import (
	"context"
	"errors"
	"time"
)

// Store keeps all of the engine's state. Every method must be safe for
// concurrent use. Commit must be atomic: everything one Commit carries
// becomes durable together or not at all, because the engine moves a
// record's state, its xref, its conflicts, its dead letter and the removal of
// the webhook event that caused it in one step.
//
// NewMemoryStore is an in-process implementation for tests; the
// github.com/connectorgen/connectorgen/runtime/sqlitestore module is the
// embedded default. The enginetest package holds a conformance suite that
// every implementation should pass.
type Store interface {
	// LoadRecord returns the state the engine keeps for one source record
	// of a sync, and false when there is none.
	LoadRecord(ctx context.Context, sync, sourceKey string) (RecordState, bool, error)
	// Commit applies c atomically.
	Commit(ctx context.Context, c *Commit) error
	// LookupXref returns the target key recorded in xref table table for
	// sourceKey.
	LookupXref(ctx context.Context, table, sourceKey string) (targetKey string, ok bool, err error)

	// LoadCursor returns a sync's checkpoint, and false before the first
	// successful run.
	LoadCursor(ctx context.Context, sync string) (Cursor, bool, error)
	// FinishRun records the end of a run in one transaction: the new
	// checkpoint (nil: unchanged), the sync's status and a run history
	// entry.
	FinishRun(ctx context.Context, f *RunResult) error

	// LoadStatus returns a sync's status (the zero SyncStatus with Sync
	// set when there is none); SaveStatus replaces it.
	LoadStatus(ctx context.Context, sync string) (SyncStatus, error)
	SaveStatus(ctx context.Context, s SyncStatus) error
	// Runs returns the latest limit runs of a sync, newest first.
	Runs(ctx context.Context, sync string, limit int) ([]RunRecord, error)

	// Enqueue adds a webhook event to the sync's queue and its event ID to
	// the dedupe ledger, atomically. It returns false, and queues nothing,
	// when the ledger already holds the event ID.
	Enqueue(ctx context.Context, ev QueuedEvent) (queued bool, err error)
	// Queued returns up to limit queued events of a sync with ID greater
	// than afterID, in ID order.
	Queued(ctx context.Context, sync string, afterID int64, limit int) ([]QueuedEvent, error)
	// QueueDepth counts a sync's queued events.
	QueueDepth(ctx context.Context, sync string) (int, error)
	// PruneDedupe forgets ledger entries received before before whose
	// events are no longer queued, and returns how many it removed.
	PruneDedupe(ctx context.Context, before time.Time) (int, error)

	// DeadLetters lists a sync's dead letters in ID order; DeadLetter
	// returns one; DeadLetterCount counts them; DeleteDeadLetter discards
	// one (no error when it does not exist).
	DeadLetters(ctx context.Context, sync string) ([]DeadLetter, error)
	DeadLetter(ctx context.Context, sync string, id int64) (DeadLetter, bool, error)
	DeadLetterCount(ctx context.Context, sync string) (int, error)
	DeleteDeadLetter(ctx context.Context, sync string, id int64) error

	// Conflicts lists a sync's open conflicts in ID order; DeleteConflict
	// resolves one.
	Conflicts(ctx context.Context, sync string) ([]Conflict, error)
	DeleteConflict(ctx context.Context, sync string, id int64) error

	// LoadToken returns the token last saved for a system (opaque bytes,
	// JSON from the engine), and false when there is none.
	LoadToken(ctx context.Context, system string) ([]byte, bool, error)
	SaveToken(ctx context.Context, system string, token []byte) error
	// LockToken serialises the refreshes of a system's OAuth token: it
	// waits (until ctx ends) while another holder has it — another engine
	// on the same store and, where the store is shared between processes
	// (PostgreSQL), another process — and keeps it until release is
	// called or the process ends. The engine holds it around "load the
	// latest token, refresh it, save the result", so that two holders
	// never spend the same rotating refresh token. A store used by one
	// process at a time may lock within the process only. release is
	// idempotent.
	LockToken(ctx context.Context, system string) (release func(), err error)

	// Lock takes the exclusive right to run sync on this state (one writer
	// per state, DESIGN.md §5): until release is called, or the process
	// holding it ends, a second Lock of the same sync — from another
	// engine on the same store, another handle on the same state, or
	// another process — fails at once with an error wrapping ErrLocked.
	// A store may lock more than the sync (SQLite locks the whole file);
	// it must never lock less. release is idempotent. The engine holds the
	// lock for the duration of each run, queue drain and replay.
	Lock(ctx context.Context, sync string) (release func(), err error)
	// AuditStore reads and prunes the audit log.
	AuditStore

	// Close releases the store.
	Close() error
}

// RecordXrefLoader is an optional Store method: a record's state and one
// xref entry of the same source key, read in one step. The engine needs
// both for a record without a target key (a new record), which a store on
// a server (PostgreSQL) then reads in one round trip instead of two.
// Stores without it are read with LoadRecord and LookupXref.
type RecordXrefLoader interface {
	// LoadRecordXref returns what LoadRecord(sync, sourceKey) and
	// LookupXref(xrefTable, sourceKey) return.
	LoadRecordXref(ctx context.Context, sync, sourceKey, xrefTable string) (st RecordState, found bool, xrefTarget string, xrefFound bool, err error)
}

// ErrLocked is returned (wrapped) by Store.Lock, and by the engine's
// RunOnce, ProcessQueue and Replay, when another engine holds the sync's
// state: two writers on one state would apply the same records twice.
var ErrLocked = errors.New("engine: the sync's state is locked by another engine or process")

// RecordState is what the engine remembers about one source record.
type RecordState struct {
	Sync      string
	SourceKey string
	// TargetKey is the target record this source record was written to
	// ("" before the first write).
	TargetKey string
	// In is the trigger memory: whether the record was in scope after the
	// last change the engine applied.
	In bool
	// Version is the last applied source version.
	Version int64
	// Snapshot maps target field paths to the canonical JSON this sync last
	// wrote there.
	Snapshot map[string]string
	// Pending maps target field paths to the canonical JSON of a write this
	// sync started but has not committed (write-ahead intent, recorded by
	// Commit.Intent before the write, for syncs with conflict policies): a
	// target value equal to it is this sync's own write, not a change made
	// in the target. nil when no write is pending; a commit after a
	// successful write clears it.
	Pending map[string]string
	// UpdatedAt is when the state was last committed.
	UpdatedAt time.Time
}

// Xref is one entry of an xref table.
type Xref struct {
	Table     string
	SourceKey string
	TargetKey string
}

// Commit is everything that changes for one record, applied atomically by
// Store.Commit. Applying the same Commit twice leaves the same state.
type Commit struct {
	Sync      string
	SourceKey string
	// State, when not nil, replaces the record's state (Pending included).
	State *RecordState
	// Intent, when not nil and State is nil, is the write-ahead record of a
	// target write the engine is about to make: it replaces the Snapshot and
	// Pending of the record's stored state and leaves the rest of it as it
	// is. A record without state is left without one. It is committed on its
	// own, before the write, so that a write whose state commit is lost (a
	// crash, a failed commit) is recognised as the engine's own later.
	Intent *Intent
	// Xref, when not nil, is upserted.
	Xref *Xref
	// Conflicts are upserted by (Sync, SourceKey, Field): an open conflict
	// for the same field is replaced, keeping its ID.
	Conflicts []Conflict
	// DeadLetter, when not nil, is upserted by (Sync, SourceKey, Version)
	// (or by ID when ID is set).
	DeadLetter *DeadLetter
	// ResolveDeadLetters deletes the record's dead letters with a version
	// at or below State.Version (the record has since been applied).
	ResolveDeadLetters bool
	// DeleteDeadLetter, when not zero, deletes that dead letter.
	DeleteDeadLetter int64
	// DoneEvents are queue entries to remove.
	DoneEvents []int64
	// Audit entries are appended to the audit log (the store assigns
	// their IDs).
	Audit []AuditEntry
}

// Intent is a write-ahead record of a target write (see Commit.Intent).
type Intent struct {
	// Snapshot replaces the record's snapshot (the engine moves into it the
	// pending values the target showed had been written).
	Snapshot map[string]string
	// Pending replaces the record's pending values: the fields of the write
	// about to be made, and earlier pending values not resolved yet.
	Pending map[string]string
}

// QueuedEvent is a webhook event waiting in a sync's queue.
type QueuedEvent struct {
	// ID is assigned by the store.
	ID   int64
	Sync string
	// EventID is the sender's delivery ID (dedupe key).
	EventID    string
	SourceKey  string
	Version    int64
	Deleted    bool
	ReceivedAt time.Time
}

// DeadLetter is a record that exhausted its attempts or failed permanently.
type DeadLetter struct {
	ID        int64     `json:"id"`
	Sync      string    `json:"sync"`
	SourceKey string    `json:"source_key"`
	Version   int64     `json:"version"`
	Attempts  int       `json:"attempts"`
	Error     string    `json:"error"`
	Payload   []byte    `json:"payload"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Conflict is a field whose target value changed since this sync last wrote
// it while the source changed too, left for review by the Queue policy.
type Conflict struct {
	ID          int64     `json:"id"`
	Sync        string    `json:"sync"`
	SourceKey   string    `json:"source_key"`
	TargetKey   string    `json:"target_key"`
	Field       string    `json:"field"`
	SourceValue string    `json:"source_value"`
	TargetValue string    `json:"target_value"`
	Snapshot    string    `json:"snapshot"`
	DetectedAt  time.Time `json:"detected_at"`
}

// SyncStatus is a sync's health state.
type SyncStatus struct {
	Sync                string    `json:"sync"`
	LastSuccess         time.Time `json:"last_success"`
	LastRun             time.Time `json:"last_run"`
	ConsecutiveFailures int       `json:"consecutive_failures"`
	LastError           string    `json:"last_error,omitempty"`
	Paused              bool      `json:"paused"`
}

// RunRecord is one entry of the run history.
type RunRecord struct {
	ID         int64     `json:"id"`
	Sync       string    `json:"sync"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	OK         bool      `json:"ok"`
	Error      string    `json:"error,omitempty"`
	// Report is the run's Report as JSON.
	Report []byte `json:"report,omitempty"`
}

// RunResult is what Store.FinishRun records.
type RunResult struct {
	Sync string
	// Cursor is the new checkpoint; nil leaves it unchanged.
	Cursor *Cursor
	Status SyncStatus
	Run    RunRecord
}

// ErrStoreClosed is returned by a closed store.
var ErrStoreClosed = errors.New("engine: store closed")
