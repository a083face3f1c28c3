package sqlitestore_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/sqlitestore"
)

// BenchmarkEngine measures the engine's overhead per record (trigger, map,
// field values, snapshot compare, idempotency key, one state transaction)
// against a no-op target, on each store. ns/op and allocs/op are per
// record; records/s is the throughput of one run with the default
// concurrency (8).
//
//	create:    every record is new (xref + state + snapshot committed)
//	unchanged: every record was synced before (load state, compare, no write)
func BenchmarkEngine(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B) engine.Store
	}{
		{"memory", func(*testing.B) engine.Store { return engine.NewMemoryStore() }},
		{"sqlite", func(b *testing.B) engine.Store { return openBench(b, "FULL") }},
		{"sqlite_normal", func(b *testing.B) engine.Store { return openBench(b, "NORMAL") }},
	}
	for _, st := range stores {
		for _, mode := range []string{"create", "unchanged"} {
			b.Run(st.name+"/"+mode, func(b *testing.B) {
				b.ReportAllocs()
				b.StopTimer()
				s := st.open(b)
				defer s.Close()
				target := newTgt()
				target.noop = true
				src := records(b.N)
				e := engine.New(s, engine.WithClock(clock))
				sy := newSync(src, target)
				sy.Match = []engine.MatchStep{engine.MatchXref, engine.MatchCreate}
				sy.Lookback = 1000 * time.Hour // the second run re-reads everything
				if err := engine.Add(e, sy); err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				if mode == "unchanged" {
					if _, err := e.RunOnce(ctx, "recs"); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				start := time.Now()
				rep, err := e.RunOnce(ctx, "recs")
				elapsed := time.Since(start)
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				if got := rep.Created + rep.Unchanged; got != b.N {
					b.Fatalf("%+v", rep)
				}
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
			})
		}
	}
}

func openBench(b *testing.B, sync string) engine.Store {
	s, err := sqlitestore.OpenWith(filepath.Join(b.TempDir(), "bench.db"), sqlitestore.Options{Synchronous: sync})
	if err != nil {
		b.Fatal(err)
	}
	return s
}
