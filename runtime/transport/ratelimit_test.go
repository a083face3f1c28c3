package transport

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestTokenBucketPacesRequests(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	clock := newFakeClock()
	rec := &recorder{}
	c := &http.Client{Transport: RateLimit(Config{System: "crm", Clock: clock, Observer: rec, RateLimit: RateLimitConfig{Rate: 2, Burst: 2}})(http.DefaultTransport)}
	for i := 0; i < 6; i++ {
		req, _ := newReq(t, context.Background(), getOp, srv.URL, "")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	// Burst of 2 passes at once; the next 4 wait 500 ms each.
	s := clock.Sleeps()
	if len(s) != 4 {
		t.Fatalf("sleeps %v", s)
	}
	for _, d := range s {
		if d != 500*time.Millisecond {
			t.Errorf("sleep %v", d)
		}
	}
	if len(rec.waits) != 4 || rec.waits[0].Reason != "bucket" || rec.waits[0].Operation != "getLead" {
		t.Errorf("waits %+v", rec.waits)
	}
}

func TestHeadersHoldRequestsUntilReset(t *testing.T) {
	for _, tc := range []struct {
		name  string
		hdr   func(now time.Time) map[string]string
		reset time.Duration
	}{
		{"ietf", func(time.Time) map[string]string {
			return map[string]string{"RateLimit-Remaining": "0", "RateLimit-Reset": "30"}
		}, 30 * time.Second},
		{"x-epoch", func(now time.Time) map[string]string {
			return map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(now.Add(45*time.Second).Unix(), 10)}
		}, 45 * time.Second},
		{"structured", func(time.Time) map[string]string {
			return map[string]string{"RateLimit": `"default";r=0;t=12`}
		}, 12 * time.Second},
		{"structured-old", func(time.Time) map[string]string {
			return map[string]string{"RateLimit": `limit=100, remaining=0, reset=8`}
		}, 8 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			var h hits
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if h.inc() == 1 {
					for k, v := range tc.hdr(clock.Now()) {
						w.Header().Set(k, v)
					}
				}
			}))
			defer srv.Close()
			lim := NewLimiter(RateLimitConfig{})
			rt := RateLimit(Config{Clock: clock, SharedLimiter: lim})(http.DefaultTransport)
			for i := 0; i < 2; i++ {
				req, _ := newReq(t, context.Background(), getOp, srv.URL, "")
				resp, err := rt.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			if s := clock.Sleeps(); len(s) != 1 || s[0] != tc.reset {
				t.Fatalf("sleeps %v, want [%v]", s, tc.reset)
			}
		})
	}
}

func TestRemainingAboveZeroDoesNotHold(t *testing.T) {
	l := NewLimiter(RateLimitConfig{})
	now := time.Now()
	l.Update(&http.Response{StatusCode: 200, Header: http.Header{"Ratelimit-Remaining": {"5"}, "Ratelimit-Reset": {"30"}}}, now)
	if !l.Held().IsZero() {
		t.Fatal("held with budget left")
	}
	l2 := NewLimiter(RateLimitConfig{IgnoreHeaders: true})
	l2.Update(&http.Response{StatusCode: 200, Header: http.Header{"Ratelimit-Remaining": {"0"}, "Ratelimit-Reset": {"30"}}}, now)
	if !l2.Held().IsZero() {
		t.Fatal("IgnoreHeaders limiter adapted")
	}
}

func TestLimitersShareBudget(t *testing.T) {
	ls := NewLimiters()
	k1 := LimiterKey("crm", "secret-api-key-1")
	k2 := LimiterKey("crm", "secret-api-key-2")
	if strings.Contains(k1, "secret") || k1 == k2 || k1 != LimiterKey("crm", "secret-api-key-1") {
		t.Fatalf("keys %q %q", k1, k2)
	}
	a := ls.Get(k1, RateLimitConfig{Rate: 1, Burst: 1})
	b := ls.Get(k1, RateLimitConfig{Rate: 100})
	if a != b || ls.Get(k2, RateLimitConfig{}) == a {
		t.Fatal("registry does not share per key")
	}
	// Two clients over one limiter: the second request of either waits.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	clock := newFakeClock()
	c1 := RateLimit(Config{Clock: clock, SharedLimiter: a})(http.DefaultTransport)
	c2 := RateLimit(Config{Clock: clock, SharedLimiter: b})(http.DefaultTransport)
	for _, rt := range []http.RoundTripper{c1, c2} {
		req, _ := newReq(t, context.Background(), getOp, srv.URL, "")
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if s := clock.Sleeps(); len(s) != 1 || s[0] != time.Second {
		t.Fatalf("sleeps %v", s)
	}
}

func TestLimiterWaitBeyondMaxWaitIsRetryLater(t *testing.T) {
	clock := newFakeClock()
	l := NewLimiter(RateLimitConfig{})
	l.HoldUntil(clock.Now().Add(time.Hour))
	var h hits
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.inc() }))
	defer srv.Close()
	rt := RateLimit(Config{Clock: clock, SharedLimiter: l, Retry: RetryConfig{MaxWait: time.Minute}})(http.DefaultTransport)
	req, _ := newReq(t, context.Background(), getOp, srv.URL, "")
	_, err := rt.RoundTrip(req)
	var rl *RetryLaterError
	if !errors.As(err, &rl) || !errors.Is(err, ErrRateLimited) || !rl.RetryAt.Equal(clock.Now().Add(time.Hour)) || rl.Status != 0 {
		t.Fatalf("err %v", err)
	}
	if h.get() != 0 || len(clock.Sleeps()) != 0 {
		t.Fatal("request sent or slept")
	}
	// A deadline shorter than the hold also fails fast.
	l2 := NewLimiter(RateLimitConfig{})
	l2.HoldUntil(time.Now().Add(10 * time.Second))
	rt2 := RateLimit(Config{SharedLimiter: l2})(http.DefaultTransport)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req2, _ := newReq(t, ctx, getOp, srv.URL, "")
	start := time.Now()
	if _, err := rt2.RoundTrip(req2); !errors.Is(err, ErrRateLimited) || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
}

func TestLimiterWaitCanceled(t *testing.T) {
	l := NewLimiter(RateLimitConfig{})
	l.HoldUntil(time.Now().Add(20 * time.Second))
	rt := RateLimit(Config{SharedLimiter: l})(http.DefaultTransport)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := newReq(t, ctx, getOp, "http://127.0.0.1:1/", "")
	var at time.Time
	go func() {
		time.Sleep(100 * time.Millisecond)
		at = time.Now()
		cancel()
	}()
	_, err := rt.RoundTrip(req)
	if !errors.Is(err, context.Canceled) || time.Since(at) > 50*time.Millisecond {
		t.Fatalf("err %v, returned %v after cancel", err, time.Since(at))
	}
}

func TestLimiterConcurrentUse(t *testing.T) {
	l := NewLimiter(RateLimitConfig{Rate: 1e6, Burst: 10})
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				_ = l.wait(context.Background(), SystemClock{}, time.Minute, nil, "", nil, "GET", 0)
				l.Update(&http.Response{StatusCode: 200, Header: http.Header{"Ratelimit-Remaining": {"3"}}}, time.Now())
				l.HoldUntil(time.Now().Add(-time.Second))
			}
		}()
	}
	wg.Wait()
}

// TestLimiterWindows: a request must fit every declared window; the
// tightest one paces (100 per 10 s with burst 2 allows 2 at once, then one
// every 100 ms), and a looser one adds nothing.
func TestLimiterWindows(t *testing.T) {
	l := NewLimiter(RateLimitConfig{IgnoreHeaders: true, Windows: []Window{
		{Requests: 100, Per: 10 * time.Second, Burst: 2},
		{Requests: 250000, Per: 24 * time.Hour},
	}})
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := &windowClock{now: start}
	for i := 0; i < 4; i++ {
		if err := l.wait(context.Background(), clock, time.Minute, nil, "sys", nil, "GET", 1); err != nil {
			t.Fatal(err)
		}
	}
	// Two tokens at once, then two more at 10 per second: 200 ms.
	if got := clock.now.Sub(start); got < 190*time.Millisecond || got > 210*time.Millisecond {
		t.Errorf("4 requests took %s of simulated time, want about 200ms", got)
	}
	tight := NewLimiter(RateLimitConfig{IgnoreHeaders: true, Windows: []Window{{Requests: 1, Per: time.Hour, Burst: 1}}})
	if err := tight.wait(context.Background(), clock, time.Minute, nil, "sys", nil, "GET", 1); err != nil {
		t.Fatal(err)
	}
	var rl *RetryLaterError
	if err := tight.wait(context.Background(), clock, time.Minute, nil, "sys", nil, "GET", 1); !errors.As(err, &rl) || rl.Wait < 59*time.Minute {
		t.Errorf("second request in an hourly window of 1: %v, want retry later in about an hour", err)
	}
}

// windowClock is a simulated clock whose Sleep advances it.
type windowClock struct{ now time.Time }

func (c *windowClock) Now() time.Time { return c.now }

func (c *windowClock) Sleep(_ context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	return nil
}
