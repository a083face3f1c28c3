// Package pgstore is the engine.Store on PostgreSQL (jackc/pgx v5), for
// deployments where several worker processes share one state: the
// scale-out role of DESIGN.md §10. The SQLite store stays the embedded
// default; this package must not grow engine logic, only keep state.
//
// All tables live in one schema the user chooses (Options.Schema), created
// and migrated by Open under a transaction-scoped advisory lock, so workers
// starting together migrate once. Everything one engine.Commit carries is
// written in one transaction. The one-writer rule per sync is an advisory
// lock held on a dedicated connection (LockSync, TryLockSync): PostgreSQL
// releases it when the holder's connection ends, so a killed worker never
// leaves a sync locked.
package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// Store is an engine.Store in a PostgreSQL schema.
type Store struct {
	pool   *pgxpool.Pool
	own    bool // the pool was opened by Open and is closed by Close
	schema string
	closed atomic.Bool

	// SQL with the schema filled in, built once.
	q map[string]string

	// held are the releases of the sync locks this handle holds: Close
	// gives them back (a held lock keeps a pool connection, which would
	// also make closing the pool wait forever).
	mu     sync.Mutex
	held   map[int64]func()
	nextID int64
	// shapes holds the statement of each shape of one-statement commit
	// (rows.go), built when first needed.
	shapes map[shape]string
	// tokLocks queue this handle's LockToken calls, so that one pool
	// connection per system at most waits for the advisory lock.
	tokLocks engine.KeyLocks

	// Group commit (see Commit).
	commits chan commitReq
	quit    chan struct{}
	wg      sync.WaitGroup
}

var (
	_ engine.Store            = (*Store)(nil)
	_ engine.RecordXrefLoader = (*Store)(nil)
)

// Options tunes Open and New.
type Options struct {
	// Schema holds the store's tables (default "connectorgen"). It is
	// created when missing. Several independent deployments can share a
	// database with one schema each.
	Schema string
}

// DefaultSchema is the schema used when Options.Schema is empty.
const DefaultSchema = "connectorgen"

var schemaName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// Open connects to the database at url (a postgres:// URL or a key=value
// DSN, as pgxpool.ParseConfig accepts), migrates the schema and returns the
// store. Close closes the pool.
func Open(ctx context.Context, url string, o Options) (*Store, error) {
	cfg, err := PoolConfig(url)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	s, err := New(ctx, pool, o)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.own = true
	return s, nil
}

// MinPoolConns is the pool size PoolConfig sets when the URL does not say
// (pool_max_conns): pgx's default (the number of CPUs, at least 4) starves
// an engine applying records in parallel, each lock held by a running sync
// keeps a connection, and River shares the pool.
const MinPoolConns = 24

// PoolConfig parses url like pgxpool.ParseConfig and sizes the pool for
// the engine (MinPoolConns unless the URL sets pool_max_conns).
func PoolConfig(url string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's error quotes the URL with its password masked.
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") && cfg.MaxConns < MinPoolConns {
		cfg.MaxConns = MinPoolConns
	}
	return cfg, nil
}

// New uses an existing pool (shared, for example, with River) and migrates
// the schema. Close leaves the pool open.
func New(ctx context.Context, pool *pgxpool.Pool, o Options) (*Store, error) {
	if o.Schema == "" {
		o.Schema = DefaultSchema
	}
	if !schemaName.MatchString(o.Schema) {
		return nil, fmt.Errorf("pgstore: schema %q: want a plain identifier (letters, digits, _; at most 63)", o.Schema)
	}
	s := &Store{pool: pool, schema: o.Schema, q: map[string]string{}}
	for k, v := range queries() {
		s.q[k] = s.qualify(v)
	}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	s.commits, s.quit = make(chan commitReq), make(chan struct{})
	for range committers {
		s.wg.Add(1)
		go s.committer()
	}
	return s, nil
}

// Pool returns the store's connection pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Schema returns the store's schema.
func (s *Store) Schema() string { return s.schema }

// qualify replaces the "S." placeholder prefix of table names with the
// quoted schema.
func (s *Store) qualify(q string) string {
	return strings.ReplaceAll(q, "S.", pgx.Identifier{s.schema}.Sanitize()+".")
}

// Close closes the pool when Open made it. Later calls fail with
// engine.ErrStoreClosed.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.mu.Lock()
	held := make([]func(), 0, len(s.held))
	for _, rel := range s.held {
		held = append(held, rel)
	}
	s.mu.Unlock()
	for _, rel := range held {
		rel()
	}
	// Commits already handed to a committer finish; later ones get
	// ErrStoreClosed.
	close(s.quit)
	s.wg.Wait()
	if s.own {
		s.pool.Close()
	}
	return nil
}

func (s *Store) check() error {
	if s.closed.Load() {
		return engine.ErrStoreClosed
	}
	return nil
}

// migrations are applied in order, each once, in a transaction that also
// records it in S.schema_migrations. Never edit a released migration:
// append one. Times are Unix nanoseconds (bigint): timestamptz keeps only
// microseconds and the engine compares times exactly.
func migrations() []string {
	return []string{
		1: `
CREATE TABLE S.records (
	sync        text    NOT NULL,
	source_key  text    NOT NULL,
	target_key  text    NOT NULL DEFAULT '',
	in_scope    boolean NOT NULL,
	version     bigint  NOT NULL,
	snapshot    text    NOT NULL DEFAULT '{}',
	pending     text    NOT NULL DEFAULT '{}',
	updated_at  bigint  NOT NULL,
	PRIMARY KEY (sync, source_key)
);
CREATE TABLE S.xrefs (
	tbl         text NOT NULL,
	source_key  text NOT NULL,
	target_key  text NOT NULL,
	PRIMARY KEY (tbl, source_key)
);
CREATE TABLE S.cursors (
	sync        text PRIMARY KEY,
	time        bigint NOT NULL DEFAULT 0,
	int         bigint NOT NULL DEFAULT 0
);
CREATE TABLE S.sync_status (
	sync                 text PRIMARY KEY,
	last_success         bigint  NOT NULL DEFAULT 0,
	last_run             bigint  NOT NULL DEFAULT 0,
	consecutive_failures integer NOT NULL DEFAULT 0,
	last_error           text    NOT NULL DEFAULT '',
	paused               boolean NOT NULL DEFAULT false
);
CREATE TABLE S.runs (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	sync        text    NOT NULL,
	started_at  bigint  NOT NULL,
	finished_at bigint  NOT NULL,
	ok          boolean NOT NULL,
	error       text    NOT NULL DEFAULT '',
	report      bytea
);
CREATE INDEX runs_sync ON S.runs (sync, id);
CREATE TABLE S.queue (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	sync        text    NOT NULL,
	event_id    text    NOT NULL,
	source_key  text    NOT NULL,
	version     bigint  NOT NULL,
	deleted     boolean NOT NULL,
	received_at bigint  NOT NULL
);
CREATE INDEX queue_sync ON S.queue (sync, id);
CREATE TABLE S.dedupe (
	sync        text   NOT NULL,
	event_id    text   NOT NULL,
	received_at bigint NOT NULL,
	PRIMARY KEY (sync, event_id)
);
CREATE INDEX dedupe_received ON S.dedupe (received_at);
CREATE TABLE S.dead_letters (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	sync        text    NOT NULL,
	source_key  text    NOT NULL,
	version     bigint  NOT NULL,
	attempts    integer NOT NULL,
	error       text    NOT NULL,
	payload     bytea,
	created_at  bigint  NOT NULL,
	updated_at  bigint  NOT NULL,
	UNIQUE (sync, source_key, version)
);
CREATE TABLE S.conflicts (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	sync           text   NOT NULL,
	source_key     text   NOT NULL,
	target_key     text   NOT NULL,
	field          text   NOT NULL,
	source_value   text   NOT NULL,
	target_value   text   NOT NULL,
	snapshot_value text   NOT NULL,
	detected_at    bigint NOT NULL,
	UNIQUE (sync, source_key, field)
);
CREATE TABLE S.tokens (
	system      text   PRIMARY KEY,
	token       bytea  NOT NULL,
	updated_at  bigint NOT NULL
);
`,
		// 2: the audit log (engine.AuditEntry): one row per target write,
		// field paths only.
		2: `
CREATE TABLE S.audit (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	sync        text   NOT NULL,
	run_id      text   NOT NULL,
	source_key  text   NOT NULL,
	target_key  text   NOT NULL,
	fields      text[] NOT NULL,
	outcome     text   NOT NULL,
	error       text   NOT NULL,
	at          bigint NOT NULL
);
CREATE INDEX audit_at ON S.audit (at);
CREATE INDEX audit_sync ON S.audit (sync, id);
`,
		// 3: the target's job id of a bulk write (engine.AuditEntry.Job).
		3: `
ALTER TABLE S.audit ADD COLUMN job text NOT NULL DEFAULT '';
`,
	}
}

// SchemaVersion is the schema version this package migrates to.
func SchemaVersion() int { return len(migrations()) - 1 }

func (s *Store) migrate(ctx context.Context) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Serialise concurrent migrations of this schema (workers starting
		// together): the lock ends with the transaction.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey(s.schema, "\x00migrate")); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, s.qualify(`CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{s.schema}.Sanitize()+`;
CREATE TABLE IF NOT EXISTS S.schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`)); err != nil {
			return err
		}
		var cur int
		if err := tx.QueryRow(ctx, s.qualify(`SELECT COALESCE(MAX(version), 0) FROM S.schema_migrations`)).Scan(&cur); err != nil {
			return err
		}
		if cur > SchemaVersion() {
			return fmt.Errorf("schema %s has version %d, newer than this program's %d", s.schema, cur, SchemaVersion())
		}
		for v := cur + 1; v <= SchemaVersion(); v++ {
			if _, err := tx.Exec(ctx, s.qualify(migrations()[v])); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
			if _, err := tx.Exec(ctx, s.qualify(`INSERT INTO S.schema_migrations (version) VALUES ($1)`), v); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgstore: migrating schema %s: %w", s.schema, err)
	}
	return nil
}

// lockKey maps a (schema, name) pair to a 64-bit advisory lock key.
func lockKey(schema, name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("connectorgen\x00"))
	h.Write([]byte(schema))
	h.Write([]byte{0})
	h.Write([]byte(name))
	return int64(h.Sum64())
}

// ErrLocked is returned by TryLockSync when another process holds the
// sync's lock.
var ErrLocked = errors.New("pgstore: sync is locked by another process")

// TryLockSync takes the one-writer lock of a sync without waiting: a
// session advisory lock on a connection taken from the pool and kept until
// release is called (or the process dies, which closes the connection and
// frees the lock). It returns ErrLocked when another session holds it.
func (s *Store) TryLockSync(ctx context.Context, sync string) (release func(), err error) {
	return s.lockSync(ctx, sync, false)
}

// LockSync is TryLockSync that waits for the lock (or ctx).
func (s *Store) LockSync(ctx context.Context, sync string) (release func(), err error) {
	return s.lockSync(ctx, sync, true)
}

func (s *Store) lockSync(ctx context.Context, sync string, wait bool) (func(), error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	key := lockKey(s.schema, sync)
	if wait {
		_, err = conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, key)
	} else {
		var ok bool
		err = conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok)
		if err == nil && !ok {
			err = ErrLocked
		}
	}
	if err != nil {
		// A canceled wait may leave the session in doubt: drop the
		// connection rather than return it to the pool holding a lock.
		if !errors.Is(err, ErrLocked) {
			conn.Conn().Close(context.Background())
		}
		conn.Release()
		return nil, err
	}
	var once atomic.Bool
	s.mu.Lock()
	s.nextID++
	id := s.nextID
	release := func() {
		if once.Swap(true) {
			return
		}
		s.mu.Lock()
		delete(s.held, id)
		s.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, key); err != nil {
			conn.Conn().Close(ctx)
		}
		conn.Release()
	}
	if s.held == nil {
		s.held = map[int64]func(){}
	}
	s.held[id] = release
	s.mu.Unlock()
	return release, nil
}

func queries() map[string]string {
	return map[string]string{
		"loadRecordXref": `SELECT r.sync IS NOT NULL, r.target_key, r.in_scope, r.version, r.snapshot, r.pending, r.updated_at,
	x.tbl IS NOT NULL, x.target_key
FROM (SELECT) AS one
LEFT JOIN S.records AS r ON r.sync = $1 AND r.source_key = $2
LEFT JOIN S.xrefs AS x ON x.tbl = $3 AND x.source_key = $2`,
		"loadRecord": `SELECT target_key, in_scope, version, snapshot, pending, updated_at FROM S.records WHERE sync = $1 AND source_key = $2`,
		"upsertRecord": `INSERT INTO S.records (sync, source_key, target_key, in_scope, version, snapshot, pending, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (sync, source_key) DO UPDATE SET target_key = excluded.target_key, in_scope = excluded.in_scope,
	version = excluded.version, snapshot = excluded.snapshot, pending = excluded.pending, updated_at = excluded.updated_at`,
		"recordIntent": `UPDATE S.records SET snapshot = $1, pending = $2 WHERE sync = $3 AND source_key = $4`,
		"upsertXref": `INSERT INTO S.xrefs (tbl, source_key, target_key) VALUES ($1, $2, $3)
ON CONFLICT (tbl, source_key) DO UPDATE SET target_key = excluded.target_key`,
		"lookupXref": `SELECT target_key FROM S.xrefs WHERE tbl = $1 AND source_key = $2`,
		"upsertConflict": `INSERT INTO S.conflicts (sync, source_key, target_key, field, source_value, target_value, snapshot_value, detected_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (sync, source_key, field) DO UPDATE SET target_key = excluded.target_key, source_value = excluded.source_value,
	target_value = excluded.target_value, snapshot_value = excluded.snapshot_value, detected_at = excluded.detected_at`,
		"resolveDL":     `DELETE FROM S.dead_letters WHERE sync = $1 AND source_key = $2 AND version <= $3`,
		"deleteDLByID":  `DELETE FROM S.dead_letters WHERE id = $1 AND sync = $2`,
		"dropDLVersion": `DELETE FROM S.dead_letters WHERE sync = $1 AND source_key = $2 AND version = $3 AND id <> $4`,
		"updateDL":      `UPDATE S.dead_letters SET source_key = $1, version = $2, attempts = $3, error = $4, payload = $5, updated_at = $6 WHERE id = $7 AND sync = $8`,
		"upsertDL": `INSERT INTO S.dead_letters (sync, source_key, version, attempts, error, payload, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (sync, source_key, version) DO UPDATE SET attempts = excluded.attempts, error = excluded.error,
	payload = excluded.payload, updated_at = excluded.updated_at`,
		"deleteEvent": `DELETE FROM S.queue WHERE id = $1`,
		"insertAudit": `INSERT INTO S.audit (sync, run_id, source_key, target_key, fields, outcome, error, at, job) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		"loadCursor":  `SELECT time, int FROM S.cursors WHERE sync = $1`,
		"saveCursor": `INSERT INTO S.cursors (sync, time, int) VALUES ($1, $2, $3)
ON CONFLICT (sync) DO UPDATE SET time = excluded.time, int = excluded.int`,
		"saveStatus": `INSERT INTO S.sync_status (sync, last_success, last_run, consecutive_failures, last_error, paused)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (sync) DO UPDATE SET last_success = excluded.last_success, last_run = excluded.last_run,
	consecutive_failures = excluded.consecutive_failures, last_error = excluded.last_error, paused = excluded.paused`,
		"loadStatus": `SELECT last_success, last_run, consecutive_failures, last_error, paused FROM S.sync_status WHERE sync = $1`,
		"insertRun":  `INSERT INTO S.runs (sync, started_at, finished_at, ok, error, report) VALUES ($1, $2, $3, $4, $5, $6)`,
		"runs":       `SELECT id, started_at, finished_at, ok, error, report FROM S.runs WHERE sync = $1 ORDER BY id DESC LIMIT $2`,
		"dedupe":     `INSERT INTO S.dedupe (sync, event_id, received_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		"enqueue":    `INSERT INTO S.queue (sync, event_id, source_key, version, deleted, received_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		"queued":     `SELECT id, event_id, source_key, version, deleted, received_at FROM S.queue WHERE sync = $1 AND id > $2 ORDER BY id LIMIT $3`,
		"queueDepth": `SELECT COUNT(*) FROM S.queue WHERE sync = $1`,
		"prune": `DELETE FROM S.dedupe d WHERE d.received_at < $1
AND NOT EXISTS (SELECT 1 FROM S.queue q WHERE q.sync = d.sync AND q.event_id = d.event_id)`,
		"deadLetters":      `SELECT ` + dlColumns + ` FROM S.dead_letters WHERE sync = $1 ORDER BY id`,
		"deadLetter":       `SELECT ` + dlColumns + ` FROM S.dead_letters WHERE sync = $1 AND id = $2`,
		"deadLetterCount":  `SELECT COUNT(*) FROM S.dead_letters WHERE sync = $1`,
		"deleteDeadLetter": `DELETE FROM S.dead_letters WHERE sync = $1 AND id = $2`,
		"conflicts": `SELECT id, source_key, target_key, field, source_value, target_value, snapshot_value, detected_at
FROM S.conflicts WHERE sync = $1 ORDER BY id`,
		"deleteConflict": `DELETE FROM S.conflicts WHERE sync = $1 AND id = $2`,
		"loadToken":      `SELECT token FROM S.tokens WHERE system = $1`,
		"saveToken": `INSERT INTO S.tokens (system, token, updated_at) VALUES ($1, $2, $3)
ON CONFLICT (system) DO UPDATE SET token = excluded.token, updated_at = excluded.updated_at`,
	}
}

const dlColumns = `id, sync, source_key, version, attempts, error, payload, created_at, updated_at`

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

// encodeFields stores a field map (snapshot, pending values) as a JSON
// object; an empty map is "{}" and loads as nil.
func encodeFields(m map[string]string) (string, error) {
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

// LoadRecord implements engine.Store.
func (s *Store) LoadRecord(ctx context.Context, sync, sourceKey string) (engine.RecordState, bool, error) {
	if err := s.check(); err != nil {
		return engine.RecordState{}, false, err
	}
	st := engine.RecordState{Sync: sync, SourceKey: sourceKey}
	var snap, pending string
	var upd int64
	err := s.read(ctx, s.q["loadRecord"], []any{sync, sourceKey}, func(row pgx.Row) error {
		return row.Scan(&st.TargetKey, &st.In, &st.Version, &snap, &pending, &upd)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return engine.RecordState{}, false, nil
	}
	if err != nil {
		return engine.RecordState{}, false, err
	}
	st.UpdatedAt = fromNanos(upd)
	if err := decodeFields(snap, &st.Snapshot); err != nil {
		return engine.RecordState{}, false, fmt.Errorf("pgstore: snapshot of %s/%s: %w", sync, sourceKey, err)
	}
	if err := decodeFields(pending, &st.Pending); err != nil {
		return engine.RecordState{}, false, fmt.Errorf("pgstore: pending values of %s/%s: %w", sync, sourceKey, err)
	}
	return st, true, nil
}

// LoadRecordXref implements engine.RecordXrefLoader in one query, hence
// one round trip: both reads are primary-key lookups, left-joined to one
// row.
func (s *Store) LoadRecordXref(ctx context.Context, sync, sourceKey, xrefTable string) (engine.RecordState, bool, string, bool, error) {
	if err := s.check(); err != nil {
		return engine.RecordState{}, false, "", false, err
	}
	var (
		found, xfound bool
		target, snap  *string
		pending, xt   *string
		in            *bool
		ver, upd      *int64
	)
	err := s.read(ctx, s.q["loadRecordXref"], []any{sync, sourceKey, xrefTable}, func(row pgx.Row) error {
		return row.Scan(&found, &target, &in, &ver, &snap, &pending, &upd, &xfound, &xt)
	})
	if err != nil {
		return engine.RecordState{}, false, "", false, err
	}
	var tk string
	if xfound {
		tk = *xt
	}
	if !found {
		return engine.RecordState{}, false, tk, xfound, nil
	}
	st := engine.RecordState{Sync: sync, SourceKey: sourceKey, TargetKey: *target, In: *in, Version: *ver, UpdatedAt: fromNanos(*upd)}
	if err := decodeFields(*snap, &st.Snapshot); err != nil {
		return engine.RecordState{}, false, "", false, fmt.Errorf("pgstore: snapshot of %s/%s: %w", sync, sourceKey, err)
	}
	if err := decodeFields(*pending, &st.Pending); err != nil {
		return engine.RecordState{}, false, "", false, fmt.Errorf("pgstore: pending values of %s/%s: %w", sync, sourceKey, err)
	}
	return st, true, tk, xfound, nil
}

// Commit implements engine.Store. The commit's statements go to the
// server as one pipelined batch, which PostgreSQL runs as one implicit
// transaction (no BEGIN and COMMIT round trips). Concurrent commits are
// grouped (group commit, as in sqlitestore): up to maxGroup of them share
// one batch, hence one transaction, one round trip and one WAL flush; each
// is still all-or-nothing, since a group that fails is retried one commit
// per transaction. The flush is the server's synchronous_commit setting,
// which the store never changes: a Commit that returns nil is as durable
// as the server is configured to make it.
func (s *Store) Commit(ctx context.Context, c *engine.Commit) error {
	if err := s.check(); err != nil {
		return err
	}
	one, ok, err := s.oneStatement(c)
	if err != nil {
		return err
	}
	var stmts []stmt
	if !ok {
		if stmts, err = s.commitStatements(c); err != nil {
			return err
		}
	} else if one.sql != "" {
		stmts = []stmt{one}
	}
	if len(stmts) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r := commitReq{ctx: ctx, stmts: stmts, done: make(chan error, 1)}
	select {
	case s.commits <- r:
	case <-s.quit:
		return engine.ErrStoreClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-r.done
}

// stmt is one statement of a commit.
type stmt struct {
	sql  string
	args []any
}

// commitReq is a Commit waiting for a committer.
type commitReq struct {
	ctx   context.Context
	stmts []stmt
	done  chan error
}

// maxGroup bounds the commits that share a transaction; committers is how
// many groups are in flight at once (others collect while one waits for
// the server; with 2, BenchmarkEngine's creates were slower than with a
// transaction per commit, with 4 they are not).
const (
	maxGroup   = 64
	committers = 4
)

// committer sends groups of waiting commits until the store closes.
func (s *Store) committer() {
	defer s.wg.Done()
	for {
		var first commitReq
		select {
		case first = <-s.commits:
		case <-s.quit:
			return
		}
		group := []commitReq{first}
	more:
		for len(group) < maxGroup {
			select {
			case r := <-s.commits:
				group = append(group, r)
			default:
				break more
			}
		}
		live := group[:0:0]
		for _, r := range group {
			if err := r.ctx.Err(); err != nil {
				r.done <- err
				continue
			}
			live = append(live, r)
		}
		if len(live) == 0 {
			continue
		}
		err := s.sendGroup(live)
		if err == nil || len(live) == 1 {
			for _, r := range live {
				r.done <- err
			}
			continue
		}
		// One of them failed (or the group did): one transaction each, so
		// that the others are not refused for it.
		for _, r := range live {
			r.done <- s.sendGroup([]commitReq{r})
		}
	}
}

// sendGroup runs the statements of the commits in one batch: one implicit
// transaction. It runs under a bounded context of its own: a commit
// handed to the committer is not abandoned halfway because one caller
// gave up (the engine commits after a target write under a context that
// does not end with the run, for the same reason).
func (s *Store) sendGroup(group []commitReq) error {
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	b := &pgx.Batch{}
	for _, r := range group {
		for _, st := range r.stmts {
			b.Queue(st.sql, st.args...)
		}
	}
	return s.pool.SendBatch(ctx, b).Close()
}

// groupTimeout bounds one group's round trip.
const groupTimeout = 30 * time.Second

// commitStatements turns a Commit into statements.
func (s *Store) commitStatements(c *engine.Commit) ([]stmt, error) {
	var out []stmt
	add := func(q string, args ...any) { out = append(out, stmt{sql: q, args: args}) }
	if st := c.State; st != nil {
		snap, err := encodeFields(st.Snapshot)
		if err != nil {
			return nil, err
		}
		pending, err := encodeFields(st.Pending)
		if err != nil {
			return nil, err
		}
		add(s.q["upsertRecord"], c.Sync, c.SourceKey, st.TargetKey, st.In, st.Version, snap, pending, nanos(st.UpdatedAt))
	} else if in := c.Intent; in != nil {
		snap, err := encodeFields(in.Snapshot)
		if err != nil {
			return nil, err
		}
		pending, err := encodeFields(in.Pending)
		if err != nil {
			return nil, err
		}
		add(s.q["recordIntent"], snap, pending, c.Sync, c.SourceKey)
	}
	if x := c.Xref; x != nil {
		add(s.q["upsertXref"], x.Table, x.SourceKey, x.TargetKey)
	}
	for _, cf := range c.Conflicts {
		add(s.q["upsertConflict"], cf.Sync, cf.SourceKey, cf.TargetKey, cf.Field, cf.SourceValue, cf.TargetValue, cf.Snapshot, nanos(cf.DetectedAt))
	}
	if c.ResolveDeadLetters && c.State != nil {
		add(s.q["resolveDL"], c.Sync, c.SourceKey, c.State.Version)
	}
	if c.DeleteDeadLetter != 0 {
		add(s.q["deleteDLByID"], c.DeleteDeadLetter, c.Sync)
	}
	if d := c.DeadLetter; d != nil {
		if d.ID != 0 {
			// A version change could collide with another dead letter of
			// the record: replace that one.
			add(s.q["dropDLVersion"], d.Sync, d.SourceKey, d.Version, d.ID)
			add(s.q["updateDL"], d.SourceKey, d.Version, d.Attempts, d.Error, d.Payload, nanos(d.UpdatedAt), d.ID, d.Sync)
		} else {
			add(s.q["upsertDL"], d.Sync, d.SourceKey, d.Version, d.Attempts, d.Error, d.Payload, nanos(d.CreatedAt), nanos(d.UpdatedAt))
		}
	}
	for _, id := range c.DoneEvents {
		add(s.q["deleteEvent"], id)
	}
	for _, a := range c.Audit {
		fields := a.Fields
		if fields == nil {
			fields = []string{}
		}
		add(s.q["insertAudit"], a.Sync, a.RunID, a.SourceKey, a.TargetKey, fields, string(a.Outcome), a.Error, nanos(a.At), a.Job)
	}
	return out, nil
}

// read runs a one-row query of the per-record path (LoadRecord,
// LookupXref) on the pool; pgx prepares it once per connection. Grouping
// concurrent reads into one batch, as commits are, was measured and made
// the engine slower: a record's reads come one after another, so each
// waited for a reader goroutine's previous round trip.
func (s *Store) read(ctx context.Context, sql string, args []any, scan func(pgx.Row) error) error {
	return scan(s.pool.QueryRow(ctx, sql, args...))
}

// LookupXref implements engine.Store.
func (s *Store) LookupXref(ctx context.Context, table, sourceKey string) (string, bool, error) {
	if err := s.check(); err != nil {
		return "", false, err
	}
	var t string
	err := s.read(ctx, s.q["lookupXref"], []any{table, sourceKey}, func(row pgx.Row) error { return row.Scan(&t) })
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	return t, err == nil, err
}

// LoadCursor implements engine.Store.
func (s *Store) LoadCursor(ctx context.Context, sync string) (engine.Cursor, bool, error) {
	if err := s.check(); err != nil {
		return engine.Cursor{}, false, err
	}
	var ts int64
	var c engine.Cursor
	err := s.pool.QueryRow(ctx, s.q["loadCursor"], sync).Scan(&ts, &c.Int)
	if errors.Is(err, pgx.ErrNoRows) {
		return engine.Cursor{}, false, nil
	}
	if err != nil {
		return engine.Cursor{}, false, err
	}
	c.Time = fromNanos(ts)
	return c, true, nil
}

// FinishRun implements engine.Store.
func (s *Store) FinishRun(ctx context.Context, f *engine.RunResult) error {
	if err := s.check(); err != nil {
		return err
	}
	b := &pgx.Batch{}
	if c := f.Cursor; c != nil {
		b.Queue(s.q["saveCursor"], f.Sync, nanos(c.Time), c.Int)
	}
	st := f.Status
	b.Queue(s.q["saveStatus"], f.Sync, nanos(st.LastSuccess), nanos(st.LastRun), st.ConsecutiveFailures, st.LastError, st.Paused)
	r := f.Run
	b.Queue(s.q["insertRun"], f.Sync, nanos(r.StartedAt), nanos(r.FinishedAt), r.OK, r.Error, r.Report)
	// One batch is one implicit transaction.
	return s.pool.SendBatch(ctx, b).Close()
}

// LoadStatus implements engine.Store.
func (s *Store) LoadStatus(ctx context.Context, sync string) (engine.SyncStatus, error) {
	st := engine.SyncStatus{Sync: sync}
	if err := s.check(); err != nil {
		return st, err
	}
	var ls, lr int64
	err := s.pool.QueryRow(ctx, s.q["loadStatus"], sync).Scan(&ls, &lr, &st.ConsecutiveFailures, &st.LastError, &st.Paused)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	st.LastSuccess, st.LastRun = fromNanos(ls), fromNanos(lr)
	return st, nil
}

// SaveStatus implements engine.Store.
func (s *Store) SaveStatus(ctx context.Context, st engine.SyncStatus) error {
	if err := s.check(); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, s.q["saveStatus"], st.Sync, nanos(st.LastSuccess), nanos(st.LastRun), st.ConsecutiveFailures, st.LastError, st.Paused)
	return err
}

// Runs implements engine.Store.
func (s *Store) Runs(ctx context.Context, sync string, limit int) ([]engine.RunRecord, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	var lim any = limit
	if limit <= 0 {
		lim = nil // LIMIT NULL: no limit
	}
	rows, err := s.pool.Query(ctx, s.q["runs"], sync, lim)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []engine.RunRecord
	for rows.Next() {
		r := engine.RunRecord{Sync: sync}
		var st, fin int64
		if err := rows.Scan(&r.ID, &st, &fin, &r.OK, &r.Error, &r.Report); err != nil {
			return nil, err
		}
		r.StartedAt, r.FinishedAt = fromNanos(st), fromNanos(fin)
		out = append(out, r)
	}
	return out, rows.Err()
}

// Enqueue implements engine.Store.
func (s *Store) Enqueue(ctx context.Context, ev engine.QueuedEvent) (bool, error) {
	if err := s.check(); err != nil {
		return false, err
	}
	queued := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, s.q["dedupe"], ev.Sync, ev.EventID, nanos(ev.ReceivedAt))
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		if _, err := tx.Exec(ctx, s.q["enqueue"], ev.Sync, ev.EventID, ev.SourceKey, ev.Version, ev.Deleted, nanos(ev.ReceivedAt)); err != nil {
			return err
		}
		queued = true
		return nil
	})
	return queued && err == nil, err
}

// Queued implements engine.Store.
func (s *Store) Queued(ctx context.Context, sync string, afterID int64, limit int) ([]engine.QueuedEvent, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	var lim any = limit
	if limit <= 0 {
		lim = nil
	}
	rows, err := s.pool.Query(ctx, s.q["queued"], sync, afterID, lim)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []engine.QueuedEvent
	for rows.Next() {
		ev := engine.QueuedEvent{Sync: sync}
		var at int64
		if err := rows.Scan(&ev.ID, &ev.EventID, &ev.SourceKey, &ev.Version, &ev.Deleted, &at); err != nil {
			return nil, err
		}
		ev.ReceivedAt = fromNanos(at)
		out = append(out, ev)
	}
	return out, rows.Err()
}

func (s *Store) count(ctx context.Context, q string, args ...any) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	var n int
	err := s.pool.QueryRow(ctx, q, args...).Scan(&n)
	return n, err
}

func (s *Store) exec(ctx context.Context, q string, args ...any) (pgconn.CommandTag, error) {
	if err := s.check(); err != nil {
		return pgconn.CommandTag{}, err
	}
	return s.pool.Exec(ctx, q, args...)
}

// QueueDepth implements engine.Store.
func (s *Store) QueueDepth(ctx context.Context, sync string) (int, error) {
	return s.count(ctx, s.q["queueDepth"], sync)
}

// PruneDedupe implements engine.Store.
func (s *Store) PruneDedupe(ctx context.Context, before time.Time) (int, error) {
	tag, err := s.exec(ctx, s.q["prune"], nanos(before))
	return int(tag.RowsAffected()), err
}

func scanDL(sc pgx.Row) (engine.DeadLetter, error) {
	var d engine.DeadLetter
	var c, u int64
	err := sc.Scan(&d.ID, &d.Sync, &d.SourceKey, &d.Version, &d.Attempts, &d.Error, &d.Payload, &c, &u)
	d.CreatedAt, d.UpdatedAt = fromNanos(c), fromNanos(u)
	return d, err
}

// DeadLetters implements engine.Store.
func (s *Store) DeadLetters(ctx context.Context, sync string) ([]engine.DeadLetter, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, s.q["deadLetters"], sync)
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
	if err := s.check(); err != nil {
		return engine.DeadLetter{}, false, err
	}
	d, err := scanDL(s.pool.QueryRow(ctx, s.q["deadLetter"], sync, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return engine.DeadLetter{}, false, nil
	}
	return d, err == nil, err
}

// DeadLetterCount implements engine.Store.
func (s *Store) DeadLetterCount(ctx context.Context, sync string) (int, error) {
	return s.count(ctx, s.q["deadLetterCount"], sync)
}

// DeleteDeadLetter implements engine.Store.
func (s *Store) DeleteDeadLetter(ctx context.Context, sync string, id int64) error {
	_, err := s.exec(ctx, s.q["deleteDeadLetter"], sync, id)
	return err
}

// Conflicts implements engine.Store.
func (s *Store) Conflicts(ctx context.Context, sync string) ([]engine.Conflict, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, s.q["conflicts"], sync)
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
	_, err := s.exec(ctx, s.q["deleteConflict"], sync, id)
	return err
}

// LoadToken implements engine.Store.
func (s *Store) LoadToken(ctx context.Context, system string) ([]byte, bool, error) {
	if err := s.check(); err != nil {
		return nil, false, err
	}
	var b []byte
	err := s.pool.QueryRow(ctx, s.q["loadToken"], system).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	return b, err == nil, err
}

// LockToken implements engine.Store across processes: a session advisory
// lock per system, waited for on a connection kept until release (a
// process that dies frees it with its connection). Callers of one handle
// queue in the process first, so that at most one connection per system
// waits.
func (s *Store) LockToken(ctx context.Context, system string) (func(), error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	local, err := s.tokLocks.Lock(ctx, system)
	if err != nil {
		return nil, err
	}
	release, err := s.lockSync(ctx, "\x00token\x00"+system, true)
	if err != nil {
		local()
		return nil, fmt.Errorf("pgstore: locking the token of %s: %w", system, err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			release()
			local()
		})
	}, nil
}

// SaveToken implements engine.Store.
func (s *Store) SaveToken(ctx context.Context, system string, token []byte) error {
	_, err := s.exec(ctx, s.q["saveToken"], system, token, time.Now().UnixNano())
	return err
}
