package transport

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/runtime/observe"
)

// fakeClock advances only when something sleeps on it.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// recorder is an observe.Observer that keeps every event.
type recorder struct {
	mu       sync.Mutex
	requests []observe.Request
	calls    []observe.Call
	retries  []observe.Retry
	waits    []observe.RateLimitWait
	breakers []observe.BreakerChange
}

func (r *recorder) ObserveRequest(e observe.Request) {
	r.mu.Lock()
	r.requests = append(r.requests, e)
	r.mu.Unlock()
}
func (r *recorder) ObserveCall(e observe.Call) {
	r.mu.Lock()
	r.calls = append(r.calls, e)
	r.mu.Unlock()
}
func (r *recorder) ObserveRetry(e observe.Retry) {
	r.mu.Lock()
	r.retries = append(r.retries, e)
	r.mu.Unlock()
}
func (r *recorder) ObserveRateLimitWait(e observe.RateLimitWait) {
	r.mu.Lock()
	r.waits = append(r.waits, e)
	r.mu.Unlock()
}
func (r *recorder) ObserveBreaker(e observe.BreakerChange) {
	r.mu.Lock()
	r.breakers = append(r.breakers, e)
	r.mu.Unlock()
}
func (r *recorder) ObserveTokenRefresh(observe.TokenRefresh) {}

// constRand returns v for every jitter draw.
func constRand(v float64) func() float64 { return func() float64 { return v } }

// hits counts server hits.
type hits struct{ n atomic.Int64 }

func (h *hits) inc() int { return int(h.n.Add(1)) }
func (h *hits) get() int { return int(h.n.Load()) }

var getOp = &Operation{ID: "getLead", Method: "GET", Idempotent: true}
var postOp = &Operation{ID: "createLead", Method: "POST"}

// newReq builds a request carrying op and a fresh CallInfo.
func newReq(t testing.TB, ctx context.Context, op *Operation, url, body string) (*http.Request, *CallInfo) {
	t.Helper()
	info := &CallInfo{}
	ctx = WithCallInfo(WithOperation(ctx, op), info)
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	method := http.MethodGet
	if op != nil {
		method = op.Method
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	return req, info
}

func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// closeTracker wraps a RoundTripper and counts response bodies closed.
type closeTracker struct {
	next   http.RoundTripper
	opened atomic.Int64
	closed atomic.Int64
}

func (c *closeTracker) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if resp != nil {
		c.opened.Add(1)
		resp.Body = &trackedBody{ReadCloser: resp.Body, c: c}
	}
	return resp, err
}

type trackedBody struct {
	io.ReadCloser
	c    *closeTracker
	once sync.Once
}

func (b *trackedBody) Close() error {
	b.once.Do(func() { b.c.closed.Add(1) })
	return b.ReadCloser.Close()
}
