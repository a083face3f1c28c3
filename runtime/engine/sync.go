package engine

import (
	"context"
	"errors"
	"iter"
	"time"
)

// This file is the contract between generated sync code and the engine.
// Generated code (connectorgen's emit stage, from a mapping file) fills a
// Sync with plain functions over the generated client types; the engine
// never uses reflection on records and never sees a mapping file.

// Cursor is the value of a source entity's cursor field: a time for
// date-time fields, an integer otherwise. Exactly one of the two is used by
// a given sync (Sync.CursorKind).
type Cursor struct {
	Time time.Time
	Int  int64
}

// CursorKind says which Cursor member a sync uses.
type CursorKind int

// Cursor kinds.
const (
	CursorTime CursorKind = iota
	CursorInt
)

// MatchStep is one step of the order in which the engine looks for the
// target record of a source record.
type MatchStep int

// Match steps, tried in the order the mapping lists them.
const (
	// MatchXref looks the source key up in the sync's xref table.
	MatchXref MatchStep = iota
	// MatchNaturalKey calls Sync.Find with Sync.NaturalKey of the mapped
	// write.
	MatchNaturalKey
	// MatchCreate calls Sync.Create.
	MatchCreate
	// MatchKeyFrom takes the target key the source record holds
	// (Sync.KeyFrom: a foreign key, as a contact's stripe_customer_id).
	// Listed before MatchXref it wins over a different stored link (the
	// source re-linked the record); after it, it links only records the
	// sync has no link for. Before the first write to a record found so,
	// the target is read (Sync.Current, when set): one that already holds
	// every mapped value is linked without a write.
	MatchKeyFrom
)

// Policy decides, per target field, which side wins when both changed.
type Policy int

// Conflict policies. A conflict exists when the target's current value of a
// field differs from the snapshot of what this sync last wrote there.
const (
	// SourceWins always writes the mapped value.
	SourceWins Policy = iota
	// TargetWins leaves a field the target changed alone.
	TargetWins
	// LastWriterWins writes when the source record's version time is later
	// than the target's (Sync.TargetTime).
	LastWriterWins
	// Queue leaves the field alone and records a conflict for review.
	Queue
)

// Field describes one target field a sync writes, for per-field snapshots
// and conflict handling. Value returns the field's canonical JSON in w and
// whether it is set; Clear unsets it so an update leaves the target's value.
type Field[W any] struct {
	Path   string
	Policy Policy
	// CreateOnly fields are written when the target record is created and
	// never on updates.
	CreateOnly bool
	Value      func(w *W) (json string, set bool)
	Clear      func(w *W)
}

// Lookups resolves xref keys while mapping.
type Lookups interface {
	// Lookup returns the target key recorded in xref table name for
	// sourceKey, and false when there is none.
	Lookup(ctx context.Context, name, sourceKey string) (targetKey string, ok bool, err error)
}

// ErrDeferred, returned (wrapped) by Map, says the record cannot be mapped
// yet (for example an xref lookup with missing: defer found nothing); the
// engine keeps it and tries again on a later run without counting it as a
// failure. It does not let the cursor pass the record.
var ErrDeferred = errors.New("engine: record deferred")

// ErrNotFound, returned (wrapped) by Fetch, says the source record no
// longer exists.
var ErrNotFound = errors.New("engine: record not found")

// PermanentError marks an error that retrying cannot fix (a mapping
// function rejected the input, the target answered 422): the engine
// dead-letters the record at once.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err as a PermanentError; nil stays nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// Sync is one generated sync: source records S of one system become writes
// W to another.
type Sync[S, W any] struct {
	// Name is the sync's name in the mapping file; it keys all its state.
	Name string
	// SourceSystem and TargetSystem are system names from the mapping file;
	// Source and Target are entity names ("crm.Lead", "email.Member").
	SourceSystem, TargetSystem string
	Source, Target             string

	// Poll lists the source records whose cursor field is at or after
	// since, over every page. Records may come in any order.
	Poll func(ctx context.Context, since Cursor) iter.Seq2[S, error]
	// Feed, instead of Poll, reads an events feed: every change at or after
	// since, each event's record re-read by the generated code, with the
	// event's cursor (the record itself may have no change time, as Stripe
	// customers). The checkpoint is the largest event cursor read.
	Feed func(ctx context.Context, since Cursor) iter.Seq2[Change[S], error]
	// Fetch re-reads one source record by key (webhooks, replay); it returns
	// an error wrapping ErrNotFound when the record is gone.
	Fetch func(ctx context.Context, key string) (S, error)
	// Key returns a record's primary key.
	Key func(s *S) string
	// Version returns a number that grows with every change of a record
	// (its version field, or its cursor time in nanoseconds); the engine
	// drops changes older than the last applied version.
	Version func(s *S) int64
	// CursorKind and Cursor describe the source's cursor field.
	CursorKind CursorKind
	Cursor     func(s *S) Cursor
	// Lookback widens each poll's lower bound to catch records whose
	// cursor was assigned late.
	Lookback time.Duration
	// Deleted reports a soft-deleted record (nil: never).
	Deleted func(s *S) bool

	// Enter is the trigger predicate (nil: every record is in scope). The
	// engine remembers per record whether it was in: a record is written
	// when it enters and, while it stays in, whenever it changes.
	Enter func(s *S) bool
	// Exit, when set, says a record that was in has left; nil means
	// leaving is !Enter.
	Exit func(s *S) bool

	// OnExit, when set, acts on the target record when a record leaves
	// the scope (a final write, an archive or a delete, as the mapping
	// chooses): it runs before the record's state says it is out, so a
	// failure is retried like a write and the state moves only after the
	// action succeeded. nil: leaving changes nothing in the target.
	OnExit func(ctx context.Context, targetKey string) error
	// OnExitWhen, when set, is the exit action's condition (on_exit
	// when): a record leaving the scope gets the action only when it holds
	// on the record as read (contacts leaving because they became
	// customers); the others leave with no action. nil: every record
	// leaving gets it.
	OnExitWhen func(s *S) bool
	// BatchExit says WriteBatch takes the exit action's final writes too
	// (BatchWrite.Exit): a poll that batches queues them with its other
	// writes instead of sending one request each.
	BatchExit bool

	// Map builds the target write from a source record. create says whether
	// the target record will be created (create-only constants apply).
	Map func(ctx context.Context, s *S, l Lookups, create bool) (W, error)
	// Fields lists every target field Map may set.
	Fields []Field[W]

	// Match is the order in which the target record is found.
	Match []MatchStep
	// Xref names the xref table this sync maintains (source key → target
	// key); "" when it keeps none beyond its own.
	Xref string
	// NaturalKey returns the natural key of a mapped write for
	// MatchNaturalKey.
	NaturalKey func(w *W) string
	// KeyFrom returns the target key source record s holds, "" when none,
	// for MatchKeyFrom.
	KeyFrom func(s *S) string
	// Find returns the target key of the record with the natural key, and
	// false when none exists.
	Find func(ctx context.Context, naturalKey string) (targetKey string, ok bool, err error)
	// Create creates the target record; the idempotency key stays the same
	// for every attempt at the same source version.
	Create func(ctx context.Context, w *W, idempotencyKey string) (targetKey string, err error)
	// Update writes w to an existing target record.
	Update func(ctx context.Context, targetKey string, w *W, idempotencyKey string) error
	// WriteBatch, when set with BatchSize above 1, writes the records of a
	// poll BatchSize at a time, one call per batch (a bulk upsert): see
	// batch.go. Create and Update still write single records (webhooks,
	// replays, and records of a batch that failed for good).
	WriteBatch func(ctx context.Context, ws []BatchWrite[W]) (BatchResult, error)
	BatchSize  int
	// Current reads the target's current field values (path → canonical
	// JSON, as Field.Value, for every field the target's read answers) and
	// its last change time, for conflict policies other than SourceWins;
	// nil when every field is SourceWins. Values the target already holds
	// are not written again.
	Current func(ctx context.Context, targetKey string) (fields map[string]string, changed time.Time, err error)
	// SourceTime returns the record's change time for LastWriterWins.
	SourceTime func(s *S) time.Time

	// Echo, when set, pairs the sync with the one writing the other way
	// (echo suppression, see Echo).
	Echo *Echo[S]

	// ParseEvent decodes one webhook body of the source entity (nil when the
	// mapping declares no webhook). The engine verifies the signature first.
	ParseEvent func(body []byte) (Event, error)

	// Retry bounds per-record attempts before dead-lettering.
	Retry RetryPolicy
	// DeadLetter keeps records that exhausted their attempts; when false
	// such a record stops the run instead.
	DeadLetter bool
	// Alerts are the sync's alert rules.
	Alerts AlertRules
	// Every is the polling interval; Realtime says webhooks are expected.
	Every    time.Duration
	Realtime bool
}

// RetryPolicy bounds per-record retries.
type RetryPolicy struct {
	// MaxAttempts is the number of attempts before a record is
	// dead-lettered (default 5).
	MaxAttempts int
}

// AlertRules are evaluated by the engine and delivered through its alert
// hook. Zero values disable a rule.
type AlertRules struct {
	ConsecutiveFailures int
	Freshness           time.Duration
	DeadLetters         int
}

// Event is a webhook notification reduced to what the engine needs: it is
// a hint to re-fetch record Key, never the data itself.
type Event struct {
	// ID identifies the delivery for dedupe; redeliveries repeat it.
	ID string
	// Key is the source record's key; Version its version after the change
	// (0 when the event does not say).
	Key     string
	Version int64
	// Deleted says the event reports a deletion.
	Deleted bool
}
