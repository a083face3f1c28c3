// Package observe defines what the runtime reports about its work and ships
// observers for it: an Observer interface fed with request outcomes, call
// outcomes, retries, rate-limit waits, circuit-breaker state changes and token
// refreshes; Multi to fan out to several observers; and Memory, an in-memory
// observer with counters and latency histograms per system and operation that
// serves them in the Prometheus text exposition format.
//
// The package is a leaf: it imports only the standard library (no Prometheus
// or OpenTelemetry client; adapters for those belong in separate modules) and
// it must not import other runtime packages. It keeps no package-level state.
// Observers are called on the request path, so implementations must be safe
// for concurrent use, fast, and must not block.
package observe

import (
	"context"
	"time"
)

// Outcome classifies how an attempt or a call ended. The values are stable
// metric label values.
type Outcome string

// Outcomes reported by the transport layer.
const (
	OutcomeSuccess     Outcome = "success"
	OutcomeClientError Outcome = "client_error"
	OutcomeServerError Outcome = "server_error"
	OutcomeRateLimited Outcome = "rate_limited"
	OutcomeTimeout     Outcome = "timeout"
	OutcomeNetwork     Outcome = "network_error"
	OutcomeValidation  Outcome = "validation_error"
	OutcomeUnavailable Outcome = "unavailable"
	OutcomeAuth        Outcome = "auth_error"
	OutcomeCanceled    Outcome = "canceled"
	OutcomeOther       Outcome = "other"
)

// Request describes one attempt: one request sent (or refused locally) on
// the wire.
type Request struct {
	System    string
	Operation string
	Method    string
	// Attempt is 1 for the first attempt of a call, 2 for the first retry...
	Attempt int
	// Status is the HTTP status code, or 0 when no response was received.
	Status   int
	Outcome  Outcome
	Duration time.Duration
}

// Call describes one logical call: all of its attempts, including waits
// between them.
type Call struct {
	System    string
	Operation string
	Method    string
	Attempts  int
	Status    int
	Outcome   Outcome
	Duration  time.Duration
}

// Retry reports that an attempt failed and another will be made.
type Retry struct {
	System    string
	Operation string
	// Attempt is the number of the attempt about to be made (2 or more).
	Attempt int
	// Reason is a low-cardinality description: an HTTP status code such as
	// "503", or "network" or "timeout".
	Reason string
	// Wait is how long the client sleeps before the attempt.
	Wait time.Duration
}

// RateLimitWait reports time spent waiting for the local rate limiter.
type RateLimitWait struct {
	System    string
	Operation string
	Wait      time.Duration
	// Reason is "bucket" for the token bucket or "reset" when the server
	// reported an exhausted budget and requests are held until it resets.
	Reason string
}

// BreakerState is the state of a circuit breaker.
type BreakerState string

// Circuit breaker states.
const (
	BreakerClosed   BreakerState = "closed"
	BreakerOpen     BreakerState = "open"
	BreakerHalfOpen BreakerState = "half_open"
)

// BreakerChange reports a circuit breaker transition.
type BreakerChange struct {
	System string
	From   BreakerState
	To     BreakerState
}

// TokenOutcome classifies a token refresh.
type TokenOutcome string

// Token refresh outcomes.
const (
	TokenRefreshed TokenOutcome = "refreshed"
	// TokenFailed is a transient failure (network, 5xx); a later call tries
	// again.
	TokenFailed TokenOutcome = "failed"
	// TokenReauthorize is a permanent failure such as invalid_grant: a person
	// must authorise the connector again.
	TokenReauthorize TokenOutcome = "reauthorization_required"
	// TokenPersistFailed means a new token was obtained and is used, but the
	// persistence hook failed to store it.
	TokenPersistFailed TokenOutcome = "persist_failed"
	// TokenPersisted means a token whose save had failed was stored by a
	// later retry.
	TokenPersisted TokenOutcome = "persisted"
)

// TokenRefresh reports a token endpoint exchange.
type TokenRefresh struct {
	System string
	// Scheme is the security scheme name the credential serves.
	Scheme string
	// Forced is true when the refresh was triggered by a 401 response.
	Forced   bool
	Outcome  TokenOutcome
	Duration time.Duration
}

// Observer receives reports from the runtime. Methods are called
// synchronously on the request path and from many goroutines: they must be
// safe for concurrent use and return quickly. Embed Nop to implement only
// some methods.
type Observer interface {
	ObserveRequest(Request)
	ObserveCall(Call)
	ObserveRetry(Retry)
	ObserveRateLimitWait(RateLimitWait)
	ObserveBreaker(BreakerChange)
	ObserveTokenRefresh(TokenRefresh)
}

// RequestContextObserver is an Observer that also wants the context of the
// request an attempt belonged to (a tracing adapter makes the attempt's
// span a child of the caller's span). The transport calls
// ObserveRequestContext instead of ObserveRequest when the observer
// implements it.
type RequestContextObserver interface {
	Observer
	ObserveRequestContext(ctx context.Context, e Request)
}

// Nop is an Observer that ignores everything. Embed it in a struct to
// implement a subset of Observer.
type Nop struct{}

// ObserveRequest does nothing.
func (Nop) ObserveRequest(Request) {}

// ObserveCall does nothing.
func (Nop) ObserveCall(Call) {}

// ObserveRetry does nothing.
func (Nop) ObserveRetry(Retry) {}

// ObserveRateLimitWait does nothing.
func (Nop) ObserveRateLimitWait(RateLimitWait) {}

// ObserveBreaker does nothing.
func (Nop) ObserveBreaker(BreakerChange) {}

// ObserveTokenRefresh does nothing.
func (Nop) ObserveTokenRefresh(TokenRefresh) {}

// Multi returns an Observer that reports to each non-nil observer in order.
// With no observers it returns Nop{}; with one it returns that observer.
func Multi(observers ...Observer) Observer {
	var list multi
	for _, o := range observers {
		if o == nil {
			continue
		}
		if m, ok := o.(multi); ok {
			list = append(list, m...)
			continue
		}
		list = append(list, o)
	}
	switch len(list) {
	case 0:
		return Nop{}
	case 1:
		return list[0]
	}
	return list
}

type multi []Observer

func (m multi) ObserveRequest(e Request) {
	for _, o := range m {
		o.ObserveRequest(e)
	}
}

// ObserveRequestContext passes the context on to the observers that want it.
func (m multi) ObserveRequestContext(ctx context.Context, e Request) {
	for _, o := range m {
		if co, ok := o.(RequestContextObserver); ok {
			co.ObserveRequestContext(ctx, e)
		} else {
			o.ObserveRequest(e)
		}
	}
}

func (m multi) ObserveCall(e Call) {
	for _, o := range m {
		o.ObserveCall(e)
	}
}

func (m multi) ObserveRetry(e Retry) {
	for _, o := range m {
		o.ObserveRetry(e)
	}
}

func (m multi) ObserveRateLimitWait(e RateLimitWait) {
	for _, o := range m {
		o.ObserveRateLimitWait(e)
	}
}

func (m multi) ObserveBreaker(e BreakerChange) {
	for _, o := range m {
		o.ObserveBreaker(e)
	}
}

func (m multi) ObserveTokenRefresh(e TokenRefresh) {
	for _, o := range m {
		o.ObserveTokenRefresh(e)
	}
}
