package crm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/golden/crmemail/crm"
	"github.com/connectorgen/connectorgen/runtime/auth"
	"github.com/connectorgen/connectorgen/runtime/observe"
	"github.com/connectorgen/connectorgen/runtime/rest"
	"github.com/connectorgen/connectorgen/runtime/secret"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

// leadJSON is a lead as the Acme CRM returns it.
const leadJSON = `{"id":"ld_42","first_name":"Ada","last_name":"Lovelace","email":"ada@example.com",` +
	`"phone":null,"company_name":"Analytical Engines","status":"qualified","rating":"Hot","source":"web",` +
	`"annual_revenue":1250000.5,"employee_count":42,"tags":["vip","math"],` +
	`"address":{"line1":"12 St James's Square","city":"London","country":"GB"},` +
	`"custom_fields":{"segment":"enterprise"},"created_at":"2024-01-02T03:04:05Z",` +
	`"updated_at":"2024-03-04T05:06:07Z","version":7,"deleted":false}`

// errorJSON is the CRM's error model.
const errorJSON = `{"code":"unavailable","message":"try again later","request_id":"req-1"}`

// hit is one request the fake API received.
type hit struct {
	at     time.Time
	method string
	path   string
	header http.Header
	body   []byte
}

// step answers one request.
type step func(w http.ResponseWriter, r *http.Request)

// fakeAPI is a scripted API server: the n-th request is answered by the
// n-th step (the last step repeats), and every request is recorded.
type fakeAPI struct {
	t     *testing.T
	srv   *httptest.Server
	mu    sync.Mutex
	steps []step
	hits  []hit
}

func newFakeAPI(t *testing.T, steps ...step) *fakeAPI {
	t.Helper()
	a := &fakeAPI{t: t, steps: steps}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		n := len(a.hits)
		a.hits = append(a.hits, hit{at: time.Now(), method: r.Method, path: r.URL.Path, header: r.Header.Clone(), body: body})
		s := a.steps[min(n, len(a.steps)-1)]
		a.mu.Unlock()
		s(w, r)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

// setSteps replaces the script; the next request gets the first new step.
func (a *fakeAPI) setSteps(steps ...step) {
	a.mu.Lock()
	defer a.mu.Unlock()
	pad := make([]step, len(a.hits))
	for i := range pad {
		pad[i] = steps[0]
	}
	a.steps = append(pad, steps...)
}

func (a *fakeAPI) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.hits)
}

func (a *fakeAPI) hit(i int) hit {
	a.mu.Lock()
	defer a.mu.Unlock()
	if i >= len(a.hits) {
		a.t.Fatalf("only %d requests arrived, want #%d", len(a.hits), i+1)
	}
	return a.hits[i]
}

func (a *fakeAPI) base() string { return a.srv.URL + "/v1" }

// ok answers 200 with body as JSON.
func ok(body string) step {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		io.WriteString(w, body)
	}
}

// status answers code with the CRM's error body and the given header pairs.
func status(code int, header ...string) step {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		io.WriteString(w, errorJSON)
	}
}

// reset takes the connection over and closes it with a TCP RST, after the
// request (and its body) has been read.
func reset(w http.ResponseWriter, r *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// slow waits d (or until the client gives up) before answering with next.
func slow(d time.Duration, next step) step {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(d):
			next(w, r)
		case <-r.Context().Done():
		}
	}
}

// quick is a retry policy with millisecond backoff so that tests stay fast;
// Retry-After is still honoured as the server sends it.
func quick() transport.RetryConfig {
	return transport.RetryConfig{BaseDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond}
}

// newCRM returns a generated CRM client for a with a bearer credential for
// the oauth2 scheme, plus opts.
func newCRM(t *testing.T, a *fakeAPI, opts ...crm.Option) *crm.Client {
	t.Helper()
	all := append([]crm.Option{
		rest.WithSystem("crm"),
		rest.WithHTTPClient(a.srv.Client()),
		rest.WithCredential(crm.SecurityOAuth2, auth.Bearer(secret.New("test-token"))),
	}, opts...)
	c, err := crm.NewClient(a.base(), all...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func getLead(c *crm.Client, ctx context.Context) (*crm.Lead, error) {
	return c.GetLead(ctx, crm.GetLeadParams{LeadID: "ld_42"})
}

func newLead() crm.LeadCreate {
	return crm.LeadCreate{LastName: "Hopper", Email: "grace@example.com"}
}

// events records what the observer is told.
type events struct {
	observe.Nop
	mu       sync.Mutex
	retries  []observe.Retry
	breakers []observe.BreakerChange
	refresh  []observe.TokenRefresh
	calls    atomic.Int64
}

func (e *events) ObserveRetry(r observe.Retry) {
	e.mu.Lock()
	e.retries = append(e.retries, r)
	e.mu.Unlock()
}

func (e *events) ObserveBreaker(b observe.BreakerChange) {
	e.mu.Lock()
	e.breakers = append(e.breakers, b)
	e.mu.Unlock()
}

func (e *events) ObserveTokenRefresh(r observe.TokenRefresh) {
	e.mu.Lock()
	e.refresh = append(e.refresh, r)
	e.mu.Unlock()
}

func (e *events) ObserveCall(observe.Call) { e.calls.Add(1) }

func (e *events) retryList() []observe.Retry {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]observe.Retry(nil), e.retries...)
}

func (e *events) breakerPath() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var b strings.Builder
	for i, c := range e.breakers {
		if i == 0 {
			b.WriteString(string(c.From))
		}
		b.WriteString("→" + string(c.To))
	}
	return b.String()
}

// tokenServer is an OAuth 2.0 token endpoint (client credentials and
// refresh token grants) issuing access tokens named prefix1, prefix2, ...
// with the given lifetime, after delay; refresh grants also get a rotated
// refresh token.
type tokenServer struct {
	srv      *httptest.Server
	requests atomic.Int64
	delay    time.Duration
	prefix   string
	lifetime time.Duration
	fail     atomic.Value // string: "" (issue), "invalid_grant", "500"
}

func newTokenServer(t *testing.T, prefix string, lifetime, delay time.Duration) *tokenServer {
	t.Helper()
	ts := &tokenServer{prefix: prefix, lifetime: lifetime, delay: delay}
	ts.fail.Store("")
	ts.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := ts.requests.Add(1)
		grant := ""
		if err := r.ParseForm(); err == nil {
			grant = r.Form.Get("grant_type")
		}
		if grant != "client_credentials" && grant != "refresh_token" {
			w.WriteHeader(400)
			io.WriteString(w, `{"error":"unsupported_grant_type"}`)
			return
		}
		if ts.delay > 0 {
			time.Sleep(ts.delay)
		}
		w.Header().Set("Content-Type", "application/json")
		switch ts.fail.Load().(string) {
		case "invalid_grant":
			w.WriteHeader(400)
			io.WriteString(w, `{"error":"invalid_grant","error_description":"client disabled"}`)
			return
		case "invalid_grant_echo":
			// A careless provider quotes the credentials it was sent.
			user, pass, _ := r.BasicAuth()
			desc := fmt.Sprintf("client %s with secret %s and refresh token %s is disabled", user, pass, r.Form.Get("refresh_token"))
			w.WriteHeader(400)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant", "error_description": desc})
			return
		case "500":
			w.WriteHeader(500)
			io.WriteString(w, `{"error":"server_error"}`)
			return
		}
		tok := map[string]any{
			"access_token": fmt.Sprintf("%s%d", ts.prefix, n), "token_type": "Bearer",
			"expires_in": int(ts.lifetime / time.Second),
		}
		if grant == "refresh_token" {
			tok["refresh_token"] = fmt.Sprintf("%srefresh-%d", ts.prefix, n) // rotated on every refresh
		}
		json.NewEncoder(w).Encode(tok)
	}))
	t.Cleanup(ts.srv.Close)
	return ts
}

// bearerAPI answers GetLead with leadJSON when the request carries one of
// the accepted bearer tokens, and 401 otherwise.
func bearerAPI(accepted *sync.Map) step {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if _, good := accepted.Load(tok); !found || !good {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(401)
			io.WriteString(w, `{"code":"unauthorized","message":"invalid token"}`)
			return
		}
		ok(leadJSON)(w, r)
	}
}

// within reports whether got is within pct percent of want.
func within(got, want time.Duration, pct float64) bool {
	diff := got - want
	if diff < 0 {
		diff = -diff
	}
	return float64(diff) <= float64(want)*pct/100
}

// errorStrings returns every rendering of err and of everything it wraps.
func errorStrings(err error) []string {
	if err == nil {
		return nil
	}
	out := []string{err.Error(), fmt.Sprintf("%v|%+v|%s|%q|%#v", err, err, err, err, err)}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		out = append(out, errorStrings(u.Unwrap())...)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			out = append(out, errorStrings(e)...)
		}
	}
	return out
}

// lockedBuffer is a concurrency-safe log sink.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
