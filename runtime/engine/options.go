package engine

import (
	"context"
	"log/slog"
	"time"
)

// Option configures an Engine.
type Option func(*config)

type config struct {
	dryRun      bool
	alert       func(context.Context, Alert)
	observer    Observer
	logger      *slog.Logger
	now         func() time.Time
	executor    Executor
	concurrency int
	pauseAfter  int
	backoffBase time.Duration
	backoffMax  time.Duration
	dedupeTTL   time.Duration
	queuePoll   time.Duration
	pollTimeout time.Duration
}

func defaultConfig() config {
	return config{
		observer:    NopObserver{},
		logger:      slog.New(slog.DiscardHandler),
		now:         time.Now,
		executor:    NewInlineExecutor(),
		concurrency: 8,
		backoffBase: 500 * time.Millisecond,
		backoffMax:  30 * time.Second,
		dedupeTTL:   7 * 24 * time.Hour,
		queuePoll:   30 * time.Second,
		pollTimeout: 6 * time.Hour,
	}
}

// WithDryRun makes every run compute what it would write and report it in
// Report.Writes without writing to any target or to the store (no state,
// no cursors, no dead letters, no run history). Sources and the targets'
// read operations (Find, Current) are still called.
func WithDryRun() Option { return func(c *config) { c.dryRun = true } }

// WithAlertHook delivers alerts (see Alert). The hook is called
// synchronously from the engine and should return quickly.
func WithAlertHook(f func(context.Context, Alert)) Option {
	return func(c *config) { c.alert = f }
}

// WithObserver reports engine metrics (see Observer).
func WithObserver(o Observer) Option {
	return func(c *config) {
		if o != nil {
			c.observer = o
		}
	}
}

// WithLogger sets the structured logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithClock sets the clock (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// WithExecutor sets the executor that runs units of work (default: an
// in-process InlineExecutor).
func WithExecutor(x Executor) Option {
	return func(c *config) {
		if x != nil {
			c.executor = x
		}
	}
}

// WithConcurrency sets how many records one run applies in parallel
// (default 8). Records with the same key are never applied concurrently.
func WithConcurrency(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.concurrency = n
		}
	}
}

// WithPauseAfter pauses a sync after n consecutive failed runs (0, the
// default: never). A paused sync does not run until Resume.
func WithPauseAfter(n int) Option { return func(c *config) { c.pauseAfter = n } }

// WithRetryBackoff sets the per-record retry backoff: capped exponential
// with full jitter, starting at base (default 500 ms) and capped at max
// (default 30 s).
func WithRetryBackoff(base, max time.Duration) Option {
	return func(c *config) {
		if base > 0 {
			c.backoffBase = base
		}
		if max > 0 {
			c.backoffMax = max
		}
	}
}

// WithDedupeRetention sets how long webhook event IDs are remembered for
// dedupe after they were received (default 7 days).
func WithDedupeRetention(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.dedupeTTL = d
		}
	}
}

// WithQueuePoll sets how often Run drains webhook queues when no webhook
// arrives to wake it (default 30 s).
func WithQueuePoll(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.queuePoll = d
		}
	}
}

// WithPollTimeout bounds how long one poll may read its source (default 6
// hours): a listing that never ends (a server handing out fresh cursors
// forever) fails the run with ErrPollTimeout instead of running forever.
// Records read until then are applied; the checkpoint does not move. Raise
// it for a first backfill of a very large source; 0 or less keeps the
// default.
func WithPollTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.pollTimeout = d
		}
	}
}
