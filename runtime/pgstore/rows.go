package pgstore

import (
	"fmt"
	"strings"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// The common commits of the per-record path (a record's state or its
// write-ahead intent, its xref, the resolution of its dead letters, the
// removal of the webhook event that caused it, its audit entries) are sent
// as one statement each: the parts become data-modifying CTEs of one
// statement. The server parses, binds and executes one statement instead
// of four or five per created record (pgbench, 4 clients, 8,000 commits of
// state, xref, dead-letter resolution and audit: 1.5-1.7 s of server CPU
// as one statement, 2.9-3.7 s as four statements in BEGIN/COMMIT), and
// the client encodes one. The statement's text depends only on which
// parts the commit has (its shape), so pgx prepares each shape once per
// connection.
//
// The CTEs of one statement run on one snapshot and do not see each
// other's writes; the parts above write different tables, and a commit
// touches one row of each, so that changes nothing. A commit carrying
// conflicts or dead letters keeps one statement per part
// (commitStatements), whose order matters there.

// maxAuditRows bounds the audit entries of a one-statement commit (a
// commit carries one per target write; more take the statement path).
const maxAuditRows = 4

// shape names the parts of a one-statement commit.
type shape struct {
	state, intent, xref, resolve, events bool
	audit                                int
}

// oneStatement returns c as one statement, and false when c carries a
// part the one-statement form leaves out.
func (s *Store) oneStatement(c *engine.Commit) (stmt, bool, error) {
	if len(c.Conflicts) > 0 || c.DeadLetter != nil || c.DeleteDeadLetter != 0 || len(c.Audit) > maxAuditRows {
		return stmt{}, false, nil
	}
	var sh shape
	var args []any
	if st := c.State; st != nil {
		snap, err := encodeFields(st.Snapshot)
		if err != nil {
			return stmt{}, false, err
		}
		pending, err := encodeFields(st.Pending)
		if err != nil {
			return stmt{}, false, err
		}
		sh.state = true
		args = append(args, c.Sync, c.SourceKey, st.TargetKey, st.In, st.Version, snap, pending, nanos(st.UpdatedAt))
	} else if in := c.Intent; in != nil {
		snap, err := encodeFields(in.Snapshot)
		if err != nil {
			return stmt{}, false, err
		}
		pending, err := encodeFields(in.Pending)
		if err != nil {
			return stmt{}, false, err
		}
		sh.intent = true
		args = append(args, snap, pending, c.Sync, c.SourceKey)
	}
	if x := c.Xref; x != nil {
		sh.xref = true
		args = append(args, x.Table, x.SourceKey, x.TargetKey)
	}
	if c.ResolveDeadLetters && c.State != nil {
		sh.resolve = true
		args = append(args, c.Sync, c.SourceKey, c.State.Version)
	}
	if len(c.DoneEvents) > 0 {
		sh.events = true
		args = append(args, c.DoneEvents)
	}
	for _, a := range c.Audit {
		fields := a.Fields
		if fields == nil {
			fields = []string{}
		}
		sh.audit++
		args = append(args, a.Sync, a.RunID, a.SourceKey, a.TargetKey, fields, string(a.Outcome), a.Error, nanos(a.At), a.Job)
	}
	if len(args) == 0 {
		return stmt{}, true, nil
	}
	return stmt{sql: s.shapeSQL(sh), args: args}, true, nil
}

// shapeSQL returns (building it once) the statement of a shape.
func (s *Store) shapeSQL(sh shape) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q, ok := s.shapes[sh]; ok {
		return q
	}
	if s.shapes == nil {
		s.shapes = map[shape]string{}
	}
	q := s.qualify(buildShapeSQL(sh))
	s.shapes[sh] = q
	return q
}

// buildShapeSQL writes the statement of a shape: one CTE per part but the
// last, which is the statement's body. Parameters are numbered in the
// order oneStatement appends the arguments.
func buildShapeSQL(sh shape) string {
	n := 0
	p := func(k int) string {
		var b strings.Builder
		for i := range k {
			if i > 0 {
				b.WriteString(", ")
			}
			n++
			fmt.Fprintf(&b, "$%d", n)
		}
		return b.String()
	}
	var parts []string
	if sh.state {
		parts = append(parts, `INSERT INTO S.records (sync, source_key, target_key, in_scope, version, snapshot, pending, updated_at)
VALUES (`+p(8)+`)
ON CONFLICT (sync, source_key) DO UPDATE SET target_key = excluded.target_key, in_scope = excluded.in_scope,
	version = excluded.version, snapshot = excluded.snapshot, pending = excluded.pending, updated_at = excluded.updated_at`)
	}
	if sh.intent {
		parts = append(parts, fmt.Sprintf(`UPDATE S.records SET snapshot = $%d, pending = $%d WHERE sync = $%d AND source_key = $%d`, n+1, n+2, n+3, n+4))
		n += 4
	}
	if sh.xref {
		parts = append(parts, `INSERT INTO S.xrefs (tbl, source_key, target_key) VALUES (`+p(3)+`)
ON CONFLICT (tbl, source_key) DO UPDATE SET target_key = excluded.target_key`)
	}
	if sh.resolve {
		parts = append(parts, fmt.Sprintf(`DELETE FROM S.dead_letters WHERE sync = $%d AND source_key = $%d AND version <= $%d`, n+1, n+2, n+3))
		n += 3
	}
	if sh.events {
		parts = append(parts, fmt.Sprintf(`DELETE FROM S.queue WHERE id = ANY ($%d::bigint[])`, n+1))
		n++
	}
	if sh.audit > 0 {
		var rows []string
		for range sh.audit {
			rows = append(rows, "("+p(9)+")")
		}
		parts = append(parts, `INSERT INTO S.audit (sync, run_id, source_key, target_key, fields, outcome, error, at, job) VALUES `+strings.Join(rows, ", "))
	}
	if len(parts) == 1 {
		return parts[0]
	}
	var b strings.Builder
	b.WriteString("WITH ")
	for i, part := range parts[:len(parts)-1] {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, "p%d AS (%s)", i, part)
	}
	b.WriteString("\n")
	b.WriteString(parts[len(parts)-1])
	return b.String()
}
