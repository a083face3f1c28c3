package transport

import (
	"context"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/connectorgen/connectorgen/runtime/observe"
)

// RetryConfig configures the retry middleware. The zero value retries with
// the defaults below.
type RetryConfig struct {
	// Disabled turns retries off: every call makes exactly one attempt
	// (the per-attempt timeout still applies).
	Disabled bool
	// MaxAttempts is the total number of attempts, including the first.
	// Default 4.
	MaxAttempts int
	// BaseDelay is the backoff cap before the first retry; it doubles for
	// each further retry (1 s, 2 s, 4 s, 8 s ...). Default 1 s. The actual
	// wait is drawn uniformly from [0, cap) ("full jitter").
	BaseDelay time.Duration
	// MaxDelay caps the backoff. Default 30 s.
	MaxDelay time.Duration
	// MaxWait caps any in-process wait the server asks for (Retry-After,
	// Retry-After-Ms, RateLimit-Reset) or the local rate limiter needs.
	// A longer wait ends the call with a *RetryLaterError carrying the time
	// instead of sleeping. Default 60 s.
	MaxWait time.Duration
	// AttemptTimeout bounds each attempt until its response headers arrive
	// (reading the body is bounded by the caller's context only). Default
	// 30 s; negative disables it.
	AttemptTimeout time.Duration
	// RetryStatus decides which response statuses are retried. Default
	// DefaultRetryStatus: 408, 429 and 5xx except 501 and 505.
	RetryStatus func(status int) bool
	// IdempotencyKeyHeader names the request header that makes a
	// non-idempotent request (POST, PATCH) safe to retry. Default
	// "Idempotency-Key". The operation's own IdempotencyKeyHeader is honoured
	// as well. The header value is sent unchanged on every attempt.
	IdempotencyKeyHeader string
	// Rand returns a pseudo-random number in [0, 1) for jitter. Default
	// math/rand/v2's Float64. Inject a deterministic source in tests.
	Rand func() float64
}

// DefaultRetryStatus reports whether status is retried by default: 408
// Request Timeout, 429 Too Many Requests and every 5xx except 501 Not
// Implemented and 505 HTTP Version Not Supported (which will not change).
func DefaultRetryStatus(status int) bool {
	switch {
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests:
		return true
	case status == http.StatusNotImplemented, status == http.StatusHTTPVersionNotSupported:
		return false
	}
	return status >= 500 && status <= 599
}

func (c RetryConfig) withDefaults() RetryConfig {
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 4
	}
	if c.Disabled {
		c.MaxAttempts = 1
	}
	if c.BaseDelay <= 0 {
		c.BaseDelay = time.Second
	}
	if c.MaxDelay <= 0 {
		c.MaxDelay = 30 * time.Second
	}
	if c.MaxDelay < c.BaseDelay {
		c.MaxDelay = c.BaseDelay
	}
	if c.MaxWait <= 0 {
		c.MaxWait = 60 * time.Second
	}
	if c.AttemptTimeout == 0 {
		c.AttemptTimeout = 30 * time.Second
	}
	if c.RetryStatus == nil {
		c.RetryStatus = DefaultRetryStatus
	}
	if c.IdempotencyKeyHeader == "" {
		c.IdempotencyKeyHeader = "Idempotency-Key"
	}
	c.IdempotencyKeyHeader = http.CanonicalHeaderKey(c.IdempotencyKeyHeader)
	if c.Rand == nil {
		c.Rand = rand.Float64
	}
	return c
}

// Retry returns the retry middleware configured by cfg.Retry, using
// cfg.Clock, cfg.Observer, cfg.System and, when set, cfg.SharedLimiter (so
// that retries also wait for the shared rate budget and every attempt's
// rate-limit headers update it).
//
// What is retried: transient connection failures (reset, refused, broken
// connection, EOF), per-attempt timeouts, and responses whose status
// RetryStatus accepts. Only requests whose body can be replayed (no body, or
// GetBody set) are retried, and a non-idempotent request only when the
// operation is marked Idempotent or the request carries an idempotency key
// header — except that a connection that could not be established at all is
// always retried, because the request never left. Errors that say the call
// cannot succeed (breaker open, authentication, validation) are not retried.
//
// Waits are exponential with full jitter, or what the server asks for via
// Retry-After (seconds or HTTP-date), Retry-After-Ms, RateLimit-Reset or
// X-RateLimit-Reset. A wait longer than MaxWait ends the call with a
// *RetryLaterError; a wait that would outlive the context's deadline is not
// started and the last response or error is returned. Bodies of retried
// responses are drained (bounded) and closed. When attempts are exhausted the
// last response is returned as is (the caller turns it into a status error)
// or the last error wrapped in an *Error.
//
// Retry sets CallInfo.Attempts, RetryReason and RetryWait on the request
// context's CallInfo (attaching one if the request has none).
func Retry(cfg Config) Middleware {
	cfg = cfg.withDefaults()
	return func(next http.RoundTripper) http.RoundTripper {
		return &retryRT{next: next, cfg: cfg.Retry, clock: cfg.Clock, obs: cfg.Observer, system: cfg.System,
			limiter: cfg.SharedLimiter, redact: cfg.redactor}
	}
}

type retryRT struct {
	next    http.RoundTripper
	cfg     RetryConfig
	clock   Clock
	obs     observe.Observer
	system  string
	limiter *Limiter
	redact  *redactor
}

// maxDrain bounds how much of a retried response body is read so that the
// connection can be reused.
const maxDrain = 64 << 10

func drain(resp *http.Response) {
	if resp == nil || resp.Body == nil {
		return
	}
	_, _ = io.CopyN(io.Discard, resp.Body, maxDrain)
	_ = resp.Body.Close()
}

func (t *retryRT) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	info := CallInfoFrom(ctx)
	if info == nil {
		info = &CallInfo{}
		ctx = WithCallInfo(ctx, info)
		req = req.WithContext(ctx)
	}
	// Attempts keeps counting when the same call passes through again (the
	// auth middleware resends once after renewing a token on 401).
	info.RetryReason, info.RetryWait = "", 0
	op := OperationFrom(ctx)
	start := t.clock.Now()
	resp, err := t.loop(ctx, req, op, info)
	if t.obs != nil {
		ev := observe.Call{System: t.system, Operation: opLabel(op), Method: req.Method, Attempts: info.Attempts,
			Duration: t.clock.Now().Sub(start)}
		if err != nil {
			ev.Outcome = outcomeOfError(err)
		} else {
			ev.Status = resp.StatusCode
			ev.Outcome = outcomeOfStatus(resp.StatusCode)
		}
		t.obs.ObserveCall(ev)
	}
	return resp, err
}

// canRetry reports whether the request may be sent more than once.
func (t *retryRT) canRetry(req *http.Request, op *Operation) bool {
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return false
	}
	if IdempotentFrom(req.Context()) {
		return true
	}
	if op != nil {
		if op.Idempotent {
			return true
		}
		if op.IdempotencyKeyHeader != "" && req.Header.Get(op.IdempotencyKeyHeader) != "" {
			return true
		}
	} else if idempotentMethod(req.Method) {
		return true
	}
	return req.Header.Get(t.cfg.IdempotencyKeyHeader) != ""
}

func idempotentMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

func (t *retryRT) loop(ctx context.Context, req *http.Request, op *Operation, info *CallInfo) (*http.Response, error) {
	retryable := t.canRetry(req, op)
	base := info.Attempts
	for attempt := 1; ; attempt++ {
		info.Attempts = base + attempt
		areq := req
		if attempt > 1 {
			var err error
			if areq, err = t.replay(req); err != nil {
				return nil, &Error{Kind: ErrValidation, OperationID: operationID(op), Method: req.Method, Attempts: attempt - 1, Err: err}
			}
		}
		resp, err := t.send(areq)
		if t.limiter != nil && resp != nil {
			t.limiter.Update(resp, t.clock.Now())
		}
		var reason string
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, t.contextError(ctx, op, req.Method, attempt, err)
			}
			kind := KindOf(err)
			if (kind != ErrNetwork && kind != ErrTimeout) || !transientNetwork(err) {
				return nil, t.wrap(kind, op, req.Method, attempt, err)
			}
			if !retryable && !notSent(err) {
				return nil, t.wrap(kind, op, req.Method, attempt, err)
			}
			reason = "network"
			if kind == ErrTimeout {
				reason = "timeout"
			}
		case !t.cfg.RetryStatus(resp.StatusCode) || !retryable:
			return resp, nil
		default:
			reason = statusReason(resp.StatusCode)
		}
		if attempt >= t.cfg.MaxAttempts {
			if err != nil {
				return nil, t.wrap(KindOf(err), op, req.Method, attempt, err)
			}
			return resp, nil
		}
		now := t.clock.Now()
		wait, asked := time.Duration(0), false
		if resp != nil {
			wait, asked = serverWait(resp, now)
		}
		if !asked {
			wait = t.backoff(attempt)
		}
		if asked && wait > t.cfg.MaxWait {
			drain(resp)
			return nil, &RetryLaterError{OperationID: operationID(op), Method: req.Method, Attempts: attempt,
				Status: resp.StatusCode, RetryAt: now.Add(wait), Wait: wait}
		}
		if dl, ok := ctx.Deadline(); ok && !now.Add(wait).Before(dl) {
			// The wait would outlive the caller's deadline: give up now.
			if err != nil {
				return nil, t.wrap(KindOf(err), op, req.Method, attempt, err)
			}
			return resp, nil
		}
		drain(resp)
		if t.obs != nil {
			t.obs.ObserveRetry(observe.Retry{System: t.system, Operation: opLabel(op), Attempt: attempt + 1, Reason: reason, Wait: wait})
		}
		info.RetryReason, info.RetryWait = reason, wait
		if err := t.clock.Sleep(ctx, wait); err != nil {
			return nil, t.contextError(ctx, op, req.Method, attempt, err)
		}
		if t.limiter != nil {
			if err := t.limiter.wait(ctx, t.clock, t.cfg.MaxWait, t.obs, t.system, op, req.Method, attempt); err != nil {
				return nil, err
			}
		}
	}
}

// replay returns a copy of req for a new attempt with a fresh body.
func (t *retryRT) replay(req *http.Request) (*http.Request, error) {
	r := req.WithContext(req.Context())
	if req.Body != nil && req.Body != http.NoBody {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		r.Body = body
	}
	return r, nil
}

// send makes one attempt bounded by the per-attempt timeout, which covers the
// time until response headers arrive.
func (t *retryRT) send(req *http.Request) (*http.Response, error) {
	d := t.cfg.AttemptTimeout
	if d < 0 {
		return t.next.RoundTrip(req)
	}
	parent := req.Context()
	if dl, ok := parent.Deadline(); ok && time.Until(dl) <= d {
		// The caller's deadline comes first; no timer of our own is needed.
		return t.next.RoundTrip(req)
	}
	g := &attemptGuard{}
	ctx, cancel := context.WithCancelCause(parent)
	g.cancel = cancel
	timer := time.AfterFunc(d, g.fire)
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if !timer.Stop() {
		// The timer fired: the attempt timed out, even if a response raced in.
		if resp != nil {
			drain(resp)
		}
		cancel(nil)
		return nil, errAttemptTimeout
	}
	if err != nil {
		cancel(nil)
		return nil, err
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		// The body is the upgraded connection (an io.ReadWriteCloser) and
		// outlives the attempt: leave it, and its context, alone.
		return resp, nil
	}
	g.ReadCloser = resp.Body
	resp.Body = g
	return resp, nil
}

// attemptGuard is the per-attempt state: the timer callback cancels the
// attempt's context, and as the response body it releases the context when
// the caller closes the body.
type attemptGuard struct {
	io.ReadCloser
	cancel context.CancelCauseFunc
}

func (g *attemptGuard) fire() { g.cancel(errAttemptTimeout) }

func (g *attemptGuard) Close() error {
	err := g.ReadCloser.Close()
	g.cancel(nil)
	return err
}

// backoff returns the jittered wait before retry number attempt (1-based
// count of attempts made so far).
func (t *retryRT) backoff(attempt int) time.Duration {
	c := t.cfg.BaseDelay
	for i := 1; i < attempt && c < t.cfg.MaxDelay; i++ {
		c *= 2
	}
	if c > t.cfg.MaxDelay {
		c = t.cfg.MaxDelay
	}
	return time.Duration(t.cfg.Rand() * float64(c))
}

func (t *retryRT) wrap(kind Kind, op *Operation, method string, attempts int, err error) error {
	if kind == ErrUnknown {
		kind = ErrNetwork
	}
	if te, ok := err.(*Error); ok {
		// Already ours (e.g. the breaker refused): fill in what we know.
		c := *te
		if c.OperationID == "" {
			c.OperationID = operationID(op)
		}
		if c.Method == "" {
			c.Method = method
		}
		c.Attempts = attempts
		return &c
	}
	if _, ok := err.(*RetryLaterError); ok {
		return err
	}
	return &Error{Kind: kind, OperationID: operationID(op), Method: method, Attempts: attempts, Err: sanitize(err, t.redact)}
}

// contextError reports the caller's cancellation or deadline.
func (t *retryRT) contextError(ctx context.Context, op *Operation, method string, attempts int, err error) error {
	if ctx.Err() == context.DeadlineExceeded {
		return &Error{Kind: ErrTimeout, OperationID: operationID(op), Method: method, Attempts: attempts, Err: ctx.Err()}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return sanitize(err, t.redact)
}

func statusReason(status int) string {
	switch status {
	case 408:
		return "408"
	case 429:
		return "429"
	case 500:
		return "500"
	case 502:
		return "502"
	case 503:
		return "503"
	case 504:
		return "504"
	}
	return strconv.Itoa(status)
}

// serverWait returns the wait the response asks for, if any: Retry-After-Ms,
// Retry-After (delta seconds or HTTP-date), then — for 429 and 503, or when
// the remaining budget is 0 — RateLimit-Reset / X-RateLimit-Reset.
func serverWait(resp *http.Response, now time.Time) (time.Duration, bool) {
	h := resp.Header
	if v := headerValue(h, "Retry-After-Ms"); v != "" {
		if ms, err := parseNumber(v); err == nil {
			return scaleWait(ms, time.Millisecond), true
		}
	}
	if v := headerValue(h, "Retry-After"); v != "" {
		if d, ok := parseRetryAfter(v, now); ok {
			return d, true
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		if at, ok := resetTime(h, now); ok {
			return clampWait(at.Sub(now)), true
		}
	}
	return 0, false
}

// clampWait bounds a wait to [0, MaxServerWait].
func clampWait(d time.Duration) time.Duration {
	return min(max(d, 0), MaxServerWait)
}

// scaleWait converts n units to a wait in [0, MaxServerWait] without
// overflowing: NaN and anything at or above the cap (Inf included) are the
// cap, negative values are no wait.
func scaleWait(n float64, unit time.Duration) time.Duration {
	switch {
	case math.IsNaN(n) || n >= float64(MaxServerWait)/float64(unit):
		return MaxServerWait
	case n <= 0:
		return 0
	}
	return clampWait(time.Duration(n * float64(unit)))
}

// parseNumber parses a decimal number, including "Inf" and "NaN" (which
// scaleWait turns into the cap).
func parseNumber(v string) (float64, error) {
	return strconv.ParseFloat(v, 64)
}

// parseRetryAfter parses delta-seconds (fractions tolerated) or an HTTP-date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if s, err := parseNumber(v); err == nil {
		return scaleWait(s, time.Second), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return clampWait(t.Sub(now)), true
	}
	return 0, false
}

// headerValue is Header.Get for a canonical key without allocation.
func headerValue(h http.Header, canonicalKey string) string {
	if v := h[canonicalKey]; len(v) > 0 {
		return strings.TrimSpace(v[0])
	}
	return ""
}

// MaxServerWait is the longest wait a server can ask for (Retry-After,
// Retry-After-Ms, RateLimit-Reset and friends). Larger, infinite or
// unparseable-as-a-number (NaN) values are clamped to it: converting them
// to a time.Duration would overflow into a negative wait, that is an
// immediate retry storm and no rate-limit hold. A clamped wait is longer
// than any sane MaxWait, so the call ends with a *RetryLaterError.
const MaxServerWait = 24 * time.Hour
