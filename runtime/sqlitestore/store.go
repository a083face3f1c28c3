// Package sqlitestore is the embedded engine.Store: one SQLite file, pure Go
// (modernc.org/sqlite, no cgo), WAL mode, versioned schema migrations.
//
// Writes go through one connection (SQLite allows one writer at a time;
// BEGIN IMMEDIATE avoids lock upgrades that fail under contention) and
// reads through a small pool of read-only connections, which WAL lets run
// beside the writer.
package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// Store is an engine.Store in a SQLite database file.
type Store struct {
	w    *sql.DB // single writer
	r    *sql.DB // readers
	path string

	// Prepared statements of the per-record path.
	upsertRecord, recordIntent, upsertXref, resolveDL, deleteEvent *sql.Stmt // writer
	loadRecord, lookupXref                                         *sql.Stmt // readers

	// Group commit: concurrent Commits share one transaction (and one
	// fsync); each is still all-or-nothing.
	commits chan commitReq
	quit    chan struct{}
	stopped chan struct{}
	once    sync.Once

	lock fileLock
	// tokLocks serialise token refreshes within the process (SQLite state
	// has one engine at a time; see LockToken).
	tokLocks engine.KeyLocks
}

type commitReq struct {
	ctx  context.Context
	c    *engine.Commit
	done chan error
}

// maxBatch bounds the commits that share a transaction.
const maxBatch = 64

func (s *Store) committer() {
	defer close(s.stopped)
	for {
		var first commitReq
		select {
		case first = <-s.commits:
		case <-s.quit:
			return
		}
		batch := []commitReq{first}
	more:
		for len(batch) < maxBatch {
			select {
			case r := <-s.commits:
				batch = append(batch, r)
			default:
				break more
			}
		}
		live := batch[:0:0]
		for _, r := range batch {
			if err := r.ctx.Err(); err != nil {
				r.done <- err
				continue
			}
			live = append(live, r)
		}
		if len(live) == 0 {
			continue
		}
		err := s.tx(context.Background(), func(tx *sql.Tx) error {
			for _, r := range live {
				if err := s.commitTx(r.ctx, tx, r.c); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil || len(live) == 1 {
			for _, r := range live {
				r.done <- err
			}
			continue
		}
		// One of them failed: find out which, one transaction each.
		for _, r := range live {
			r.done <- s.tx(r.ctx, func(tx *sql.Tx) error { return s.commitTx(r.ctx, tx, r.c) })
		}
	}
}

const (
	sqlUpsertRecord = `INSERT INTO records (sync, source_key, target_key, in_scope, version, snapshot, pending, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (sync, source_key) DO UPDATE SET target_key = excluded.target_key, in_scope = excluded.in_scope,
	version = excluded.version, snapshot = excluded.snapshot, pending = excluded.pending, updated_at = excluded.updated_at`
	sqlRecordIntent = `UPDATE records SET snapshot = ?, pending = ? WHERE sync = ? AND source_key = ?`
	sqlUpsertXref   = `INSERT INTO xrefs (tbl, source_key, target_key) VALUES (?, ?, ?)
ON CONFLICT (tbl, source_key) DO UPDATE SET target_key = excluded.target_key`
	sqlResolveDL   = `DELETE FROM dead_letters WHERE sync = ? AND source_key = ? AND version <= ?`
	sqlDeleteEvent = `DELETE FROM queue WHERE id = ?`
	// pending is '{}' on nearly every row: NULL then, which scans without
	// an allocation.
	sqlLoadRecord = `SELECT target_key, in_scope, version, snapshot, NULLIF(pending, '{}'), updated_at FROM records WHERE sync = ? AND source_key = ?`
	sqlLookupXref = `SELECT target_key FROM xrefs WHERE tbl = ? AND source_key = ?`
)

func (s *Store) prepare(ctx context.Context) error {
	var err error
	prep := func(db *sql.DB, q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = db.PrepareContext(ctx, q)
		return st
	}
	s.upsertRecord = prep(s.w, sqlUpsertRecord)
	s.recordIntent = prep(s.w, sqlRecordIntent)
	s.upsertXref = prep(s.w, sqlUpsertXref)
	s.resolveDL = prep(s.w, sqlResolveDL)
	s.deleteEvent = prep(s.w, sqlDeleteEvent)
	s.loadRecord = prep(s.r, sqlLoadRecord)
	s.lookupXref = prep(s.r, sqlLookupXref)
	if err != nil {
		return fmt.Errorf("sqlitestore: preparing statements: %w", err)
	}
	return nil
}

var (
	_ engine.Store            = (*Store)(nil)
	_ engine.RecordXrefLoader = (*Store)(nil)
)

// Options tunes Open.
type Options struct {
	// BusyTimeout is how long a connection waits for a lock held by another
	// process (default 5 s).
	BusyTimeout time.Duration
	// Readers is the size of the read pool (default 4).
	Readers int
	// Synchronous is SQLite's synchronous pragma: "FULL" (default: a
	// commit survives power loss) or "NORMAL" (faster; in WAL mode a
	// commit survives a process crash but may be lost on power loss).
	Synchronous string
}

// Open opens (creating it with mode 0600 if needed) the database at path
// and migrates its schema.
func Open(path string) (*Store, error) { return OpenWith(path, Options{}) }

// OpenWith is Open with options.
func OpenWith(path string, o Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlitestore: empty path")
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 5 * time.Second
	}
	if o.Readers <= 0 {
		o.Readers = 4
	}
	switch o.Synchronous {
	case "":
		o.Synchronous = "FULL"
	case "FULL", "NORMAL":
	default:
		return nil, fmt.Errorf("sqlitestore: Synchronous %q: want FULL or NORMAL", o.Synchronous)
	}
	// The state holds OAuth tokens: create the file readable by its owner
	// only.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600); err != nil {
		return nil, fmt.Errorf("sqlitestore: %w", err)
	} else {
		f.Close()
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", o.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+o.Synchronous+")")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Set("_txlock", "immediate")
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	s := &Store{w: w, path: path, lock: fileLock{path: path + ".lock"}, commits: make(chan commitReq), quit: make(chan struct{}), stopped: make(chan struct{})}
	if err := s.migrate(context.Background()); err != nil {
		close(s.stopped)
		w.Close()
		return nil, err
	}
	rq := url.Values{}
	rq.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", o.BusyTimeout.Milliseconds()))
	rq.Add("_pragma", "query_only(ON)")
	r, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlitestore: %w", err)
	}
	r.SetMaxOpenConns(o.Readers)
	r.SetMaxIdleConns(o.Readers)
	s.r = r
	go s.committer()
	if err := s.prepare(context.Background()); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Close closes the database. Later calls fail.
func (s *Store) Close() error {
	s.once.Do(func() { close(s.quit) })
	<-s.stopped
	s.lock.closeLock()
	var errs []error
	for _, st := range []*sql.Stmt{s.upsertRecord, s.recordIntent, s.upsertXref, s.resolveDL, s.deleteEvent, s.loadRecord, s.lookupXref} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(append(errs, s.r.Close(), s.w.Close())...)
}

// migrations are applied in order; each runs once, in a transaction that
// also records it in schema_migrations. Never edit a released migration:
// append a new one.
func migrations() []string {
	return []string{
		1: `
CREATE TABLE records (
	sync        TEXT    NOT NULL,
	source_key  TEXT    NOT NULL,
	target_key  TEXT    NOT NULL DEFAULT '',
	in_scope    INTEGER NOT NULL,
	version     INTEGER NOT NULL,
	snapshot    TEXT    NOT NULL DEFAULT '{}',
	updated_at  INTEGER NOT NULL,
	PRIMARY KEY (sync, source_key)
) WITHOUT ROWID;
CREATE TABLE xrefs (
	tbl         TEXT NOT NULL,
	source_key  TEXT NOT NULL,
	target_key  TEXT NOT NULL,
	PRIMARY KEY (tbl, source_key)
) WITHOUT ROWID;
CREATE TABLE cursors (
	sync        TEXT PRIMARY KEY,
	time        TEXT NOT NULL DEFAULT '',
	int         INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE sync_status (
	sync                 TEXT PRIMARY KEY,
	last_success         INTEGER NOT NULL DEFAULT 0,
	last_run             INTEGER NOT NULL DEFAULT 0,
	consecutive_failures INTEGER NOT NULL DEFAULT 0,
	last_error           TEXT    NOT NULL DEFAULT '',
	paused               INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE runs (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	sync        TEXT    NOT NULL,
	started_at  INTEGER NOT NULL,
	finished_at INTEGER NOT NULL,
	ok          INTEGER NOT NULL,
	error       TEXT    NOT NULL DEFAULT '',
	report      BLOB
);
CREATE INDEX runs_sync ON runs (sync, id);
CREATE TABLE queue (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	sync        TEXT    NOT NULL,
	event_id    TEXT    NOT NULL,
	source_key  TEXT    NOT NULL,
	version     INTEGER NOT NULL,
	deleted     INTEGER NOT NULL,
	received_at INTEGER NOT NULL
);
CREATE INDEX queue_sync ON queue (sync, id);
CREATE TABLE dedupe (
	sync        TEXT    NOT NULL,
	event_id    TEXT    NOT NULL,
	received_at INTEGER NOT NULL,
	PRIMARY KEY (sync, event_id)
) WITHOUT ROWID;
CREATE INDEX dedupe_received ON dedupe (received_at);
CREATE TABLE dead_letters (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	sync        TEXT    NOT NULL,
	source_key  TEXT    NOT NULL,
	version     INTEGER NOT NULL,
	attempts    INTEGER NOT NULL,
	error       TEXT    NOT NULL,
	payload     BLOB,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	UNIQUE (sync, source_key, version)
);
CREATE TABLE conflicts (
	id             INTEGER PRIMARY KEY AUTOINCREMENT,
	sync           TEXT    NOT NULL,
	source_key     TEXT    NOT NULL,
	target_key     TEXT    NOT NULL,
	field          TEXT    NOT NULL,
	source_value   TEXT    NOT NULL,
	target_value   TEXT    NOT NULL,
	snapshot_value TEXT    NOT NULL,
	detected_at    INTEGER NOT NULL,
	UNIQUE (sync, source_key, field)
);
CREATE TABLE tokens (
	system      TEXT PRIMARY KEY,
	token       BLOB    NOT NULL,
	updated_at  INTEGER NOT NULL
) WITHOUT ROWID;
`,
		// 2: write-ahead intent (engine.RecordState.Pending): the field values
		// of a target write whose state commit has not happened yet.
		2: `
ALTER TABLE records ADD COLUMN pending TEXT NOT NULL DEFAULT '{}';
`,
		// 3: the audit log (engine.AuditEntry): one row per target write,
		// field paths only.
		3: `
CREATE TABLE audit (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	sync        TEXT    NOT NULL,
	run_id      TEXT    NOT NULL,
	source_key  TEXT    NOT NULL,
	target_key  TEXT    NOT NULL,
	fields      TEXT    NOT NULL,
	outcome     TEXT    NOT NULL,
	error       TEXT    NOT NULL,
	at          INTEGER NOT NULL
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_sync ON audit (sync, id);
`,
		// 4: the target's job id of a bulk write (engine.AuditEntry.Job).
		4: `
ALTER TABLE audit ADD COLUMN job TEXT NOT NULL DEFAULT '';
`,
	}
}

// SchemaVersion is the schema version this package migrates to.
func SchemaVersion() int { return len(migrations()) - 1 }

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlitestore: migrations table: %w", err)
	}
	var cur int
	if err := s.w.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&cur); err != nil {
		return fmt.Errorf("sqlitestore: schema version: %w", err)
	}
	if cur > SchemaVersion() {
		return fmt.Errorf("sqlitestore: %s has schema version %d, newer than this program's %d", s.path, cur, SchemaVersion())
	}
	for v := cur + 1; v <= SchemaVersion(); v++ {
		err := s.tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, migrations()[v]); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, v, time.Now().UnixNano())
			return err
		})
		if err != nil {
			return fmt.Errorf("sqlitestore: migration %d: %w", v, err)
		}
	}
	return nil
}

func (s *Store) tx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// LoadRecord implements engine.Store.
func (s *Store) LoadRecord(ctx context.Context, sync, sourceKey string) (engine.RecordState, bool, error) {
	st := engine.RecordState{Sync: sync, SourceKey: sourceKey}
	var in int
	var snap string
	var pending sql.NullString
	var upd int64
	err := s.loadRecord.QueryRowContext(ctx, sync, sourceKey).Scan(&st.TargetKey, &in, &st.Version, &snap, &pending, &upd)
	if errors.Is(err, sql.ErrNoRows) {
		return engine.RecordState{}, false, nil
	}
	if err != nil {
		return engine.RecordState{}, false, err
	}
	st.In = in != 0
	st.UpdatedAt = fromNanos(upd)
	if err := decodeFields(snap, &st.Snapshot); err != nil {
		return engine.RecordState{}, false, fmt.Errorf("sqlitestore: snapshot of %s/%s: %w", sync, sourceKey, err)
	}
	if err := decodeFields(pending.String, &st.Pending); err != nil {
		return engine.RecordState{}, false, fmt.Errorf("sqlitestore: pending values of %s/%s: %w", sync, sourceKey, err)
	}
	return st, true, nil
}

// encodeFields and decodeFields store a field map (snapshot, pending
// values) as a JSON object; an empty map is "{}" and loads as nil.
func encodeFields(m map[string]string) (any, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

func decodeFields(s string, m *map[string]string) error {
	if s == "" || s == "{}" {
		return nil
	}
	return json.Unmarshal([]byte(s), m)
}

// Commit implements engine.Store. Concurrent commits are grouped into one
// IMMEDIATE transaction (group commit); a commit is never split, and when a
// group fails each commit is retried in a transaction of its own.
func (s *Store) Commit(ctx context.Context, c *engine.Commit) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := commitReq{ctx: ctx, c: c, done: make(chan error, 1)}
	select {
	case s.commits <- r:
	case <-s.quit:
		return engine.ErrStoreClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-r.done
}

func (s *Store) commitTx(ctx context.Context, tx *sql.Tx, c *engine.Commit) error {
	{
		if st := c.State; st != nil {
			snap, err := encodeFields(st.Snapshot)
			if err != nil {
				return err
			}
			pending, err := encodeFields(st.Pending)
			if err != nil {
				return err
			}
			if _, err := tx.StmtContext(ctx, s.upsertRecord).ExecContext(ctx, c.Sync, c.SourceKey, st.TargetKey, b2i(st.In), st.Version, snap, pending, nanos(st.UpdatedAt)); err != nil {
				return err
			}
		} else if in := c.Intent; in != nil {
			snap, err := encodeFields(in.Snapshot)
			if err != nil {
				return err
			}
			pending, err := encodeFields(in.Pending)
			if err != nil {
				return err
			}
			if _, err := tx.StmtContext(ctx, s.recordIntent).ExecContext(ctx, snap, pending, c.Sync, c.SourceKey); err != nil {
				return err
			}
		}
		if x := c.Xref; x != nil {
			if _, err := tx.StmtContext(ctx, s.upsertXref).ExecContext(ctx, x.Table, x.SourceKey, x.TargetKey); err != nil {
				return err
			}
		}
		for _, cf := range c.Conflicts {
			if _, err := tx.ExecContext(ctx, `INSERT INTO conflicts (sync, source_key, target_key, field, source_value, target_value, snapshot_value, detected_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (sync, source_key, field) DO UPDATE SET target_key = excluded.target_key, source_value = excluded.source_value,
	target_value = excluded.target_value, snapshot_value = excluded.snapshot_value, detected_at = excluded.detected_at`,
				cf.Sync, cf.SourceKey, cf.TargetKey, cf.Field, cf.SourceValue, cf.TargetValue, cf.Snapshot, nanos(cf.DetectedAt)); err != nil {
				return err
			}
		}
		if c.ResolveDeadLetters && c.State != nil {
			if _, err := tx.StmtContext(ctx, s.resolveDL).ExecContext(ctx, c.Sync, c.SourceKey, c.State.Version); err != nil {
				return err
			}
		}
		if c.DeleteDeadLetter != 0 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM dead_letters WHERE id = ? AND sync = ?`, c.DeleteDeadLetter, c.Sync); err != nil {
				return err
			}
		}
		if d := c.DeadLetter; d != nil {
			var err error
			if d.ID != 0 {
				// A version change could collide with another dead letter of
				// the record: replace that one.
				if _, err = tx.ExecContext(ctx, `DELETE FROM dead_letters WHERE sync = ? AND source_key = ? AND version = ? AND id <> ?`,
					d.Sync, d.SourceKey, d.Version, d.ID); err != nil {
					return err
				}
				_, err = tx.ExecContext(ctx, `UPDATE dead_letters SET source_key = ?, version = ?, attempts = ?, error = ?, payload = ?, updated_at = ?
WHERE id = ? AND sync = ?`, d.SourceKey, d.Version, d.Attempts, d.Error, d.Payload, nanos(d.UpdatedAt), d.ID, d.Sync)
			} else {
				_, err = tx.ExecContext(ctx, `INSERT INTO dead_letters (sync, source_key, version, attempts, error, payload, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (sync, source_key, version) DO UPDATE SET attempts = excluded.attempts, error = excluded.error,
	payload = excluded.payload, updated_at = excluded.updated_at`,
					d.Sync, d.SourceKey, d.Version, d.Attempts, d.Error, d.Payload, nanos(d.CreatedAt), nanos(d.UpdatedAt))
			}
			if err != nil {
				return err
			}
		}
		for _, id := range c.DoneEvents {
			if _, err := tx.StmtContext(ctx, s.deleteEvent).ExecContext(ctx, id); err != nil {
				return err
			}
		}
		for _, a := range c.Audit {
			if err := insertAudit(ctx, tx, a); err != nil {
				return err
			}
		}
		return nil
	}
}

// LookupXref implements engine.Store.
func (s *Store) LookupXref(ctx context.Context, table, sourceKey string) (string, bool, error) {
	var t string
	err := s.lookupXref.QueryRowContext(ctx, table, sourceKey).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return t, err == nil, err
}

// LoadRecordXref implements engine.RecordXrefLoader (two reads of the
// local file: nothing to save in round trips).
func (s *Store) LoadRecordXref(ctx context.Context, sync, sourceKey, xrefTable string) (engine.RecordState, bool, string, bool, error) {
	st, found, err := s.LoadRecord(ctx, sync, sourceKey)
	if err != nil {
		return engine.RecordState{}, false, "", false, err
	}
	t, xok, err := s.LookupXref(ctx, xrefTable, sourceKey)
	if err != nil {
		return engine.RecordState{}, false, "", false, err
	}
	return st, found, t, xok, nil
}

// LoadCursor implements engine.Store.
func (s *Store) LoadCursor(ctx context.Context, sync string) (engine.Cursor, bool, error) {
	var ts string
	var c engine.Cursor
	err := s.r.QueryRowContext(ctx, `SELECT time, int FROM cursors WHERE sync = ?`, sync).Scan(&ts, &c.Int)
	if errors.Is(err, sql.ErrNoRows) {
		return engine.Cursor{}, false, nil
	}
	if err != nil {
		return engine.Cursor{}, false, err
	}
	if ts != "" {
		if c.Time, err = time.Parse(time.RFC3339Nano, ts); err != nil {
			return engine.Cursor{}, false, fmt.Errorf("sqlitestore: cursor of %s: %w", sync, err)
		}
	}
	return c, true, nil
}

// FinishRun implements engine.Store.
func (s *Store) FinishRun(ctx context.Context, f *engine.RunResult) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if c := f.Cursor; c != nil {
			ts := ""
			if !c.Time.IsZero() {
				ts = c.Time.UTC().Format(time.RFC3339Nano)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO cursors (sync, time, int) VALUES (?, ?, ?)
ON CONFLICT (sync) DO UPDATE SET time = excluded.time, int = excluded.int`, f.Sync, ts, c.Int); err != nil {
				return err
			}
		}
		st := f.Status
		st.Sync = f.Sync
		if err := saveStatus(ctx, tx, st); err != nil {
			return err
		}
		r := f.Run
		_, err := tx.ExecContext(ctx, `INSERT INTO runs (sync, started_at, finished_at, ok, error, report) VALUES (?, ?, ?, ?, ?, ?)`,
			f.Sync, nanos(r.StartedAt), nanos(r.FinishedAt), b2i(r.OK), r.Error, r.Report)
		return err
	})
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func saveStatus(ctx context.Context, x execer, st engine.SyncStatus) error {
	_, err := x.ExecContext(ctx, `INSERT INTO sync_status (sync, last_success, last_run, consecutive_failures, last_error, paused)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (sync) DO UPDATE SET last_success = excluded.last_success, last_run = excluded.last_run,
	consecutive_failures = excluded.consecutive_failures, last_error = excluded.last_error, paused = excluded.paused`,
		st.Sync, nanos(st.LastSuccess), nanos(st.LastRun), st.ConsecutiveFailures, st.LastError, b2i(st.Paused))
	return err
}

// LoadStatus implements engine.Store.
func (s *Store) LoadStatus(ctx context.Context, sync string) (engine.SyncStatus, error) {
	st := engine.SyncStatus{Sync: sync}
	var ls, lr int64
	var paused int
	err := s.r.QueryRowContext(ctx, `SELECT last_success, last_run, consecutive_failures, last_error, paused FROM sync_status WHERE sync = ?`, sync).
		Scan(&ls, &lr, &st.ConsecutiveFailures, &st.LastError, &paused)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	st.LastSuccess, st.LastRun, st.Paused = fromNanos(ls), fromNanos(lr), paused != 0
	return st, nil
}

// SaveStatus implements engine.Store.
func (s *Store) SaveStatus(ctx context.Context, st engine.SyncStatus) error {
	return saveStatus(ctx, s.w, st)
}

// Runs implements engine.Store.
func (s *Store) Runs(ctx context.Context, sync string, limit int) ([]engine.RunRecord, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, started_at, finished_at, ok, error, report FROM runs WHERE sync = ? ORDER BY id DESC LIMIT ?`, sync, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []engine.RunRecord
	for rows.Next() {
		r := engine.RunRecord{Sync: sync}
		var st, fin int64
		var ok int
		if err := rows.Scan(&r.ID, &st, &fin, &ok, &r.Error, &r.Report); err != nil {
			return nil, err
		}
		r.StartedAt, r.FinishedAt, r.OK = fromNanos(st), fromNanos(fin), ok != 0
		out = append(out, r)
	}
	return out, rows.Err()
}

// Enqueue implements engine.Store.
func (s *Store) Enqueue(ctx context.Context, ev engine.QueuedEvent) (bool, error) {
	queued := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO dedupe (sync, event_id, received_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			ev.Sync, ev.EventID, nanos(ev.ReceivedAt))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO queue (sync, event_id, source_key, version, deleted, received_at) VALUES (?, ?, ?, ?, ?, ?)`,
			ev.Sync, ev.EventID, ev.SourceKey, ev.Version, b2i(ev.Deleted), nanos(ev.ReceivedAt))
		queued = err == nil
		return err
	})
	return queued && err == nil, err
}

// Queued implements engine.Store.
func (s *Store) Queued(ctx context.Context, sync string, afterID int64, limit int) ([]engine.QueuedEvent, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, event_id, source_key, version, deleted, received_at FROM queue WHERE sync = ? AND id > ? ORDER BY id LIMIT ?`,
		sync, afterID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []engine.QueuedEvent
	for rows.Next() {
		ev := engine.QueuedEvent{Sync: sync}
		var del int
		var at int64
		if err := rows.Scan(&ev.ID, &ev.EventID, &ev.SourceKey, &ev.Version, &del, &at); err != nil {
			return nil, err
		}
		ev.Deleted, ev.ReceivedAt = del != 0, fromNanos(at)
		out = append(out, ev)
	}
	return out, rows.Err()
}

func (s *Store) count(ctx context.Context, q string, args ...any) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, q, args...).Scan(&n)
	return n, err
}

// QueueDepth implements engine.Store.
func (s *Store) QueueDepth(ctx context.Context, sync string) (int, error) {
	return s.count(ctx, `SELECT COUNT(*) FROM queue WHERE sync = ?`, sync)
}

// PruneDedupe implements engine.Store.
func (s *Store) PruneDedupe(ctx context.Context, before time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM dedupe WHERE received_at < ?
AND NOT EXISTS (SELECT 1 FROM queue q WHERE q.sync = dedupe.sync AND q.event_id = dedupe.event_id)`, nanos(before))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

const dlColumns = `id, sync, source_key, version, attempts, error, payload, created_at, updated_at`

func scanDL(sc interface{ Scan(...any) error }) (engine.DeadLetter, error) {
	var d engine.DeadLetter
	var c, u int64
	err := sc.Scan(&d.ID, &d.Sync, &d.SourceKey, &d.Version, &d.Attempts, &d.Error, &d.Payload, &c, &u)
	d.CreatedAt, d.UpdatedAt = fromNanos(c), fromNanos(u)
	return d, err
}

// DeadLetters implements engine.Store.
func (s *Store) DeadLetters(ctx context.Context, sync string) ([]engine.DeadLetter, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+dlColumns+` FROM dead_letters WHERE sync = ? ORDER BY id`, sync)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []engine.DeadLetter
	for rows.Next() {
		d, err := scanDL(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DeadLetter implements engine.Store.
func (s *Store) DeadLetter(ctx context.Context, sync string, id int64) (engine.DeadLetter, bool, error) {
	d, err := scanDL(s.r.QueryRowContext(ctx, `SELECT `+dlColumns+` FROM dead_letters WHERE sync = ? AND id = ?`, sync, id))
	if errors.Is(err, sql.ErrNoRows) {
		return engine.DeadLetter{}, false, nil
	}
	return d, err == nil, err
}

// DeadLetterCount implements engine.Store.
func (s *Store) DeadLetterCount(ctx context.Context, sync string) (int, error) {
	return s.count(ctx, `SELECT COUNT(*) FROM dead_letters WHERE sync = ?`, sync)
}

// DeleteDeadLetter implements engine.Store.
func (s *Store) DeleteDeadLetter(ctx context.Context, sync string, id int64) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM dead_letters WHERE sync = ? AND id = ?`, sync, id)
	return err
}

// Conflicts implements engine.Store.
func (s *Store) Conflicts(ctx context.Context, sync string) ([]engine.Conflict, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, source_key, target_key, field, source_value, target_value, snapshot_value, detected_at
FROM conflicts WHERE sync = ? ORDER BY id`, sync)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []engine.Conflict
	for rows.Next() {
		c := engine.Conflict{Sync: sync}
		var at int64
		if err := rows.Scan(&c.ID, &c.SourceKey, &c.TargetKey, &c.Field, &c.SourceValue, &c.TargetValue, &c.Snapshot, &at); err != nil {
			return nil, err
		}
		c.DetectedAt = fromNanos(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeleteConflict implements engine.Store.
func (s *Store) DeleteConflict(ctx context.Context, sync string, id int64) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM conflicts WHERE sync = ? AND id = ?`, sync, id)
	return err
}

// LoadToken implements engine.Store.
func (s *Store) LoadToken(ctx context.Context, system string) ([]byte, bool, error) {
	var b []byte
	err := s.r.QueryRowContext(ctx, `SELECT token FROM tokens WHERE system = ?`, system).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	return b, err == nil, err
}

// LockToken implements engine.Store within the process: SQLite state has
// one writer engine at a time (Lock), so the refreshes to serialise are
// those of the engines and credentials of this process.
func (s *Store) LockToken(ctx context.Context, system string) (func(), error) {
	return s.tokLocks.Lock(ctx, system)
}

// SaveToken implements engine.Store.
func (s *Store) SaveToken(ctx context.Context, system string, token []byte) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO tokens (system, token, updated_at) VALUES (?, ?, ?)
ON CONFLICT (system) DO UPDATE SET token = excluded.token, updated_at = excluded.updated_at`, system, token, time.Now().UnixNano())
	return err
}
