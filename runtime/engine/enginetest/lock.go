package enginetest

import (
	"context"
	"errors"
	"testing"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// testLock checks Store.Lock on one handle: a sync is held once, release
// gives it back (and is idempotent), other syncs are independent within the
// handle, and a cancelled context takes nothing.
func testLock(t *testing.T, s engine.Store) {
	ctx := context.Background()
	rel, err := s.Lock(ctx, "a")
	must(t, err)
	if _, err := s.Lock(ctx, "a"); !errors.Is(err, engine.ErrLocked) {
		t.Fatalf("second Lock of a held sync: %v, want ErrLocked", err)
	}
	relB, err := s.Lock(ctx, "b")
	if err != nil {
		t.Fatalf("Lock of another sync on the same handle: %v", err)
	}
	rel()
	rel() // idempotent
	rel2, err := s.Lock(ctx, "a")
	if err != nil {
		t.Fatalf("Lock after release: %v", err)
	}
	rel2()
	relB()
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Lock(cctx, "c"); err == nil {
		t.Fatal("Lock with a cancelled context succeeded")
	}
}

// OneWriterSuite checks the one-writer rule across handles: open returns
// two stores on the same state (two opens of one SQLite file, two
// connections to one Postgres schema). While one holds a sync's lock the
// other is refused with ErrLocked; once released, the other gets it. (That
// a dead holder's lock is freed — process exit, lost connection — is
// store-specific: sqlitestore checks it with real processes.)
func OneWriterSuite(t *testing.T, open func(t *testing.T) (engine.Store, engine.Store)) {
	t.Helper()
	ctx := context.Background()
	a, b := open(t)
	defer a.Close()
	defer b.Close()
	rel, err := a.Lock(ctx, "leads")
	must(t, err)
	if _, err := b.Lock(ctx, "leads"); !errors.Is(err, engine.ErrLocked) {
		t.Fatalf("second handle locked a held sync: %v, want ErrLocked", err)
	}
	rel()
	relB, err := b.Lock(ctx, "leads")
	if err != nil {
		t.Fatalf("second handle after release: %v", err)
	}
	if _, err := a.Lock(ctx, "leads"); !errors.Is(err, engine.ErrLocked) {
		t.Fatalf("first handle locked a sync the second holds: %v", err)
	}
	relB()
}
