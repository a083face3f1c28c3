package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"
)

// Report summarises one run (a poll pass with its queued webhook events), a
// queue drain or a replay.
type Report struct {
	Sync string `json:"sync"`
	// Seen counts source records read (polled or fetched).
	Seen int `json:"seen"`
	// InScope counts records the trigger let through.
	InScope int `json:"in_scope"`
	Created int `json:"created"`
	Updated int `json:"updated"`
	// Unchanged counts in-scope records whose mapped fields equal what the
	// sync last wrote: no write was made.
	Unchanged int `json:"unchanged"`
	// Skipped counts records out of scope, leaving scope, older than the
	// last applied version, or without a target and no create step.
	Skipped  int `json:"skipped"`
	Deferred int `json:"deferred"`
	// Failed counts records not written because the run stopped (a system
	// down) or because they exhausted their attempts with dead letters
	// off.
	Failed       int `json:"failed"`
	DeadLettered int `json:"dead_lettered"`
	Conflicts    int `json:"conflicts"`
	// Cursor is the checkpoint after the run (unchanged when the run
	// stopped early).
	Cursor   Cursor        `json:"cursor"`
	Duration time.Duration `json:"duration"`
	DryRun   bool          `json:"dry_run"`
	// Writes lists what a dry run would write.
	Writes []PlannedWrite `json:"writes,omitempty"`
}

func (r *Report) add(o Report) {
	r.Seen += o.Seen
	r.InScope += o.InScope
	r.Created += o.Created
	r.Updated += o.Updated
	r.Unchanged += o.Unchanged
	r.Skipped += o.Skipped
	r.Deferred += o.Deferred
	r.Failed += o.Failed
	r.DeadLettered += o.DeadLettered
	r.Conflicts += o.Conflicts
	r.Writes = append(r.Writes, o.Writes...)
}

// PlannedWrite is a write a dry run would make.
type PlannedWrite struct {
	Sync      string `json:"sync"`
	SourceKey string `json:"source_key"`
	// TargetKey is empty for a create.
	TargetKey string `json:"target_key,omitempty"`
	// Action is "create" or "update".
	Action string `json:"action"`
	// Fields maps target field paths to the canonical JSON written.
	Fields map[string]string `json:"fields"`
}

// Engine runs syncs. Create it with New, register syncs with Add, then call
// Run (scheduler) or RunOnce, ProcessQueue and Replay directly. An Engine is
// safe for concurrent use.
type Engine struct {
	store   Store
	cfg     config
	started time.Time

	mu    sync.RWMutex
	syncs map[string]syncRunner

	alerts alerter
	seed   maphash.Seed

	// supplied maps a system to the fingerprint of the refresh token its
	// operator supplied (TokenFor), saved with every token (TokenHook).
	tokMu    sync.Mutex
	supplied map[string]string
	stripes  [256]sync.Mutex
}

// New returns an engine keeping its state in store.
func New(store Store, opts ...Option) *Engine {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	return &Engine{
		store:   store,
		cfg:     cfg,
		started: cfg.now(),
		syncs:   map[string]syncRunner{},
		alerts:  alerter{firing: map[[2]string]Alert{}},
		seed:    maphash.MakeSeed(),
	}
}

// Store returns the engine's store.
func (e *Engine) Store() Store { return e.store }

// syncBase is the type-independent part of a registered sync.
type syncBase struct {
	name         string
	sourceSystem string
	targetSystem string
	every        time.Duration
	rules        AlertRules
	webhook      bool
	// requeue says a run drains the sync's queue: webhook events, or the
	// re-reads its echo partner asks for (echo.go).
	requeue bool

	runMu   sync.Mutex
	queueMu sync.Mutex
	signal  chan struct{}

	// The store lock of the sync (one writer per state), shared by this
	// engine's overlapping runs, drains and replays of the sync.
	leaseMu sync.Mutex
	leaseN  int
	release func()
}

// hold takes the store lock of sync b for one unit of work; the returned
// function gives it back. The first holder in this engine takes it from the
// store, the last one releases it.
func (e *Engine) hold(ctx context.Context, b *syncBase) (func(), error) {
	if e.cfg.dryRun {
		// A dry run writes nothing: it may run beside the writer.
		return func() {}, nil
	}
	b.leaseMu.Lock()
	defer b.leaseMu.Unlock()
	if b.leaseN == 0 {
		rel, err := e.store.Lock(ctx, b.name)
		if err != nil {
			if errors.Is(err, ErrLocked) {
				return nil, fmt.Errorf("engine: sync %s not started: %w", b.name, err)
			}
			return nil, b.downError(tag(stageStore, err))
		}
		b.release = rel
	}
	b.leaseN++
	var once sync.Once
	return func() {
		once.Do(func() {
			b.leaseMu.Lock()
			defer b.leaseMu.Unlock()
			b.leaseN--
			if b.leaseN == 0 {
				b.release()
				b.release = nil
			}
		})
	}, nil
}

type syncRunner interface {
	base() *syncBase
	poll(ctx context.Context, rep *Report) (*Cursor, error)
	drain(ctx context.Context, rep *Report) error
	replay(ctx context.Context, dl DeadLetter, rep *Report) error
	parseEvent(body []byte) (Event, error)
	// updatedFields are the target paths an update of this sync writes
	// (every field but the create-only ones).
	updatedFields() []string
}

// Add registers a sync. It checks that the functions the engine needs are
// set; names must be unique.
func Add[S, W any](e *Engine, s *Sync[S, W]) error {
	if s == nil || s.Name == "" {
		return errors.New("engine: Add: sync without a name")
	}
	var missing []string
	if s.Poll == nil && s.Feed == nil && s.ParseEvent == nil {
		missing = append(missing, "Poll, Feed or ParseEvent")
	}
	if s.Key == nil {
		missing = append(missing, "Key")
	}
	if s.Version == nil {
		missing = append(missing, "Version")
	}
	if s.Poll != nil && s.Cursor == nil {
		missing = append(missing, "Cursor")
	}
	if s.Map == nil {
		missing = append(missing, "Map")
	}
	if s.ParseEvent != nil && s.Fetch == nil {
		missing = append(missing, "Fetch (needed for webhooks)")
	}
	steps := map[MatchStep]bool{}
	for _, m := range s.Match {
		steps[m] = true
	}
	if len(s.Match) == 0 {
		steps[MatchXref], steps[MatchCreate] = true, true
	}
	if steps[MatchCreate] && s.Create == nil {
		missing = append(missing, "Create")
	}
	if steps[MatchNaturalKey] && (s.Find == nil || s.NaturalKey == nil) {
		missing = append(missing, "Find and NaturalKey")
	}
	if steps[MatchKeyFrom] && s.KeyFrom == nil {
		missing = append(missing, "KeyFrom")
	}
	keyFromFirst := steps[MatchKeyFrom] && slices.Index(s.Match, MatchKeyFrom) < slices.Index(s.Match, MatchXref)
	if s.Update == nil {
		missing = append(missing, "Update")
	}
	policies := false
	for i, f := range s.Fields {
		if f.Value == nil {
			missing = append(missing, fmt.Sprintf("Fields[%d].Value", i))
		}
		if f.Policy != SourceWins || f.CreateOnly {
			if f.Clear == nil {
				missing = append(missing, fmt.Sprintf("Fields[%d].Clear", i))
			}
		}
		if f.Policy != SourceWins {
			policies = true
		}
	}
	if policies && s.Current == nil {
		missing = append(missing, "Current (fields have conflict policies)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("engine: Add %s: missing %v", s.Name, missing)
	}
	r := &runner[S, W]{
		e: e,
		s: s,
		b: &syncBase{
			name:         s.Name,
			sourceSystem: s.SourceSystem,
			targetSystem: s.TargetSystem,
			every:        s.Every,
			rules:        s.Alerts,
			webhook:      s.ParseEvent != nil,
			requeue:      s.ParseEvent != nil || s.Echo != nil && s.Fetch != nil,
			signal:       make(chan struct{}, 1),
		},
		steps:        steps,
		keyFromFirst: keyFromFirst,
		policies:     policies,
		xref:         s.Xref,
	}
	if r.xref == "" {
		r.xref = s.Name
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, dup := e.syncs[s.Name]; dup {
		return fmt.Errorf("engine: Add: sync %s added twice", s.Name)
	}
	e.syncs[s.Name] = r
	return nil
}

// Syncs returns the registered sync names, sorted.
func (e *Engine) Syncs() []string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]string, 0, len(e.syncs))
	for n := range e.syncs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (e *Engine) runner(name string) (syncRunner, error) {
	e.mu.RLock()
	r, ok := e.syncs[name]
	e.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownSync, name)
	}
	return r, nil
}

// lockKey serialises work on one source record across runs, queue drains
// and replays.
func (e *Engine) lockKey(sync, key string) func() {
	m := e.stripe(sync, key)
	m.Lock()
	return m.Unlock
}

// stripe is the mutex serialising work on one record (shared by the keys
// that hash alike).
func (e *Engine) stripe(name, key string) *sync.Mutex {
	var h maphash.Hash
	h.SetSeed(e.seed)
	h.WriteString(name)
	h.WriteByte(0)
	h.WriteString(key)
	return &e.stripes[h.Sum64()%uint64(len(e.stripes))]
}

// RunOnce runs one poll pass of a sync, then applies its queued webhook
// events. It returns the run's report and, when the run failed, an error:
// a *SystemDownError when a system was down, a *RecordError when a record
// failed with dead letters off, ErrPaused for a paused sync, or the
// context's error.
func (e *Engine) RunOnce(ctx context.Context, name string) (Report, error) {
	r, err := e.runner(name)
	if err != nil {
		return Report{Sync: name}, err
	}
	ctx = withRunID(ctx, newRunID())
	var rep Report
	var runErr error
	err = e.cfg.executor.Execute(ctx, Unit{Kind: UnitPoll, Sync: name, Key: name, Run: func(ctx context.Context) error {
		rep, runErr = e.runOnce(ctx, r)
		return runErr
	}})
	if runErr == nil && err != nil {
		runErr = err
	}
	if rep.Sync == "" {
		rep.Sync = name
	}
	return rep, runErr
}

func (e *Engine) runOnce(ctx context.Context, r syncRunner) (Report, error) {
	b := r.base()
	b.runMu.Lock()
	defer b.runMu.Unlock()
	rep := Report{Sync: b.name, DryRun: e.cfg.dryRun}
	unlock, err := e.hold(ctx, b)
	if err != nil {
		return rep, err
	}
	defer unlock()
	status, err := e.store.LoadStatus(ctx, b.name)
	if err != nil {
		return rep, b.downError(tag(stageStore, err))
	}
	if status.Paused {
		return rep, fmt.Errorf("%w: %s", ErrPaused, b.name)
	}
	start := e.cfg.now()
	cur, runErr := r.poll(ctx, &rep)
	if runErr == nil && b.requeue && !e.cfg.dryRun {
		runErr = r.drain(ctx, &rep)
	}
	rep.Duration = e.cfg.now().Sub(start)
	if e.cfg.dryRun {
		return rep, runErr
	}
	e.finish(ctx, b, &rep, cur, start, status, runErr)
	return rep, runErr
}

// finish records a run's outcome, evaluates alert rules and reports
// metrics.
func (e *Engine) finish(ctx context.Context, b *syncBase, rep *Report, cur *Cursor, start time.Time, status SyncStatus, runErr error) {
	ctx = context.WithoutCancel(ctx)
	now := e.cfg.now()
	aborted := runErr != nil && (errors.Is(runErr, context.Canceled) || errors.Is(runErr, context.DeadlineExceeded)) && !IsSystemDown(runErr)
	status.Sync = b.name
	status.LastRun = now
	switch {
	case runErr == nil:
		status.LastSuccess = now
		status.ConsecutiveFailures = 0
		status.LastError = ""
	case aborted:
	default:
		status.ConsecutiveFailures++
		status.LastError = redactError(runErr)
	}
	pause := runErr != nil && !aborted && e.cfg.pauseAfter > 0 && status.ConsecutiveFailures >= e.cfg.pauseAfter && !status.Paused
	if pause {
		status.Paused = true
	}
	if cur == nil {
		if c, ok, err := e.store.LoadCursor(ctx, b.name); err == nil && ok {
			rep.Cursor = c
		}
	}
	repJSON, _ := json.Marshal(rep)
	run := RunRecord{Sync: b.name, StartedAt: start, FinishedAt: now, OK: runErr == nil, Error: redactError(runErr), Report: repJSON}
	if err := e.store.FinishRun(ctx, &RunResult{Sync: b.name, Cursor: cur, Status: status, Run: run}); err != nil {
		e.cfg.logger.LogAttrs(ctx, slog.LevelError, "engine: recording the run failed", slog.String("sync", b.name), slog.String("error", redactError(err)))
	}
	lvl := slog.LevelInfo
	if runErr != nil && !aborted {
		lvl = slog.LevelWarn
	}
	e.cfg.logger.LogAttrs(ctx, lvl, "engine: run finished", slog.String("sync", b.name), slog.Int("seen", rep.Seen),
		slog.Int("created", rep.Created), slog.Int("updated", rep.Updated), slog.Int("unchanged", rep.Unchanged),
		slog.Int("skipped", rep.Skipped), slog.Int("deferred", rep.Deferred), slog.Int("failed", rep.Failed),
		slog.Int("dead_lettered", rep.DeadLettered), slog.Duration("duration", rep.Duration), slog.String("error", redactError(runErr)))

	e.evaluate(ctx, b, status, runErr, aborted, rep.Duration)
	if pause {
		e.raise(ctx, Alert{Sync: b.name, Kind: AlertPaused, At: now,
			Message: fmt.Sprintf("sync %s paused after %d consecutive failed runs; resume it once the cause is fixed", b.name, status.ConsecutiveFailures)})
	}
}

// evaluate applies the alert rules after a run (runErr: its error; dur: how
// long it took, reported as RunEvent.Duration so that observers can time
// runs, as the OTel run span does) and reports the sync's state to the
// observer.
func (e *Engine) evaluate(ctx context.Context, b *syncBase, status SyncStatus, runErr error, aborted bool, dur time.Duration) {
	now := e.cfg.now()
	var down *SystemDownError
	switch {
	case errors.As(runErr, &down):
		kind := AlertSystemDown
		msg := fmt.Sprintf("sync %s stopped: %s is unavailable: %s", b.name, down.System, redactError(down.Err))
		if down.Auth {
			kind = AlertReauthorize
			msg = fmt.Sprintf("sync %s stopped: %s refused the credentials; re-authorise the connector: %s", b.name, down.System, redactError(down.Err))
		}
		e.raise(ctx, Alert{Sync: b.name, Kind: kind, System: down.System, Message: msg, At: now})
	case runErr == nil:
		e.clear(ctx, b.name, AlertSystemDown, fmt.Sprintf("sync %s ran successfully", b.name))
		e.clear(ctx, b.name, AlertReauthorize, fmt.Sprintf("sync %s ran successfully", b.name))
	}
	if n := b.rules.ConsecutiveFailures; n > 0 && !aborted {
		if status.ConsecutiveFailures >= n {
			e.raise(ctx, Alert{Sync: b.name, Kind: AlertConsecutiveFailures, At: now,
				Message: fmt.Sprintf("sync %s failed %d runs in a row (rule: %d): %s", b.name, status.ConsecutiveFailures, n, status.LastError)})
		} else if status.ConsecutiveFailures == 0 {
			e.clear(ctx, b.name, AlertConsecutiveFailures, fmt.Sprintf("sync %s ran successfully", b.name))
		}
	}
	e.checkFreshness(ctx, b, status)
	dls, err := e.store.DeadLetterCount(ctx, b.name)
	if err == nil {
		if n := b.rules.DeadLetters; n > 0 {
			if dls >= n {
				e.raise(ctx, Alert{Sync: b.name, Kind: AlertDeadLetters, At: now,
					Message: fmt.Sprintf("sync %s has %d dead letters (rule: %d)", b.name, dls, n)})
			} else {
				e.clear(ctx, b.name, AlertDeadLetters, fmt.Sprintf("sync %s has %d dead letters", b.name, dls))
			}
		}
	}
	depth, _ := e.store.QueueDepth(ctx, b.name)
	e.cfg.observer.ObserveQueue(QueueEvent{Sync: b.name, QueueDepth: depth, DeadLetters: dls})
	ev := RunEvent{Sync: b.name, OK: runErr == nil, Duration: dur, ConsecutiveFailures: status.ConsecutiveFailures, LastSuccess: status.LastSuccess, Paused: status.Paused}
	if !status.LastSuccess.IsZero() {
		ev.Freshness = now.Sub(status.LastSuccess)
	}
	e.cfg.observer.ObserveRun(ev)
}

// checkFreshness raises or clears the freshness alert. Before a sync's
// first success, freshness counts from the engine's start.
func (e *Engine) checkFreshness(ctx context.Context, b *syncBase, status SyncStatus) {
	rule := b.rules.Freshness
	if rule <= 0 {
		return
	}
	last := status.LastSuccess
	if last.IsZero() {
		last = e.started
	}
	age := e.cfg.now().Sub(last)
	if age > rule {
		e.raise(ctx, Alert{Sync: b.name, Kind: AlertFreshness, At: e.cfg.now(),
			Message: fmt.Sprintf("sync %s has not completed a run for %s (rule: %s)", b.name, age.Round(time.Second), rule)})
	} else {
		e.clear(ctx, b.name, AlertFreshness, fmt.Sprintf("sync %s is fresh again", b.name))
	}
}

// CheckAlerts evaluates the freshness rule of every sync (Run does this
// every minute).
func (e *Engine) CheckAlerts(ctx context.Context) error {
	for _, name := range e.Syncs() {
		r, err := e.runner(name)
		if err != nil {
			return err
		}
		st, err := e.store.LoadStatus(ctx, name)
		if err != nil {
			return err
		}
		e.checkFreshness(ctx, r.base(), st)
	}
	return nil
}

// ProcessQueue applies a sync's queued webhook events: each event's record
// is re-fetched and applied only if it is newer than the last applied
// version. Events whose record is deferred stay queued; a system that is
// down stops the drain (a *SystemDownError) and leaves the rest queued.
func (e *Engine) ProcessQueue(ctx context.Context, name string) (Report, error) {
	r, err := e.runner(name)
	if err != nil {
		return Report{Sync: name}, err
	}
	b := r.base()
	rep := Report{Sync: name, DryRun: e.cfg.dryRun}
	if !b.webhook {
		return rep, nil
	}
	if e.cfg.dryRun {
		return rep, nil
	}
	status, err := e.store.LoadStatus(ctx, name)
	if err != nil {
		return rep, b.downError(tag(stageStore, err))
	}
	if status.Paused {
		return rep, fmt.Errorf("%w: %s", ErrPaused, name)
	}
	ctx = withRunID(ctx, newRunID())
	start := e.cfg.now()
	err = e.cfg.executor.Execute(ctx, Unit{Kind: UnitQueue, Sync: name, Key: name, Run: func(ctx context.Context) error {
		// The one-writer lock is taken where the unit runs (a worker,
		// under a distributed executor), not where it was asked for.
		unlock, err := e.hold(ctx, b)
		if err != nil {
			return err
		}
		defer unlock()
		return r.drain(ctx, &rep)
	}})
	rep.Duration = e.cfg.now().Sub(start)
	var down *SystemDownError
	if errors.As(err, &down) {
		e.evaluate(context.WithoutCancel(ctx), b, status, err, false, rep.Duration)
	} else {
		if err == nil && rep.Seen > 0 {
			// A drain that fetched and wrote records shows the systems
			// are back: a realtime sync need not wait for its next poll.
			e.clear(context.WithoutCancel(ctx), name, AlertSystemDown, fmt.Sprintf("sync %s applied queued events", name))
		}
		depth, _ := e.store.QueueDepth(ctx, name)
		dls, _ := e.store.DeadLetterCount(ctx, name)
		e.cfg.observer.ObserveQueue(QueueEvent{Sync: name, QueueDepth: depth, DeadLetters: dls})
	}
	return rep, err
}

// DeadLetters lists a sync's dead letters.
func (e *Engine) DeadLetters(ctx context.Context, name string) ([]DeadLetter, error) {
	if _, err := e.runner(name); err != nil {
		return nil, err
	}
	return e.store.DeadLetters(ctx, name)
}

// Replay retries one dead letter: the record is re-fetched (Sync.Fetch; the
// stored payload when the sync has none) and applied with a fresh set of
// attempts. On success the dead letter is removed in the same transaction
// as the record's state; when it fails again the dead letter is updated and
// the error returned.
func (e *Engine) Replay(ctx context.Context, name string, id int64) error {
	r, err := e.runner(name)
	if err != nil {
		return err
	}
	dl, ok, err := e.store.DeadLetter(ctx, name, id)
	if err != nil {
		return r.base().downError(tag(stageStore, err))
	}
	if !ok {
		return fmt.Errorf("%w: sync %s id %d", ErrNoDeadLetter, name, id)
	}
	ctx = withRunID(ctx, newRunID())
	var rep Report
	return e.cfg.executor.Execute(ctx, Unit{Kind: UnitReplay, Sync: name, Key: fmt.Sprintf("%s/%d", name, id), Run: func(ctx context.Context) error {
		unlock, err := e.hold(ctx, r.base())
		if err != nil {
			return err
		}
		defer unlock()
		return r.replay(ctx, dl, &rep)
	}})
}

// DiscardDeadLetter deletes a dead letter without replaying it.
func (e *Engine) DiscardDeadLetter(ctx context.Context, name string, id int64) error {
	if _, err := e.runner(name); err != nil {
		return err
	}
	return e.store.DeleteDeadLetter(ctx, name, id)
}

// Conflicts lists a sync's conflicts queued for review.
func (e *Engine) Conflicts(ctx context.Context, name string) ([]Conflict, error) {
	if _, err := e.runner(name); err != nil {
		return nil, err
	}
	return e.store.Conflicts(ctx, name)
}

// Resume un-pauses a sync and resets its consecutive failures.
func (e *Engine) Resume(name string) error {
	ctx := context.Background()
	r, err := e.runner(name)
	if err != nil {
		return err
	}
	b := r.base()
	b.runMu.Lock()
	defer b.runMu.Unlock()
	st, err := e.store.LoadStatus(ctx, name)
	if err != nil {
		return err
	}
	st.Sync = name
	st.Paused = false
	st.ConsecutiveFailures = 0
	if err := e.store.SaveStatus(ctx, st); err != nil {
		return err
	}
	e.clear(ctx, name, AlertPaused, fmt.Sprintf("sync %s resumed", name))
	return nil
}

// Status is a sync's health (DESIGN.md §8).
type Status struct {
	SyncStatus
	// Cursor is the checkpoint; HasCursor is false before the first
	// successful poll.
	Cursor      Cursor  `json:"cursor"`
	HasCursor   bool    `json:"has_cursor"`
	QueueDepth  int     `json:"queue_depth"`
	DeadLetters int     `json:"dead_letters"`
	Conflicts   int     `json:"conflicts"`
	Alerts      []Alert `json:"alerts,omitempty"`
}

// Status returns a sync's health.
func (e *Engine) Status(ctx context.Context, name string) (Status, error) {
	if _, err := e.runner(name); err != nil {
		return Status{}, err
	}
	var s Status
	var err error
	if s.SyncStatus, err = e.store.LoadStatus(ctx, name); err != nil {
		return s, err
	}
	if s.Cursor, s.HasCursor, err = e.store.LoadCursor(ctx, name); err != nil {
		return s, err
	}
	if s.QueueDepth, err = e.store.QueueDepth(ctx, name); err != nil {
		return s, err
	}
	if s.DeadLetters, err = e.store.DeadLetterCount(ctx, name); err != nil {
		return s, err
	}
	cs, err := e.store.Conflicts(ctx, name)
	if err != nil {
		return s, err
	}
	s.Conflicts = len(cs)
	for _, a := range e.Firing() {
		if a.Sync == name {
			s.Alerts = append(s.Alerts, a)
		}
	}
	return s, nil
}

// Run schedules every sync with an Every interval (a first run at once),
// drains webhook queues when events arrive (and every WithQueuePoll
// interval), evaluates freshness alerts every minute, and returns nil when
// ctx is done.
func (e *Engine) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, name := range e.Syncs() {
		r, err := e.runner(name)
		if err != nil {
			return err
		}
		b := r.base()
		if b.every > 0 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e.pollLoop(ctx, b)
			}()
		}
		if b.webhook {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e.queueLoop(ctx, b)
			}()
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				_ = e.CheckAlerts(ctx)
			}
		}
	}()
	<-ctx.Done()
	wg.Wait()
	return nil
}

func (e *Engine) pollLoop(ctx context.Context, b *syncBase) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, err := e.RunOnce(ctx, b.name)
		if err != nil && !errors.Is(err, ErrPaused) && ctx.Err() == nil {
			e.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "engine: run failed", slog.String("sync", b.name), slog.String("error", redactError(err)))
		}
		t.Reset(b.every)
	}
}

func (e *Engine) queueLoop(ctx context.Context, b *syncBase) {
	t := time.NewTicker(e.cfg.queuePoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-b.signal:
		}
		_, err := e.ProcessQueue(ctx, b.name)
		if err != nil && !errors.Is(err, ErrPaused) && ctx.Err() == nil {
			e.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "engine: queue drain failed", slog.String("sync", b.name), slog.String("error", redactError(err)))
		}
	}
}

func attrs(a Alert) []slog.Attr {
	out := []slog.Attr{slog.String("sync", a.Sync), slog.String("kind", string(a.Kind)), slog.String("message", a.Message)}
	if a.System != "" {
		out = append(out, slog.String("system", a.System))
	}
	return out
}

func sortedAlerts(as []Alert) []Alert {
	slices.SortFunc(as, func(a, b Alert) int {
		if a.Sync != b.Sync {
			if a.Sync < b.Sync {
				return -1
			}
			return 1
		}
		if a.Kind < b.Kind {
			return -1
		}
		if a.Kind > b.Kind {
			return 1
		}
		return 0
	})
	return as
}
