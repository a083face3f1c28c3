package engine

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Outcome is what happened to one record. The values are stable metric
// label values.
type Outcome string

// Record outcomes.
const (
	OutcomeCreated      Outcome = "created"
	OutcomeUpdated      Outcome = "updated"
	OutcomeUnchanged    Outcome = "unchanged"
	OutcomeSkipped      Outcome = "skipped"
	OutcomeDeferred     Outcome = "deferred"
	OutcomeFailed       Outcome = "failed"
	OutcomeDeadLettered Outcome = "dead_lettered"
)

// RecordEvent reports one record's outcome.
type RecordEvent struct {
	Sync     string
	Outcome  Outcome
	Duration time.Duration
}

// RunEvent reports the end of a run (a poll pass, a queue drain or both).
type RunEvent struct {
	Sync     string
	OK       bool
	Duration time.Duration
	// ConsecutiveFailures counts failed runs in a row (0 after a success).
	ConsecutiveFailures int
	// LastSuccess is when the sync last completed a run; Freshness is the
	// time since then (zero before the first success).
	LastSuccess time.Time
	Freshness   time.Duration
	Paused      bool
}

// QueueEvent reports a sync's backlog.
type QueueEvent struct {
	Sync        string
	QueueDepth  int
	DeadLetters int
}

// Observer receives engine metrics. Methods are called from many
// goroutines and must be fast and safe for concurrent use. Embed
// NopObserver to implement a subset.
type Observer interface {
	ObserveRecord(RecordEvent)
	ObserveRun(RunEvent)
	ObserveQueue(QueueEvent)
}

// NopObserver ignores everything.
type NopObserver struct{}

// ObserveRecord does nothing.
func (NopObserver) ObserveRecord(RecordEvent) {}

// ObserveRun does nothing.
func (NopObserver) ObserveRun(RunEvent) {}

// ObserveQueue does nothing.
func (NopObserver) ObserveQueue(QueueEvent) {}

// AlertKind names an alert rule. The values are stable.
type AlertKind string

// Alert kinds.
const (
	// AlertSystemDown: a run stopped because a source, target or the state
	// store was unavailable (network, 5xx, rate limit, open breaker).
	AlertSystemDown AlertKind = "system_down"
	// AlertReauthorize: credentials were refused (401/403, invalid_grant);
	// a person must authorise the connector again.
	AlertReauthorize AlertKind = "reauthorization_required"
	// AlertConsecutiveFailures: AlertRules.ConsecutiveFailures reached.
	AlertConsecutiveFailures AlertKind = "consecutive_failures"
	// AlertFreshness: no successful run for longer than
	// AlertRules.Freshness.
	AlertFreshness AlertKind = "freshness"
	// AlertDeadLetters: AlertRules.DeadLetters dead letters or more.
	AlertDeadLetters AlertKind = "dead_letters"
	// AlertPaused: the sync was paused after WithPauseAfter failures.
	AlertPaused AlertKind = "paused"
	// AlertTokenNotSaved: a new OAuth token (possibly a rotated refresh
	// token) could not be saved in the state store; Sync is empty and
	// System names the system.
	AlertTokenNotSaved AlertKind = "token_not_saved"
)

// Alert is delivered through the alert hook once when its condition starts
// and once more, with Resolved set, when it clears.
type Alert struct {
	Sync string    `json:"sync"`
	Kind AlertKind `json:"kind"`
	// System is the system concerned (system_down, reauthorization), when
	// known.
	System   string    `json:"system,omitempty"`
	Message  string    `json:"message"`
	Resolved bool      `json:"resolved"`
	At       time.Time `json:"at"`
}

// alerter deduplicates alerts: one delivery per condition until it clears.
type alerter struct {
	mu     sync.Mutex
	firing map[[2]string]Alert
}

// alertKey identifies a condition: per sync, or per system for alerts
// without a sync.
func alertKey(sync string, kind AlertKind, system string) [2]string {
	if sync == "" {
		return [2]string{"system " + system, string(kind)}
	}
	return [2]string{sync, string(kind)}
}

func (e *Engine) raise(ctx context.Context, a Alert) {
	k := alertKey(a.Sync, a.Kind, a.System)
	e.alerts.mu.Lock()
	_, on := e.alerts.firing[k]
	if !on {
		e.alerts.firing[k] = a
	}
	e.alerts.mu.Unlock()
	if on {
		return
	}
	e.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "engine: alert", attrs(a)...)
	if e.cfg.alert != nil {
		e.cfg.alert(ctx, a)
	}
}

// clearSystem clears an alert about a system rather than a sync.
func (e *Engine) clearSystem(ctx context.Context, system string, kind AlertKind, msg string) {
	e.clearKey(ctx, alertKey("", kind, system), "", kind, msg)
}

func (e *Engine) clear(ctx context.Context, sync string, kind AlertKind, msg string) {
	e.clearKey(ctx, alertKey(sync, kind, ""), sync, kind, msg)
}

func (e *Engine) clearKey(ctx context.Context, k [2]string, sync string, kind AlertKind, msg string) {
	e.alerts.mu.Lock()
	old, on := e.alerts.firing[k]
	delete(e.alerts.firing, k)
	e.alerts.mu.Unlock()
	if !on {
		return
	}
	a := Alert{Sync: sync, Kind: kind, System: old.System, Message: msg, Resolved: true, At: e.cfg.now()}
	e.cfg.logger.LogAttrs(ctx, slog.LevelInfo, "engine: alert resolved", attrs(a)...)
	if e.cfg.alert != nil {
		e.cfg.alert(ctx, a)
	}
}

// Firing returns the alerts currently firing (for status views).
func (e *Engine) Firing() []Alert {
	e.alerts.mu.Lock()
	defer e.alerts.mu.Unlock()
	out := make([]Alert, 0, len(e.alerts.firing))
	for _, a := range e.alerts.firing {
		out = append(out, a)
	}
	return sortedAlerts(out)
}
