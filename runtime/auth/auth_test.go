package auth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/connectorgen/connectorgen/runtime/secret"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

// seen records what the API server received.
type seen struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (s *seen) handler(status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.reqs = append(s.reqs, r.Clone(context.Background()))
		s.mu.Unlock()
		w.WriteHeader(status)
	}
}

func (s *seen) last(t *testing.T) *http.Request {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.reqs) == 0 {
		t.Fatal("server saw no request")
	}
	return s.reqs[len(s.reqs)-1]
}

func (s *seen) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

func opReq(t *testing.T, ctx context.Context, op *transport.Operation, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(transport.WithOperation(ctx, op), op.Method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func do(t *testing.T, c *http.Client, req *http.Request) (*http.Response, error) {
	t.Helper()
	resp, err := c.Do(req)
	if resp != nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return resp, err
}

func TestCredentialKinds(t *testing.T) {
	var s seen
	srv := httptest.NewServer(s.handler(200))
	defer srv.Close()
	set, err := NewSet(srv.URL + "/v1")
	if err != nil {
		t.Fatal(err)
	}
	set.Add("hdr", APIKeyHeader("x-api-key", secret.New("k-hdr"))).
		Add("qry", APIKeyQuery("api_key", secret.New("k q&y"))).
		Add("ck", APIKeyCookie("session", secret.New("k-cookie"))).
		Add("basic", Basic("user", secret.New("pw"))).
		Add("bearer", Bearer(secret.New("tok")))
	c := &http.Client{Transport: set.Wrap(http.DefaultTransport)}
	check := func(scheme string, verify func(r *http.Request) bool) {
		t.Helper()
		op := &transport.Operation{ID: "op_" + scheme, Method: "GET", Security: []transport.SecurityRequirement{{scheme}}}
		req := opReq(t, context.Background(), op, srv.URL+"/v1/x?page=2")
		req.Header.Set("Cookie", "pref=1")
		if _, err := do(t, c, req); err != nil {
			t.Fatal(err)
		}
		if r := s.last(t); !verify(r) {
			t.Errorf("%s: server got header %v query %q", scheme, r.Header, r.URL.RawQuery)
		}
		if req.Header.Get("Authorization") != "" || req.URL.RawQuery != "page=2" || req.Header.Get("Cookie") != "pref=1" {
			t.Errorf("%s: caller's request was modified", scheme)
		}
	}
	check("hdr", func(r *http.Request) bool { return r.Header.Get("X-Api-Key") == "k-hdr" })
	check("qry", func(r *http.Request) bool {
		return r.URL.Query().Get("api_key") == "k q&y" && r.URL.Query().Get("page") == "2"
	})
	check("ck", func(r *http.Request) bool {
		c1, err1 := r.Cookie("session")
		c2, err2 := r.Cookie("pref")
		return err1 == nil && err2 == nil && c1.Value == "k-cookie" && c2.Value == "1"
	})
	check("basic", func(r *http.Request) bool { u, p, ok := r.BasicAuth(); return ok && u == "user" && p == "pw" })
	check("bearer", func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer tok" })
	h, q := set.SensitiveNames()
	if !strings.Contains(strings.Join(h, ","), "X-Api-Key") || !strings.Contains(strings.Join(q, ","), "api_key") {
		t.Errorf("sensitive names %v %v", h, q)
	}
}

func TestSecurityAlternatives(t *testing.T) {
	var s seen
	srv := httptest.NewServer(s.handler(200))
	defer srv.Close()
	set, _ := NewSet(srv.URL)
	set.Add("key", APIKeyHeader("X-Key", secret.New("k"))).Add("basic", Basic("u", secret.New("p")))
	c := &http.Client{Transport: set.Wrap(http.DefaultTransport)}

	// First fully configured alternative wins; "oauth" is not configured.
	op := &transport.Operation{ID: "a", Method: "GET", Security: []transport.SecurityRequirement{{"oauth"}, {"basic", "key"}, {"key"}}}
	if _, err := do(t, c, opReq(t, context.Background(), op, srv.URL)); err != nil {
		t.Fatal(err)
	}
	r := s.last(t)
	if r.Header.Get("X-Key") != "k" || r.Header.Get("Authorization") == "" {
		t.Errorf("alternative not applied: %v", r.Header)
	}
	// Optional security: credentials are used when configured...
	op2 := &transport.Operation{ID: "b", Method: "GET", Security: []transport.SecurityRequirement{{}, {"key"}}}
	if _, err := do(t, c, opReq(t, context.Background(), op2, srv.URL)); err != nil || s.last(t).Header.Get("X-Key") != "k" {
		t.Errorf("optional security: err %v header %v", err, s.last(t).Header)
	}
	// ...and the call is anonymous when they are not.
	op3 := &transport.Operation{ID: "c", Method: "GET", Security: []transport.SecurityRequirement{{"oauth"}, {}}}
	if _, err := do(t, c, opReq(t, context.Background(), op3, srv.URL)); err != nil || s.last(t).Header.Get("X-Key") != "" {
		t.Errorf("anonymous alternative: err %v", err)
	}
	// No security at all.
	op4 := &transport.Operation{ID: "d", Method: "GET"}
	if _, err := do(t, c, opReq(t, context.Background(), op4, srv.URL)); err != nil || s.last(t).Header.Get("X-Key") != "" {
		t.Errorf("no security: err %v", err)
	}
	// Missing credentials: a clear error, nothing sent.
	before := s.count()
	op5 := &transport.Operation{ID: "listLeads", Method: "GET", Security: []transport.SecurityRequirement{{"oauth"}, {"partnerKey", "key"}}}
	_, err := do(t, c, opReq(t, context.Background(), op5, srv.URL))
	var me *MissingCredentialsError
	if !errors.As(err, &me) || !errors.Is(err, transport.ErrAuth) {
		t.Fatalf("err %v", err)
	}
	if msg := me.Error(); !strings.Contains(msg, `"listLeads"`) || !strings.Contains(msg, `"oauth"`) || !strings.Contains(msg, `"partnerKey"`) {
		t.Errorf("message %q", msg)
	}
	if s.count() != before {
		t.Error("request without required credentials was sent")
	}
	// Requests without an Operation use the Set's default requirement.
	set.WithDefault(transport.SecurityRequirement{"key"})
	req, _ := http.NewRequest("GET", srv.URL, nil)
	if _, err := do(t, c, req); err != nil || s.last(t).Header.Get("X-Key") != "k" {
		t.Errorf("default requirement: err %v", err)
	}
}

func TestNoCredentialsCrossOrigin(t *testing.T) {
	var other seen
	otherSrv := httptest.NewServer(other.handler(200))
	defer otherSrv.Close()
	var hits atomic.Int64
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, otherSrv.URL+"/landing?x=1", http.StatusFound)
			return
		}
	}))
	defer api.Close()
	set, _ := NewSet(api.URL)
	set.Add("key", APIKeyHeader("X-Key", secret.New("k"))).Add("q", APIKeyQuery("token", secret.New("t"))).
		Add("ck", APIKeyCookie("sid", secret.New("c"))).Add("bearer", Bearer(secret.New("b")))
	c := &http.Client{Transport: set.Wrap(http.DefaultTransport)}
	op := &transport.Operation{ID: "a", Method: "GET", Security: []transport.SecurityRequirement{{"key", "q", "ck", "bearer"}}}
	assertClean := func(r *http.Request) {
		t.Helper()
		if r.Header.Get("X-Key") != "" || r.Header.Get("Authorization") != "" || r.Header.Get("Cookie") != "" || r.URL.Query().Has("token") {
			t.Errorf("credentials leaked cross-origin: %v %q", r.Header, r.URL.RawQuery)
		}
	}
	// A redirect to another origin.
	if _, err := do(t, c, opReq(t, context.Background(), op, api.URL+"/redirect")); err != nil {
		t.Fatal(err)
	}
	assertClean(other.last(t))
	// A next-page URL on another origin, even with credentials set by hand.
	req := opReq(t, context.Background(), op, otherSrv.URL+"/page2?token=manual&keep=1")
	req.Header.Set("Authorization", "Bearer manual")
	req.Header.Set("X-Key", "manual")
	if _, err := do(t, c, req); err != nil {
		t.Fatal(err)
	}
	r := other.last(t)
	assertClean(r)
	if r.URL.Query().Get("keep") != "1" {
		t.Errorf("non-secret query lost: %q", r.URL.RawQuery)
	}
	// Same host, other port is another origin too (both servers are 127.0.0.1).
	if !set.sameOrigin(mustURL(api.URL+"/x")) || set.sameOrigin(mustURL(otherSrv.URL)) || set.sameOrigin(mustURL(strings.Replace(api.URL, "http:", "https:", 1))) {
		t.Error("origin comparison")
	}
}

func TestNewSetRequiresHTTPS(t *testing.T) {
	for _, u := range []string{"http://api.example.com", "ftp://x", "https://", "http://10.0.0.1"} {
		if _, err := NewSet(u); err == nil {
			t.Errorf("NewSet(%q) accepted", u)
		}
	}
	for _, u := range []string{"https://api.example.com/v2", "http://localhost:8080", "http://127.0.0.1:9", "http://[::1]:80"} {
		if _, err := NewSet(u); err != nil {
			t.Errorf("NewSet(%q): %v", u, err)
		}
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// TestRedirectBackToOriginGetsNoCredentials: once a redirect chain has left
// the base URL's origin, a hop that comes back gets no credentials either
// (the other origin chose that URL).
func TestRedirectBackToOriginGetsNoCredentials(t *testing.T) {
	var apiSeen seen
	var apiURL string
	otherSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, apiURL+"/back", http.StatusTemporaryRedirect)
	}))
	defer otherSrv.Close()
	api := httptest.NewServer(apiSeen.handler(200))
	defer api.Close()
	apiURL = api.URL

	set, _ := NewSet(api.URL)
	set.Add("bearer", Bearer(secret.New("b"))).Add("key", APIKeyHeader("X-Key", secret.New("k")))
	c := &http.Client{Transport: set.Wrap(http.DefaultTransport)}
	op := &transport.Operation{ID: "a", Method: "GET", Security: []transport.SecurityRequirement{{"bearer", "key"}}}

	// Direct request to the API: authorised.
	if _, err := do(t, c, opReq(t, context.Background(), op, api.URL+"/direct")); err != nil {
		t.Fatal(err)
	}
	if r := apiSeen.last(t); r.Header.Get("Authorization") != "Bearer b" || r.Header.Get("X-Key") != "k" {
		t.Fatalf("same origin must be authorised: %v", r.Header)
	}
	// Request to the other origin, which redirects back to the API.
	if _, err := do(t, c, opReq(t, context.Background(), op, otherSrv.URL+"/hop")); err != nil {
		t.Fatal(err)
	}
	r := apiSeen.last(t)
	if r.URL.Path != "/back" {
		t.Fatalf("redirect not followed: %s", r.URL.Path)
	}
	if r.Header.Get("Authorization") != "" || r.Header.Get("X-Key") != "" {
		t.Fatalf("a redirect back from another origin carried credentials: %v", r.Header)
	}
}

func TestSetOriginCloneInsecure(t *testing.T) {
	for u, want := range map[string]string{
		"https://API.example.com/v2":  "https://api.example.com:443",
		"http://localhost:8080/x":     "http://localhost:8080",
		"http://[::1]/":               "http://[::1]:80",
		"https://api.example.com:444": "https://api.example.com:444",
	} {
		s, err := NewSet(u)
		if err != nil {
			t.Fatal(err)
		}
		if s.Origin() != want {
			t.Errorf("Origin(%q) = %q want %q", u, s.Origin(), want)
		}
	}
	s, _ := NewSet("https://api.example.com")
	s.Add("a", Bearer(secret.New("x"))).WithDefault(transport.SecurityRequirement{"a"})
	c := s.Clone().Add("b", Bearer(secret.New("y")))
	if !c.Has("a") || !c.Has("b") || s.Has("b") || c.Origin() != s.Origin() || len(c.defaults) != 1 {
		t.Fatalf("clone: a=%v b=%v orig b=%v", c.Has("a"), c.Has("b"), s.Has("b"))
	}
	if _, err := NewSet("http://10.0.0.1"); err == nil {
		t.Fatal("NewSet must refuse plain http to a non-loopback host")
	}
	if s, err := NewInsecureSet("http://10.0.0.1:8080"); err != nil || s.Origin() != "http://10.0.0.1:8080" {
		t.Fatalf("NewInsecureSet: %v", err)
	}
	if _, err := NewInsecureSet("ftp://10.0.0.1"); err == nil {
		t.Fatal("NewInsecureSet must still refuse other schemes")
	}
}
