package sqlitestore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// insertAudit appends one audit entry inside a commit's transaction. Field
// paths are joined with newlines (a path never holds one).
func insertAudit(ctx context.Context, tx *sql.Tx, a engine.AuditEntry) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO audit (sync, run_id, source_key, target_key, fields, outcome, error, at, job) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.Sync, a.RunID, a.SourceKey, a.TargetKey, strings.Join(a.Fields, "\n"), string(a.Outcome), a.Error, nanos(a.At), a.Job)
	return err
}

// Audit implements engine.Store.
func (s *Store) Audit(ctx context.Context, q engine.AuditQuery) ([]engine.AuditEntry, error) {
	var where []string
	var args []any
	if q.Sync != "" {
		where, args = append(where, "sync = ?"), append(args, q.Sync)
	}
	if q.SourceKey != "" {
		where, args = append(where, "source_key = ?"), append(args, q.SourceKey)
	}
	if q.RunID != "" {
		where, args = append(where, "run_id = ?"), append(args, q.RunID)
	}
	if !q.Since.IsZero() {
		where, args = append(where, "at >= ?"), append(args, nanos(q.Since))
	}
	query := `SELECT id, sync, run_id, source_key, target_key, fields, outcome, error, at, job FROM audit`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	query += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit)
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []engine.AuditEntry
	for rows.Next() {
		var a engine.AuditEntry
		var fields, outcome string
		var at int64
		if err := rows.Scan(&a.ID, &a.Sync, &a.RunID, &a.SourceKey, &a.TargetKey, &fields, &outcome, &a.Error, &at, &a.Job); err != nil {
			return nil, err
		}
		if fields != "" {
			a.Fields = strings.Split(fields, "\n")
		}
		a.Outcome, a.At = engine.AuditOutcome(outcome), fromNanos(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// PruneAudit implements engine.Store.
func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM audit WHERE at < ?`, nanos(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
