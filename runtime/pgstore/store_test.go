package pgstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/engine/enginetest"
	"github.com/connectorgen/connectorgen/runtime/pgstore"
	"github.com/connectorgen/connectorgen/runtime/pgstore/pgtest"
)

func open(t testing.TB) *pgstore.Store {
	t.Helper()
	url := pgtest.URL(t)
	s, err := pgstore.Open(context.Background(), url, pgstore.Options{Schema: pgtest.Schema(t, url)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStoreSuite(t *testing.T) {
	enginetest.StoreSuite(t, func(t *testing.T) engine.Store { return open(t) })
}

// TestOneWriter: two handles on one schema (two pools, as two processes
// would have) exclude each other per sync, and Close frees what a handle
// holds.
func TestOneWriter(t *testing.T) {
	enginetest.OneWriterSuite(t, func(t *testing.T) (engine.Store, engine.Store) {
		a := open(t)
		b, err := pgstore.Open(context.Background(), pgtest.URL(t), pgstore.Options{Schema: a.Schema()})
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	})
}

// TestMigrateConcurrently opens the same schema from several goroutines at
// once (workers starting together): every open succeeds and the schema is
// migrated once.
func TestMigrateConcurrently(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := pgstore.Open(context.Background(), url, pgstore.Options{Schema: schema})
			if err == nil {
				s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	s, err := pgstore.Open(context.Background(), url, pgstore.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n, max int
	if err := s.Pool().QueryRow(context.Background(), `SELECT COUNT(*), MAX(version) FROM `+schema+`.schema_migrations`).Scan(&n, &max); err != nil {
		t.Fatal(err)
	}
	if n != pgstore.SchemaVersion() || max != pgstore.SchemaVersion() {
		t.Fatalf("schema_migrations has %d rows up to %d, want %d", n, max, pgstore.SchemaVersion())
	}
}

func TestBadSchemaName(t *testing.T) {
	url := pgtest.URL(t)
	_, err := pgstore.Open(context.Background(), url, pgstore.Options{Schema: `x"; DROP TABLE y; --`})
	if err == nil {
		t.Fatal("Open accepted a schema name that is not an identifier")
	}
}

// TestLockSync: the one-writer lock is exclusive across sessions, per
// sync, and freed by release.
func TestLockSync(t *testing.T) {
	a, b := open(t), (*pgstore.Store)(nil)
	defer a.Close()
	var err error
	b, err = pgstore.Open(context.Background(), pgtest.URL(t), pgstore.Options{Schema: a.Schema()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	rel, err := a.TryLockSync(ctx, "leads")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.TryLockSync(ctx, "leads"); !errors.Is(err, pgstore.ErrLocked) {
		t.Fatalf("second lock of the same sync: %v, want ErrLocked", err)
	}
	relOther, err := b.TryLockSync(ctx, "contacts")
	if err != nil {
		t.Fatalf("another sync is not locked: %v", err)
	}
	relOther()
	rel()
	rel2, err := b.TryLockSync(ctx, "leads")
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	rel2()
}

func TestClosed(t *testing.T) {
	s := open(t)
	s.Close()
	if _, _, err := s.LoadRecord(context.Background(), "a", "b"); !errors.Is(err, engine.ErrStoreClosed) {
		t.Fatalf("after Close: %v", err)
	}
}
