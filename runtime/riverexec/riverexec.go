// Package riverexec is an engine.Executor that runs the engine's units of
// work as River jobs (riverqueue/river on PostgreSQL), so that any number of
// worker processes sharing one Postgres share the work: the scale-out role
// of DESIGN.md §10. It schedules and dispatches; it holds no sync logic
// (the engine does the work) and no state of its own (River's tables and
// the pgstore schema hold it).
//
// Units map to jobs by (Kind, Sync, Key): a poll pass (with its queued
// webhook events) is a "connectorgen_poll" job, a webhook queue drain a
// "connectorgen_queue" job, a dead-letter replay a "connectorgen_replay"
// job. Record applies run inside the poll or drain that read them, in
// parallel (engine.WithConcurrency), on the worker holding the sync.
//
// Three mechanisms keep a sync's work single-writer:
//   - jobs are unique by kind and arguments while available, scheduled,
//     pending or running, so a unit is never queued twice (a scheduled
//     job's arguments name its interval, so a job that waits, or was
//     stranded by a killed worker, blocks only its own interval);
//   - the engine takes the sync's one-writer lock (engine.Store.Lock; in
//     pgstore a session advisory lock that PostgreSQL frees when the
//     holder's connection ends, so a SIGKILLed worker never leaves a sync
//     locked) for every poll, drain and replay; a job refused the lock is
//     snoozed, or dropped when it is a scheduled one (the holder is doing
//     that work), so a job rescued from a worker River believes stuck
//     cannot overlap the original;
//   - within a process the engine serialises work on one record.
//
// A sync whose system is down (engine.SystemDownError: 5xx, rate limit,
// open breaker) snoozes its job until the system's retry time instead of
// burning River attempts; a paused sync's job completes without work.
package riverexec

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/pgstore"
)

// Job kinds.
const (
	KindPoll   = "connectorgen_poll"
	KindQueue  = "connectorgen_queue"
	KindReplay = "connectorgen_replay"
)

// PollArgs is a poll pass of one sync (engine.Engine.RunOnce).
type PollArgs struct {
	Sync string `json:"sync"`
	// Slot numbers the schedule interval a periodic job was made for (0 for
	// a pass asked for through Execute or Enqueue). A job stranded in the
	// running state by a crashed worker cannot block the next interval's
	// job, and a scheduled pass that finds its sync busy is dropped (the
	// holder is polling already) instead of queuing behind it.
	Slot int64 `json:"slot,omitempty"`
	// FollowUp marks the one extra pass a scheduled pass that deferred
	// records (waiting for another sync, such as a lookup's xref) asks for
	// soon after it, instead of leaving them to the next interval. A
	// follow-up asks for none, so a record deferred for good costs at most
	// one extra pass per interval.
	FollowUp bool `json:"follow_up,omitempty"`
}

// Kind implements river.JobArgs.
func (PollArgs) Kind() string { return KindPoll }

// QueueArgs drains one sync's webhook queue (engine.Engine.ProcessQueue).
type QueueArgs struct {
	Sync string `json:"sync"`
	// Slot: as PollArgs.Slot.
	Slot int64 `json:"slot,omitempty"`
}

// Kind implements river.JobArgs.
func (QueueArgs) Kind() string { return KindQueue }

// ReplayArgs replays one dead letter (engine.Engine.Replay).
type ReplayArgs struct {
	Sync string `json:"sync"`
	ID   int64  `json:"id"`
}

// Kind implements river.JobArgs.
func (ReplayArgs) Kind() string { return KindReplay }

// uniqueStates are the states in which a job blocks an identical insert:
// the four River requires. Completed jobs are left out (River's default
// keeps them), or a sync could be polled only once; retryable ones too
// (the one state River lets us drop), so that a unit whose attempt failed
// does not block the same unit asked for again during River's backoff
// (1 s, 16 s, 81 s, …): the new job runs, and when the failed one's retry
// comes due while the new one still waits or runs, River's scheduler
// discards the retry as a unique conflict.
func uniqueStates() []rivertype.JobState {
	return []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateScheduled,
	}
}

// Schedule is how often a sync is polled and its queue drained.
type Schedule struct {
	Sync string
	// Every is the poll interval (0: never polled on a schedule).
	Every time.Duration
	// QueueEvery is the webhook queue drain interval (0: none).
	QueueEvery time.Duration
}

// Config configures New.
type Config struct {
	// Schema holds River's tables (default: the store's schema, so a
	// deployment's state and queue live together).
	Schema string
	// Queue is the River queue the jobs go to (default "connectorgen").
	Queue string
	// MaxWorkers is how many jobs this process runs at once (default 4).
	// Each running job holds one pool connection for its sync lock.
	MaxWorkers int
	// Schedules are inserted as River periodic jobs; River's elected
	// leader inserts them, so N workers poll once per interval together.
	Schedules []Schedule
	// LockRetry is how long a job waits (snoozed) when another worker
	// holds its sync (default 1 s).
	LockRetry time.Duration
	// DownRetry is how long a job is snoozed when a system is down and
	// said nothing about when to retry (default 5 s).
	DownRetry time.Duration
	// RescueStuckJobsAfter is when River hands a running job whose worker
	// vanished (a crash) to another worker (default 10 min). It is also
	// River's job timeout, which the executor does not apply to the work:
	// a poll pass takes as long as the source needs. Scheduled work does
	// not wait for the rescue (see PollArgs.Slot); the sync lock makes a
	// rescue of a job still running safe, only wasteful.
	RescueStuckJobsAfter time.Duration
	// FetchPollInterval is how often idle workers look for jobs besides
	// LISTEN/NOTIFY wake-ups (River's default when 0).
	FetchPollInterval time.Duration
	// InsertOnly makes a client that only inserts jobs (an API server
	// that triggers runs and replays): it works no jobs and schedules
	// nothing.
	InsertOnly bool
	// ID names this process in River's tables (default: River's).
	ID string
	// Logger receives River's and the executor's messages (default:
	// discard).
	Logger *slog.Logger
}

// Executor runs engine units as River jobs. Create it with New, create the
// engine with engine.WithExecutor(x), Bind the engine, then Start.
type Executor struct {
	client *river.Client[pgx.Tx]
	store  *pgstore.Store
	cfg    Config
	eng    *engine.Engine
	log    *slog.Logger
	// stopping is closed by Stop: it cancels the work of running jobs,
	// which does not follow River's job timeout.
	stopping chan struct{}
	once     sync.Once
}

// slot numbers the current interval of a schedule.
func slot(every time.Duration) int64 { return time.Now().UnixNano() / int64(every) }

var _ engine.Executor = (*Executor)(nil)

// Migrate brings River's tables in schema up to date with rivermigrate
// (schema "" : the connection's search_path). Concurrent callers (workers
// starting together) are serialised by an advisory lock.
func Migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: schema, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("riverexec: %w", err)
	}
	// River's migrations cannot share one transaction (one adds an enum
	// value and uses it), so the lock is a session lock on a connection of
	// its own, held while rivermigrate applies them one by one.
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("riverexec: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtextextended('connectorgen river migrate ' || $1, 0))`, schema); err != nil {
		return fmt.Errorf("riverexec: %w", err)
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtextextended('connectorgen river migrate ' || $1, 0))`, schema); err != nil {
			conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	if schema != "" {
		if _, err := conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
			return fmt.Errorf("riverexec: %w", err)
		}
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("riverexec: migrating River's tables: %w", err)
	}
	return nil
}

// New migrates River's tables and returns an executor on pool whose jobs
// lock syncs through store (which must use the same database).
func New(ctx context.Context, pool *pgxpool.Pool, store *pgstore.Store, cfg Config) (*Executor, error) {
	if cfg.Schema == "" {
		cfg.Schema = store.Schema()
	}
	if cfg.Queue == "" {
		cfg.Queue = "connectorgen"
	}
	if cfg.MaxWorkers <= 0 {
		cfg.MaxWorkers = 4
	}
	if cfg.LockRetry <= 0 {
		cfg.LockRetry = time.Second
	}
	if cfg.DownRetry <= 0 {
		cfg.DownRetry = 5 * time.Second
	}
	if cfg.RescueStuckJobsAfter <= 0 {
		cfg.RescueStuckJobsAfter = 10 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := Migrate(ctx, pool, cfg.Schema); err != nil {
		return nil, err
	}
	x := &Executor{store: store, cfg: cfg, log: cfg.Logger, stopping: make(chan struct{})}
	rc := &river.Config{
		Schema: cfg.Schema,
		ID:     cfg.ID,
		Logger: cfg.Logger,
		// River rescues only jobs that have a timeout; run does not apply it
		// to the work.
		JobTimeout:           cfg.RescueStuckJobsAfter,
		RescueStuckJobsAfter: cfg.RescueStuckJobsAfter,
		FetchPollInterval:    cfg.FetchPollInterval,
		// A unit's own failures are retried by the engine and end in dead
		// letters; River's attempts cover crashes and store errors.
		MaxAttempts: 25,
	}
	if !cfg.InsertOnly {
		workers := river.NewWorkers()
		river.AddWorker(workers, &pollWorker{x: x})
		river.AddWorker(workers, &queueWorker{x: x})
		river.AddWorker(workers, &replayWorker{x: x})
		rc.Workers = workers
		rc.Queues = map[string]river.QueueConfig{cfg.Queue: {MaxWorkers: cfg.MaxWorkers}}
		for _, s := range cfg.Schedules {
			rc.PeriodicJobs = append(rc.PeriodicJobs, x.periodic(s)...)
		}
	}
	client, err := river.NewClient(riverpgxv5.New(pool), rc)
	if err != nil {
		return nil, fmt.Errorf("riverexec: %w", err)
	}
	x.client = client
	return x, nil
}

// periodic returns the River periodic jobs of one schedule.
func (x *Executor) periodic(s Schedule) []*river.PeriodicJob {
	var out []*river.PeriodicJob
	sync := s.Sync
	if every := s.Every; every > 0 {
		out = append(out, river.NewPeriodicJob(river.PeriodicInterval(every),
			func() (river.JobArgs, *river.InsertOpts) { return PollArgs{Sync: sync, Slot: slot(every)}, x.opts() },
			&river.PeriodicJobOpts{ID: "poll:" + sync, RunOnStart: true}))
	}
	if every := s.QueueEvery; every > 0 {
		out = append(out, river.NewPeriodicJob(river.PeriodicInterval(every),
			func() (river.JobArgs, *river.InsertOpts) { return QueueArgs{Sync: sync, Slot: slot(every)}, x.opts() },
			&river.PeriodicJobOpts{ID: "queue:" + sync, RunOnStart: true}))
	}
	return out
}

// Schedule adds a schedule after New (runtime/service's WorkerScheduler):
// sync is polled every every and its webhook queue drained every
// queueEvery (0: not) through River periodic jobs, which only the elected
// leader inserts, so N processes poll once per interval together. Call it
// before Start, in every process (a process elected leader later inserts
// only the schedules it knows). A second schedule for the same sync
// replaces nothing and is refused.
func (x *Executor) Schedule(sync string, every, queueEvery time.Duration) error {
	if x.cfg.InsertOnly {
		return nil // an insert-only client schedules nothing
	}
	for _, s := range x.cfg.Schedules {
		if s.Sync == sync {
			return fmt.Errorf("riverexec: sync %s is scheduled already", sync)
		}
	}
	s := Schedule{Sync: sync, Every: every, QueueEvery: queueEvery}
	if _, err := x.client.PeriodicJobs().AddManySafely(x.periodic(s)); err != nil {
		return fmt.Errorf("riverexec: scheduling %s: %w", sync, err)
	}
	x.cfg.Schedules = append(x.cfg.Schedules, s)
	return nil
}

// every returns the poll (queue false) or queue drain interval a sync is
// scheduled at (0: none).
func (x *Executor) every(sync string, queue bool) time.Duration {
	for _, s := range x.cfg.Schedules {
		if s.Sync == sync {
			if queue {
				return s.QueueEvery
			}
			return s.Every
		}
	}
	return 0
}

func (x *Executor) opts() *river.InsertOpts {
	return &river.InsertOpts{Queue: x.cfg.Queue, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: uniqueStates()}}
}

// Bind sets the engine whose syncs the jobs run (created with
// engine.WithExecutor(x)). Call it before Start.
func (x *Executor) Bind(e *engine.Engine) { x.eng = e }

// Client returns the River client (for subscriptions, job listings).
func (x *Executor) Client() *river.Client[pgx.Tx] { return x.client }

// Start starts working jobs (and, on the elected leader, inserting the
// periodic ones). It returns at once.
func (x *Executor) Start(ctx context.Context) error {
	if x.cfg.InsertOnly {
		return nil // nothing to work, nothing to schedule
	}
	if x.eng == nil {
		return errors.New("riverexec: Start before Bind")
	}
	if err := x.client.Start(ctx); err != nil {
		return err
	}
	// River's periodic jobs are inserted by the elected leader once its
	// maintenance services have started, which takes a second or two (and
	// longer while a crashed leader's term runs out). The first pass of
	// every schedule does not wait for that: each worker inserts the
	// current slot's jobs itself; uniqueness by arguments keeps one of
	// each however many workers start together.
	var many []river.InsertManyParams
	for _, s := range x.cfg.Schedules {
		if s.Every > 0 {
			many = append(many, river.InsertManyParams{Args: PollArgs{Sync: s.Sync, Slot: slot(s.Every)}, InsertOpts: x.opts()})
		}
		if s.QueueEvery > 0 {
			many = append(many, river.InsertManyParams{Args: QueueArgs{Sync: s.Sync, Slot: slot(s.QueueEvery)}, InsertOpts: x.opts()})
		}
	}
	if len(many) > 0 {
		if _, err := x.client.InsertMany(ctx, many); err != nil {
			return fmt.Errorf("riverexec: inserting the first scheduled jobs: %w", err)
		}
	}
	return nil
}

// Stop waits for running jobs to finish (or ctx) and stops.
func (x *Executor) Stop(ctx context.Context) error {
	if x.cfg.InsertOnly {
		return nil
	}
	x.once.Do(func() { close(x.stopping) })
	return x.client.Stop(ctx)
}

// inJob marks a context as the one a River job runs in.
type inJob struct{}

// Execute implements engine.Executor. Inside a job (the worker running a
// poll, drain or replay) it runs the unit at once. Elsewhere, a poll unit
// (an API server's RunOnce) is inserted as a job and Execute waits until a
// worker has finished it; the report the engine returns to that caller is
// then empty, the run's report being in the run history. Queue drains and
// replays reach the executor with the sync's lock already held by the
// caller's engine, so they run in place; to hand them to the workers, use
// Enqueue. Record applies always run in place.
func (x *Executor) Execute(ctx context.Context, u engine.Unit) error {
	if ctx.Value(inJob{}) != nil || u.Kind != engine.UnitPoll {
		return u.Run(ctx)
	}
	res, err := x.insert(ctx, u)
	if err != nil {
		return err
	}
	return x.wait(ctx, res.Job.ID)
}

func (x *Executor) insert(ctx context.Context, u engine.Unit) (*rivertype.JobInsertResult, error) {
	var args river.JobArgs
	switch u.Kind {
	case engine.UnitPoll:
		args = PollArgs{Sync: u.Sync}
	case engine.UnitQueue:
		args = QueueArgs{Sync: u.Sync}
	case engine.UnitReplay:
		var id int64
		if _, err := fmt.Sscanf(u.Key[len(u.Sync)+1:], "%d", &id); err != nil || len(u.Key) <= len(u.Sync)+1 {
			return nil, fmt.Errorf("riverexec: replay unit key %q: want sync/id", u.Key)
		}
		args = ReplayArgs{Sync: u.Sync, ID: id}
	default:
		return nil, fmt.Errorf("riverexec: unknown unit kind %q", u.Kind)
	}
	res, err := x.client.Insert(ctx, args, x.opts())
	if err != nil {
		return nil, fmt.Errorf("riverexec: inserting %s job: %w", u.Kind, err)
	}
	return res, nil
}

// Enqueue inserts a unit's job without waiting: kind is engine.UnitPoll,
// UnitQueue or UnitReplay (id: the dead letter). It returns false when an
// identical job is already waiting or running.
func (x *Executor) Enqueue(ctx context.Context, kind engine.UnitKind, sync string, id int64) (bool, error) {
	key := sync
	if kind == engine.UnitReplay {
		key = fmt.Sprintf("%s/%d", sync, id)
	}
	res, err := x.insert(ctx, engine.Unit{Kind: kind, Sync: sync, Key: key})
	if err != nil {
		return false, err
	}
	return !res.UniqueSkippedAsDuplicate, nil
}

// wait polls a job until it is finished.
func (x *Executor) wait(ctx context.Context, id int64) error {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		j, err := x.client.JobGet(ctx, id)
		if err != nil {
			return fmt.Errorf("riverexec: job %d: %w", id, err)
		}
		switch j.State {
		case rivertype.JobStateCompleted:
			return nil
		case rivertype.JobStateCancelled, rivertype.JobStateDiscarded, rivertype.JobStateRetryable:
			// A retryable job's attempt failed: River tries it again after
			// its backoff, but the caller hears of the failure now rather
			// than waiting up to minutes for the retry.
			msg := "no error recorded"
			if n := len(j.Errors); n > 0 {
				msg = j.Errors[n-1].Error
			}
			return fmt.Errorf("riverexec: %s job %d %s: %s", j.Kind, id, j.State, msg)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// run is what every job does: take the sync's lock (or snooze), run the
// engine entry point, and turn its error into River's vocabulary.
func (x *Executor) run(ctx context.Context, sync string, scheduled time.Duration, f func(ctx context.Context) error) error {
	// The work ignores River's job timeout (only there to let River rescue
	// jobs of crashed workers) and stops when the executor stops.
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	go func() {
		select {
		case <-x.stopping:
			cancel()
		case <-wctx.Done():
		}
	}()
	// The engine takes the sync's one-writer lock (engine.Store.Lock) for
	// the unit and refuses with engine.ErrLocked while another worker
	// holds it.
	err := f(context.WithValue(wctx, inJob{}, true))
	if errors.Is(err, engine.ErrLocked) {
		if scheduled > 0 {
			x.log.LogAttrs(ctx, slog.LevelDebug, "riverexec: sync busy; scheduled job dropped", slog.String("sync", sync))
			return nil
		}
		return river.JobSnooze(x.cfg.LockRetry)
	}
	return x.outcome(ctx, sync, scheduled, err)
}

// outcome turns a unit's error into River's vocabulary. every is the
// schedule interval of a scheduled job (0: a job asked for once): such a
// job is not snoozed past the next interval, whose own job tries again,
// so that a job waiting out a system's (or this process's credentials')
// trouble never stands in for the polls after it.
func (x *Executor) outcome(ctx context.Context, sync string, every time.Duration, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, engine.ErrPaused) {
		x.log.LogAttrs(ctx, slog.LevelInfo, "riverexec: sync is paused; job done without work", slog.String("sync", sync))
		return nil
	}
	var down *engine.SystemDownError
	if errors.As(err, &down) {
		d := x.cfg.DownRetry
		if !down.RetryAt.IsZero() {
			d = max(time.Until(down.RetryAt), 100*time.Millisecond)
		}
		if down.Auth {
			// Credentials refused: someone must re-authorise; retry rarely.
			d = max(d, time.Minute)
		}
		if every > 0 && d >= every {
			x.log.LogAttrs(ctx, slog.LevelWarn, "riverexec: system down; scheduled job dropped (the next interval's job tries again)",
				slog.String("sync", sync), slog.String("system", down.System), slog.Duration("retry_in", d))
			return nil
		}
		x.log.LogAttrs(ctx, slog.LevelWarn, "riverexec: system down; job snoozed", slog.String("sync", sync),
			slog.String("system", down.System), slog.Duration("for", d))
		return river.JobSnooze(d)
	}
	return err
}

// scheduled returns the interval of a scheduled job (slot != 0) of sync:
// its schedule's, or, when this process does not know the schedule (it
// was started with another configuration), one second, so that such a job
// is still dropped rather than queued when its sync is busy.
func (x *Executor) scheduled(sync string, slot int64, queue bool) time.Duration {
	if slot == 0 {
		return 0
	}
	if d := x.every(sync, queue); d > 0 {
		return d
	}
	return time.Second
}

type pollWorker struct {
	river.WorkerDefaults[PollArgs]
	x *Executor
}

func (w *pollWorker) Work(ctx context.Context, j *river.Job[PollArgs]) error {
	var deferred int
	err := w.x.run(ctx, j.Args.Sync, w.x.scheduled(j.Args.Sync, j.Args.Slot, false), func(ctx context.Context) error {
		rep, err := w.x.eng.RunOnce(ctx, j.Args.Sync)
		deferred = rep.Deferred
		return err
	})
	if err == nil && deferred > 0 && j.Args.Slot != 0 && !j.Args.FollowUp {
		// Records waiting for another sync (an owner not synced yet, say)
		// are tried again after LockRetry rather than a whole interval
		// later. Unique by its arguments, so once per slot.
		args := PollArgs{Sync: j.Args.Sync, Slot: j.Args.Slot, FollowUp: true}
		opts := w.x.opts()
		opts.ScheduledAt = time.Now().Add(w.x.cfg.LockRetry)
		if _, ierr := w.x.client.Insert(context.WithoutCancel(ctx), args, opts); ierr != nil {
			w.x.log.LogAttrs(ctx, slog.LevelWarn, "riverexec: inserting a follow-up poll failed", slog.String("sync", j.Args.Sync), slog.String("error", ierr.Error()))
		}
	}
	return err
}

type queueWorker struct {
	river.WorkerDefaults[QueueArgs]
	x *Executor
}

func (w *queueWorker) Work(ctx context.Context, j *river.Job[QueueArgs]) error {
	return w.x.run(ctx, j.Args.Sync, w.x.scheduled(j.Args.Sync, j.Args.Slot, true), func(ctx context.Context) error {
		_, err := w.x.eng.ProcessQueue(ctx, j.Args.Sync)
		return err
	})
}

type replayWorker struct {
	river.WorkerDefaults[ReplayArgs]
	x *Executor
}

func (w *replayWorker) Work(ctx context.Context, j *river.Job[ReplayArgs]) error {
	return w.x.run(ctx, j.Args.Sync, 0, func(ctx context.Context) error {
		err := w.x.eng.Replay(ctx, j.Args.Sync, j.Args.ID)
		if errors.Is(err, engine.ErrNoDeadLetter) {
			// Replayed or discarded meanwhile: nothing left to do.
			return nil
		}
		return err
	})
}
