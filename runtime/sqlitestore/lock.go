package sqlitestore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// fileLock is the store's writer lock: an exclusive OS lock on
// "<path>.lock", taken while any sync is locked through this handle. The
// operating system releases it when the process ends (SIGKILL included),
// so a crashed engine never leaves a stale lock. A second handle on the
// same file — in this process or another — cannot take it: SQLite state
// has one writer (engine) at a time, whatever the sync.
type fileLock struct {
	path string

	mu   sync.Mutex
	f    *os.File
	held map[string]bool
}

// Lock implements engine.Store.
func (s *Store) Lock(ctx context.Context, name string) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l := &s.lock
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[name] {
		return nil, fmt.Errorf("%w: sync %s is already running on %s", engine.ErrLocked, name, s.path)
	}
	if l.f == nil {
		f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: lock file: %w", err)
		}
		if err := lockFile(f); err != nil {
			holder := ""
			if b, rerr := os.ReadFile(l.path); rerr == nil && len(b) > 0 {
				holder = " (held by process " + strings.TrimSpace(string(b)) + ")"
			}
			f.Close()
			if errors.Is(err, errWouldBlock) {
				return nil, fmt.Errorf("%w: %s is in use by another engine%s; SQLite state takes one writer at a time: stop the other one or give this one its own state file", engine.ErrLocked, s.path, holder)
			}
			return nil, fmt.Errorf("sqlitestore: locking %s: %w", l.path, err)
		}
		// Who holds it, for the error message of the next one.
		if err := f.Truncate(0); err == nil {
			_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		}
		l.f = f
		l.held = map[string]bool{}
	}
	l.held[name] = true
	var once sync.Once
	return func() { once.Do(func() { l.unlock(name) }) }, nil
}

func (l *fileLock) unlock(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.held, name)
	if len(l.held) == 0 && l.f != nil {
		_ = unlockFile(l.f)
		l.f.Close()
		l.f = nil
	}
}

// closeLock drops the lock when the store closes.
func (l *fileLock) closeLock() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		_ = unlockFile(l.f)
		l.f.Close()
		l.f = nil
	}
	l.held = nil
}
