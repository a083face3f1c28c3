package transport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/connectorgen/connectorgen/runtime/observe"
)

// RateLimitConfig configures a Limiter.
type RateLimitConfig struct {
	// Rate is the sustained number of requests per second; 0 means no local
	// token bucket (only the server's headers pace requests).
	Rate float64
	// Burst is the bucket size; default max(1, ceil(Rate)).
	Burst int
	// IgnoreHeaders turns off adapting to RateLimit-* / X-RateLimit-*
	// headers and to 429/503 Retry-After.
	IgnoreHeaders bool
	// Windows are further budgets a request must also fit, as a vendor
	// declares several at once (100 per 10 s and 250,000 per day): each
	// is a token bucket of Requests/Per per second and its Burst.
	Windows []Window
}

// Window is one declared request budget: Requests per Per, with a burst
// (default a tenth of Requests, at least 1). A token bucket lets at most
// Requests + Burst through in any span of Per, so declare a budget below
// the vendor's hard limit by the burst you allow.
type Window struct {
	Requests int
	Per      time.Duration
	Burst    int
}

// Limiter is the request budget of one system and credential: a token bucket
// (golang.org/x/time/rate) plus a hold time learnt from the server. When a
// response reports that the remaining budget is 0 (RateLimit-Remaining,
// X-RateLimit-Remaining, or the RateLimit structured header), or answers 429
// or 503 with Retry-After, every request using the Limiter waits until the
// announced reset. Share one Limiter between all clients using the same
// credential (see Limiters). It is safe for concurrent use.
type Limiter struct {
	bucket   *rate.Limiter // nil: no local bucket
	windows  []*rate.Limiter
	adaptive bool
	hold     atomic.Int64 // unix nanoseconds until which requests wait
}

// NewLimiter returns a Limiter for cfg.
func NewLimiter(cfg RateLimitConfig) *Limiter {
	l := &Limiter{adaptive: !cfg.IgnoreHeaders}
	if cfg.Rate > 0 && !math.IsInf(cfg.Rate, 1) {
		b := cfg.Burst
		if b <= 0 {
			b = int(math.Ceil(cfg.Rate))
		}
		if b < 1 {
			b = 1
		}
		l.bucket = rate.NewLimiter(rate.Limit(cfg.Rate), b)
	}
	for _, w := range cfg.Windows {
		if w.Requests <= 0 || w.Per <= 0 {
			continue
		}
		r := float64(w.Requests) / w.Per.Seconds()
		b := w.Burst
		if b <= 0 {
			b = max(1, int(math.Ceil(float64(w.Requests)/10)))
		}
		l.windows = append(l.windows, rate.NewLimiter(rate.Limit(r), b))
	}
	return l
}

// HoldUntil makes requests wait until t (it never shortens an existing hold).
func (l *Limiter) HoldUntil(t time.Time) {
	n := t.UnixNano()
	for {
		cur := l.hold.Load()
		if n <= cur || l.hold.CompareAndSwap(cur, n) {
			return
		}
	}
}

// Held returns the time until which requests are held (zero if none was ever
// set).
func (l *Limiter) Held() time.Time {
	n := l.hold.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Update adapts the limiter to a response's rate-limit headers.
func (l *Limiter) Update(resp *http.Response, now time.Time) {
	if !l.adaptive || resp == nil {
		return
	}
	h := resp.Header
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		if d, ok := serverWait(resp, now); ok {
			l.HoldUntil(now.Add(d))
			return
		}
	}
	if rem, ok := remaining(h); ok && rem <= 0 {
		if at, ok := resetTime(h, now); ok {
			l.HoldUntil(at)
		}
	}
}

// remaining reads the remaining budget from RateLimit-Remaining,
// X-RateLimit-Remaining or the structured RateLimit header.
func remaining(h http.Header) (int64, bool) {
	for _, k := range [...]string{"Ratelimit-Remaining", "X-Ratelimit-Remaining"} {
		if v := headerValue(h, k); v != "" {
			if n, ok := leadingInt(v); ok {
				return n, true
			}
		}
	}
	if v := headerValue(h, "Ratelimit"); v != "" {
		if p, ok := structuredParam(v, "r"); ok {
			return leadingInt(p)
		}
		if p, ok := structuredParam(v, "remaining"); ok {
			return leadingInt(p)
		}
	}
	return 0, false
}

// resetTime reads when the budget resets. RateLimit-Reset is delta seconds;
// X-RateLimit-Reset is delta seconds, or a Unix time in seconds (or
// milliseconds) when it is that large.
func resetTime(h http.Header, now time.Time) (time.Time, bool) {
	for _, k := range [...]string{"Ratelimit-Reset", "X-Ratelimit-Reset"} {
		if v := headerValue(h, k); v != "" {
			if t, ok := parseReset(v, now); ok {
				return t, true
			}
		}
	}
	if v := headerValue(h, "Ratelimit"); v != "" {
		if p, ok := structuredParam(v, "t"); ok {
			return parseReset(p, now)
		}
		if p, ok := structuredParam(v, "reset"); ok {
			return parseReset(p, now)
		}
	}
	return time.Time{}, false
}

func parseReset(v string, now time.Time) (time.Time, bool) {
	f, err := parseNumber(v)
	if err != nil || f < 0 {
		if t, err := http.ParseTime(v); err == nil {
			return now.Add(clampWait(t.Sub(now))), true
		}
		return time.Time{}, false
	}
	// Every result is now + a wait in [0, MaxServerWait]: a huge, infinite
	// or NaN value (or a Unix time centuries away) must neither overflow
	// into the past nor leave the hold unset.
	switch {
	case math.IsNaN(f) || math.IsInf(f, 1):
		return now.Add(MaxServerWait), true
	case f > 1e12: // Unix milliseconds
		if f >= 1e15 {
			return now.Add(MaxServerWait), true
		}
		return now.Add(clampWait(time.UnixMilli(int64(f)).Sub(now))), true
	case f > 1e9: // Unix seconds
		return now.Add(clampWait(time.Unix(int64(f), 0).Sub(now))), true
	}
	return now.Add(scaleWait(f, time.Second)), true
}

func leadingInt(v string) (int64, bool) {
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(v[:i], 10, 64)
	return n, err == nil
}

// structuredParam finds key=value in a header such as
// `limit=100, remaining=0, reset=30` or `"default";r=0;t=30`.
func structuredParam(v, key string) (string, bool) {
	for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' }) {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && strings.EqualFold(k, key) {
			return strings.Trim(val, `"`), true
		}
	}
	return "", false
}

// wait blocks until the limiter admits one request: first until the hold
// ends, then for a bucket token. A wait longer than maxWait, or one that
// would outlive ctx's deadline, returns a *RetryLaterError without waiting.
func (l *Limiter) wait(ctx context.Context, clock Clock, maxWait time.Duration, obs observe.Observer, system string, op *Operation, method string, attempts int) error {
	now := clock.Now()
	var d time.Duration
	reason := "bucket"
	if h := l.hold.Load(); h > now.UnixNano() {
		d = time.Duration(h - now.UnixNano())
		reason = "reset"
	}
	// A request takes a token from every bucket (the limiter's own and
	// each declared window) and waits for the slowest.
	var held []*rate.Reservation
	at := now.Add(d)
	var extra time.Duration
	for _, b := range l.buckets() {
		if b.AllowN(at, 1) {
			continue
		}
		r := b.ReserveN(at, 1)
		if !r.OK() {
			cancelAll(held).CancelAt(now)
			return &Error{Kind: ErrRateLimited, OperationID: operationID(op), Method: method, Attempts: attempts,
				Err: constError("rate limiter cannot admit the request")}
		}
		held = append(held, r)
		extra = max(extra, r.DelayFrom(at))
	}
	d += extra
	res := cancelAll(held) // nil when no bucket had to reserve
	if d <= 0 {
		return nil
	}
	tooLong := d > maxWait
	if dl, ok := ctx.Deadline(); ok && !now.Add(d).Before(dl) {
		tooLong = true
	}
	if tooLong {
		if res != nil {
			res.CancelAt(now)
		}
		return &RetryLaterError{OperationID: operationID(op), Method: method, Attempts: attempts, RetryAt: now.Add(d), Wait: d}
	}
	if obs != nil {
		obs.ObserveRateLimitWait(observe.RateLimitWait{System: system, Operation: opLabel(op), Wait: d, Reason: reason})
	}
	if err := clock.Sleep(ctx, d); err != nil {
		if res != nil {
			res.CancelAt(clock.Now())
		}
		if ctx.Err() == context.DeadlineExceeded {
			return &Error{Kind: ErrTimeout, OperationID: operationID(op), Method: method, Attempts: attempts, Err: err}
		}
		return err
	}
	return nil
}

// buckets are the token buckets a request must pass.
func (l *Limiter) buckets() []*rate.Limiter {
	if l.bucket == nil {
		return l.windows
	}
	return append([]*rate.Limiter{l.bucket}, l.windows...)
}

// reservations cancels several bucket reservations together.
type reservations []*rate.Reservation

func cancelAll(rs []*rate.Reservation) reservations { return reservations(rs) }

// CancelAt returns the reserved tokens of every bucket.
func (rs reservations) CancelAt(t time.Time) {
	for _, r := range rs {
		r.CancelAt(t)
	}
}

// Limiters is a registry of Limiters keyed by a string, typically
// LimiterKey(system, credential), so that all clients using the same
// credential share one budget. The caller owns the registry (there is no
// global one). It is safe for concurrent use.
type Limiters struct {
	mu sync.Mutex
	m  map[string]*Limiter
}

// NewLimiters returns an empty registry.
func NewLimiters() *Limiters { return &Limiters{m: map[string]*Limiter{}} }

// Get returns the Limiter for key, creating it with cfg on first use (later
// calls with another cfg get the existing Limiter).
func (ls *Limiters) Get(key string, cfg RateLimitConfig) *Limiter {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.m == nil {
		ls.m = map[string]*Limiter{}
	}
	l := ls.m[key]
	if l == nil {
		l = NewLimiter(cfg)
		ls.m[key] = l
	}
	return l
}

// LimiterKey builds a registry key from a system name and a credential
// (an API key, client ID, ...) without embedding the credential: the
// credential is reduced to a short SHA-256 fingerprint.
func LimiterKey(system, credential string) string {
	sum := sha256.Sum256([]byte(credential))
	return system + "#" + hex.EncodeToString(sum[:8])
}

// RateLimit returns the rate-limit middleware: each call waits for
// cfg.SharedLimiter (or a Limiter made from cfg.RateLimit when none is
// shared) and the response's headers update it. Waits honour the context
// and RetryConfig.MaxWait (see Limiter).
func RateLimit(cfg Config) Middleware {
	cfg = cfg.withDefaults()
	l := cfg.SharedLimiter
	if l == nil {
		l = NewLimiter(cfg.RateLimit)
	}
	return func(next http.RoundTripper) http.RoundTripper {
		return &rateLimitRT{next: next, l: l, clock: cfg.Clock, maxWait: cfg.Retry.MaxWait, obs: cfg.Observer, system: cfg.System,
			update: !cfg.retryUpdatesLimiter}
	}
}

type rateLimitRT struct {
	next    http.RoundTripper
	l       *Limiter
	clock   Clock
	maxWait time.Duration
	obs     observe.Observer
	system  string
	update  bool
}

func (t *rateLimitRT) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.l.wait(req.Context(), t.clock, t.maxWait, t.obs, t.system, OperationFrom(req.Context()), req.Method, 0); err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	resp, err := t.next.RoundTrip(req)
	if t.update && resp != nil {
		t.l.Update(resp, t.clock.Now())
	}
	return resp, err
}
