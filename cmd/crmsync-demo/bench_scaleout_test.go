package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/cmd/crmsync-demo/sim"
	"github.com/connectorgen/connectorgen/runtime/pgstore"
	"github.com/connectorgen/connectorgen/runtime/pgstore/pgtest"
	"github.com/connectorgen/connectorgen/runtime/riverexec"
)

var benchDir = flag.String("scaleout-dir", "", "BenchmarkScaleOut keeps the workers' logs and CPU profiles (pprof) in this directory")

// BenchmarkScaleOut compares the end-to-end sync on N worker processes
// sharing PostgreSQL (pgstore + River) with the single-process engine on
// SQLite, on the same data (3000 leads, no faults). Each iteration starts
// fresh servers and fresh state; the clock runs from the start of the
// workers (or of Run) until the email side is verified complete (checked
// every 100 ms). records/s
// counts the leads polled and applied. Run it with -benchtime=1x.
func BenchmarkScaleOut(b *testing.B) {
	const leads = 3000
	opts := func(i int) sim.Options {
		return sim.Options{Seed: uint64(100 + i), Leads: leads}
	}
	b.Run("sqlite/1-process", func(b *testing.B) {
		var elapsed time.Duration
		for i := 0; i < b.N; i++ {
			s := sim.New(opts(i))
			c := Config{Sim: s, Mutations: 0, StatePath: b.TempDir() + "/state.db"}
			start := time.Now()
			sum, err := Run(context.Background(), c)
			elapsed += time.Since(start)
			s.Close()
			if err != nil || !sum.Converged || sum.Lost+sum.Duplicates+sum.Mismatched != 0 {
				b.Fatalf("run: %v %+v", err, sum)
			}
		}
		b.ReportMetric(float64(leads*b.N)/elapsed.Seconds(), "records/s")
	})
	url := pgtest.URL(b)
	bin := buildDemo(b)
	for _, workers := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("postgres/%d-workers", workers), func(b *testing.B) {
			var elapsed time.Duration
			for i := 0; i < b.N; i++ {
				s := sim.New(opts(i))
				schema := pgtest.Schema(b, url)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				dir := b.TempDir()
				// A deployment migrates its schema once; the clock measures
				// the workers' sync on a migrated one (a fresh schema adds
				// about a second to the first worker's start).
				migrate(b, url, schema)
				// Logging every request (-v) costs the workers CPU the SQLite
				// run does not spend; only -scaleout-dir keeps logs.
				extra := []string{"-v=false"}
				if *benchDir != "" {
					dir = filepath.Join(*benchDir, fmt.Sprintf("%d-workers.%d", workers, i))
					if err := os.MkdirAll(dir, 0o755); err != nil {
						b.Fatal(err)
					}
				}
				start := time.Now()
				var procs []*workerProc
				for w := range workers {
					if *benchDir != "" {
						extra = []string{"-cpuprofile", filepath.Join(dir, fmt.Sprint("w", w, ".pprof"))}
					}
					procs = append(procs, startProc(b, ctx, bin, dir, fmt.Sprint("w", w), url, schema, s.CRM.BaseURL(), s.CRM.TokenURL(), s.Email.BaseURL(), "10m", extra...))
				}
				for {
					v := verify(s.CRM.Leads(), s.CRM.Owners(), s.Email.Members(sim.DefaultListID), s.Email.Senders())
					if v.OK() && v.Members == v.Qualified {
						break
					}
					if ctx.Err() != nil {
						b.Fatalf("not converged: %+v", v)
					}
					time.Sleep(100 * time.Millisecond)
				}
				elapsed += time.Since(start)
				for _, p := range procs {
					_ = p.cmd.Process.Signal(syscall.SIGTERM)
				}
				for _, p := range procs {
					<-p.done
				}
				cancel()
				s.Close()
			}
			b.ReportMetric(float64(leads*b.N)/elapsed.Seconds(), "records/s")
		})
	}
}

// migrate creates and migrates a schema as a deployment does once, before
// any worker starts: the store's tables and River's.
func migrate(b *testing.B, url, schema string) {
	b.Helper()
	ctx := context.Background()
	st, err := pgstore.Open(ctx, url, pgstore.Options{Schema: schema})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := riverexec.Migrate(ctx, st.Pool(), schema); err != nil {
		b.Fatal(err)
	}
}
