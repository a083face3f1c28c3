package enginetest

import (
	"context"
	"errors"
	"testing"
	"time"

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

// testLockToken checks Store.LockToken on one handle: a second LockToken
// of the same system waits until the first is released (release is
// idempotent), another system is independent, and a context that ends
// while waiting, or has ended, takes nothing.
func testLockToken(t *testing.T, s engine.Store) {
	checkTokenLock(t, s, s)
}

// SharedTokenLockSuite checks Store.LockToken across two handles on one
// state, for stores shared between processes (two connections to one
// Postgres schema): the holder of one handle makes the other wait.
func SharedTokenLockSuite(t *testing.T, open func(t *testing.T) (engine.Store, engine.Store)) {
	t.Helper()
	a, b := open(t)
	defer a.Close()
	defer b.Close()
	checkTokenLock(t, a, b)
}

func checkTokenLock(t *testing.T, a, b engine.Store) {
	t.Helper()
	ctx := context.Background()
	rel, err := a.LockToken(ctx, "crm")
	must(t, err)
	// A waiter whose context ends gets an error and nothing.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	if _, err := b.LockToken(short, "crm"); err == nil {
		cancel()
		t.Fatal("LockToken of a held system succeeded")
	}
	cancel()
	// Another system is independent.
	relOther, err := b.LockToken(ctx, "email")
	if err != nil {
		t.Fatalf("LockToken of another system: %v", err)
	}
	relOther()
	// A waiter gets it once the holder releases.
	got := make(chan func(), 1)
	errc := make(chan error, 1)
	go func() {
		r, err := b.LockToken(ctx, "crm")
		if err != nil {
			errc <- err
			return
		}
		got <- r
	}()
	select {
	case <-got:
		t.Fatal("a second LockToken got the held system")
	case err := <-errc:
		t.Fatalf("waiting LockToken: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	rel()
	rel() // idempotent
	var rel2 func()
	select {
	case rel2 = <-got:
	case err := <-errc:
		t.Fatalf("waiting LockToken after release: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the waiting LockToken never got the released system")
	}
	// The holder is now b: a waits.
	short, cancel = context.WithTimeout(ctx, 50*time.Millisecond)
	if _, err := a.LockToken(short, "crm"); err == nil {
		cancel()
		t.Fatal("LockToken succeeded while the other handle holds it")
	}
	cancel()
	rel2()
	rel3, err := a.LockToken(ctx, "crm")
	if err != nil {
		t.Fatalf("LockToken after both released: %v", err)
	}
	rel3()
	cctx, cancelled := context.WithCancel(ctx)
	cancelled()
	if _, err := a.LockToken(cctx, "other"); err == nil {
		t.Fatal("LockToken with a cancelled context succeeded")
	}
}
