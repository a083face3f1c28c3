package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/pgstore"
	"github.com/connectorgen/connectorgen/runtime/riverexec"
)

// workerHeader names the sending worker on every request.
type workerHeader struct {
	id   string
	next http.RoundTripper
}

func (w workerHeader) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Worker", w.id)
	return w.next.RoundTrip(r)
}

func (w workerHeader) CloseIdleConnections() {
	if c, ok := w.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// workerMain is "crmsync-demo worker": one of N processes that share the
// demo's syncs through PostgreSQL (pgstore) and River (riverexec). It runs
// until SIGTERM or SIGINT; the scale-out test starts three and SIGKILLs
// them at random.
func workerMain(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("crmsync-demo worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c Config
	pgURL := fs.String("postgres", os.Getenv("CONNECTORGEN_POSTGRES"), "PostgreSQL URL of the shared state and job queue (env CONNECTORGEN_POSTGRES)")
	schema := fs.String("schema", pgstore.DefaultSchema, "schema holding the state and River's tables")
	fs.StringVar(&c.CRMURL, "crm-url", "", "CRM API base URL")
	fs.StringVar(&c.CRMTokenURL, "crm-token-url", "", "CRM OAuth token URL (default: <crm origin>/oauth/token)")
	fs.StringVar(&c.EmailURL, "email-url", "", "email API base URL")
	fs.StringVar(&c.WorkerID, "id", "", "worker name (sent as X-Worker; River client ID)")
	fs.IntVar(&c.Concurrency, "concurrency", 16, "records applied in parallel")
	every := fs.Duration("every", time.Second, "poll interval of each sync")
	rescue := fs.Duration("rescue-after", 10*time.Minute, "hand a crashed worker's running job to another worker after this long")
	verbose := fs.Bool("v", false, "log to standard error")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile (pprof) of the worker's life to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "crmsync-demo worker: %v\n", err)
			return 1
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "crmsync-demo worker: %v\n", err)
			return 1
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	if *pgURL == "" || c.CRMURL == "" || c.EmailURL == "" {
		fmt.Fprintln(stderr, "crmsync-demo worker: -postgres, -crm-url and -email-url are needed")
		return 2
	}
	c.defaults()
	if *verbose {
		c.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runWorker(ctx, c, *pgURL, *schema, *every, *rescue); err != nil {
		fmt.Fprintf(stderr, "crmsync-demo worker: %v\n", err)
		return 1
	}
	return 0
}

func runWorker(ctx context.Context, c Config, pgURL, schema string, every, rescue time.Duration) error {
	// Start-up phases are logged with their times (-v), to see where a
	// worker's start goes.
	began := time.Now()
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	phase := func(name string) {
		log.Info("worker: start-up", slog.String("phase", name), slog.Duration("elapsed", time.Since(began)))
	}
	pcfg, err := pgstore.PoolConfig(pgURL)
	if err != nil {
		return err
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	store, err := pgstore.New(ctx, pool, pgstore.Options{Schema: schema})
	if err != nil {
		return err
	}
	defer store.Close()
	phase("store migrated")
	var sched []riverexec.Schedule
	for _, name := range syncNames {
		sched = append(sched, riverexec.Schedule{Sync: name, Every: every})
	}
	x, err := riverexec.New(ctx, pool, store, riverexec.Config{Schedules: sched, ID: c.WorkerID, Logger: c.Logger,
		RescueStuckJobsAfter: rescue, LockRetry: 200 * time.Millisecond, FetchPollInterval: 200 * time.Millisecond})
	if err != nil {
		return err
	}
	phase("river migrated")
	c.Store = store
	c.EngineOptions = []engine.Option{engine.WithExecutor(x)}
	tokenURL := c.CRMTokenURL
	if tokenURL == "" {
		if tokenURL, err = tokenURLFor(c.CRMURL); err != nil {
			return err
		}
	}
	env, err := NewEnv(ctx, c, c.CRMURL, tokenURL, c.EmailURL)
	if err != nil {
		return err
	}
	defer env.Close()
	phase("clients and engine built")
	x.Bind(env.Engine)
	if err := x.Start(ctx); err != nil {
		return err
	}
	phase("executor started")
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return x.Stop(stopCtx)
}
