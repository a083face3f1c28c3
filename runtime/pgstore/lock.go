package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// Lock implements engine.Store's one-writer lock with TryLockSync: a
// session advisory lock, refused at once (wrapping engine.ErrLocked) when
// another engine or process holds it.
func (s *Store) Lock(ctx context.Context, sync string) (func(), error) {
	release, err := s.TryLockSync(ctx, sync)
	if errors.Is(err, ErrLocked) {
		return nil, fmt.Errorf("%w: %w", engine.ErrLocked, err)
	}
	return release, err
}
