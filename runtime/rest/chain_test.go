package rest

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/runtime/auth"
	"github.com/connectorgen/connectorgen/runtime/observe"
	"github.com/connectorgen/connectorgen/runtime/secret"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

var securedOp = &Operation{ID: "getSecured", Method: "GET", Idempotent: true,
	Security: []SecurityRequirement{{"bearer"}}}

var createOp = &Operation{ID: "create", Method: "POST"}

// fastRetry retries quickly so tests stay short.
var fastRetry = transport.RetryConfig{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}

// recObserver records the systems and events it is told about.
type recObserver struct {
	observe.Nop
	mu       sync.Mutex
	systems  map[string]int
	retries  int
	breakers []observe.BreakerChange
}

func (o *recObserver) ObserveRequest(e observe.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.systems == nil {
		o.systems = map[string]int{}
	}
	o.systems[e.System]++
}

func (o *recObserver) ObserveRetry(observe.Retry) {
	o.mu.Lock()
	o.retries++
	o.mu.Unlock()
}

func (o *recObserver) ObserveBreaker(e observe.BreakerChange) {
	o.mu.Lock()
	o.breakers = append(o.breakers, e)
	o.mu.Unlock()
}

func (o *recObserver) count(system string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.systems[system]
}

func (s *seen) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// flaky answers status to the first n requests, then 200 {}.
func flaky(n int, status int, hits *atomic.Int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) <= int64(n) {
			w.WriteHeader(status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{}`))
	}
}

func TestDefaultChainRetriesIdempotentRequests(t *testing.T) {
	var hits atomic.Int64
	srv, _ := newServer(t, flaky(2, 503, &hits))
	c := newClient(t, srv.URL, WithRetry(fastRetry))
	resp := send(t, c, c.NewRequest(context.Background(), getLead))
	if resp.StatusCode != 200 || hits.Load() != 3 {
		t.Fatalf("status %d after %d hits", resp.StatusCode, hits.Load())
	}
}

func TestDefaultsWithoutOptions(t *testing.T) {
	// No retry option at all: the chain's defaults retry (with 1 s base
	// backoff drawn with full jitter, so this may take up to a second).
	var hits atomic.Int64
	srv, _ := newServer(t, flaky(1, 502, &hits))
	c := newClient(t, srv.URL)
	if resp := send(t, c, c.NewRequest(context.Background(), getLead)); resp.StatusCode != 200 || hits.Load() != 2 {
		t.Fatalf("default client: status %d after %d hits", resp.StatusCode, hits.Load())
	}
}

func TestErrorAttemptsReflectRetries(t *testing.T) {
	var hits atomic.Int64
	srv, _ := newServer(t, flaky(100, 503, &hits))
	c := newClient(t, srv.URL, WithRetry(fastRetry), WithBreaker(transport.BreakerConfig{Disabled: true}))
	r := c.NewRequest(context.Background(), getLead)
	resp, err := c.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	err = c.NewError(r, resp, nil)
	var e *Error
	if !errors.As(err, &e) || e.Attempts != 3 || hits.Load() != 3 || !errors.Is(err, transport.ErrServer) {
		t.Fatalf("attempts %d hits %d: %v", e.Attempts, hits.Load(), err)
	}

	hits.Store(0)
	c = newClient(t, srv.URL, WithoutRetries())
	r = c.NewRequest(context.Background(), getLead)
	resp, err = c.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.NewError(r, resp, nil); !errors.As(err, &e) || e.Attempts != 1 || hits.Load() != 1 {
		t.Fatalf("WithoutRetries: attempts %d hits %d", e.Attempts, hits.Load())
	}
	// A later WithRetry overrides WithoutRetries.
	hits.Store(0)
	c = newClient(t, srv.URL, WithoutRetries(), WithRetry(fastRetry))
	r = c.NewRequest(context.Background(), getLead)
	resp, _ = c.Do(r)
	if err := c.NewError(r, resp, nil); !errors.As(err, &e) || e.Attempts != 3 {
		t.Fatalf("later WithRetry: attempts %d", e.Attempts)
	}
}

func TestPostWithoutIdempotencyKeyIsNotRetried(t *testing.T) {
	var hits atomic.Int64
	srv, _ := newServer(t, flaky(1, 503, &hits))
	c := newClient(t, srv.URL, WithRetry(fastRetry))
	r := c.NewRequest(context.Background(), createOp)
	r.SetJSONBody("application/json", map[string]int{"a": 1})
	if resp := send(t, c, r); resp.StatusCode != 503 || hits.Load() != 1 {
		t.Fatalf("status %d hits %d", resp.StatusCode, hits.Load())
	}
	hits.Store(0)
	r = c.NewRequest(context.Background(), createOp)
	r.SetHeader("Idempotency-Key", false, Scalar("k1"))
	r.SetJSONBody("application/json", map[string]int{"a": 1})
	if resp := send(t, c, r); resp.StatusCode != 200 || hits.Load() != 2 {
		t.Fatalf("with key: status %d hits %d", resp.StatusCode, hits.Load())
	}
}

func TestWithCredential(t *testing.T) {
	srv, s := newServer(t, nil)
	c := newClient(t, srv.URL+"/v1",
		WithCredential("bearer", auth.Bearer(secret.New("first"))),
		WithCredential("bearer", auth.Bearer(secret.New("second"))))
	send(t, c, c.NewRequest(context.Background(), securedOp))
	if req, _ := s.last(t); req.Header.Get("Authorization") != "Bearer second" {
		t.Fatalf("Authorization %q", req.Header.Get("Authorization"))
	}
	// An operation whose scheme has no credential is refused before sending.
	s.mu.Lock()
	n := len(s.reqs)
	s.mu.Unlock()
	other := &Operation{ID: "needsKey", Method: "GET", Security: []SecurityRequirement{{"apiKey"}}}
	_, err := c.Do(c.NewRequest(context.Background(), other))
	var missing *auth.MissingCredentialsError
	var se *SendError
	if !errors.Is(err, transport.ErrAuth) || !errors.As(err, &missing) || !errors.As(err, &se) || se.Attempts != 0 || s.count() != n {
		t.Fatalf("missing credentials: %v", err)
	}
	// Without any credential, no auth middleware: anonymous requests.
	c = newClient(t, srv.URL)
	send(t, c, c.NewRequest(context.Background(), securedOp))
	if req, _ := s.last(t); req.Header.Get("Authorization") != "" {
		t.Fatal("unexpected credentials")
	}
}

func TestWithAuth(t *testing.T) {
	srv, s := newServer(t, nil)
	set, err := auth.NewSet(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	set.Add("bearer", auth.Bearer(secret.New("from-set")))
	c := newClient(t, srv.URL+"/api", WithAuth(set))
	send(t, c, c.NewRequest(context.Background(), securedOp))
	if req, _ := s.last(t); req.Header.Get("Authorization") != "Bearer from-set" {
		t.Fatalf("WithAuth: %q", req.Header.Get("Authorization"))
	}
	// WithCredential on top: added to a copy, the caller's set is unchanged.
	both := &Operation{ID: "both", Method: "GET", Security: []SecurityRequirement{{"bearer", "apiKey"}}}
	c = newClient(t, srv.URL, WithAuth(set), WithCredential("apiKey", auth.APIKeyHeader("X-Key", secret.New("k"))))
	send(t, c, c.NewRequest(context.Background(), both))
	if req, _ := s.last(t); req.Header.Get("Authorization") != "Bearer from-set" || req.Header.Get("X-Key") != "k" {
		t.Fatalf("WithAuth + WithCredential: %v", req.Header)
	}
	if set.Has("apiKey") {
		t.Fatal("WithCredential modified the caller's Set")
	}
	// A set for another origin is refused: it would never send anything.
	otherSet, _ := auth.NewSet("https://elsewhere.example")
	if _, err := New(srv.URL, WithAuth(otherSet)); err == nil || !strings.Contains(err.Error(), "never be sent") {
		t.Fatalf("origin mismatch: %v", err)
	}
}

func TestCredentialOptionErrors(t *testing.T) {
	bad := map[string]Option{
		"empty scheme":   WithCredential("", auth.Bearer(secret.New("x"))),
		"nil credential": WithCredential("a", nil),
		"nil set":        WithAuth(nil),
		"nil limiter":    WithSharedLimiter(nil),
		"nil breaker":    WithSharedBreaker(nil),
		"empty system":   WithSystem(""),
		"nil clock":      WithClock(nil),
	}
	for name, o := range bad {
		if _, err := New("https://api.example.com", o); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	// Plain http to a non-loopback host: refused, with credentials too,
	// unless WithInsecureHTTP.
	cred := WithCredential("bearer", auth.Bearer(secret.New("x")))
	if _, err := New("http://10.1.2.3", cred); err == nil {
		t.Error("plain http accepted")
	}
	if _, err := New("http://10.1.2.3", cred, WithInsecureHTTP()); err != nil {
		t.Errorf("WithInsecureHTTP with a credential: %v", err)
	}
}

func TestWithSystemAndObserver(t *testing.T) {
	srv, _ := newServer(t, nil)
	obs := &recObserver{}
	c := newClient(t, srv.URL, WithSystem("generated"), WithObserver(obs), WithSystem("mine"))
	send(t, c, c.NewRequest(context.Background(), getLead))
	if obs.count("mine") != 1 || obs.count("generated") != 0 {
		t.Fatalf("the last WithSystem must win: %v", obs.systems)
	}
	obs = &recObserver{}
	c = newClient(t, srv.URL, WithObserver(obs))
	send(t, c, c.NewRequest(context.Background(), getLead))
	if obs.count("127.0.0.1") != 1 {
		t.Fatalf("default system is the host name: %v", obs.systems)
	}
}

func TestWithLogger(t *testing.T) {
	srv, _ := newServer(t, nil)
	var buf bytes.Buffer
	var mu sync.Mutex
	h := slog.NewJSONHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug})
	c := newClient(t, srv.URL, WithSystem("crm"), WithLogger(slog.New(h)),
		WithLogConfig(transport.LogConfig{Level: slog.LevelDebug}),
		WithCredential("bearer", auth.Bearer(secret.New("tok-S3CRET"))))
	send(t, c, c.NewRequest(context.Background(), securedOp))
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	if !strings.Contains(out, `"system":"crm"`) || !strings.Contains(out, `"operation":"getSecured"`) || !strings.Contains(out, `"level":"DEBUG"`) {
		t.Fatalf("log: %s", out)
	}
	if strings.Contains(out, "tok-S3CRET") {
		t.Fatalf("secret in log: %s", out)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestCustomTransportIsInnermost(t *testing.T) {
	var calls atomic.Int64
	hc := &http.Client{Transport: rtFunc(func(r *http.Request) (*http.Response, error) {
		n := calls.Add(1)
		status := 503
		if n == 3 {
			status = 200
		}
		return &http.Response{StatusCode: status, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
	})}
	c := newClient(t, "https://api.example.com", WithHTTPClient(hc), WithRetry(fastRetry))
	if resp := send(t, c, c.NewRequest(context.Background(), getLead)); resp.StatusCode != 200 || calls.Load() != 3 {
		t.Fatalf("every attempt must reach the custom transport: %d calls", calls.Load())
	}
}

func TestSharedLimiter(t *testing.T) {
	srv, _ := newServer(t, nil)
	lim := transport.NewLimiter(transport.RateLimitConfig{Rate: 1, Burst: 1})
	retry := WithRetry(transport.RetryConfig{MaxWait: 50 * time.Millisecond})
	a := newClient(t, srv.URL, WithSharedLimiter(lim), retry)
	b := newClient(t, srv.URL, WithSharedLimiter(lim), retry)
	send(t, a, a.NewRequest(context.Background(), getLead))
	_, err := b.Do(b.NewRequest(context.Background(), getLead))
	var rl *transport.RetryLaterError
	if !errors.As(err, &rl) || !errors.Is(err, transport.ErrRateLimited) || rl.Status != 0 || rl.Wait < 500*time.Millisecond {
		t.Fatalf("the second client must find the shared budget spent: %v", err)
	}
	// A client with its own bucket is not affected.
	c := newClient(t, srv.URL, WithRateLimit(transport.RateLimitConfig{Rate: 1}), retry)
	send(t, c, c.NewRequest(context.Background(), getLead))
}

func TestBreakerOptions(t *testing.T) {
	var hits atomic.Int64
	srv, _ := newServer(t, flaky(1000, 500, &hits))
	obs := &recObserver{}
	shared := transport.NewBreaker("crm", transport.BreakerConfig{Threshold: 2, CoolDown: time.Hour})
	a := newClient(t, srv.URL, WithoutRetries(), WithSharedBreaker(shared), WithObserver(obs))
	b := newClient(t, srv.URL, WithoutRetries(), WithSharedBreaker(shared))
	for i := 0; i < 2; i++ {
		resp := send(t, a, a.NewRequest(context.Background(), getLead))
		if resp.StatusCode != 500 {
			t.Fatal(resp.Status)
		}
	}
	_, err := b.Do(b.NewRequest(context.Background(), getLead))
	var te *transport.Error
	if !errors.Is(err, transport.ErrUnavailable) || !errors.As(err, &te) || te.RetryAt.IsZero() || hits.Load() != 2 {
		t.Fatalf("shared breaker must refuse: %v (hits %d)", err, hits.Load())
	}
	// Own breaker per client by default, configured with WithBreaker.
	hits.Store(0)
	c := newClient(t, srv.URL, WithoutRetries(), WithBreaker(transport.BreakerConfig{Threshold: 1, CoolDown: time.Hour}), WithObserver(obs))
	send(t, c, c.NewRequest(context.Background(), getLead))
	if _, err := c.Do(c.NewRequest(context.Background(), getLead)); !errors.Is(err, transport.ErrUnavailable) {
		t.Fatalf("WithBreaker threshold 1: %v", err)
	}
	obs.mu.Lock()
	n := len(obs.breakers)
	obs.mu.Unlock()
	if n != 1 {
		t.Fatalf("the client's observer must see its breaker open: %d changes", n)
	}
	// Disabled: never refuses.
	d := newClient(t, srv.URL, WithoutRetries(), WithBreaker(transport.BreakerConfig{Disabled: true}))
	for i := 0; i < 8; i++ {
		send(t, d, d.NewRequest(context.Background(), getLead))
	}
}

// TestCrossOriginNextURL: a next-page URL on another origin goes through the
// chain (it is retried) but without auth, WithMiddleware middlewares or
// static headers.
func TestCrossOriginNextURL(t *testing.T) {
	var otherHits atomic.Int64
	var gotAuth atomic.Value
	gotAuth.Store("")
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth.Store(r.Header.Get("Authorization") + r.Header.Get("X-Static"))
		if otherHits.Add(1) == 1 {
			w.WriteHeader(503)
			return
		}
	}))
	defer other.Close()
	api, s := newServer(t, nil)
	var mw atomic.Int64
	c := newClient(t, api.URL, WithRetry(fastRetry), WithHeader("X-Static", "static"),
		WithCredential("bearer", auth.Bearer(secret.New("tok"))),
		WithMiddleware(func(next http.RoundTripper) http.RoundTripper {
			return rtFunc(func(r *http.Request) (*http.Response, error) { mw.Add(1); return next.RoundTrip(r) })
		}))
	r := c.NewRequest(context.Background(), securedOp)
	if err := r.SetURL(other.URL + "/page/2"); err != nil {
		t.Fatal(err)
	}
	if resp := send(t, c, r); resp.StatusCode != 200 || otherHits.Load() != 2 {
		t.Fatalf("status %d hits %d", resp.StatusCode, otherHits.Load())
	}
	if got := gotAuth.Load().(string); got != "" || mw.Load() != 0 {
		t.Fatalf("credentials or middleware reached the other origin: %q, %d", got, mw.Load())
	}
	// The same client still authenticates on its own origin.
	send(t, c, c.NewRequest(context.Background(), securedOp))
	if req, _ := s.last(t); req.Header.Get("Authorization") != "Bearer tok" || mw.Load() != 1 {
		t.Fatalf("same origin: %v", req.Header)
	}
}

func TestRedirectPolicy(t *testing.T) {
	var otherHeaders atomic.Value
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherHeaders.Store(r.Header.Clone())
	}))
	defer other.Close()
	api, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, other.URL+"/landing", http.StatusTemporaryRedirect)
		case "/insecure":
			http.Redirect(w, r, "http://api.example.com/x", http.StatusFound)
		case "/home":
			http.Redirect(w, r, "/landed", http.StatusFound)
		}
	})
	c := newClient(t, api.URL, WithHeader("X-Static", "static-S3CRET"), WithHeader("X-Api-Key", "hand-S3CRET"),
		WithCredential("bearer", auth.Bearer(secret.New("tok-S3CRET"))))
	r := c.NewRequest(context.Background(), securedOp)
	r.AppendPath("/away")
	send(t, c, r)
	h, _ := otherHeaders.Load().(http.Header)
	if h == nil {
		t.Fatal("redirect not followed")
	}
	for _, name := range []string{"Authorization", "X-Static", "X-Api-Key"} {
		if h.Get(name) != "" {
			t.Errorf("%s reached the other origin: %q", name, h.Get(name))
		}
	}
	if h.Get("User-Agent") != DefaultUserAgent {
		t.Errorf("User-Agent %q", h.Get("User-Agent"))
	}
	// Same-origin redirects keep everything.
	r = c.NewRequest(context.Background(), securedOp)
	r.AppendPath("/home")
	if resp := send(t, c, r); resp.Request.URL.Path != "/landed" || resp.Request.Header.Get("X-Static") == "" {
		t.Fatalf("same-origin redirect: %s %v", resp.Request.URL.Path, resp.Request.Header)
	}
	// Plain http to a non-loopback host is refused.
	r = c.NewRequest(context.Background(), securedOp)
	r.AppendPath("/insecure")
	if _, err := c.Do(r); err == nil || !strings.Contains(err.Error(), "redirect refused") {
		t.Fatalf("plain http redirect: %v", err)
	}
}
