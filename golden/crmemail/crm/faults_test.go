package crm_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/golden/crmemail/crm"
	"github.com/connectorgen/connectorgen/runtime/auth"
	"github.com/connectorgen/connectorgen/runtime/observe"
	"github.com/connectorgen/connectorgen/runtime/rest"
	"github.com/connectorgen/connectorgen/runtime/secret"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

// Fault injection through the generated CRM client: every test drives
// crm.Client methods against an httptest server that misbehaves on cue.

func TestBurstOf503Recovers(t *testing.T) {
	t.Parallel()
	a := newFakeAPI(t, status(503), status(503), status(503), ok(leadJSON))
	ev := &events{}
	c := newCRM(t, a, rest.WithRetry(quick()), rest.WithObserver(ev))
	lead, err := getLead(c, context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if lead.ID != "ld_42" || lead.Version != 7 || lead.Status != crm.LeadStatusQualified {
		t.Fatalf("lead %+v", lead)
	}
	if a.count() != 4 {
		t.Fatalf("%d requests, want 4 (3 × 503, then 200)", a.count())
	}
	rs := ev.retryList()
	if len(rs) != 3 || rs[0].Reason != "503" || rs[2].Attempt != 4 || rs[0].System != "crm" || rs[0].Operation != "getLead" {
		t.Fatalf("retries %+v", rs)
	}
	for i := 0; i < 4; i++ {
		if h := a.hit(i); h.header.Get("Authorization") != "Bearer test-token" || h.path != "/v1/leads/ld_42" {
			t.Fatalf("attempt %d: %s %v", i+1, h.path, h.header)
		}
	}
}

func TestBurstOf503BeyondBudget(t *testing.T) {
	t.Parallel()
	a := newFakeAPI(t, status(503, "X-Request-Id", "rq-9"))
	c := newCRM(t, a, rest.WithRetry(quick()))
	_, err := getLead(c, context.Background())
	var apiErr *rest.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("want *rest.Error, got %T %v", err, err)
	}
	if apiErr.StatusCode != 503 || apiErr.Attempts != 4 || apiErr.RequestID != "rq-9" || apiErr.Operation != "getLead" {
		t.Fatalf("error %+v", apiErr)
	}
	if m, ok := apiErr.Model.(*crm.Error); !ok || m.Code != "unavailable" {
		t.Fatalf("model %#v", apiErr.Model)
	}
	if !errors.Is(err, transport.ErrServer) || errors.Is(err, transport.ErrNetwork) || a.count() != 4 {
		t.Fatalf("kind or count: %v, %d requests", err, a.count())
	}
}

// TestRetryAfterSeconds: the retry after "Retry-After: 1" comes 1 s later,
// within 10%. Wall-clock measurements suffer when the machine is
// overloaded, so a measurement out of band is repeated (up to three
// times); a retry that comes early fails at once.
func TestRetryAfterSeconds(t *testing.T) {
	for try := 1; ; try++ {
		a := newFakeAPI(t, status(429, "Retry-After", "1"), ok(leadJSON))
		ev := &events{}
		c := newCRM(t, a, rest.WithRetry(quick()), rest.WithObserver(ev))
		if _, err := getLead(c, context.Background()); err != nil {
			t.Fatal(err)
		}
		if rs := ev.retryList(); len(rs) != 1 || rs[0].Reason != "429" || rs[0].Wait != time.Second {
			t.Fatalf("retries %+v", rs)
		}
		gap := a.hit(1).at.Sub(a.hit(0).at)
		if gap < 900*time.Millisecond {
			t.Fatalf("the retry came %v after the 429, before the requested second", gap)
		}
		if within(gap, time.Second, 10) {
			return
		}
		if try == 3 {
			t.Fatalf("the retry came %v after the 429, want 1s ± 10%%", gap)
		}
		t.Logf("try %d: the retry came %v after the 429; measuring again", try, gap)
	}
}

func TestConnectionResetsAreRetried(t *testing.T) {
	t.Parallel()
	a := newFakeAPI(t, reset, reset, ok(leadJSON))
	c := newCRM(t, a, rest.WithRetry(quick()))
	if _, err := getLead(c, context.Background()); err != nil {
		t.Fatal(err)
	}
	if a.count() != 3 {
		t.Fatalf("%d requests, want 3", a.count())
	}
	// Resets beyond the budget: a network error carrying the attempts.
	a = newFakeAPI(t, reset)
	c = newCRM(t, a, rest.WithRetry(quick()))
	_, err := getLead(c, context.Background())
	var te *transport.Error
	if !errors.Is(err, transport.ErrNetwork) || !errors.As(err, &te) || te.Attempts != 4 || a.count() != 4 {
		t.Fatalf("want ErrNetwork after 4 attempts: %v (%d requests)", err, a.count())
	}
}

func TestSlowResponsesHitTheAttemptTimeout(t *testing.T) {
	t.Parallel()
	r := quick()
	r.AttemptTimeout = 100 * time.Millisecond
	a := newFakeAPI(t, slow(2*time.Second, ok(leadJSON)), ok(leadJSON))
	c := newCRM(t, a, rest.WithRetry(r))
	start := time.Now()
	if _, err := getLead(c, context.Background()); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > time.Second || a.count() != 2 {
		t.Fatalf("took %v with %d requests; the slow attempt must be abandoned after 100ms", el, a.count())
	}
	// Always slow: a timeout error after every attempt.
	r.MaxAttempts = 3
	a = newFakeAPI(t, slow(2*time.Second, ok(leadJSON)))
	c = newCRM(t, a, rest.WithRetry(r))
	_, err := getLead(c, context.Background())
	var te *transport.Error
	if !errors.Is(err, transport.ErrTimeout) || !errors.As(err, &te) || te.Attempts != 3 || a.count() != 3 {
		t.Fatalf("want ErrTimeout after 3 attempts: %v (%d requests)", err, a.count())
	}
}

func TestMalformedJSONIsNotRetried(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"truncated":  `{"id":"ld_42","email":`,
		"wrong type": `{"id":"ld_42","version":"seven"}`,
		"not json":   `<html>oops</html>`,
	} {
		t.Run(name, func(t *testing.T) {
			a := newFakeAPI(t, ok(body))
			c := newCRM(t, a, rest.WithRetry(quick()))
			_, err := getLead(c, context.Background())
			var de *rest.DecodeError
			if !errors.As(err, &de) || !errors.Is(err, transport.ErrValidation) {
				t.Fatalf("want *rest.DecodeError: %T %v", err, err)
			}
			if de.Operation != "getLead" || de.StatusCode != 200 || !strings.Contains(de.Snippet, body[:5]) {
				t.Fatalf("decode error %+v", de)
			}
			if a.count() != 1 {
				t.Fatalf("a decode error must not be retried: %d requests", a.count())
			}
		})
	}
}

// TestCreateLeadIsNeverSentTwice: createLead is a POST without an
// idempotency key, so no failure makes the client send it again.
func TestCreateLeadIsNeverSentTwice(t *testing.T) {
	t.Parallel()
	r := quick()
	r.AttemptTimeout = 100 * time.Millisecond
	cases := []struct {
		name  string
		steps []step
		check func(error) bool
	}{
		{"503", []step{status(503), ok(leadJSON)}, func(err error) bool {
			var e *rest.Error
			return errors.As(err, &e) && e.StatusCode == 503 && e.Attempts == 1
		}},
		{"429 with Retry-After", []step{status(429, "Retry-After", "0"), ok(leadJSON)}, func(err error) bool {
			return errors.Is(err, transport.ErrRateLimited)
		}},
		{"connection reset", []step{reset, ok(leadJSON)}, func(err error) bool {
			return errors.Is(err, transport.ErrNetwork)
		}},
		{"slower than the attempt timeout", []step{slow(time.Second, ok(leadJSON)), ok(leadJSON)}, func(err error) bool {
			return errors.Is(err, transport.ErrTimeout)
		}},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			a := newFakeAPI(t, tt.steps...)
			c := newCRM(t, a, rest.WithRetry(r))
			_, err := c.CreateLead(context.Background(), newLead())
			if !tt.check(err) {
				t.Fatalf("unexpected error: %T %v", err, err)
			}
			time.Sleep(50 * time.Millisecond) // a resend would arrive by now
			if a.count() != 1 {
				t.Fatalf("createLead was sent %d times", a.count())
			}
			if h := a.hit(0); h.method != http.MethodPost || !strings.Contains(string(h.body), `"email":"grace@example.com"`) {
				t.Fatalf("request %s %s", h.method, h.body)
			}
		})
	}
}

func TestBreakerOpensAndRecovers(t *testing.T) {
	t.Parallel()
	a := newFakeAPI(t, status(500))
	ev := &events{}
	c := newCRM(t, a, rest.WithoutRetries(), rest.WithObserver(ev),
		rest.WithBreaker(transport.BreakerConfig{Threshold: 3, CoolDown: 300 * time.Millisecond}))
	for i := 0; i < 3; i++ {
		var e *rest.Error
		if _, err := getLead(c, context.Background()); !errors.As(err, &e) || e.StatusCode != 500 {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	// Open: refused locally, the server is not contacted.
	_, err := getLead(c, context.Background())
	var te *transport.Error
	if !errors.Is(err, transport.ErrUnavailable) || !errors.As(err, &te) || te.RetryAt.IsZero() || a.count() != 3 {
		t.Fatalf("want ErrUnavailable without a request: %v (%d requests)", err, a.count())
	}
	at, found := transport.RetryAt(err)
	if !found || time.Until(at) > 300*time.Millisecond {
		t.Fatalf("RetryAt %v", at)
	}
	// The server recovers; after the cool-down one probe closes the breaker.
	a.setSteps(ok(leadJSON))
	time.Sleep(time.Until(at) + 10*time.Millisecond)
	for i := 0; i < 3; i++ {
		if _, err := getLead(c, context.Background()); err != nil {
			t.Fatalf("after recovery, call %d: %v", i+1, err)
		}
	}
	if p := ev.breakerPath(); p != "closed→open→half_open→closed" {
		t.Fatalf("breaker went %s", p)
	}
}

// TestBreakerStopsRetries: when the breaker opens during a call's retries,
// the call ends at once with ErrUnavailable.
func TestBreakerStopsRetries(t *testing.T) {
	t.Parallel()
	a := newFakeAPI(t, status(502))
	c := newCRM(t, a, rest.WithRetry(quick()), rest.WithBreaker(transport.BreakerConfig{Threshold: 2, CoolDown: time.Hour}))
	_, err := getLead(c, context.Background())
	var te *transport.Error
	if !errors.Is(err, transport.ErrUnavailable) || !errors.As(err, &te) || te.Attempts != 3 || a.count() != 2 {
		t.Fatalf("%v (%d requests)", err, a.count())
	}
}

func TestLongRetryAfterIsReturnedNotSlept(t *testing.T) {
	t.Parallel()
	a := newFakeAPI(t, status(429, "Retry-After", "120"))
	c := newCRM(t, a, rest.WithRetry(quick()))
	start := time.Now()
	_, err := getLead(c, context.Background())
	var rl *transport.RetryLaterError
	if !errors.As(err, &rl) || !errors.Is(err, transport.ErrRateLimited) || rl.Status != 429 || time.Since(start) > time.Second {
		t.Fatalf("want *transport.RetryLaterError at once: %v", err)
	}
	if d := time.Until(rl.RetryAt); d < 119*time.Second || d > 121*time.Second {
		t.Fatalf("RetryAt in %v", d)
	}
	// The client's limiter remembers the hold: the next call does not reach
	// the server.
	_, err = getLead(c, context.Background())
	if !errors.As(err, &rl) || rl.Status != 0 || a.count() != 1 {
		t.Fatalf("the hold must apply locally: %v (%d requests)", err, a.count())
	}
}

// TestCancellationStopsWaits: cancelling the context ends every kind of
// wait — Retry-After, backoff, the rate limiter, an attempt in flight —
// at once.
func TestCancellationStopsWaits(t *testing.T) {
	long := transport.RetryConfig{BaseDelay: 30 * time.Second, MaxDelay: 30 * time.Second, Rand: func() float64 { return 0.99 }}
	cases := []struct {
		name  string
		steps []step
		opts  []crm.Option
		calls int // calls before the one that is cancelled
	}{
		{"Retry-After", []step{status(503, "Retry-After", "30")}, nil, 0},
		{"backoff", []step{status(503)}, []crm.Option{rest.WithRetry(long)}, 0},
		{"rate limiter", []step{ok(leadJSON)}, []crm.Option{rest.WithRateLimit(transport.RateLimitConfig{Rate: 0.05, Burst: 1})}, 1},
		{"attempt in flight", []step{slow(30*time.Second, ok(leadJSON))}, nil, 0},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			a := newFakeAPI(t, tt.steps...)
			c := newCRM(t, a, tt.opts...)
			for i := 0; i < tt.calls; i++ {
				if _, err := getLead(c, context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				_, err := getLead(c, ctx)
				done <- err
			}()
			time.Sleep(150 * time.Millisecond) // the call is now waiting
			cancelled := time.Now()
			cancel()
			select {
			case err := <-done:
				if d := time.Since(cancelled); d > 50*time.Millisecond {
					t.Fatalf("returned %v after cancellation", d)
				}
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("want context.Canceled: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the call ignored the cancellation")
			}
		})
	}
	// A deadline that ends before the requested wait: the wait is never
	// started and the last response is returned at once.
	a := newFakeAPI(t, status(503, "Retry-After", "5"))
	c := newCRM(t, a)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := getLead(c, ctx)
	var e *rest.Error
	if !errors.As(err, &e) || e.StatusCode != 503 || time.Since(start) > 200*time.Millisecond {
		t.Fatalf("want the 503 at once: %v after %v", err, time.Since(start))
	}
}

// TestAuthFailuresKeepTheirTypes: failures of the auth middleware come out
// of generated methods intact for errors.Is and errors.As.
func TestAuthFailuresKeepTheirTypes(t *testing.T) {
	t.Parallel()
	a := newFakeAPI(t, ok(leadJSON))
	// A credential for another scheme only: getLead's oauth2 is missing.
	c, err := crm.NewClient(a.base(), rest.WithHTTPClient(a.srv.Client()),
		rest.WithCredential("other", auth.Bearer(secret.New("x"))))
	if err != nil {
		t.Fatal(err)
	}
	_, err = getLead(c, context.Background())
	var missing *auth.MissingCredentialsError
	if !errors.Is(err, transport.ErrAuth) || !errors.As(err, &missing) || a.count() != 0 {
		t.Fatalf("missing credentials: %v", err)
	}
	// A permanently rejected client: ReauthorizationRequiredError, fail fast.
	ts := newTokenServer(t, "tok", time.Hour, 0)
	ts.fail.Store("invalid_grant")
	o, err := auth.ClientCredentials(auth.OAuthConfig{TokenURL: ts.srv.URL, ClientID: "id", ClientSecret: secret.New("cs")})
	if err != nil {
		t.Fatal(err)
	}
	c = newCRM(t, a, rest.WithCredential(crm.SecurityOAuth2, o))
	for i := 0; i < 3; i++ {
		_, err = getLead(c, context.Background())
		var re *auth.ReauthorizationRequiredError
		if !errors.Is(err, transport.ErrAuth) || !errors.As(err, &re) || re.Code != "invalid_grant" {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	if ts.requests.Load() != 1 || a.count() != 0 {
		t.Fatalf("token requests %d, API requests %d", ts.requests.Load(), a.count())
	}
	// A transient token endpoint failure: *auth.TokenError of kind ErrServer.
	ts2 := newTokenServer(t, "tok", time.Hour, 0)
	ts2.fail.Store("500")
	o2, _ := auth.ClientCredentials(auth.OAuthConfig{TokenURL: ts2.srv.URL, ClientID: "id", ClientSecret: secret.New("cs")})
	c = newCRM(t, a, rest.WithCredential(crm.SecurityOAuth2, o2))
	_, err = getLead(c, context.Background())
	var tokErr *auth.TokenError
	if !errors.As(err, &tokErr) || !errors.Is(err, transport.ErrServer) {
		t.Fatalf("token endpoint 500: %v", err)
	}
	// A 401 from the API: *rest.Error with ErrAuth and the decoded model.
	a401 := newFakeAPI(t, status(401))
	c = newCRM(t, a401)
	_, err = getLead(c, context.Background())
	var apiErr *rest.Error
	if !errors.Is(err, transport.ErrAuth) || !errors.As(err, &apiErr) || apiErr.Attempts != 1 || a401.count() != 1 {
		t.Fatalf("401: %v", err)
	}
}

// TestMetricsThroughGeneratedClient checks that the in-memory observer sees
// a generated call's attempts and retries.
func TestMetricsThroughGeneratedClient(t *testing.T) {
	t.Parallel()
	a := newFakeAPI(t, status(503), ok(leadJSON))
	m := observe.NewMemory(observe.MemoryOptions{})
	c := newCRM(t, a, rest.WithRetry(quick()), rest.WithObserver(m))
	if _, err := getLead(c, context.Background()); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := m.WritePrometheus(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{`system="crm"`, `operation="getLead"`, `reason="503"`} {
		if !strings.Contains(out, want) {
			t.Fatalf("metrics lack %s:\n%s", want, out)
		}
	}
}
