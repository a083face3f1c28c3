package rest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/connectorgen/connectorgen/runtime/transport"
)

type apiError struct {
	Message string `json:"message"`
}

func decodeAPIError(status int, body []byte) any {
	var e apiError
	if json.Unmarshal(body, &e) != nil {
		return nil
	}
	return &e
}

func TestNewError(t *testing.T) {
	long := strings.Repeat("x", 5000)
	tests := []struct {
		name      string
		status    int
		headers   map[string]string
		body      string
		opts      []Option
		attempts  int // MaxAttempts of the real retry middleware (0: no retries)
		kind      transport.Kind
		wantBody  string
		wantModel any
		wantID    string
		wantMsg   string
	}{
		{name: "404 with model", status: 404, headers: map[string]string{"X-Request-Id": "req-1"},
			body: `{"message":"no such lead"}`, kind: transport.ErrClient, wantBody: `{"message":"no such lead"}`,
			wantModel: &apiError{"no such lead"}, wantID: "req-1",
			wantMsg: `getLead: GET {base}/v1/leads/42: 404 Not Found: {"message":"no such lead"}`},
		{name: "401", status: 401, body: `{}`, kind: transport.ErrAuth, wantBody: `{}`, wantModel: &apiError{},
			wantMsg: `getLead: GET {base}/v1/leads/42: 401 Unauthorized: {}`},
		{name: "403 github id", status: 403, headers: map[string]string{"X-GitHub-Request-Id": "gh-9"}, body: "",
			kind: transport.ErrAuth, wantID: "gh-9", wantMsg: `getLead: GET {base}/v1/leads/42: 403 Forbidden`},
		{name: "408", status: 408, kind: transport.ErrTimeout, wantMsg: "408 Request Timeout"},
		{name: "429 retried", status: 429, attempts: 4, headers: map[string]string{"Request-Id": "r2", "Cf-Ray": "ray"},
			body: "slow down", kind: transport.ErrRateLimited, wantBody: "slow down", wantID: "r2", wantMsg: "429 Too Many Requests: slow down"},
		{name: "503 html", status: 503, headers: map[string]string{"CF-Ray": "ray-1"}, body: "<html>\n<body>down</body>\n</html>",
			kind: transport.ErrServer, wantBody: "<html>\n<body>down</body>\n</html>", wantID: "ray-1",
			wantMsg: "503 Service Unavailable: <html> <body>down</body> </html>"},
		{name: "amazon id", status: 500, headers: map[string]string{"X-Amzn-RequestId": "amz"}, kind: transport.ErrServer, wantID: "amz"},
		{name: "unknown status", status: 599, body: "?", kind: transport.ErrServer, wantBody: "?", wantMsg: "599: ?"},
		{name: "bounded body", status: 400, body: long, opts: []Option{WithMaxErrorBody(100)}, kind: transport.ErrClient,
			wantBody: long[:100], wantMsg: "400 Bad Request: " + long[:100] + "…"},
		{name: "default bound", status: 400, body: strings.Repeat("y", 70000), kind: transport.ErrClient,
			wantBody: strings.Repeat("y", DefaultMaxErrorBody), wantMsg: "400 Bad Request: " + strings.Repeat("y", 200) + "…"},
		{name: "no body kept", status: 400, body: "secret", opts: []Option{WithMaxErrorBody(0)}, kind: transport.ErrClient,
			wantMsg: "400 Bad Request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.headers {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			retry := WithoutRetries()
			if tt.attempts > 0 {
				retry = WithRetry(transport.RetryConfig{MaxAttempts: tt.attempts, BaseDelay: time.Millisecond})
			}
			c := newClient(t, srv.URL+"/v1", append(tt.opts, retry)...)
			r := c.NewRequest(context.Background(), getLead)
			r.AppendPath("/leads/")
			r.AppendPathParam("id", StyleSimple, false, Scalar("42"))
			r.AddQuery("api_key", StyleForm, true, Scalar("SECRET"))
			resp, err := c.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			err = c.NewError(r, resp, decodeAPIError)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("want *Error, got %T", err)
			}
			if e.StatusCode != tt.status || e.Operation != "getLead" || e.Method != "GET" || e.URL != srv.URL+"/v1/leads/42" {
				t.Fatalf("fields: %+v", e)
			}
			if string(e.Body) != tt.wantBody || e.RequestID != tt.wantID {
				t.Fatalf("body %q (len %d) id %q", snippet(e.Body, 50), len(e.Body), e.RequestID)
			}
			wantAttempts := max(tt.attempts, 1)
			if e.Attempts != wantAttempts {
				t.Fatalf("attempts %d want %d", e.Attempts, wantAttempts)
			}
			if tt.wantModel != nil {
				if got, _ := json.Marshal(e.Model); string(got) != mustJSON(tt.wantModel) {
					t.Fatalf("model %s", got)
				}
			}
			if e.Kind() != tt.kind || !errors.Is(err, tt.kind) {
				t.Fatalf("kind %v want %v", e.Kind(), tt.kind)
			}
			for k := transport.ErrUnknown; k <= transport.ErrAuth; k++ {
				if k != tt.kind && errors.Is(err, k) {
					t.Fatalf("also matches %v", k)
				}
			}
			msg := err.Error()
			want := strings.ReplaceAll(tt.wantMsg, "{base}", srv.URL)
			if !strings.Contains(msg, want) {
				t.Fatalf("message %q\nwant it to contain %q", msg, want)
			}
			if strings.Contains(msg, "SECRET") || strings.Contains(e.URL, "?") || strings.Contains(msg, "\n") {
				t.Fatalf("message leaks the query or spans lines: %q", msg)
			}
			if _, err := resp.Body.Read(make([]byte, 1)); err == nil {
				t.Fatal("body must be closed")
			}
		})
	}
	// nil decode, nil request, nil response.
	resp := &http.Response{StatusCode: 500, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("boom"))}
	err := (*Client)(nil).NewError(nil, resp, nil)
	var e *Error
	if !errors.As(err, &e) || e.Model != nil || string(e.Body) != "boom" || e.Attempts != 1 || e.Error() != "500 Internal Server Error: boom" {
		t.Fatalf("minimal: %+v %v", e, err)
	}
	if err := newClient(t, "https://x.example").NewError(nil, nil, nil); err == nil {
		t.Fatal("nil response")
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestErrorMessageSnippet(t *testing.T) {
	tests := []struct {
		body, want string
	}{
		{"", "404 Not Found"},
		{"  \n ", "404 Not Found"},
		{"a\r\nb\tc", "404 Not Found: a  b c"},
		{"bad \xff utf8", "404 Not Found: bad \uFFFD utf8"},
		{strings.Repeat("é", 150), "404 Not Found: " + strings.Repeat("é", 100) + "…"},
		{strings.Repeat("a", 199) + "é", "404 Not Found: " + strings.Repeat("a", 199) + "…"},
	}
	for _, tt := range tests {
		e := &Error{StatusCode: 404, Body: []byte(tt.body)}
		got := e.Error()
		if got != tt.want || !utf8.ValidString(got) {
			t.Errorf("body %q: got %q want %q", tt.body, got, tt.want)
		}
	}
}

func TestDecodeJSON(t *testing.T) {
	type lead struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	tests := []struct {
		name    string
		body    string
		chunked bool
		ct      string
		wantErr string
		want    lead
	}{
		{name: "ok", body: `{"id":42,"name":"Ada"}`, want: lead{42, "Ada"}},
		{name: "ok chunked", body: `{"id":1,"name":"` + strings.Repeat("n", 3000) + `"}`, chunked: true, want: lead{1, strings.Repeat("n", 3000)}},
		{name: "whitespace", body: " \n{\"id\":7}\n", want: lead{ID: 7}},
		{name: "malformed", body: `{"id":42,`, wantErr: "unexpected end of JSON input"},
		{name: "html", body: "<html>\n<p>Bad gateway</p></html>", ct: "text/html", wantErr: "invalid character '<'"},
		{name: "wrong type", body: `{"id":"x"}`, wantErr: "cannot unmarshal string"},
		{name: "trailing data", body: `{"id":1} {"id":2}`, wantErr: "invalid character"},
		{name: "empty", body: "", wantErr: "empty body"},
		{name: "long malformed", body: "[" + strings.Repeat(`"x",`, 1000), wantErr: "unexpected end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ct := tt.ct
				if ct == "" {
					ct = "application/json"
				}
				w.Header().Set("Content-Type", ct)
				if !tt.chunked {
					w.Header().Set("Content-Length", strconv.Itoa(len(tt.body)))
				}
				io.WriteString(w, tt.body)
				if tt.chunked {
					w.(http.Flusher).Flush()
				}
			}))
			defer srv.Close()
			c := newClient(t, srv.URL)
			resp, err := c.Do(c.NewRequest(context.Background(), getLead))
			if err != nil {
				t.Fatal(err)
			}
			var got lead
			err = DecodeJSON(resp, &got)
			if tt.wantErr == "" {
				if err != nil || got != tt.want {
					t.Fatalf("got %+v, %v", got, err)
				}
				return
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("want *DecodeError, got %T %v", err, err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, transport.ErrValidation) || de.Kind() != transport.ErrValidation {
				t.Fatalf("error %v", err)
			}
			if de.Operation != "getLead" || de.StatusCode != 200 || de.ContentType == "" || len(de.Snippet) > 512+len("…") {
				t.Fatalf("fields %+v", de)
			}
			if tt.body != "" && !strings.HasPrefix(strings.ReplaceAll(tt.body, "\n", " "), strings.TrimSuffix(de.Snippet, "…")[:5]) {
				t.Fatalf("snippet %q", de.Snippet)
			}
			if errors.Unwrap(err) == nil {
				t.Fatal("Unwrap")
			}
		})
	}
	if err := DecodeJSON(nil, new(any)); err == nil {
		t.Fatal("nil response")
	}
	// A body that fails mid-read is reported with the read error.
	resp := &http.Response{StatusCode: 200, Header: http.Header{}, ContentLength: -1,
		Body: io.NopCloser(io.MultiReader(strings.NewReader(`{"id"`), errReader{})), Request: httptest.NewRequest("GET", "/", nil)}
	if err := DecodeJSON(resp, new(any)); err == nil || !strings.Contains(err.Error(), "reading the body") || !errors.Is(err, transport.ErrNetwork) {
		t.Fatalf("read failure: %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset by peer") }

func TestReadBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("z", 10000))
	}))
	defer srv.Close()
	c := newClient(t, srv.URL)
	resp, err := c.Do(c.NewRequest(context.Background(), getLead))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ReadBody(resp)
	if err != nil || len(b) != 10000 {
		t.Fatalf("%d %v", len(b), err)
	}
	if _, err := ReadBody(&http.Response{}); err == nil {
		t.Fatal("no body")
	}
	// A lying Content-Length does not cause a huge allocation.
	b, err = ReadBody(&http.Response{ContentLength: 1 << 40, Body: io.NopCloser(strings.NewReader("small"))})
	if err != nil || string(b) != "small" {
		t.Fatalf("%q %v", b, err)
	}
	b, err = readAll(strings.NewReader("exact"), 5)
	if err != nil || string(b) != "exact" {
		t.Fatalf("%q %v", b, err)
	}
	b, err = readAll(strings.NewReader("longer than said"), 3)
	if err != nil || string(b) != "longer than said" {
		t.Fatalf("%q %v", b, err)
	}
}

func TestNextLink(t *testing.T) {
	tests := []struct {
		name  string
		links []string
		want  string
	}{
		{"none", nil, ""},
		{"single", []string{`<https://api.example.com/items?page=2>; rel="next"`}, "https://api.example.com/items?page=2"},
		{"unquoted rel", []string{`<https://x/2>; rel=next`}, "https://x/2"},
		{"github style", []string{`<https://api.github.com/repos?page=1>; rel="prev", <https://api.github.com/repos?page=3>; rel="next", <https://api.github.com/repos?page=5>; rel="last"`},
			"https://api.github.com/repos?page=3"},
		{"rel list", []string{`<https://x/last>; rel="last next"`}, "https://x/last"},
		{"case insensitive", []string{`<https://x/n>; REL="Next"`}, "https://x/n"},
		{"several headers", []string{`<https://x/p>; rel="prev"`, `<https://x/n>; rel="next"`}, "https://x/n"},
		{"first next wins", []string{`<https://x/a>; rel="next"`, `<https://x/b>; rel="next"`}, "https://x/a"},
		{"comma in URL", []string{`<https://x/items?ids=1,2,3>; rel="next"`}, "https://x/items?ids=1,2,3"},
		{"quoted params with commas and semicolons", []string{`<https://x/a>; title="a, b; rel=next"; rel="prev", <https://x/b>; rel="next"`}, "https://x/b"},
		{"other params first", []string{`<https://x/n>; type="application/json"; rel="next"; title=Next`}, "https://x/n"},
		{"relative", []string{`</items?cursor=abc>; rel="next"`}, "/items?cursor=abc"},
		{"no space", []string{`<https://x/n>;rel=next`}, "https://x/n"},
		{"nextish is not next", []string{`<https://x/n>; rel="next-archive"`}, ""},
		{"next in title only", []string{`<https://x/n>; title="next"`}, ""},
		{"escaped quote", []string{`<https://x/a>; title="say \"hi\", rel=next"; rel=prev, <https://x/b>; rel=next`}, "https://x/b"},
		{"malformed then good", []string{`garbage, <https://x/n>; rel="next"`}, "https://x/n"},
		{"unterminated", []string{`<https://x/n; rel="next"`}, ""},
		{"empty", []string{``}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, l := range tt.links {
				h.Add("Link", l)
			}
			if got := NextLink(h); got != tt.want {
				t.Fatalf("got %q want %q", got, tt.want)
			}
		})
	}
	req := httptest.NewRequest("GET", "https://api.example.com/v1/items?page=1", nil)
	resp := &http.Response{Header: http.Header{"Link": {`<?page=2>; rel="next"`}}, Request: req}
	if got := NextLinkURL(resp); got != "https://api.example.com/v1/items?page=2" {
		t.Fatalf("NextLinkURL = %q", got)
	}
	if NextLinkURL(&http.Response{Header: http.Header{}}) != "" || NextLinkURL(nil) != "" {
		t.Fatal("NextLinkURL without link")
	}
}

func TestErrorTextRedactsEchoedSecrets(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/bad" {
			w.WriteHeader(401)
			io.WriteString(w, `{"message":"token Bearer tok-S3CRET rejected","api_key":"key-S3CRET"}`)
			return
		}
		io.WriteString(w, `{"id":1,"client_secret":"cs-S3CRET","x":`)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, WithoutRetries())
	r := c.NewRequest(context.Background(), getLead)
	r.AppendPath("/bad")
	resp := send(t, c, r)
	err := c.NewError(r, resp, nil)
	if msg := err.Error(); strings.Contains(msg, "S3CRET") || !strings.Contains(msg, "token Bearer [REDACTED] rejected") {
		t.Fatalf("error text: %s", msg)
	}
	var e *Error
	if !errors.As(err, &e) || !strings.Contains(string(e.Body), "key-S3CRET") {
		t.Fatal("Body keeps the raw bytes")
	}
	var v map[string]any
	err = DecodeJSON(send(t, c, c.NewRequest(context.Background(), getLead)), &v)
	var de *DecodeError
	if !errors.As(err, &de) || strings.Contains(err.Error(), "S3CRET") || !strings.Contains(de.Snippet, `"client_secret":"[REDACTED]"`) {
		t.Fatalf("decode error: %v", err)
	}
}
