package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sort"
	"time"
)

// This file holds the audit log (DESIGN.md §8): every write the engine
// makes to a target system is recorded in the store, in the same Commit as
// the record's state, so an audit entry exists exactly when the write was
// committed. Entries carry field paths, never field values: a value may be
// personal data or a secret, and the audit log is read by operators.

// AuditOutcome is what became of an audited write. The values are stable.
type AuditOutcome string

// Audit outcomes.
const (
	AuditCreated AuditOutcome = "created"
	AuditUpdated AuditOutcome = "updated"
	// AuditFailed: the record was dead-lettered (the write was refused or
	// exhausted its attempts).
	AuditFailed AuditOutcome = "failed"
)

// AuditEntry is one target write.
type AuditEntry struct {
	// ID is assigned by the store.
	ID        int64  `json:"id"`
	Sync      string `json:"sync"`
	RunID     string `json:"run_id,omitempty"`
	SourceKey string `json:"source_key"`
	// TargetKey is the target record written ("" when a create failed).
	TargetKey string `json:"target_key,omitempty"`
	// Fields lists the target field paths the write set (sorted); never
	// their values.
	Fields  []string     `json:"fields,omitempty"`
	Outcome AuditOutcome `json:"outcome"`
	// Job is the id of the target's asynchronous job that applies a bulk
	// write ("" when the write was applied at once).
	Job string `json:"job,omitempty"`
	// Error is the redacted error of a failed write.
	Error string    `json:"error,omitempty"`
	At    time.Time `json:"at"`
}

// AuditQuery selects audit entries; zero fields do not filter.
type AuditQuery struct {
	Sync      string
	SourceKey string
	RunID     string
	// Since keeps entries at or after it.
	Since time.Time
	// Limit bounds the result (newest first); 0 means 100.
	Limit int
}

// AuditStore is the part of Store that keeps the audit log (entries are
// written through Commit.Audit).
type AuditStore interface {
	// Audit returns entries matching q, newest first.
	Audit(ctx context.Context, q AuditQuery) ([]AuditEntry, error)
	// PruneAudit deletes entries recorded before before and returns how
	// many it removed (the retention setting).
	PruneAudit(ctx context.Context, before time.Time) (int, error)
}

type runIDKey struct{}

// newRunID returns a random run identifier (16 hex digits).
func newRunID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// withRunID tags ctx with the run the engine is executing, so that audit
// entries name it.
func withRunID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, runIDKey{}, id)
}

// RunID returns the run identifier the engine put in ctx ("" outside a
// run).
func RunID(ctx context.Context) string {
	id, _ := ctx.Value(runIDKey{}).(string)
	return id
}

func fieldPaths(vals map[string]string) []string {
	out := make([]string, 0, len(vals))
	for p := range vals {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// MatchAudit reports whether e matches q's filters (for Store
// implementations that filter in memory).
func MatchAudit(e AuditEntry, q AuditQuery) bool {
	return (q.Sync == "" || e.Sync == q.Sync) && (q.SourceKey == "" || e.SourceKey == q.SourceKey) &&
		(q.RunID == "" || e.RunID == q.RunID) && (q.Since.IsZero() || !e.At.Before(q.Since))
}

// PruneAudit deletes audit entries older than retention (Store.PruneAudit).
func (e *Engine) PruneAudit(ctx context.Context, retention time.Duration) (int, error) {
	return e.store.PruneAudit(ctx, e.cfg.now().Add(-retention))
}
