package pgstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// Audit implements engine.Store.
func (s *Store) Audit(ctx context.Context, q engine.AuditQuery) ([]engine.AuditEntry, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if q.Sync != "" {
		add("sync = $%d", q.Sync)
	}
	if q.SourceKey != "" {
		add("source_key = $%d", q.SourceKey)
	}
	if q.RunID != "" {
		add("run_id = $%d", q.RunID)
	}
	if !q.Since.IsZero() {
		add("at >= $%d", nanos(q.Since))
	}
	query := `SELECT id, sync, run_id, source_key, target_key, fields, outcome, error, at, job FROM S.audit`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	query += fmt.Sprintf(" ORDER BY id DESC LIMIT $%d", len(args))
	rows, err := s.pool.Query(ctx, s.qualify(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []engine.AuditEntry
	for rows.Next() {
		var a engine.AuditEntry
		var outcome string
		var at int64
		if err := rows.Scan(&a.ID, &a.Sync, &a.RunID, &a.SourceKey, &a.TargetKey, &a.Fields, &outcome, &a.Error, &at, &a.Job); err != nil {
			return nil, err
		}
		if len(a.Fields) == 0 {
			a.Fields = nil
		}
		a.Outcome, a.At = engine.AuditOutcome(outcome), fromNanos(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// PruneAudit implements engine.Store.
func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	tag, err := s.exec(ctx, s.qualify(`DELETE FROM S.audit WHERE at < $1`), nanos(before))
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}
