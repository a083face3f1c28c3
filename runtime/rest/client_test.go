package rest

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/runtime/transport"
)

var getLead = &Operation{ID: "getLead", Method: "GET", PathTemplate: "/leads/{id}", Idempotent: true}

// seen records what the test server received.
type seen struct {
	mu   sync.Mutex
	reqs []*http.Request
	body [][]byte
}

func (s *seen) last(t *testing.T) (*http.Request, []byte) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.reqs) == 0 {
		t.Fatal("the server saw no request")
	}
	return s.reqs[len(s.reqs)-1], s.body[len(s.body)-1]
}

// newServer starts a server that records requests and answers with handler
// (200 {} when nil).
func newServer(t *testing.T, handler http.HandlerFunc) (*httptest.Server, *seen) {
	t.Helper()
	s := &seen{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, r)
		s.body = append(s.body, b)
		s.mu.Unlock()
		if handler != nil {
			handler(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{}`)
	}))
	t.Cleanup(srv.Close)
	return srv, s
}

func newClient(t *testing.T, base string, opts ...Option) *Client {
	t.Helper()
	c, err := New(base, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func send(t *testing.T, c *Client, r *Request) *http.Response {
	t.Helper()
	resp, err := c.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestNewBaseURLRules(t *testing.T) {
	tests := []struct {
		base     string
		opts     []Option
		wantErr  string
		wantBase string
	}{
		{base: "https://api.example.com", wantBase: "https://api.example.com"},
		{base: "https://api.example.com/", wantBase: "https://api.example.com"},
		{base: "HTTPS://api.example.com/v1/", wantBase: "https://api.example.com/v1"},
		{base: "https://api.example.com/v1//", wantBase: "https://api.example.com/v1"},
		{base: "https://api.example.com:8443/a%2Fb/", wantBase: "https://api.example.com:8443/a%2Fb"},
		{base: "http://localhost:8080/api", wantBase: "http://localhost:8080/api"},
		{base: "http://LOCALHOST", wantBase: "http://LOCALHOST"},
		{base: "http://127.0.0.1:1234", wantBase: "http://127.0.0.1:1234"},
		{base: "http://127.9.8.7", wantBase: "http://127.9.8.7"},
		{base: "http://[::1]:9000/", wantBase: "http://[::1]:9000"},
		{base: "http://api.example.com", wantErr: "refusing plain http"},
		{base: "http://10.0.0.1", wantErr: "refusing plain http"},
		{base: "http://localhost.example.com", wantErr: "refusing plain http"},
		{base: "http://api.example.com/v1", opts: []Option{WithInsecureHTTP()}, wantBase: "http://api.example.com/v1"},
		{base: "ftp://api.example.com", wantErr: "unsupported URL scheme"},
		{base: "/v1", wantErr: "not absolute"},
		{base: "api.example.com", wantErr: "not absolute"},
		{base: "https://", wantErr: "not absolute"},
		{base: "https://user:pw@api.example.com", wantErr: "credentials"},
		{base: "https://api.example.com/?x=1", wantErr: "query"},
		{base: "https://api.example.com/#frag", wantErr: "fragment"},
		{base: "https://api.example.com/%zz", wantErr: "invalid base URL"},
		{base: "https://api.example.com", opts: []Option{WithMiddleware(nil)}, wantErr: "nil middleware"},
		{base: "https://api.example.com", opts: []Option{WithMaxErrorBody(-1)}, wantErr: "negative"},
		{base: "https://api.example.com", opts: []Option{WithHeader("Bad Name", "x")}, wantErr: "invalid header name"},
		{base: "https://api.example.com", opts: []Option{WithHeader("X-A", "a\r\nB: c")}, wantErr: "control characters"},
		{base: "https://api.example.com", opts: []Option{WithUserAgent("x\n")}, wantErr: "control characters"},
		{base: "https://api.example.com", opts: []Option{WithMiddleware(func(http.RoundTripper) http.RoundTripper { return nil })}, wantErr: "nil RoundTripper"},
		{base: "https://api.example.com", opts: []Option{nil}, wantBase: "https://api.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.base+tt.wantErr, func(t *testing.T) {
			c, err := New(tt.base, tt.opts...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New(%q) error = %v, want %q", tt.base, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.BaseURL().String(); got != tt.wantBase {
				t.Fatalf("BaseURL = %q, want %q", got, tt.wantBase)
			}
		})
	}
	c := newClient(t, "https://api.example.com/v1")
	u := c.BaseURL()
	u.Path = "/changed"
	if c.BaseURL().Path != "/v1" {
		t.Fatal("BaseURL must return a copy")
	}
	if (*Client)(nil).BaseURL() != nil {
		t.Fatal("nil client BaseURL")
	}
}

// TestServerSeesEveryStyle sends every cell of the style table to a server
// and checks the raw request line, header or cookie it received.
func TestServerSeesEveryStyle(t *testing.T) {
	srv, s := newServer(t, nil)
	c := newClient(t, srv.URL+"/api/")
	for _, cell := range styleTable {
		t.Run(cellName(cell), func(t *testing.T) {
			r := c.NewRequest(context.Background(), getLead)
			r.AppendPath("/items/")
			p := exampleValue(cell.value)
			switch cell.in {
			case "path":
				r.AppendPathParam("color", cell.style, cell.explode, p)
				if cell.style == StyleSimple && cell.value == "empty" {
					// The table's rendering is "", which would address
					// another resource: the request is refused instead.
					if r.Err() == nil {
						t.Fatal("an empty simple path parameter was accepted")
					}
					return
				}
				r.AppendPath("/tail")
			case "query":
				r.AddQuery("color", cell.style, cell.explode, p)
			case "header":
				r.SetHeader("X-Color", cell.explode, p)
			case "cookie":
				r.AddCookie("color", cell.explode, p)
			}
			send(t, c, r)
			req, _ := s.last(t)
			var got string
			switch cell.in {
			case "path":
				got = strings.TrimSuffix(strings.TrimPrefix(req.RequestURI, "/api/items/"), "/tail")
			case "query":
				if !strings.HasPrefix(req.RequestURI, "/api/items/?") {
					t.Fatalf("RequestURI %q", req.RequestURI)
				}
				got = req.URL.RawQuery
			case "header":
				vals, ok := req.Header["X-Color"]
				if !ok || len(vals) != 1 {
					t.Fatalf("header values %q", vals)
				}
				got = vals[0]
			case "cookie":
				got = req.Header.Get("Cookie")
			}
			if got != cell.want {
				t.Fatalf("server saw %q, want %q", got, cell.want)
			}
		})
	}
	// The server can parse what it gets.
	r := c.NewRequest(context.Background(), getLead)
	r.AddQuery("color", StyleDeepObject, true, exObject)
	r.AddQuery("q", StyleForm, true, Scalar("a/b c&d=e+f"))
	r.AddCookie("session", false, Scalar("abc"))
	r.AddCookie("prefs", true, Object(KV{"lang", Scalar("en")}, KV{"tz", Scalar("UTC")}))
	send(t, c, r)
	req, _ := s.last(t)
	q := req.URL.Query()
	if q.Get("color[R]") != "100" || q.Get("color[B]") != "150" || q.Get("q") != "a/b c&d=e+f" {
		t.Fatalf("server parsed %v", q)
	}
	if ck, err := req.Cookie("tz"); err != nil || ck.Value != "UTC" {
		t.Fatalf("cookie tz: %v %v", ck, err)
	}
	if ck, err := req.Cookie("session"); err != nil || ck.Value != "abc" {
		t.Fatalf("cookie session: %v %v", ck, err)
	}
}

func TestRequestURLBuilding(t *testing.T) {
	srv, s := newServer(t, nil)
	c := newClient(t, srv.URL+"/v1")
	tests := []struct {
		name  string
		build func(r *Request)
		want  string // RequestURI
		path  string // decoded path the server sees
	}{
		{"base only", func(r *Request) {}, "/v1", "/v1"},
		{"escaped path value", func(r *Request) {
			r.AppendPath("/files/")
			r.AppendPathParam("name", StyleSimple, false, Scalar("a/b c"))
			r.AppendPath(":download")
		}, "/v1/files/a%2Fb%20c:download", "/v1/files/a/b c:download"},
		{"unicode", func(r *Request) {
			r.AppendPath("/u/")
			r.AppendPathParam("n", StyleSimple, false, Scalar("日本"))
		}, "/v1/u/%E6%97%A5%E6%9C%AC", "/v1/u/日本"},
		{"query order preserved", func(r *Request) {
			r.AppendPath("/leads")
			r.AddQuery("z", StyleForm, true, Scalar("1"))
			r.AddQuery("a", StyleForm, true, Scalar("2"))
			r.AddQuery("skip", StyleForm, true, Param{})
			r.AddQuery("m", StyleForm, true, List([]string{"x", "y"}))
		}, "/v1/leads?z=1&a=2&m=x&m=y", "/v1/leads"},
		{"absent query only", func(r *Request) {
			r.AppendPath("/leads")
			r.AddQuery("skip", StyleForm, true, Param{})
		}, "/v1/leads", "/v1/leads"},
		{"long path and query", func(r *Request) {
			r.AppendPath("/" + strings.Repeat("p", 300))
			r.AddQuery("q", StyleForm, true, Scalar(strings.Repeat("v", 300)))
		}, "/v1/" + strings.Repeat("p", 300) + "?q=" + strings.Repeat("v", 300), "/v1/" + strings.Repeat("p", 300)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.NewRequest(context.Background(), getLead)
			tt.build(r)
			send(t, c, r)
			req, _ := s.last(t)
			if req.RequestURI != tt.want || req.URL.Path != tt.path {
				t.Fatalf("server saw %q (path %q), want %q (%q)", req.RequestURI, req.URL.Path, tt.want, tt.path)
			}
		})
	}
	// A literal without a leading slash still yields an absolute path.
	c3 := newClient(t, srv.URL)
	r := c3.NewRequest(context.Background(), getLead)
	r.AppendPath("leads")
	send(t, c3, r)
	if req, _ := s.last(t); req.RequestURI != "/leads" {
		t.Fatalf("relative literal: %q", req.RequestURI)
	}
	// A root base URL with no path sends "/".
	c2 := newClient(t, srv.URL+"/")
	send(t, c2, c2.NewRequest(context.Background(), getLead))
	if req, _ := s.last(t); req.RequestURI != "/" {
		t.Fatalf("root: %q", req.RequestURI)
	}
}

func TestBuildErrors(t *testing.T) {
	c := newClient(t, "https://api.example.com")
	tests := []struct {
		name  string
		build func(r *Request)
		want  string
	}{
		{"missing path param", func(r *Request) { r.AppendPathParam("id", StyleSimple, false, Param{}) }, `path parameter "id" has no value`},
		{"path style", func(r *Request) { r.AppendPathParam("id", StyleForm, false, Scalar("1")) }, "style form is not allowed"},
		{"query style", func(r *Request) { r.AddQuery("q", StyleMatrix, false, Scalar("1")) }, "style matrix is not allowed"},
		{"header name", func(r *Request) { r.SetHeader("Bad Header", false, Scalar("1")) }, "invalid header name"},
		{"header injection", func(r *Request) { r.SetHeader("X-A", false, Scalar("a\r\nX-B: 1")) }, "control characters"},
		{"header injection in list", func(r *Request) { r.SetHeader("X-A", false, List([]string{"a", "\n"})) }, "control characters"},
		{"cookie name", func(r *Request) { r.AddCookie("a;b", false, Scalar("1")) }, "invalid cookie name"},
		{"bad JSON body", func(r *Request) { _ = r.SetJSONBody("", make(chan int)) }, "JSON request body"},
		{"bad escape in literal", func(r *Request) { r.AppendPath("/%zz") }, "invalid escaped path"},
		{"first error wins", func(r *Request) {
			r.AppendPathParam("id", StyleSimple, false, Param{})
			r.AddQuery("q", StyleMatrix, false, Scalar("1"))
		}, `"id"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.NewRequest(context.Background(), getLead)
			tt.build(r)
			resp, err := c.Do(r)
			if err == nil {
				resp.Body.Close()
				t.Fatal("want error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not mention %q", err, tt.want)
			}
			if !errors.Is(err, transport.ErrValidation) || errors.Is(err, transport.ErrNetwork) {
				t.Fatalf("want ErrValidation: %v", err)
			}
			var se *SendError
			if !errors.As(err, &se) || se.Operation != "getLead" || se.Kind() != transport.ErrValidation {
				t.Fatalf("SendError: %#v", se)
			}
			if r.Err() == nil && tt.name != "bad escape in literal" {
				t.Fatal("Err must report the build error")
			}
		})
	}
	// nil receivers and arguments fail cleanly.
	var nilClient *Client
	r := nilClient.NewRequest(context.Background(), getLead)
	if r.Err() == nil {
		t.Fatal("nil client request must carry an error")
	}
	r.AppendPath("/x")
	r.AddQuery("a", StyleForm, true, Scalar("b"))
	r.SetHeader("A", false, Scalar("b"))
	r.AddCookie("a", false, Scalar("b"))
	r.SetBody("text/plain", strings.NewReader("x"))
	if err := r.SetURL("https://x"); err == nil {
		t.Fatal("SetURL on a failed request")
	}
	if _, err := nilClient.Do(r); err == nil {
		t.Fatal("Do on nil client")
	}
	if _, err := c.Do(nil); err == nil {
		t.Fatal("Do(nil)")
	}
	if _, err := c.Do(c.NewRequest(context.Background(), nil)); err == nil || !strings.Contains(err.Error(), "nil *Operation") {
		t.Fatalf("nil op: %v", err)
	}
	other := newClient(t, "https://api.example.com")
	if _, err := other.Do(c.NewRequest(context.Background(), getLead)); err == nil || !strings.Contains(err.Error(), "another Client") {
		t.Fatalf("foreign request: %v", err)
	}
}

func TestNilContextAndEmptyMethod(t *testing.T) {
	srv, s := newServer(t, nil)
	c := newClient(t, srv.URL)
	var nilCtx context.Context
	r := c.NewRequest(nilCtx, &Operation{ID: "x"})
	send(t, c, r)
	if req, _ := s.last(t); req.Method != "GET" {
		t.Fatalf("method %q", req.Method)
	}
}

func TestRequestSentOnce(t *testing.T) {
	srv, _ := newServer(t, nil)
	c := newClient(t, srv.URL)
	r := c.NewRequest(context.Background(), getLead)
	send(t, c, r)
	if _, err := c.Do(r); err == nil || !strings.Contains(err.Error(), "already sent") {
		t.Fatalf("second Do: %v", err)
	}
}

func TestHeaders(t *testing.T) {
	srv, s := newServer(t, nil)
	tests := []struct {
		name  string
		opts  []Option
		build func(r *Request)
		want  map[string][]string
	}{
		{"default user agent", nil, func(*Request) {}, map[string][]string{"User-Agent": {DefaultUserAgent}}},
		{"custom user agent", []Option{WithUserAgent("crm-sync/2")}, func(*Request) {}, map[string][]string{"User-Agent": {"crm-sync/2"}}},
		{"static headers", []Option{WithHeader("x-api-version", "1"), WithHeader("X-Tenant", "a"), WithHeader("X-TENANT", "b")},
			func(*Request) {}, map[string][]string{"X-Api-Version": {"1"}, "X-Tenant": {"b"}}},
		{"request header wins", []Option{WithHeader("X-Trace", "static")},
			func(r *Request) { r.SetHeader("x-trace", false, Scalar("req")) }, map[string][]string{"X-Trace": {"req"}}},
		{"user agent from header param", nil, func(r *Request) { r.SetHeader("User-Agent", false, Scalar("mine")) },
			map[string][]string{"User-Agent": {"mine"}}},
		{"many headers", nil, func(r *Request) {
			for _, n := range []string{"A", "B", "C", "D", "E", "F", "G", "H"} {
				r.SetHeader("X-"+n, false, Scalar(n))
			}
		}, map[string][]string{"X-A": {"A"}, "X-H": {"H"}, "User-Agent": {DefaultUserAgent}}},
		{"absent and empty-list headers skipped", nil, func(r *Request) {
			r.SetHeader("X-Absent", false, Param{})
			r.SetHeader("X-Empty", false, List(nil))
		}, map[string][]string{"X-Absent": nil, "X-Empty": nil}},
		{"static cookie header merged", []Option{WithHeader("Cookie", "a=1")}, func(r *Request) { r.AddCookie("b", false, Scalar("2")) },
			map[string][]string{"Cookie": {"a=1; b=2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, srv.URL, tt.opts...)
			r := c.NewRequest(context.Background(), getLead)
			tt.build(r)
			send(t, c, r)
			req, _ := s.last(t)
			for k, want := range tt.want {
				got := req.Header[k]
				if strings.Join(got, "|") != strings.Join(want, "|") {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

// recorder is a middleware that notes its name and what it saw.
type recorder struct {
	name string
	log  *[]string
	mu   *sync.Mutex
	next http.RoundTripper
}

func (m recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	m.mu.Lock()
	*m.log = append(*m.log, m.name)
	m.mu.Unlock()
	return m.next.RoundTrip(req)
}

func TestMiddlewareOrderAndContext(t *testing.T) {
	srv, _ := newServer(t, nil)
	var log []string
	var mu sync.Mutex
	mw := func(name string) func(http.RoundTripper) http.RoundTripper {
		return func(next http.RoundTripper) http.RoundTripper { return recorder{name, &log, &mu, next} }
	}
	var gotOp *transport.Operation
	var gotInfo *transport.CallInfo
	inspect := func(next http.RoundTripper) http.RoundTripper {
		return rtFunc(func(req *http.Request) (*http.Response, error) {
			gotOp = transport.OperationFrom(req.Context())
			gotInfo = transport.CallInfoFrom(req.Context())
			if gotInfo != nil && gotInfo.Attempts != 0 {
				t.Errorf("fresh CallInfo must start at 0 attempts, got %d", gotInfo.Attempts)
			}
			return next.RoundTrip(req)
		})
	}
	innermost := rtFunc(func(req *http.Request) (*http.Response, error) {
		mu.Lock()
		log = append(log, "transport")
		mu.Unlock()
		return http.DefaultTransport.RoundTrip(req)
	})
	c := newClient(t, srv.URL, WithHTTPClient(&http.Client{Transport: innermost}),
		WithMiddleware(mw("a"), mw("b")), WithMiddleware(mw("c"), inspect))
	for i := 0; i < 2; i++ {
		send(t, c, c.NewRequest(context.Background(), getLead))
		if gotOp != getLead || gotInfo == nil {
			t.Fatalf("context: op=%v info=%v", gotOp, gotInfo)
		}
	}
	if got := strings.Join(log, " "); got != "a b c transport a b c transport" {
		t.Fatalf("order: %s", got)
	}
}

type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestWithHTTPClient(t *testing.T) {
	t.Run("custom transport sees the request", func(t *testing.T) {
		var got *http.Request
		hc := &http.Client{Transport: rtFunc(func(r *http.Request) (*http.Response, error) {
			got = r
			return &http.Response{StatusCode: 204, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
		})}
		c := newClient(t, "https://api.example.com/v2", WithHTTPClient(hc))
		r := c.NewRequest(context.Background(), getLead)
		r.AppendPath("/leads/")
		r.AppendPathParam("id", StyleSimple, false, Scalar("42"))
		resp := send(t, c, r)
		if resp.StatusCode != 204 || got == nil || got.URL.String() != "https://api.example.com/v2/leads/42" || got.Host != "api.example.com" {
			t.Fatalf("transport saw %v", got)
		}
	})
	t.Run("timeout applies", func(t *testing.T) {
		srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
		})
		c := newClient(t, srv.URL, WithHTTPClient(&http.Client{Timeout: 50 * time.Millisecond}))
		_, err := c.Do(c.NewRequest(context.Background(), getLead))
		if !errors.Is(err, transport.ErrTimeout) || errors.Is(err, transport.ErrNetwork) {
			t.Fatalf("want ErrTimeout, got %v", err)
		}
	})
	t.Run("check redirect applies", func(t *testing.T) {
		srv, s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/start" {
				http.Redirect(w, r, "/end", http.StatusFound)
			}
		})
		hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		c := newClient(t, srv.URL, WithHTTPClient(hc))
		r := c.NewRequest(context.Background(), getLead)
		r.AppendPath("/start")
		if resp := send(t, c, r); resp.StatusCode != http.StatusFound {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if req, _ := s.last(t); req.URL.Path != "/start" {
			t.Fatal("redirect was followed")
		}
		// Without CheckRedirect the default policy follows it.
		c = newClient(t, srv.URL)
		r = c.NewRequest(context.Background(), getLead)
		r.AppendPath("/start")
		if resp := send(t, c, r); resp.StatusCode != 200 || resp.Request.URL.Path != "/end" {
			t.Fatalf("default policy: %d %s", resp.StatusCode, resp.Request.URL.Path)
		}
	})
	t.Run("jar applies", func(t *testing.T) {
		srv, s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: "s1", Path: "/"})
		})
		jar, _ := cookiejar.New(nil)
		c := newClient(t, srv.URL, WithHTTPClient(&http.Client{Jar: jar}))
		send(t, c, c.NewRequest(context.Background(), getLead))
		r := c.NewRequest(context.Background(), getLead)
		r.AddCookie("pref", false, Scalar("x"))
		send(t, c, r)
		req, _ := s.last(t)
		if ck, err := req.Cookie("sid"); err != nil || ck.Value != "s1" {
			t.Fatalf("jar cookie not sent: %q", req.Header["Cookie"])
		}
		if ck, err := req.Cookie("pref"); err != nil || ck.Value != "x" {
			t.Fatalf("param cookie lost: %q", req.Header["Cookie"])
		}
	})
	t.Run("TLS server with its client", func(t *testing.T) {
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"ok":true}`) }))
		defer srv.Close()
		c := newClient(t, srv.URL, WithHTTPClient(srv.Client()))
		var v struct{ OK bool }
		if err := DecodeJSON(send(t, c, c.NewRequest(context.Background(), getLead)), &v); err != nil || !v.OK {
			t.Fatalf("%v %v", v, err)
		}
	})
}

func TestDoErrorClassification(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		c := newClient(t, "http://"+addr+"/v1", WithoutRetries())
		r := c.NewRequest(context.Background(), getLead)
		r.AppendPath("/leads")
		r.AddQuery("api_key", StyleForm, true, Scalar("SECRET"))
		_, err = c.Do(r)
		if !errors.Is(err, transport.ErrNetwork) || errors.Is(err, transport.ErrTimeout) {
			t.Fatalf("want ErrNetwork: %v", err)
		}
		var se *SendError
		var ue *url.Error
		if !errors.As(err, &se) || !errors.As(err, &ue) {
			t.Fatalf("want *SendError wrapping *url.Error: %T", err)
		}
		if se.URL != "http://"+addr+"/v1/leads" || se.Method != "GET" || se.Operation != "getLead" || se.Kind() != transport.ErrNetwork {
			t.Fatalf("SendError fields: %+v", se)
		}
		if strings.Contains(err.Error(), "SECRET") || !strings.Contains(err.Error(), "getLead: GET http://"+addr+"/v1/leads: ") {
			t.Fatalf("message: %v", err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
		c := newClient(t, srv.URL)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		_, err := c.Do(c.NewRequest(ctx, getLead))
		if !errors.Is(err, transport.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, transport.ErrNetwork) {
			t.Fatalf("want ErrTimeout and DeadlineExceeded: %v", err)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
		c := newClient(t, srv.URL)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		_, err := c.Do(c.NewRequest(ctx, getLead))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("want context.Canceled: %v", err)
		}
		for k := transport.ErrUnknown; k <= transport.ErrAuth; k++ {
			if errors.Is(err, k) {
				t.Fatalf("cancellation must not match %v", k)
			}
		}
	})
	t.Run("already canceled", func(t *testing.T) {
		c := newClient(t, "https://api.example.com")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := c.Do(c.NewRequest(ctx, getLead)); !errors.Is(err, context.Canceled) {
			t.Fatalf("want context.Canceled: %v", err)
		}
	})
	t.Run("middleware kind preserved", func(t *testing.T) {
		authFail := func(http.RoundTripper) http.RoundTripper {
			return rtFunc(func(*http.Request) (*http.Response, error) {
				return nil, errors.Join(transport.ErrAuth, errors.New("invalid_grant"))
			})
		}
		c := newClient(t, "https://api.example.com", WithMiddleware(authFail))
		_, err := c.Do(c.NewRequest(context.Background(), getLead))
		if !errors.Is(err, transport.ErrAuth) || errors.Is(err, transport.ErrNetwork) || !strings.Contains(err.Error(), "invalid_grant") {
			t.Fatalf("want ErrAuth: %v", err)
		}
	})
	t.Run("reset connection", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				if tc, ok := conn.(*net.TCPConn); ok {
					tc.SetLinger(0)
				}
				buf := make([]byte, 1024)
				conn.Read(buf)
				conn.Close()
			}
		}()
		c := newClient(t, "http://"+ln.Addr().String(), WithoutRetries())
		if _, err := c.Do(c.NewRequest(context.Background(), getLead)); !errors.Is(err, transport.ErrNetwork) {
			t.Fatalf("want ErrNetwork: %v", err)
		}
	})
}
