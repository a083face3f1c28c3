package sqlitestore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/sqlitestore"
)

// rec is a minimal source record; out a minimal target write.
type rec struct {
	ID      string
	Email   string
	Version int64
	Updated time.Time
}

type out struct{ Email, Name string }

// tgt is an in-memory target that honours idempotency keys, so a write
// repeated after a crash returns the record it created before.
type tgt struct {
	mu      sync.Mutex
	byIdem  map[string]string
	byEmail map[string]string
	recs    map[string]out
	creates int
	updates int
	after   func(n int)
	noop    bool
}

func newTgt() *tgt {
	return &tgt{byIdem: map[string]string{}, byEmail: map[string]string{}, recs: map[string]out{}}
}

func (t *tgt) Create(_ context.Context, w *out, idem string) (string, error) {
	if t.noop {
		return "t-" + idem[:8], nil
	}
	t.mu.Lock()
	if id, ok := t.byIdem[idem]; ok {
		t.mu.Unlock()
		return id, nil
	}
	t.creates++
	n := t.creates
	id := "m" + strconv.Itoa(n)
	t.byIdem[idem] = id
	t.byEmail[w.Email] = id
	t.recs[id] = *w
	after := t.after
	t.mu.Unlock()
	if after != nil {
		after(n)
	}
	return id, nil
}

func (t *tgt) Update(_ context.Context, id string, w *out, _ string) error {
	if t.noop {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.updates++
	t.recs[id] = *w
	return nil
}

func (t *tgt) Find(_ context.Context, email string) (string, bool, error) {
	if t.noop {
		return "", false, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	id, ok := t.byEmail[email]
	return id, ok, nil
}

var base = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func records(n int) []rec {
	out := make([]rec, n)
	for i := range out {
		out[i] = rec{ID: fmt.Sprint("r", i), Email: fmt.Sprintf("r%d@x.io", i), Version: 1, Updated: base.Add(time.Duration(i) * time.Millisecond)}
	}
	return out
}

func field(path string, get func(*out) string) engine.Field[out] {
	return engine.Field[out]{Path: path, Value: func(w *out) (string, bool) { return strconv.Quote(get(w)), true }}
}

func newSync(src []rec, t *tgt) *engine.Sync[rec, out] {
	return &engine.Sync[rec, out]{
		Name: "recs", SourceSystem: "src", TargetSystem: "dst", Source: "src.Rec", Target: "dst.Out",
		Poll: func(_ context.Context, since engine.Cursor) iter.Seq2[rec, error] {
			return func(yield func(rec, error) bool) {
				for _, r := range src {
					if !r.Updated.Before(since.Time) && !yield(r, nil) {
						return
					}
				}
			}
		},
		Key:     func(r *rec) string { return r.ID },
		Version: func(r *rec) int64 { return r.Version },
		Cursor:  func(r *rec) engine.Cursor { return engine.Cursor{Time: r.Updated} },
		Map: func(_ context.Context, r *rec, _ engine.Lookups, _ bool) (out, error) {
			return out{Email: r.Email, Name: "N" + r.ID}, nil
		},
		Fields:     []engine.Field[out]{field("email", func(w *out) string { return w.Email }), field("name", func(w *out) string { return w.Name })},
		Match:      []engine.MatchStep{engine.MatchXref, engine.MatchNaturalKey, engine.MatchCreate},
		NaturalKey: func(w *out) string { return w.Email },
		Find:       t.Find,
		Create:     t.Create,
		Update:     t.Update,
		Retry:      engine.RetryPolicy{MaxAttempts: 2},
		DeadLetter: true,
	}
}

func clock() time.Time { return base.Add(time.Hour) }

// TestCrashMidRun closes the database in the middle of a run, after some
// target writes whose state was not committed yet, reopens it and runs
// again: every record is in the target exactly once, and the records
// committed before the crash are not written again.
func TestCrashMidRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s1, err := sqlitestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	src := records(300)
	target := newTgt()
	var once sync.Once
	target.after = func(n int) {
		if n == 120 {
			once.Do(func() { s1.Close() })
		}
	}
	e1 := engine.New(s1, engine.WithConcurrency(8), engine.WithClock(clock), engine.WithRetryBackoff(time.Millisecond, time.Millisecond))
	if err := engine.Add(e1, newSync(src, target)); err != nil {
		t.Fatal(err)
	}
	_, err = e1.RunOnce(context.Background(), "recs")
	var sd *engine.SystemDownError
	if !errors.As(err, &sd) || sd.System != engine.StoreSystem {
		t.Fatalf("run with a dying store: %v", err)
	}

	s2, err := sqlitestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	ctx := context.Background()
	if _, ok, _ := s2.LoadCursor(ctx, "recs"); ok {
		t.Fatal("checkpoint written by the crashed run")
	}
	committed := 0
	for _, r := range src {
		// A write-ahead create intent alone (no target key) is not a
		// committed write.
		if st, ok, _ := s2.LoadRecord(ctx, "recs", r.ID); ok && st.TargetKey != "" {
			committed++
		}
	}
	if committed == 0 || committed >= 300 {
		t.Fatalf("%d records committed before the crash", committed)
	}
	target.mu.Lock()
	target.after = nil
	createsBefore := target.creates
	target.mu.Unlock()

	e2 := engine.New(s2, engine.WithConcurrency(8), engine.WithClock(clock))
	if err := engine.Add(e2, newSync(src, target)); err != nil {
		t.Fatal(err)
	}
	rep, err := e2.RunOnce(ctx, "recs")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Unchanged < committed || rep.Created+rep.Updated+rep.Unchanged != 300 {
		t.Fatalf("rerun %+v (committed %d, target had %d)", rep, committed, createsBefore)
	}
	if len(target.recs) != 300 || target.creates != 300 {
		t.Fatalf("target has %d records from %d creates, want 300 each", len(target.recs), target.creates)
	}
	// Records created before the crash whose state was not committed are
	// found by natural key and updated once; committed ones are unchanged.
	if target.updates != createsBefore-committed || rep.Updated != target.updates {
		t.Fatalf("%d updates (report %d), want %d: created %d before the crash, %d committed", target.updates, rep.Updated, createsBefore-committed, createsBefore, committed)
	}
	// The checkpoint is the largest cursor read (never the clock).
	if c, ok, _ := s2.LoadCursor(ctx, "recs"); !ok || !c.Time.Equal(src[len(src)-1].Updated) {
		t.Fatalf("cursor %v %v", c, ok)
	}
	// And once more: nothing to do.
	rep, err = e2.RunOnce(ctx, "recs")
	if err != nil || rep.Created+rep.Updated != 0 {
		t.Fatalf("%v %+v", err, rep)
	}
}

func TestReopenKeepsState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := sqlitestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Commit(ctx, &engine.Commit{Sync: "a", SourceKey: "k", State: &engine.RecordState{TargetKey: "t", In: true, Version: 3, Snapshot: map[string]string{"f": `"v"`}, UpdatedAt: base},
		Xref: &engine.Xref{Table: "x", SourceKey: "k", TargetKey: "t"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enqueue(ctx, engine.QueuedEvent{Sync: "a", EventID: "e", SourceKey: "k", ReceivedAt: base}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveToken(ctx, "crm", []byte(`{"refresh_token":"r"}`)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := s.Commit(ctx, &engine.Commit{Sync: "a", SourceKey: "k"}); err == nil {
		t.Fatal("commit on a closed store succeeded")
	}
	s, err = sqlitestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, ok, _ := s.LoadRecord(ctx, "a", "k")
	if !ok || st.Version != 3 || st.Snapshot["f"] != `"v"` {
		t.Fatalf("%+v", st)
	}
	if n, _ := s.QueueDepth(ctx, "a"); n != 1 {
		t.Fatal("queue lost")
	}
	if q, _ := s.Enqueue(ctx, engine.QueuedEvent{Sync: "a", EventID: "e", SourceKey: "k", ReceivedAt: base}); q {
		t.Fatal("dedupe ledger lost")
	}
	if b, ok, _ := s.LoadToken(ctx, "crm"); !ok || string(b) != `{"refresh_token":"r"}` {
		t.Fatal("token lost")
	}
}

func TestMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	for range 2 {
		s, err := sqlitestore.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	var n, v int
	var mode string
	if err := db.QueryRow(`SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &v); err != nil {
		t.Fatal(err)
	}
	if n != sqlitestore.SchemaVersion() || v != sqlitestore.SchemaVersion() {
		t.Fatalf("schema_migrations: %d rows, max %d", n, v)
	}
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal mode %q %v", mode, err)
	}
	// A database from a newer program is refused.
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := sqlitestore.Open(path); err == nil {
		t.Fatal("opened a database with a newer schema")
	}
}

// TestEngineConcurrentOnSQLite runs 100 concurrent applies against the
// SQLite store under the race detector.
func TestEngineConcurrentOnSQLite(t *testing.T) {
	s := open(t)
	defer s.Close()
	target := newTgt()
	e := engine.New(s, engine.WithConcurrency(16), engine.WithClock(clock))
	if err := engine.Add(e, newSync(records(100), target)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.RunOnce(context.Background(), "recs"); err != nil {
				t.Error(err)
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	if failed.Load() == 0 && (target.creates != 100 || len(target.recs) != 100) {
		t.Fatalf("creates %d records %d", target.creates, len(target.recs))
	}
}
