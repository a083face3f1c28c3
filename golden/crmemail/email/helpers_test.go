package email_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/golden/crmemail/email"
	"github.com/connectorgen/connectorgen/runtime/auth"
	"github.com/connectorgen/connectorgen/runtime/oas"
	"github.com/connectorgen/connectorgen/runtime/rest"
	"github.com/connectorgen/connectorgen/runtime/secret"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

// memberJSON is a member as Postbox returns it.
const memberJSON = `{"id":"fe282400520b6f275f9611dce01d130d","list_id":"b1f3c2d4e5",` +
	`"email_address":"grace.hopper@navalsystems.example","status":"subscribed",` +
	`"merge_fields":{"FNAME":"Grace","LNAME":"Hopper"},"tags":[{"id":1,"name":"navy"}],"vip":true,` +
	`"last_changed":"2024-05-06T07:08:09Z","version":3}`

// problemJSON is Postbox's RFC 7807 error body.
const problemJSON = `{"type":"https://postbox.example/errors/unavailable","title":"Service Unavailable","status":503}`

type hit struct {
	at     time.Time
	method string
	header http.Header
	body   []byte
}

type step func(w http.ResponseWriter, r *http.Request)

// fakeAPI answers the n-th request with the n-th step (the last repeats)
// and records every request.
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
		a.hits = append(a.hits, hit{at: time.Now(), method: r.Method, header: r.Header.Clone(), body: body})
		s := a.steps[min(n, len(a.steps)-1)]
		a.mu.Unlock()
		s(w, r)
	}))
	t.Cleanup(a.srv.Close)
	return a
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

func ok(body string) step {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		io.WriteString(w, body)
	}
}

// status answers code with a problem body and the given header pairs.
func status(code int, header ...string) step {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(code)
		io.WriteString(w, problemJSON)
	}
}

// reset closes the connection with a TCP RST after reading the request.
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

func slow(d time.Duration, next step) step {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(d):
			next(w, r)
		case <-r.Context().Done():
		}
	}
}

func quick() transport.RetryConfig {
	return transport.RetryConfig{BaseDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond}
}

// newEmail returns a generated Postbox client for a, authenticated with an
// API key for the apiKey scheme, plus opts.
func newEmail(t *testing.T, a *fakeAPI, opts ...email.Option) *email.Client {
	t.Helper()
	all := append([]email.Option{
		rest.WithSystem("email"),
		rest.WithHTTPClient(a.srv.Client()),
		rest.WithCredential(email.SecurityAPIKey, auth.APIKeyHeader("X-API-Key", secret.New("test-key"))),
	}, opts...)
	c, err := email.NewClient(a.srv.URL+"/3.0", all...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func addMember(c *email.Client, key string) (*email.Member, error) {
	p := email.AddMemberParams{ListID: "b1f3c2d4e5"}
	if key != "" {
		p.IdempotencyKey = oas.Some(key)
	}
	return c.AddMember(context.Background(), p, email.AddMemberRequest{
		EmailAddress: "grace.hopper@navalsystems.example", Status: email.MemberStatusSubscribed})
}

func getMember(c *email.Client, ctx context.Context) (*email.Member, error) {
	return c.GetMember(ctx, email.GetMemberParams{ListID: "b1f3c2d4e5", MemberID: "fe282400520b6f275f9611dce01d130d"})
}

func within(got, want time.Duration, pct float64) bool {
	diff := got - want
	if diff < 0 {
		diff = -diff
	}
	return float64(diff) <= float64(want)*pct/100
}

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
