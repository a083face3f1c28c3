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

func retryClient(cfg Config, base http.RoundTripper) *http.Client {
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	return &http.Client{Transport: Retry(cfg)(base)}
}

func TestRetryBurstOf503ThenSuccess(t *testing.T) {
	var h hits
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.inc() <= 3 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	clock := newFakeClock()
	rec := &recorder{}
	tracker := &closeTracker{next: http.DefaultTransport.(*http.Transport).Clone()}
	c := retryClient(Config{System: "crm", Clock: clock, Observer: rec, Retry: RetryConfig{MaxAttempts: 5, Rand: constRand(0.999999)}}, tracker)
	req, info := newReq(t, context.Background(), getOp, srv.URL, "")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); body != "ok" {
		t.Fatalf("body %q", body)
	}
	if h.get() != 4 || info.Attempts != 4 {
		t.Fatalf("server hits %d, attempts %d", h.get(), info.Attempts)
	}
	// Full-jitter caps 1s, 2s, 4s with a draw just under 1.
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}
	got := clock.Sleeps()
	if len(got) != len(want) {
		t.Fatalf("sleeps %v", got)
	}
	for i := range want {
		if d := want[i] - got[i]; d < 0 || d > time.Millisecond {
			t.Errorf("sleep %d = %v, want ~%v", i, got[i], want[i])
		}
	}
	if tracker.opened.Load() != 4 || tracker.closed.Load() != 4 {
		t.Errorf("bodies opened %d closed %d", tracker.opened.Load(), tracker.closed.Load())
	}
	if len(rec.retries) != 3 || rec.retries[0].Reason != "503" || rec.retries[2].Attempt != 4 {
		t.Errorf("retries %+v", rec.retries)
	}
	if len(rec.calls) != 1 || rec.calls[0].Attempts != 4 || rec.calls[0].Status != 200 {
		t.Errorf("calls %+v", rec.calls)
	}
}

func TestBackoffCapAndJitter(t *testing.T) {
	r := &retryRT{cfg: RetryConfig{BaseDelay: time.Second, MaxDelay: 5 * time.Second, Rand: constRand(0.5)}.withDefaults()}
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 2500 * time.Millisecond, 2500 * time.Millisecond}
	for i, w := range want {
		if got := r.backoff(i + 1); got != w {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	r.cfg.Rand = constRand(0)
	if got := r.backoff(3); got != 0 {
		t.Errorf("full jitter lower bound = %v", got)
	}
}

func TestRetryExhaustedReturnsLastResponse(t *testing.T) {
	var h hits
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.inc()
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("last"))
	}))
	defer srv.Close()
	c := retryClient(Config{Clock: newFakeClock(), Retry: RetryConfig{MaxAttempts: 3}}, nil)
	req, info := newReq(t, context.Background(), getOp, srv.URL, "")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusBadGateway || readAll(t, resp) != "last" || h.get() != 3 || info.Attempts != 3 {
		t.Fatalf("status %d hits %d attempts %d", resp.StatusCode, h.get(), info.Attempts)
	}
}

func TestRetryNotOnClientErrors(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 409, 422, 501} {
		var h hits
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.inc()
			w.WriteHeader(status)
		}))
		c := retryClient(Config{Clock: newFakeClock()}, nil)
		req, _ := newReq(t, context.Background(), getOp, srv.URL, "")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if h.get() != 1 {
			t.Errorf("status %d retried (%d hits)", status, h.get())
		}
		srv.Close()
	}
}

func TestRetryAfterVariants(t *testing.T) {
	clockStart := newFakeClock().Now()
	cases := []struct {
		name   string
		status int
		header map[string]string
		want   time.Duration
	}{
		{"seconds", 429, map[string]string{"Retry-After": "7"}, 7 * time.Second},
		{"http-date", 503, map[string]string{"Retry-After": clockStart.Add(42 * time.Second).Format(http.TimeFormat)}, 42 * time.Second},
		{"ms", 429, map[string]string{"Retry-After-Ms": "1500"}, 1500 * time.Millisecond},
		{"ms wins", 429, map[string]string{"Retry-After-Ms": "250", "Retry-After": "9"}, 250 * time.Millisecond},
		{"ratelimit-reset", 429, map[string]string{"RateLimit-Reset": "12"}, 12 * time.Second},
		{"x-ratelimit-reset epoch", 429, map[string]string{"X-RateLimit-Reset": strconv.FormatInt(clockStart.Add(20*time.Second).Unix(), 10)}, 20 * time.Second},
		{"past date", 503, map[string]string{"Retry-After": clockStart.Add(-time.Hour).Format(http.TimeFormat)}, 0},
		{"garbage falls back to backoff", 503, map[string]string{"Retry-After": "soon"}, 500 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var h hits
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if h.inc() == 1 {
					for k, v := range tc.header {
						w.Header().Set(k, v)
					}
					w.WriteHeader(tc.status)
					return
				}
			}))
			defer srv.Close()
			clock := newFakeClock()
			c := retryClient(Config{Clock: clock, Retry: RetryConfig{Rand: constRand(0.5)}}, nil)
			req, _ := newReq(t, context.Background(), getOp, srv.URL, "")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			s := clock.Sleeps()
			if len(s) != 1 || s[0] != tc.want {
				t.Fatalf("sleeps %v, want [%v]", s, tc.want)
			}
		})
	}
}

// TestRetryAfterRealTime checks a real wait against the server's clock.
func TestRetryAfterRealTime(t *testing.T) {
	var mu sync.Mutex
	var times []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		n := len(times)
		mu.Unlock()
		switch n {
		case 1:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		case 2:
			w.Header().Set("Retry-After-Ms", "600")
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	c := retryClient(Config{}, nil)
	req, info := newReq(t, context.Background(), getOp, srv.URL, "")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if info.Attempts != 3 || len(times) != 3 {
		t.Fatalf("attempts %d", info.Attempts)
	}
	for i, want := range []time.Duration{time.Second, 600 * time.Millisecond} {
		got := times[i+1].Sub(times[i])
		if got < want*9/10 || got > want*11/10 {
			t.Errorf("wait %d = %v, want %v ±10%%", i, got, want)
		}
	}
}

func TestRetryAfterBeyondMaxWaitIsRetryLater(t *testing.T) {
	var h hits
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.inc()
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	clock := newFakeClock()
	c := retryClient(Config{Clock: clock, Retry: RetryConfig{MaxWait: time.Minute}}, nil)
	req, _ := newReq(t, context.Background(), getOp, srv.URL, "")
	_, err := c.Do(req)
	var rl *RetryLaterError
	if !errors.As(err, &rl) || !errors.Is(err, ErrRateLimited) {
		t.Fatalf("err = %v", err)
	}
	if !rl.RetryAt.Equal(clock.Now().Add(time.Hour)) || rl.Status != 429 || rl.OperationID != "getLead" || rl.Attempts != 1 {
		t.Errorf("retry-later = %+v", rl)
	}
	if at, ok := RetryAt(err); !ok || !at.Equal(rl.RetryAt) {
		t.Errorf("RetryAt() = %v %v", at, ok)
	}
	if len(clock.Sleeps()) != 0 || h.get() != 1 {
		t.Errorf("slept %v, hits %d", clock.Sleeps(), h.get())
	}
}

func TestPostWithoutIdempotencyKeyNeverSentTwice(t *testing.T) {
	for _, mode := range []string{"503", "429", "reset", "timeout"} {
		t.Run(mode, func(t *testing.T) {
			var h hits
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				h.inc()
				switch mode {
				case "503":
					w.WriteHeader(503)
				case "429":
					w.Header().Set("Retry-After", "1")
					w.WriteHeader(429)
				case "reset":
					hijackClose(w)
				case "timeout":
					select {
					case <-r.Context().Done():
					case <-time.After(2 * time.Second):
					}
				}
			}))
			defer srv.Close()
			c := retryClient(Config{Clock: newFakeClock(), Retry: RetryConfig{AttemptTimeout: 100 * time.Millisecond}}, nil)
			req, info := newReq(t, context.Background(), postOp, srv.URL, `{"name":"x"}`)
			resp, err := c.Do(req)
			if resp != nil {
				resp.Body.Close()
			}
			if mode == "reset" || mode == "timeout" {
				if err == nil {
					t.Fatal("expected an error")
				}
				var te *Error
				if !errors.As(err, &te) || te.OperationID != "createLead" || te.Method != "POST" || te.Attempts != 1 {
					t.Errorf("error %#v", err)
				}
				wantKind := ErrNetwork
				if mode == "timeout" {
					wantKind = ErrTimeout
				}
				if !errors.Is(err, wantKind) {
					t.Errorf("kind of %v is not %v", err, wantKind)
				}
			}
			if h.get() != 1 || info.Attempts != 1 {
				t.Fatalf("POST sent %d times", h.get())
			}
		})
	}
}

func TestPostWithIdempotencyKeyRetriedWithSameKey(t *testing.T) {
	for _, tc := range []struct {
		name   string
		op     *Operation
		header string
	}{
		{"default header", postOp, "Idempotency-Key"},
		{"operation header", &Operation{ID: "createOrder", Method: "POST", IdempotencyKeyHeader: "X-Request-Id"}, "X-Request-Id"},
		{"idempotent operation", &Operation{ID: "search", Method: "POST", Idempotent: true}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var keys, bodies []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b := make([]byte, 64)
				n, _ := r.Body.Read(b)
				mu.Lock()
				defer mu.Unlock()
				keys = append(keys, r.Header.Get(tc.header))
				bodies = append(bodies, string(b[:n]))
				switch len(keys) {
				case 1:
					w.WriteHeader(503)
				case 2:
					hijackClose(w)
				}
			}))
			defer srv.Close()
			// Without keep-alives net/http itself never replays the request
			// (it does on reused connections when an Idempotency-Key is set),
			// so the server counts exactly our attempts.
			base := http.DefaultTransport.(*http.Transport).Clone()
			base.DisableKeepAlives = true
			c := retryClient(Config{Clock: newFakeClock()}, base)
			req, info := newReq(t, context.Background(), tc.op, srv.URL, `{"name":"x"}`)
			if tc.header != "" {
				req.Header.Set(tc.header, "key-123")
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if len(keys) != 3 || info.Attempts != 3 {
				t.Fatalf("hits %d attempts %d", len(keys), info.Attempts)
			}
			for i := range keys {
				if tc.header != "" && keys[i] != "key-123" {
					t.Errorf("attempt %d key %q", i, keys[i])
				}
				if bodies[i] != `{"name":"x"}` {
					t.Errorf("attempt %d body %q", i, bodies[i])
				}
			}
		})
	}
}

func TestNonReplayableBodyNotRetried(t *testing.T) {
	var h hits
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.inc()
		w.WriteHeader(503)
	}))
	defer srv.Close()
	c := retryClient(Config{Clock: newFakeClock()}, nil)
	op := &Operation{ID: "put", Method: "PUT", Idempotent: true}
	req, _ := newReq(t, context.Background(), op, srv.URL, "")
	req.Body = &oneShot{r: strings.NewReader("data")}
	req.ContentLength = 4
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if h.get() != 1 {
		t.Fatalf("non-replayable body sent %d times", h.get())
	}
}

type oneShot struct{ r *strings.Reader }

func (o *oneShot) Read(p []byte) (int, error) { return o.r.Read(p) }
func (o *oneShot) Close() error               { return nil }

func TestConnectionResetsRetried(t *testing.T) {
	var h hits
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.inc() <= 2 {
			hijackClose(w)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	rec := &recorder{}
	c := retryClient(Config{Clock: newFakeClock(), Observer: rec}, nil)
	req, info := newReq(t, context.Background(), getOp, srv.URL, "")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if readAll(t, resp) != "ok" || info.Attempts != 3 {
		t.Fatalf("attempts %d", info.Attempts)
	}
	if rec.retries[0].Reason != "network" {
		t.Errorf("reason %q", rec.retries[0].Reason)
	}
}

func TestConnectionRefusedRetriedEvenForPost(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	url := srv.URL
	srv.Close() // nothing listens any more
	clock := newFakeClock()
	c := retryClient(Config{Clock: clock, Retry: RetryConfig{MaxAttempts: 3}}, nil)
	req, info := newReq(t, context.Background(), postOp, url, `{}`)
	_, err := c.Do(req)
	if !errors.Is(err, ErrNetwork) || info.Attempts != 3 {
		t.Fatalf("err %v attempts %d", err, info.Attempts)
	}
	if strings.Contains(err.Error(), "attempts") == false {
		t.Errorf("error lacks attempt count: %v", err)
	}
}

func TestAttemptTimeoutRetried(t *testing.T) {
	var h hits
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.inc() == 1 {
			select {
			case <-r.Context().Done():
			case <-time.After(3 * time.Second):
			}
			return
		}
		_, _ = w.Write([]byte("fast"))
	}))
	defer srv.Close()
	rec := &recorder{}
	c := retryClient(Config{Clock: newFakeClock(), Observer: rec, Retry: RetryConfig{AttemptTimeout: 150 * time.Millisecond}}, nil)
	req, info := newReq(t, context.Background(), getOp, srv.URL, "")
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if readAll(t, resp) != "fast" || info.Attempts != 2 || rec.retries[0].Reason != "timeout" {
		t.Fatalf("attempts %d retries %+v", info.Attempts, rec.retries)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("took %v", el)
	}
}

func TestAttemptTimeoutDoesNotCoverBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		time.Sleep(300 * time.Millisecond)
		_, _ = w.Write([]byte("slow body"))
	}))
	defer srv.Close()
	c := retryClient(Config{Retry: RetryConfig{AttemptTimeout: 100 * time.Millisecond}}, nil)
	req, _ := newReq(t, context.Background(), getOp, srv.URL, "")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if b := readAll(t, resp); b != "slow body" {
		t.Fatalf("body %q", b)
	}
}

func TestContextCancelStopsWaitAtOnce(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(503)
	}))
	defer srv.Close()
	c := retryClient(Config{}, nil) // real clock
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := newReq(t, ctx, getOp, srv.URL, "")
	var canceledAt time.Time
	go func() {
		time.Sleep(150 * time.Millisecond)
		canceledAt = time.Now()
		cancel()
	}()
	_, err := c.Do(req)
	returned := time.Now()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if d := returned.Sub(canceledAt); d > 50*time.Millisecond {
		t.Fatalf("returned %v after cancel", d)
	}
}

func TestNoWaitBeyondDeadline(t *testing.T) {
	var h hits
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.inc()
		w.Header().Set("Retry-After", "5")
		w.WriteHeader(503)
	}))
	defer srv.Close()
	c := retryClient(Config{}, nil) // real clock: the deadline is real
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := newReq(t, ctx, getOp, srv.URL, "")
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || h.get() != 1 || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("status %d hits %d after %v", resp.StatusCode, h.get(), time.Since(start))
	}
}

func TestCallerDeadlineIsTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	c := retryClient(Config{}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := newReq(t, ctx, getOp, srv.URL, "")
	_, err := c.Do(req)
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

func TestRetryAttachesCallInfoWhenMissing(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	c := retryClient(Config{}, nil)
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func TestRetryDisabled(t *testing.T) {
	var h hits
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.inc()
		w.WriteHeader(503)
	}))
	defer srv.Close()
	c := retryClient(Config{Retry: RetryConfig{Disabled: true}}, nil)
	req, _ := newReq(t, context.Background(), getOp, srv.URL, "")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if h.get() != 1 {
		t.Fatalf("hits %d", h.get())
	}
}

func TestCustomRetryStatus(t *testing.T) {
	var h hits
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.inc() == 1 {
			w.WriteHeader(409)
		}
	}))
	defer srv.Close()
	c := retryClient(Config{Clock: newFakeClock(), Retry: RetryConfig{RetryStatus: func(s int) bool { return s == 409 }}}, nil)
	req, _ := newReq(t, context.Background(), getOp, srv.URL, "")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if h.get() != 2 || resp.StatusCode != 200 {
		t.Fatalf("hits %d status %d", h.get(), resp.StatusCode)
	}
}

// hijackClose drops the connection without a response.
func hijackClose(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	_ = conn.Close()
}

func TestCallerDeclaredIdempotentPatchIsRetried(t *testing.T) {
	patchOp := &Operation{ID: "updateLead", Method: "PATCH"}
	for _, declared := range []bool{false, true} {
		var h hits
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if h.inc() == 1 {
				w.WriteHeader(503)
				return
			}
			w.WriteHeader(200)
		}))
		ctx := context.Background()
		if declared {
			ctx = WithIdempotent(ctx)
		}
		c := retryClient(Config{Clock: newFakeClock()}, nil)
		req, _ := newReq(t, ctx, patchOp, srv.URL, `{"name":"x"}`)
		req.Method = "PATCH"
		resp, err := c.Do(req)
		if resp != nil {
			resp.Body.Close()
		}
		srv.Close()
		want := 1
		if declared {
			want = 2
		}
		if h.get() != want {
			t.Errorf("declared=%v: sent %d times, want %d (err %v)", declared, h.get(), want, err)
		}
	}
}
