package pgstore_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/connectorgen/connectorgen/runtime/pgstore"
	"github.com/connectorgen/connectorgen/runtime/pgstore/pgtest"
)

// roundTrips is a pgx tracer counting the round trips a store makes: a
// query (or exec) is one, a batch is one however many statements it
// carries (pgx pipelines them), a prepare is one.
type roundTrips struct {
	queries, batches, batched, prepares atomic.Int64
}

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.queries.Add(1)
	return ctx
}
func (*roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.batches.Add(1)
	return ctx
}
func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {
	r.batched.Add(1)
}
func (*roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}
func (r *roundTrips) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	r.prepares.Add(1)
	return ctx
}
func (*roundTrips) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

// total is the number of round trips so far.
func (r *roundTrips) total() int64 {
	return r.queries.Load() + r.batches.Load() + r.prepares.Load()
}

// openTraced opens a store on a fresh schema whose pool counts its round
// trips.
func openTraced(t testing.TB) (*pgstore.Store, *roundTrips) {
	t.Helper()
	url := pgtest.URL(t)
	cfg, err := pgstore.PoolConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	rt := &roundTrips{}
	cfg.ConnConfig.Tracer = rt
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s, err := pgstore.New(context.Background(), pool, pgstore.Options{Schema: pgtest.Schema(t, url)})
	if err != nil {
		t.Fatal(err)
	}
	return s, rt
}
