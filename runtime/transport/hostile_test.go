package transport

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestHugeOrGarbageRetryAfterIsCapped: a server asking for an absurd wait
// (overflowing float to Duration conversions) must not produce a negative
// wait (an immediate retry storm) nor an unset rate-limit hold: the wait is
// clamped to MaxServerWait and the call ends with a *RetryLaterError.
func TestHugeOrGarbageRetryAfterIsCapped(t *testing.T) {
	cases := []struct{ header, value string }{
		{"Retry-After", "10000000000"},
		{"Retry-After", "1e12"},
		{"Retry-After", "Inf"},
		{"Retry-After", "+Inf"},
		{"Retry-After", "NaN"},
		{"Retry-After", "1e300"},
		{"Retry-After-Ms", "1e13"},
		{"Retry-After-Ms", "1e300"},
		{"Retry-After-Ms", "NaN"},
		{"Ratelimit-Reset", "1e12"},
		{"Ratelimit-Reset", "10000000000"},
		{"Ratelimit-Reset", "1e300"},
		{"Ratelimit-Reset", "Inf"},
		{"Ratelimit-Reset", "NaN"},
		{"X-Ratelimit-Reset", "1e19"},
	}
	for _, tc := range cases {
		t.Run(tc.header+"="+tc.value, func(t *testing.T) {
			var h hits
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				h.inc()
				w.Header().Set(tc.header, tc.value)
				w.WriteHeader(http.StatusTooManyRequests)
			}))
			defer srv.Close()
			clock := newFakeClock()
			l := NewLimiter(RateLimitConfig{})
			c := retryClient(Config{Clock: clock, SharedLimiter: l, Retry: RetryConfig{MaxWait: time.Minute}}, nil)
			req, _ := newReq(t, context.Background(), getOp, srv.URL, "")
			_, err := c.Do(req)
			var rl *RetryLaterError
			if !errors.As(err, &rl) || !errors.Is(err, ErrRateLimited) {
				t.Fatalf("err = %v, want a *RetryLaterError", err)
			}
			if rl.Wait != MaxServerWait || !rl.RetryAt.Equal(clock.Now().Add(MaxServerWait)) {
				t.Errorf("wait %v retry at %v, want the cap %v", rl.Wait, rl.RetryAt, MaxServerWait)
			}
			for _, s := range clock.Sleeps() {
				if s < 0 {
					t.Errorf("negative sleep %v", s)
				}
			}
			if len(clock.Sleeps()) != 0 || h.get() != 1 {
				t.Errorf("slept %v, hits %d: the client retried at once", clock.Sleeps(), h.get())
			}
			if held := l.Held(); !held.Equal(clock.Now().Add(MaxServerWait)) {
				t.Errorf("limiter held until %v, want %v", held, clock.Now().Add(MaxServerWait))
			}
		})
	}
}

// TestServerWaitNeverNegative checks the parsers directly over hostile
// values: every wait is within [0, MaxServerWait].
func TestServerWaitNeverNegative(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, v := range []string{"-1", "-Inf", "Inf", "NaN", "1e12", "1e13", "9223372036854775807", "1e19", "0", "0.5", "-1e300", "1e-300"} {
		for _, hdr := range []string{"Retry-After", "Retry-After-Ms", "Ratelimit-Reset", "X-Ratelimit-Reset"} {
			resp := &http.Response{StatusCode: 429, Header: http.Header{hdr: {v}}}
			d, ok := serverWait(resp, now)
			if ok && (d < 0 || d > MaxServerWait) {
				t.Errorf("%s: %s → %v", hdr, v, d)
			}
		}
	}
}
