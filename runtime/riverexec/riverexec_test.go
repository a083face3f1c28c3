package riverexec_test

import (
	"context"
	"fmt"
	"iter"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/pgstore"
	"github.com/connectorgen/connectorgen/runtime/pgstore/pgtest"
	"github.com/connectorgen/connectorgen/runtime/riverexec"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

type rec struct {
	ID  int64
	Val string
}

// world is a source and a target shared by every "worker" of a test. The
// target records each apply's span and fails the test when two workers
// write the same record at once.
type world struct {
	t        *testing.T
	mu       sync.Mutex
	src      []rec
	target   map[string]string
	creates  map[string]int
	inflight map[string]string // key -> worker writing it
	overlaps atomic.Int64
	// downUntil makes the source unavailable until then.
	downUntil atomic.Int64
	downCalls atomic.Int64
}

func newWorld(t *testing.T, n int) *world {
	w := &world{t: t, target: map[string]string{}, creates: map[string]int{}, inflight: map[string]string{}}
	w.add(n)
	return w
}

func (w *world) add(n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for range n {
		id := int64(len(w.src) + 1)
		w.src = append(w.src, rec{ID: id, Val: fmt.Sprint("v", id)})
	}
}

func (w *world) write(worker, key, val string, create bool) {
	w.mu.Lock()
	if other, busy := w.inflight[key]; busy {
		w.overlaps.Add(1)
		w.t.Errorf("record %s written by %s while %s writes it", key, worker, other)
	}
	w.inflight[key] = worker
	w.mu.Unlock()
	time.Sleep(200 * time.Microsecond) // a write takes time: give overlaps a chance
	w.mu.Lock()
	delete(w.inflight, key)
	w.target[key] = val
	if create {
		w.creates[key]++
	}
	w.mu.Unlock()
}

func (w *world) sync(worker string) *engine.Sync[rec, rec] {
	return &engine.Sync[rec, rec]{
		Name: "items", SourceSystem: "src", TargetSystem: "dst", Source: "src.items", Target: "dst.items",
		CursorKind: engine.CursorInt,
		Poll: func(ctx context.Context, since engine.Cursor) iter.Seq2[rec, error] {
			return func(yield func(rec, error) bool) {
				if until := w.downUntil.Load(); until != 0 && time.Now().UnixNano() < until {
					w.downCalls.Add(1)
					yield(rec{}, &transport.Error{Kind: transport.ErrUnavailable, RetryAt: time.Unix(0, until), Err: fmt.Errorf("maintenance")})
					return
				}
				w.mu.Lock()
				recs := append([]rec(nil), w.src...)
				w.mu.Unlock()
				for _, r := range recs {
					if r.ID >= since.Int && !yield(r, nil) {
						return
					}
				}
			}
		},
		Key:     func(r *rec) string { return fmt.Sprint(r.ID) },
		Version: func(r *rec) int64 { return 1 },
		Cursor:  func(r *rec) engine.Cursor { return engine.Cursor{Int: r.ID} },
		Map:     func(_ context.Context, r *rec, _ engine.Lookups, _ bool) (rec, error) { return *r, nil },
		Create: func(_ context.Context, r *rec, _ string) (string, error) {
			k := fmt.Sprint("t", r.ID)
			w.write(worker, k, r.Val, true)
			return k, nil
		},
		Update: func(_ context.Context, tk string, r *rec, _ string) error {
			w.write(worker, tk, r.Val, false)
			return nil
		},
	}
}

func (w *world) done(n int) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.target) == n
}

type worker struct {
	pool  *pgxpool.Pool
	store *pgstore.Store
	x     *riverexec.Executor
	eng   *engine.Engine
}

func startWorker(t *testing.T, url, schema, name string, w *world, cfg riverexec.Config) *worker {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	store, err := pgstore.New(ctx, pool, pgstore.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	cfg.ID = name
	if cfg.FetchPollInterval == 0 {
		cfg.FetchPollInterval = 100 * time.Millisecond
	}
	if cfg.LockRetry == 0 {
		cfg.LockRetry = 100 * time.Millisecond
	}
	x, err := riverexec.New(ctx, pool, store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(store, engine.WithExecutor(x), engine.WithConcurrency(4))
	if err := engine.Add(eng, w.sync(name)); err != nil {
		t.Fatal(err)
	}
	x.Bind(eng)
	if err := x.Start(ctx); err != nil {
		t.Fatal(err)
	}
	wk := &worker{pool: pool, store: store, x: x, eng: eng}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := x.Stop(ctx); err != nil {
			t.Errorf("stopping %s: %v", name, err)
		}
		store.Close()
		pool.Close()
	})
	return wk
}

func waitFor(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestWorkersShareSchedule runs three workers on one schema with a
// periodic poll: every record reaches the target exactly once, records
// added later too, and no record is ever written by two workers at once.
func TestWorkersShareSchedule(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	w := newWorld(t, 300)
	cfg := riverexec.Config{Schedules: []riverexec.Schedule{{Sync: "items", Every: 200 * time.Millisecond}}}
	var ws []*worker
	for i := range 3 {
		ws = append(ws, startWorker(t, url, schema, fmt.Sprint("w", i), w, cfg))
	}
	waitFor(t, "the first 300 records", func() bool { return w.done(300) })
	w.add(200)
	waitFor(t, "500 records", func() bool { return w.done(500) })

	w.mu.Lock()
	defer w.mu.Unlock()
	for k, n := range w.creates {
		if n != 1 {
			t.Errorf("%s created %d times", k, n)
		}
	}
	if w.overlaps.Load() != 0 {
		t.Errorf("%d overlapping writes", w.overlaps.Load())
	}
	// A slow first run (a loaded machine) may read all 500 records, so wait
	// for the schedule to have run at least twice rather than assuming it.
	var runs []engine.RunRecord
	w.mu.Unlock()
	waitFor(t, "a second run", func() bool {
		var err error
		runs, err = ws[0].store.Runs(context.Background(), "items", 0)
		if err != nil {
			t.Fatal(err)
		}
		return len(runs) >= 2
	})
	w.mu.Lock()
	// Runs never overlap: the sync lock makes them one at a time.
	sort.Slice(runs, func(i, j int) bool { return runs[i].StartedAt.Before(runs[j].StartedAt) })
	for i := 1; i < len(runs); i++ {
		if runs[i].StartedAt.Before(runs[i-1].FinishedAt) {
			t.Errorf("run %d started at %s before run %d finished at %s", runs[i].ID, runs[i].StartedAt, runs[i-1].ID, runs[i-1].FinishedAt)
		}
	}
}

// TestExecuteFromInsertOnlyClient: an API process (insert-only executor)
// calls RunOnce; the unit runs as a job on a worker started later, and
// RunOnce returns when that worker has finished it.
func TestExecuteFromInsertOnlyClient(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	w := newWorld(t, 50)
	api := startWorker(t, url, schema, "api", w, riverexec.Config{InsertOnly: true})
	done := make(chan error, 1)
	go func() {
		_, err := api.eng.RunOnce(context.Background(), "items")
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("RunOnce returned (%v) before any worker existed", err)
	case <-time.After(300 * time.Millisecond):
	}
	if len(w.target) != 0 {
		t.Fatal("the insert-only client ran the unit itself")
	}
	startWorker(t, url, schema, "w0", w, riverexec.Config{})
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("RunOnce did not return after a worker started")
	}
	if !w.done(50) {
		t.Fatalf("RunOnce returned with %d of 50 records written", len(w.target))
	}
}

// TestLockedSyncSnoozes: while another session holds a sync's lock, its
// job is snoozed, not run; once the lock is released the job runs.
func TestLockedSyncSnoozes(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	w := newWorld(t, 20)
	wk := startWorker(t, url, schema, "w0", w, riverexec.Config{})
	events, cancel := wk.x.Client().Subscribe(river.EventKindJobSnoozed, river.EventKindJobCompleted)
	defer cancel()
	release, err := wk.store.TryLockSync(context.Background(), "items")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wk.x.Enqueue(context.Background(), engine.UnitPoll, "items", 0); err != nil {
		t.Fatal(err)
	}
	if dup, err := wk.x.Enqueue(context.Background(), engine.UnitPoll, "items", 0); err != nil || dup {
		t.Fatalf("second identical insert: queued %v, %v; want skipped as a duplicate", dup, err)
	}
	ev := next(t, events)
	if ev.Kind != river.EventKindJobSnoozed {
		t.Fatalf("first event %s, want snoozed", ev.Kind)
	}
	if w.done(20) || len(w.target) != 0 {
		t.Fatal("the job ran while the sync was locked")
	}
	release()
	for ev.Kind != river.EventKindJobCompleted {
		ev = next(t, events)
	}
	if !w.done(20) {
		t.Fatalf("after the lock was released the job completed with %d records written", len(w.target))
	}
}

func next(t *testing.T, ch <-chan *river.Event) *river.Event {
	t.Helper()
	select {
	case ev := <-ch:
		return ev
	case <-time.After(time.Minute):
		t.Fatal("no River event")
		return nil
	}
}

// TestSystemDownSnoozes: a source that is down with a retry time snoozes
// the job until then (no River attempt used up); it then completes.
func TestSystemDownSnoozes(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	w := newWorld(t, 10)
	wk := startWorker(t, url, schema, "w0", w, riverexec.Config{})
	w.downUntil.Store(time.Now().Add(time.Second).UnixNano())
	events, cancel := wk.x.Client().Subscribe(river.EventKindJobSnoozed, river.EventKindJobCompleted, river.EventKindJobFailed)
	defer cancel()
	if _, err := wk.x.Enqueue(context.Background(), engine.UnitPoll, "items", 0); err != nil {
		t.Fatal(err)
	}
	ev := next(t, events)
	if ev.Kind != river.EventKindJobSnoozed {
		t.Fatalf("first event %s, want snoozed", ev.Kind)
	}
	if ev.Job.ScheduledAt.Before(time.Unix(0, w.downUntil.Load()).Add(-time.Millisecond)) {
		t.Errorf("snoozed job scheduled at %s, want at the source's retry time %s or later", ev.Job.ScheduledAt, time.Unix(0, w.downUntil.Load()))
	}
	if ev.Job.Attempt > 1 {
		t.Errorf("snoozed job used %d attempts", ev.Job.Attempt)
	}
	for ev.Kind == river.EventKindJobSnoozed {
		ev = next(t, events)
	}
	if ev.Kind != river.EventKindJobCompleted || !w.done(10) {
		t.Fatalf("after the outage: event %s, %d records", ev.Kind, len(w.target))
	}
	if w.downCalls.Load() == 0 {
		t.Fatal("the source was never down")
	}
}

// TestDeferredRecordsFollowUp: a scheduled pass that defers a record (its
// mapping waits for another sync) asks for one follow-up pass soon after,
// so the record does not wait for the next interval (an hour here); the
// first pass itself does not wait for River's leader either.
func TestDeferredRecordsFollowUp(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	w := newWorld(t, 20)
	var deferOnce atomic.Bool
	cfg := riverexec.Config{Schedules: []riverexec.Schedule{{Sync: "items", Every: time.Hour}}}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	store, err := pgstore.New(ctx, pool, pgstore.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	cfg.ID, cfg.FetchPollInterval, cfg.LockRetry = "w", 100*time.Millisecond, 100*time.Millisecond
	x, err := riverexec.New(ctx, pool, store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := w.sync("w")
	mapRec := s.Map
	s.Map = func(ctx context.Context, r *rec, l engine.Lookups, create bool) (rec, error) {
		if r.ID == 7 && !deferOnce.Swap(true) {
			return rec{}, fmt.Errorf("waiting for another sync: %w", engine.ErrDeferred)
		}
		return mapRec(ctx, r, l, create)
	}
	eng := engine.New(store, engine.WithExecutor(x), engine.WithConcurrency(4))
	if err := engine.Add(eng, s); err != nil {
		t.Fatal(err)
	}
	x.Bind(eng)
	if err := x.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := x.Stop(sctx); err != nil {
			t.Errorf("stopping: %v", err)
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !w.done(20) {
		if time.Now().After(deadline) {
			w.mu.Lock()
			n := len(w.target)
			w.mu.Unlock()
			t.Fatalf("%d of 20 records applied after 30 s (deferred once: %v): the deferred record waits for the next interval", n, deferOnce.Load())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !deferOnce.Load() {
		t.Fatal("the record was never deferred: the test tests nothing")
	}
	// The leader's first periodic pass may also have picked the record up:
	// check that the follow-up pass ran.
	for n := 0; n != 1; {
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+schema+`.river_job WHERE kind = $1 AND args->>'follow_up' = 'true' AND state = 'completed'`,
			riverexec.KindPoll).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 && time.Now().After(deadline) {
			t.Fatalf("%d completed follow-up passes, want 1", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestScheduleAfterNew: schedules handed over after New (the service
// host's WorkerScheduler) poll like Config.Schedules; a sync is scheduled
// once.
func TestScheduleAfterNew(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	w := newWorld(t, 30)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	store, err := pgstore.New(ctx, pool, pgstore.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	x, err := riverexec.New(ctx, pool, store, riverexec.Config{ID: "w", FetchPollInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(store, engine.WithExecutor(x))
	if err := engine.Add(eng, w.sync("w")); err != nil {
		t.Fatal(err)
	}
	x.Bind(eng)
	if err := x.Schedule("items", 300*time.Millisecond, 0); err != nil {
		t.Fatal(err)
	}
	if err := x.Schedule("items", time.Second, 0); err == nil {
		t.Fatal("a second schedule for the same sync was accepted")
	}
	if err := x.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := x.Stop(sctx); err != nil {
			t.Errorf("stopping: %v", err)
		}
	}()
	waitFor(t, "the first 30 records", func() bool { return w.done(30) })
	// Later records arrive through the periodic jobs (nothing else polls).
	w.add(10)
	waitFor(t, "40 records", func() bool { return w.done(40) })
	var slots int
	if err := pool.QueryRow(ctx, `SELECT count(DISTINCT args->>'slot') FROM `+schema+`.river_job WHERE kind = $1 AND args->>'slot' IS NOT NULL`, riverexec.KindPoll).Scan(&slots); err != nil {
		t.Fatal(err)
	}
	if slots < 2 {
		t.Fatalf("%d scheduled intervals ran, want at least 2", slots)
	}
}

// TestFailedUnitDoesNotBlockTheNext: a unit whose attempt failed waits in
// River's retryable state for its backoff (1 s, 16 s, 81 s, …). It must
// neither keep a caller of RunOnce waiting for the retry nor block the
// same unit asked for again: the new job is queued and runs.
func TestFailedUnitDoesNotBlockTheNext(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	w := newWorld(t, 10)
	api := startWorker(t, url, schema, "api", w, riverexec.Config{InsertOnly: true})
	ctx := context.Background()
	done := make(chan error, 1)
	go func() {
		_, err := api.eng.RunOnce(ctx, "items")
		done <- err
	}()
	// No worker yet: the job waits. Make it look like an attempt that
	// failed, its retry an hour away.
	var id int64
	waitFor(t, "the inserted job", func() bool {
		err := api.pool.QueryRow(ctx, `SELECT id FROM `+schema+`.river_job WHERE kind = $1`, riverexec.KindPoll).Scan(&id)
		return err == nil
	})
	if _, err := api.pool.Exec(ctx, `UPDATE `+schema+`.river_job SET state = 'retryable', attempt = 1, scheduled_at = now() + interval '1 hour',
		errors = ARRAY[jsonb_build_object('at', now(), 'attempt', 1, 'error', 'connection reset')] WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "connection reset") {
			t.Fatalf("RunOnce of a failed job: %v, want the attempt's error", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("RunOnce still waits for the retry of a failed job")
	}
	queued, err := api.x.Enqueue(ctx, engine.UnitPoll, "items", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !queued {
		t.Fatal("the unit asked for again was skipped as a duplicate of the failed job")
	}
	startWorker(t, url, schema, "w0", w, riverexec.Config{})
	waitFor(t, "the new job's records", func() bool { return w.done(10) })
}

// TestScheduledJobNotSnoozedPastNextInterval: a scheduled pass that finds
// its source down until after the next interval is dropped, not snoozed:
// the next interval's job tries again, so that no waiting job stands in
// for the polls after it (one whose retry time comes before the next
// interval is snoozed until then). The records arrive once the source is
// back.
func TestScheduledJobNotSnoozedPastNextInterval(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	w := newWorld(t, 10)
	const every = 300 * time.Millisecond
	w.downUntil.Store(time.Now().Add(3 * time.Second).UnixNano())
	cfg := riverexec.Config{Schedules: []riverexec.Schedule{{Sync: "items", Every: every}}}
	wk := startWorker(t, url, schema, "w0", w, cfg)
	events, cancel := wk.x.Client().Subscribe(river.EventKindJobSnoozed)
	defer cancel()
	waitFor(t, "the records after the outage", func() bool { return w.done(10) })
	if w.downCalls.Load() == 0 {
		t.Fatal("the source was never down: the test tests nothing")
	}
	for {
		select {
		case ev := <-events:
			// The event arrives after the snooze: its wait is at most what
			// is left of it.
			if d := time.Until(ev.Job.ScheduledAt); d > every {
				t.Errorf("scheduled job %d (%s) snoozed for %s, past the next interval (%s)", ev.Job.ID, ev.Job.EncodedArgs, d, every)
			}
			continue
		default:
		}
		break
	}
}
