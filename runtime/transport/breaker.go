package transport

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/connectorgen/connectorgen/runtime/observe"
)

// BreakerConfig configures a circuit breaker.
type BreakerConfig struct {
	// Disabled turns the breaker off in a chain.
	Disabled bool
	// Threshold is the number of consecutive failed attempts (5xx other than
	// 501, network errors, per-attempt timeouts; not 4xx, not the caller's
	// cancellation or deadline) that opens the breaker. Default 5.
	Threshold int
	// CoolDown is how long the breaker stays open before letting probes
	// through (half-open). Default 30 s.
	CoolDown time.Duration
	// HalfOpenProbes is how many requests may be in flight while half-open.
	// Default 1.
	HalfOpenProbes int
	// Observer, Logger and Clock default to the chain's when the breaker is
	// built by Chain; NewBreaker uses them as given (nil: none / system
	// clock).
	Observer observe.Observer
	Logger   *slog.Logger
	Clock    Clock
}

func (c BreakerConfig) withDefaults() BreakerConfig {
	if c.Threshold <= 0 {
		c.Threshold = 5
	}
	if c.CoolDown <= 0 {
		c.CoolDown = 30 * time.Second
	}
	if c.HalfOpenProbes <= 0 {
		c.HalfOpenProbes = 1
	}
	if c.Clock == nil {
		c.Clock = SystemClock{}
	}
	return c
}

// Breaker is the circuit breaker of one system. Closed, it lets everything
// through and counts consecutive failures; at Threshold it opens and refuses
// calls with an *Error of Kind ErrUnavailable; after CoolDown it turns
// half-open and lets HalfOpenProbes requests through: a success closes it, a
// failure opens it again. State changes are reported to the Observer and
// logged. It is safe for concurrent use; share one per system (see
// Breakers).
type Breaker struct {
	system string
	cfg    BreakerConfig

	mu       sync.Mutex
	state    observe.BreakerState
	failures int
	openedAt time.Time
	inflight int // probes in flight while half-open
}

// NewBreaker returns a closed breaker for system.
func NewBreaker(system string, cfg BreakerConfig) *Breaker {
	return &Breaker{system: system, cfg: cfg.withDefaults(), state: observe.BreakerClosed}
}

// State returns the current state. An open breaker whose cool-down has
// passed reports half-open.
func (b *Breaker) State() observe.BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == observe.BreakerOpen && !b.cfg.Clock.Now().Before(b.openedAt.Add(b.cfg.CoolDown)) {
		return observe.BreakerHalfOpen
	}
	return b.state
}

// allow decides whether a request may go out. probe is true for a half-open
// probe; retryAt is when an open breaker lets probes through.
func (b *Breaker) allow() (probe bool, retryAt time.Time, ok bool) {
	b.mu.Lock()
	switch b.state {
	case observe.BreakerClosed:
		b.mu.Unlock()
		return false, time.Time{}, true
	case observe.BreakerOpen:
		now := b.cfg.Clock.Now()
		until := b.openedAt.Add(b.cfg.CoolDown)
		if now.Before(until) {
			b.mu.Unlock()
			return false, until, false
		}
		b.setLocked(observe.BreakerHalfOpen)
	}
	// half-open
	if b.inflight >= b.cfg.HalfOpenProbes {
		b.mu.Unlock()
		return false, time.Time{}, false
	}
	b.inflight++
	b.mu.Unlock()
	return true, time.Time{}, true
}

// result values for record.
const (
	resultSuccess = iota
	resultFailure
	resultNeutral
)

func (b *Breaker) record(probe bool, result int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if probe {
		b.inflight--
	}
	switch result {
	case resultSuccess:
		b.failures = 0
		if b.state != observe.BreakerClosed && probe {
			b.setLocked(observe.BreakerClosed)
		}
	case resultFailure:
		b.failures++
		if b.state == observe.BreakerHalfOpen && probe || b.state == observe.BreakerClosed && b.failures >= b.cfg.Threshold {
			b.openedAt = b.cfg.Clock.Now()
			b.setLocked(observe.BreakerOpen)
		}
	}
}

// setLocked changes state and reports it; b.mu is held. The report happens
// under the lock so that observers see transitions in order.
func (b *Breaker) setLocked(to observe.BreakerState) {
	from := b.state
	if from == to {
		return
	}
	b.state = to
	if to == observe.BreakerClosed {
		b.failures = 0
	}
	if b.cfg.Observer != nil {
		b.cfg.Observer.ObserveBreaker(observe.BreakerChange{System: b.system, From: from, To: to})
	}
	if b.cfg.Logger != nil {
		level := slog.LevelWarn
		if to == observe.BreakerClosed {
			level = slog.LevelInfo
		}
		b.cfg.Logger.LogAttrs(context.Background(), level, "circuit breaker state change",
			slog.String("system", b.system), slog.String("from", string(from)), slog.String("to", string(to)))
	}
}

// Breakers is a registry of breakers keyed by system name, owned by the
// caller (there is no global one). It is safe for concurrent use.
type Breakers struct {
	mu sync.Mutex
	m  map[string]*Breaker
}

// NewBreakers returns an empty registry.
func NewBreakers() *Breakers { return &Breakers{m: map[string]*Breaker{}} }

// Get returns the breaker for system, creating it with cfg on first use.
func (bs *Breakers) Get(system string, cfg BreakerConfig) *Breaker {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if bs.m == nil {
		bs.m = map[string]*Breaker{}
	}
	b := bs.m[system]
	if b == nil {
		b = NewBreaker(system, cfg)
		bs.m[system] = b
	}
	return b
}

// CircuitBreaker returns the breaker middleware for cfg.SharedBreaker, or for
// a new Breaker built from cfg.Breaker (with the chain's observer, logger
// and clock) when none is shared.
func CircuitBreaker(cfg Config) Middleware {
	cfg = cfg.withDefaults()
	b := cfg.SharedBreaker
	if b == nil {
		b = NewBreaker(cfg.System, cfg.breakerConfig())
	}
	return func(next http.RoundTripper) http.RoundTripper {
		return &breakerRT{next: next, b: b}
	}
}

type breakerRT struct {
	next http.RoundTripper
	b    *Breaker
}

func (t *breakerRT) RoundTrip(req *http.Request) (*http.Response, error) {
	probe, retryAt, ok := t.b.allow()
	if !ok {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, &Error{Kind: ErrUnavailable, OperationID: operationID(OperationFrom(req.Context())), Method: req.Method,
			RetryAt: retryAt, Err: constError("circuit breaker for " + t.b.system + " is open")}
	}
	resp, err := t.next.RoundTrip(req)
	t.b.record(probe, breakerResult(req.Context(), resp, err))
	return resp, err
}

func breakerResult(ctx context.Context, resp *http.Response, err error) int {
	if err != nil {
		if ctx.Err() != nil && context.Cause(ctx) != errAttemptTimeout {
			return resultNeutral // the caller gave up; says nothing about the server
		}
		switch KindOf(err) {
		case ErrNetwork, ErrTimeout:
			return resultFailure
		}
		return resultNeutral
	}
	if resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented {
		return resultFailure
	}
	return resultSuccess
}
