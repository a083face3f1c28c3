package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/cmd/crmsync-demo/sim"
)

// BenchmarkSync measures the end-to-end sync on loopback with SQLite state:
// each iteration starts fresh servers and a fresh state file and runs both
// syncs until a round finds nothing to do. records/s counts the leads read
// and applied (all of them are polled; a third are written), writes/s the
// members and senders created.
func BenchmarkSync(b *testing.B) {
	for _, leads := range []int{2000} {
		for _, rate := range []float64{0, 0.1} {
			b.Run(fmt.Sprintf("leads=%d/fail=%.0f%%", leads, 100*rate), func(b *testing.B) {
				var records, writes int
				var elapsed time.Duration
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					c := Config{Leads: leads, FailRate: rate, Seed: uint64(i + 1), Mutations: 0,
						StatePath: b.TempDir() + "/state.db"}
					c.defaults()
					s := newSim(c)
					c.Sim = s
					b.StartTimer()
					start := time.Now()
					sum, err := Run(context.Background(), c)
					elapsed += time.Since(start)
					b.StopTimer()
					s.Close()
					if err != nil || !sum.Converged || sum.Lost+sum.Duplicates+sum.Mismatched != 0 {
						b.Fatalf("run: %v %+v", err, sum)
					}
					records += sum.Leads
					writes += sum.Created
					b.StartTimer()
				}
				b.ReportMetric(float64(records)/elapsed.Seconds(), "records/s")
				b.ReportMetric(float64(writes)/elapsed.Seconds(), "writes/s")
			})
		}
	}
}

// TestBenchmarkSmoke keeps the benchmark's set-up working in ordinary test
// runs.
func TestBenchmarkSmoke(t *testing.T) {
	r := testing.Benchmark(func(b *testing.B) {
		c := Config{Leads: 200, Mutations: 0, StatePath: t.TempDir() + "/state.db"}
		c.defaults()
		s := newSim(c)
		defer s.Close()
		c.Sim = s
		for i := 0; i < b.N && i < 1; i++ {
			if _, err := Run(context.Background(), c); err != nil {
				b.Fatal(err)
			}
		}
	})
	if r.N == 0 {
		t.Fatal("benchmark did not run")
	}
	_ = sim.DefaultListID
}
