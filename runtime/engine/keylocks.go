package engine

import (
	"context"
	"sync"
)

// KeyLocks is a set of waiting mutexes by name, within one process: the
// Store.LockToken of stores that are not shared between processes (and the
// in-process half of those that are). The zero value is ready to use; a
// KeyLocks must not be copied after first use.
type KeyLocks struct {
	mu   sync.Mutex
	sems map[string]chan struct{}
}

// Lock waits until name is free (or ctx ends) and takes it; release frees
// it and is idempotent.
func (k *KeyLocks) Lock(ctx context.Context, name string) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	k.mu.Lock()
	if k.sems == nil {
		k.sems = map[string]chan struct{}{}
	}
	sem := k.sems[name]
	if sem == nil {
		sem = make(chan struct{}, 1)
		k.sems[name] = sem
	}
	k.mu.Unlock()
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var once sync.Once
	return func() { once.Do(func() { <-sem }) }, nil
}
