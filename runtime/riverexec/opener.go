package riverexec

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/pgstore"
)

// Store is a pgstore.Store whose run processes work the engine's units as
// River jobs in the same database (runtime/service's WorkerStore): every
// process started with the same postgres:// state URL shares the syncs.
type Store struct {
	*pgstore.Store
	cfg Config
}

// OpenURL opens the state store of a postgres:// URL for runtime/service
// (its signature is service.StoreOpener; a generated main registers it
// for the postgres and postgresql schemes). Besides pgx's parameters the
// URL takes:
//
//	schema=NAME         the schema of the state and River's tables (default connectorgen)
//	workers=N           jobs this process runs at once (default 4); 0: insert-only,
//	                    the process serves but works no jobs and schedules nothing
//	                    (the worker processes' River leader schedules)
//	worker_id=NAME      this process's name in River's tables
//	rescue_after=DUR    hand a vanished worker's running job to another after DUR (default 10m)
func OpenURL(ctx context.Context, u *url.URL) (engine.Store, error) {
	c := *u
	q := c.Query()
	cfg := Config{ID: q.Get("worker_id")}
	if v := q.Get("workers"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("riverexec: workers=%q: want a count (0: insert-only)", v)
		}
		cfg.MaxWorkers, cfg.InsertOnly = n, n == 0
	}
	if v := q.Get("rescue_after"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("riverexec: rescue_after=%q: want a duration such as 10m", v)
		}
		cfg.RescueStuckJobsAfter = d
	}
	for _, k := range []string{"workers", "worker_id", "rescue_after"} {
		q.Del(k)
	}
	c.RawQuery = q.Encode()
	dsn, o, err := pgstore.SplitURL(&c)
	if err != nil {
		return nil, err
	}
	st, err := pgstore.Open(ctx, dsn, o)
	if err != nil {
		return nil, err
	}
	return &Store{Store: st, cfg: cfg}, nil
}

// Executor returns a new executor on the store's pool (River's tables are
// migrated first), for runtime/service's run command; log receives
// River's messages. Bind, Start and Stop it; stop it before closing the
// store, which closes the pool.
func (s *Store) Executor(ctx context.Context, log *slog.Logger) (engine.Executor, error) {
	cfg := s.cfg
	cfg.Logger = log
	return New(ctx, s.Pool(), s.Store, cfg)
}
