package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/observe"
	"github.com/connectorgen/connectorgen/runtime/rest"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

// started is a connector with its store open and its syncs registered.
type started struct {
	store engine.Store
	eng   *engine.Engine
	mem   *observe.Memory
	em    *engineMetrics
	envs  []Selected
	// wx runs the engine's units on shared workers (a WorkerStore's
	// executor, run only); nil: in this process.
	wx  WorkerExecutor
	log *slog.Logger
	// alertWG tracks alert deliveries in flight (waited for at shutdown).
	alertWG sync.WaitGroup
}

// engineFlags are the engine settings of run, once and dry-run.
type engineFlags struct {
	common
	concurrency int
	pauseAfter  int
	alertURL    string
	retries     int
	retryBase   time.Duration
	env         *envFlags
	// workers asks a WorkerStore for its executor (the run command).
	workers bool
}

func (h *host) engineFlagSet(fs *flag.FlagSet, ef *engineFlags) {
	h.commonFlags(fs, &ef.common)
	h.intv(fs, &ef.concurrency, "concurrency", 8, "records one run applies in parallel")
	h.intv(fs, &ef.pauseAfter, "pause-after", 0, "pause a sync after this many failed runs in a row (0: never)")
	h.str(fs, &ef.alertURL, "alert-url", "", "POST every alert (and its resolution) as JSON to this URL (HTTPS, or HTTP on loopback)")
	h.intv(fs, &ef.retries, "retry-attempts", 0, "attempts per API call before it fails (0: the client's default, 4)")
	h.dur(fs, &ef.retryBase, "retry-base-delay", 0, "first retry backoff, doubled per attempt (0: the client's default, 1s)")
	ef.env = h.envFlagSet(fs)
}

// start opens the store, builds the engine and registers the syncs.
func (h *host) start(ctx context.Context, ef *engineFlags, extra ...engine.Option) (*started, error) {
	log, err := h.logger(ef.common)
	if err != nil {
		return nil, err
	}
	envs, err := h.selectEnvironments(ef.env)
	if err != nil {
		return nil, err
	}
	for _, e := range envs {
		attrs := []any{slog.String("system", e.System), slog.String("environment", e.Environment), slog.String("url", redactURL(e.URL)), slog.String("source", e.Source)}
		if e.Production {
			log.Info("environment selected", attrs...)
		} else {
			log.Warn("NOT PRODUCTION: system runs against a non-production environment", attrs...)
		}
	}
	var alertURL *url.URL
	if ef.alertURL != "" {
		if alertURL, err = checkURL(ef.alertURL); err != nil {
			return nil, fmt.Errorf("-alert-url: %w", err)
		}
	}
	st, err := h.openStore(ctx, ef.state)
	if err != nil {
		return nil, err
	}
	s := &started{store: st, mem: newMemory(), em: newEngineMetrics(), envs: envs, log: log}
	hook := func(ctx context.Context, a engine.Alert) {
		if alertURL == nil {
			return
		}
		s.alertWG.Add(1)
		go func() {
			defer s.alertWG.Done()
			s.deliver(alertURL, a)
		}()
	}
	opts := []engine.Option{engine.WithLogger(log), engine.WithObserver(s.em), engine.WithAlertHook(hook),
		engine.WithConcurrency(ef.concurrency), engine.WithPauseAfter(ef.pauseAfter)}
	if ef.workers {
		if s.wx, err = workerExecutor(ctx, st, log); err != nil {
			st.Close()
			return nil, err
		}
		if s.wx != nil {
			opts = append(opts, engine.WithExecutor(s.wx))
		}
	}
	opts = append(opts, h.c.Options...)
	s.eng = engine.New(st, append(opts, extra...)...)
	if s.wx != nil {
		s.wx.Bind(s.eng)
	}
	setup := &Setup{Engine: s.eng, Resolver: h.resolver(), URLs: map[string]string{}, TokenURLs: map[string]string{},
		ClientOptions: []rest.Option{rest.WithObserver(s.mem), rest.WithLogger(log)}}
	if ef.retries > 0 || ef.retryBase > 0 {
		setup.ClientOptions = append(setup.ClientOptions, rest.WithRetry(transport.RetryConfig{MaxAttempts: ef.retries, BaseDelay: ef.retryBase}))
	}
	for _, e := range envs {
		setup.URLs[e.System] = e.URL
		setup.TokenURLs[e.System] = e.TokenURL
	}
	if err := h.c.Register(ctx, setup); err != nil {
		st.Close()
		return nil, err
	}
	return s, nil
}

// checkURL accepts HTTPS anywhere and HTTP only on loopback.
func checkURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%q is not an absolute URL", redactURL(s))
	}
	switch u.Scheme {
	case "https":
		return u, nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
			return u, nil
		}
	}
	return nil, fmt.Errorf("%s: HTTPS is required except on loopback", redactURL(s))
}

// deliver posts one alert; failures are logged, never retried forever.
func (s *started) deliver(u *url.URL, a engine.Alert) {
	body, _ := json.Marshal(a)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.log.Warn("alert delivery failed", slog.String("kind", string(a.Kind)), slog.String("error", err.Error()))
		return
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		s.log.Warn("alert delivery refused", slog.String("kind", string(a.Kind)), slog.Int("status", resp.StatusCode))
	}
}

func (s *started) close() {
	s.alertWG.Wait()
	if s.wx != nil {
		// Jobs this process is running for other processes' schedules are
		// stopped; River hands them to another worker.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := s.wx.Stop(ctx); err != nil {
			s.log.Error("stopping the workers", slog.String("error", err.Error()))
		}
		cancel()
	}
	if err := s.store.Close(); err != nil {
		s.log.Error("closing the state store", slog.String("error", err.Error()))
	}
}

// cmdRun serves until the process is told to stop.
func (h *host) cmdRun(ctx context.Context, args []string) int {
	fs := h.flagSet("run")
	ef := engineFlags{workers: true}
	h.engineFlagSet(fs, &ef)
	var addr string
	var drain, retention, queuePoll, every time.Duration
	h.str(fs, &addr, "addr", ":8080", "listen address of /healthz, /readyz, /status, /metrics and /webhooks/SYNC")
	h.dur(fs, &drain, "drain-timeout", 30*time.Second, "on SIGTERM, how long in-flight runs may finish before they are abandoned")
	h.dur(fs, &retention, "audit-retention", 90*24*time.Hour, "how long audit entries are kept")
	h.dur(fs, &queuePoll, "queue-poll", 30*time.Second, "how often webhook queues are drained when no webhook wakes them")
	h.dur(fs, &every, "every", 0, "override every sync's polling interval (0: the mapping's)")
	if err := h.parse(fs, args); err != nil {
		return h.usageErr(err)
	}
	s, err := h.start(ctx, &ef)
	if err != nil {
		return h.fail(err)
	}
	defer s.close()
	return h.serve(ctx, s, addr, drain, retention, queuePoll, every)
}

func (h *host) usageErr(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	fmt.Fprintf(h.io.Stderr, "%s: %v\n", h.c.Name, err)
	return ExitUsage
}

func (h *host) serve(ctx context.Context, s *started, addr string, drain, retention, queuePoll, every time.Duration) int {
	log := s.log
	var ready, draining atomic.Bool
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return h.fail(err)
	}
	log.Info("listening", slog.String("addr", ln.Addr().String()))

	// Work runs under workCtx, which outlives ctx by the drain time:
	// stopping the schedule and abandoning records are separate steps.
	workCtx, abandon := context.WithCancel(context.WithoutCancel(ctx))
	defer abandon()
	wake := map[string]chan struct{}{}
	for _, sy := range h.c.Syncs {
		if sy.Webhook != nil {
			wake[sy.Name] = make(chan struct{}, 1)
		}
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if !ready.Load() || draining.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		if _, err := s.store.LoadStatus(r.Context(), "readyz"); err != nil {
			http.Error(w, "state store unavailable", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		rep, err := h.collect(r.Context(), s.store, &live{envs: s.envs, alerts: s.eng.Firing(), mem: s.mem}, time.Now())
		if err != nil {
			http.Error(w, "state store unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_ = s.mem.WritePrometheus(w)
		_ = s.em.write(w, s.envs)
	})
	for _, sy := range h.c.Syncs {
		if sy.Webhook == nil {
			continue
		}
		sec, err := h.resolver().Resolve(ctx, sy.Webhook.Secret)
		if err != nil {
			ln.Close()
			return h.fail(fmt.Errorf("sync %s: webhook secret: %w", sy.Name, err))
		}
		inner := s.eng.Webhook(sy.Name, engine.WebhookConfig{Scheme: sy.Webhook.Scheme, Header: sy.Webhook.Header, IDHeader: sy.Webhook.IDHeader, Secret: sec})
		ch := wake[sy.Name]
		mux.Handle("POST /webhooks/"+sy.Name, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if draining.Load() {
				// The sender retries; the next process applies it.
				http.Error(w, "shutting down", http.StatusServiceUnavailable)
				return
			}
			rec := &statusRecorder{ResponseWriter: w}
			inner.ServeHTTP(rec, r)
			if rec.code == http.StatusAccepted {
				select {
				case ch <- struct{}{}:
				default:
				}
			}
		}))
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Serve(ln) }()

	// The schedule: one loop per polled sync, one per webhook queue. On
	// shared workers that schedule themselves (WorkerScheduler: River
	// periodic jobs) the polls and the timed queue drains are theirs, and
	// a process only drains its queues when its own webhooks wake them.
	wsched, _ := s.wx.(WorkerScheduler)
	var wg sync.WaitGroup
	stop := ctx.Done()
	loop := func(name string, interval time.Duration, wakeCh <-chan struct{}, work func(context.Context) error) {
		defer wg.Done()
		var tick <-chan time.Time
		var t *time.Timer
		if interval > 0 {
			t = time.NewTimer(interval)
			defer t.Stop()
			tick = t.C
		}
		for {
			select {
			case <-stop:
				return
			case <-tick:
			case <-wakeCh:
			}
			if err := work(workCtx); err != nil && workCtx.Err() == nil && !errors.Is(err, engine.ErrPaused) {
				log.Warn("run failed", slog.String("sync", name), slog.String("error", err.Error()))
			}
			if t != nil {
				t.Reset(interval)
			}
		}
	}
	// The first pass runs the polled syncs one after the other in mapping
	// order, so that a sync filling an xref table (owners → senders) runs
	// before one that looks it up; afterwards each keeps its own interval.
	firstPass := make(chan struct{})
	go func() {
		defer close(firstPass)
		if wsched != nil {
			return // the workers' first jobs (riverexec inserts them at Start)
		}
		for _, sy := range h.c.Syncs {
			if ctx.Err() != nil {
				return
			}
			if sy.Every > 0 || every > 0 {
				if _, err := s.eng.RunOnce(workCtx, sy.Name); err != nil && workCtx.Err() == nil {
					log.Warn("run failed", slog.String("sync", sy.Name), slog.String("error", err.Error()))
				}
			}
		}
	}()
	wg.Add(1)
	go func() { defer wg.Done(); <-firstPass }()
	for _, sy := range h.c.Syncs {
		iv := sy.Every
		if every > 0 {
			iv = every
		}
		qiv := time.Duration(0)
		if sy.Webhook != nil {
			qiv = queuePoll
		}
		if wsched != nil {
			if err := wsched.Schedule(sy.Name, iv, qiv); err != nil {
				log.Error("scheduling on the workers", slog.String("sync", sy.Name), slog.String("error", err.Error()))
				abandon()
				_ = srv.Close()
				wg.Wait()
				return ExitFailed
			}
			iv, qiv = 0, 0 // the workers' periodic jobs poll and drain
		}
		if iv > 0 {
			wg.Add(1)
			go func() {
				select {
				case <-firstPass:
				case <-stop:
				}
				loop(sy.Name, iv, nil, func(c context.Context) error { _, err := s.eng.RunOnce(c, sy.Name); return err })
			}()
		}
		if sy.Webhook != nil {
			wg.Add(1)
			go loop(sy.Name, qiv, wake[sy.Name], func(c context.Context) error { _, err := s.eng.ProcessQueue(c, sy.Name); return err })
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		prune := func() {
			if n, err := s.eng.PruneAudit(workCtx, retention); err != nil {
				log.Warn("pruning the audit log failed", slog.String("error", err.Error()))
			} else if n > 0 {
				log.Info("audit log pruned", slog.Int("removed", n))
			}
		}
		prune()
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			_ = s.eng.CheckAlerts(workCtx)
			if i%60 == 0 {
				prune()
			}
		}
	}()
	if s.wx != nil {
		// The workers take jobs (any process's RunOnce) until close stops
		// them; only abandoning the drain cancels them early.
		if err := s.wx.Start(workCtx); err != nil {
			log.Error("starting the workers", slog.String("error", err.Error()))
			abandon()
			_ = srv.Close()
			wg.Wait()
			return ExitFailed
		}
		log.Info("workers started: the syncs' units run as jobs shared with every process on this state store")
	}
	ready.Store(true)
	log.Info("started", slog.Int("syncs", len(h.c.Syncs)))

	select {
	case <-ctx.Done():
	case err := <-srvDone:
		log.Error("server stopped", slog.String("error", fmt.Sprint(err)))
		abandon()
		wg.Wait()
		return ExitFailed
	}

	// Drain: refuse new webhooks and readiness, let the HTTP server finish
	// its requests (queued webhooks are durable), let in-flight runs finish
	// until the deadline, then abandon what is left: an abandoned record
	// was not committed and is applied again by the next process.
	start := time.Now()
	draining.Store(true)
	log.Info("draining", slog.Duration("timeout", drain))
	deadline := time.NewTimer(drain)
	defer deadline.Stop()
	shutCtx, cancelShut := context.WithTimeout(context.Background(), drain)
	_ = srv.Shutdown(shutCtx)
	cancelShut()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	code := ExitOK
	select {
	case <-done:
	case <-deadline.C:
		log.Warn("drain timeout: abandoning in-flight records")
		abandon()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			log.Error("runs did not stop after being abandoned; exiting anyway")
			code = exitDrainTO
		}
	}
	log.Info("stopped", slog.Duration("drain", time.Since(start)))
	return code
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

// cmdOnce runs every sync (or one) once: for cron and CI.
func (h *host) cmdOnce(ctx context.Context, args []string, dry bool) int {
	name := "once"
	if dry {
		name = "dry-run"
	}
	fs := h.flagSet(name)
	var ef engineFlags
	h.engineFlagSet(fs, &ef)
	var only string
	fs.StringVar(&only, "sync", "", "run only this sync")
	if err := h.parse(fs, args); err != nil {
		return h.usageErr(err)
	}
	if err := h.checkSync(only); err != nil {
		return h.usageErr(err)
	}
	var extra []engine.Option
	if dry {
		extra = append(extra, engine.WithDryRun())
	}
	s, err := h.start(ctx, &ef, extra...)
	if err != nil {
		return h.fail(err)
	}
	defer s.close()
	code := ExitOK
	var reps []engine.Report
	for _, sy := range h.c.Syncs {
		if only != "" && sy.Name != only {
			continue
		}
		rep, err := s.eng.RunOnce(ctx, sy.Name)
		reps = append(reps, rep)
		if err != nil {
			code = ExitFailed
			fmt.Fprintf(h.io.Stderr, "%s: sync %s failed: %v\n", h.c.Name, sy.Name, err)
		}
		if ef.jsonOut {
			continue
		}
		if dry {
			for _, w := range rep.Writes {
				target := w.TargetKey
				if target == "" {
					target = "(new)"
				}
				fmt.Fprintf(h.io.Stdout, "%s %s %s → %s %s\n", w.Sync, w.Action, w.SourceKey, target, fieldList(w.Fields))
			}
		}
		fmt.Fprintf(h.io.Stdout, "%s: seen %d, created %d, updated %d, unchanged %d, skipped %d, deferred %d, failed %d, dead-lettered %d in %s\n",
			rep.Sync, rep.Seen, rep.Created, rep.Updated, rep.Unchanged, rep.Skipped, rep.Deferred, rep.Failed, rep.DeadLettered, rep.Duration.Round(time.Millisecond))
	}
	if ef.jsonOut {
		enc := json.NewEncoder(h.io.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(reps)
	}
	return code
}

func fieldList(m map[string]string) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, " ")
}
