package sqlitestore

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// TestMigrateFromV1 opens a database written by schema version 1 (no
// pending column): its records load with no pending values and take
// write-ahead intents.
func TestMigrateFromV1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`,
		migrations()[1],
		`INSERT INTO schema_migrations (version, applied_at) VALUES (1, 0)`,
		`INSERT INTO records (sync, source_key, target_key, in_scope, version, snapshot, updated_at) VALUES ('a', 'k', 't', 1, 3, '{"f":"\"v\""}', 1)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	st, ok, err := s.LoadRecord(ctx, "a", "k")
	if err != nil || !ok || st.TargetKey != "t" || st.Version != 3 || st.Snapshot["f"] != `"v"` || st.Pending != nil {
		t.Fatalf("v1 record after migration: %+v %v %v", st, ok, err)
	}
	if err := s.Commit(ctx, &engine.Commit{Sync: "a", SourceKey: "k", Intent: &engine.Intent{
		Snapshot: st.Snapshot, Pending: map[string]string{"f": `"w"`}}}); err != nil {
		t.Fatal(err)
	}
	st, _, _ = s.LoadRecord(ctx, "a", "k")
	if st.Pending["f"] != `"w"` || st.Snapshot["f"] != `"v"` || !st.UpdatedAt.Equal(time.Unix(0, 1).UTC()) {
		t.Fatalf("after intent: %+v", st)
	}
	var v int
	if err := s.w.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil || v != SchemaVersion() || v < 2 {
		t.Fatalf("schema version %d %v", v, err)
	}
}
