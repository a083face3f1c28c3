package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/connectorgen/connectorgen/runtime/observe"
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("bad log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

type staticAuth struct{}

func (staticAuth) Wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set("X-Custom-Key", "hdr-secret-1")
		q := r.URL.Query()
		q.Set("my_key", "query-secret-2")
		r.URL.RawQuery = q.Encode()
		return next.RoundTrip(r)
	})
}
func (staticAuth) SensitiveNames() ([]string, []string) {
	return []string{"x-custom-key"}, []string{"my_key"}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestObserverLogsOneRedactedRecordPerAttempt(t *testing.T) {
	var h hits
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "session=cookie-secret-3")
		w.Header().Set("Content-Type", "application/json")
		if h.inc() == 1 {
			w.WriteHeader(503)
			_, _ = w.Write([]byte(`{"error":"busy","access_token":"resp-secret-4"}`))
			return
		}
		_, _ = w.Write([]byte(`{"id":1,"nested":{"client_secret":"resp-secret-5","list":[1,2]},"name":"visible"}`))
	}))
	defer srv.Close()
	var buf syncBuffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mem := observe.NewMemory(observe.MemoryOptions{})
	cfg := Config{System: "crm", Auth: staticAuth{}, Logger: logger, Observer: mem, Clock: newFakeClock(),
		Log: LogConfig{Bodies: true, Level: slog.LevelDebug}}
	c := &http.Client{Transport: Chain(cfg, nil)}
	body := `{"email":"a@b.c","password":"req-secret-6","refreshToken":"req-secret-7"}`
	op := &Operation{ID: "updateLead", Method: "PUT", Idempotent: true}
	req, _ := newReq(t, context.Background(), op, srv.URL+"/leads/1?api_key=query-secret-8&page=2", body)
	req.Header.Set("Authorization", "Bearer auth-secret-9")
	req.Header.Set("Cookie", "sid=cookie-secret-10")
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, resp); !strings.Contains(got, "resp-secret-5") {
		t.Fatalf("caller did not get the full body: %q", got)
	}
	out := buf.String()
	for _, s := range []string{"hdr-secret-1", "query-secret-2", "cookie-secret-3", "resp-secret-4", "resp-secret-5",
		"req-secret-6", "req-secret-7", "query-secret-8", "auth-secret-9", "cookie-secret-10"} {
		if strings.Contains(out, s) {
			t.Errorf("log leaks %s", s)
		}
	}
	recs := buf.records(t)
	if len(recs) != 2 {
		t.Fatalf("%d records:\n%s", len(recs), out)
	}
	first, second := recs[0], recs[1]
	if first["level"] != "WARN" || first["status"] != float64(503) || first["attempt"] != float64(1) || first["operation"] != "updateLead" {
		t.Errorf("first record %v", first)
	}
	if second["level"] != "DEBUG" || second["attempt"] != float64(2) || second["retry_reason"] != "503" || second["retry_wait"] == nil {
		t.Errorf("second record %v", second)
	}
	u, _ := second["url"].(string)
	if !strings.Contains(u, "page=2") || !strings.Contains(u, "api_key="+Redacted) || !strings.Contains(u, "my_key="+Redacted) {
		t.Errorf("url %q", u)
	}
	rb, _ := second["response_body"].(string)
	if !strings.Contains(rb, `"name":"visible"`) || !strings.Contains(rb, `"client_secret":"[REDACTED]"`) {
		t.Errorf("response body %q", rb)
	}
	qb, _ := second["request_body"].(string)
	if !strings.Contains(qb, `"email":"a@b.c"`) || !strings.Contains(qb, `"password":"[REDACTED]"`) {
		t.Errorf("request body %q", qb)
	}
	hdrs, _ := second["request_headers"].([]any)
	if !strings.Contains(strings.Join(anyStrings(hdrs), "\n"), "Authorization: [REDACTED]") {
		t.Errorf("headers %v", hdrs)
	}
	st := mem.Snapshot().Operation("crm", "updateLead")
	if st.Attempts[observe.OutcomeServerError] != 1 || st.Attempts[observe.OutcomeSuccess] != 1 || st.Calls[observe.OutcomeSuccess] != 1 || st.Retries["503"] != 1 {
		t.Errorf("metrics %+v", st)
	}
}

func anyStrings(v []any) []string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i], _ = x.(string)
	}
	return out
}

func TestObserverInfoLevelHasNoHeadersOrBodies(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"a":1}`)) }))
	defer srv.Close()
	var buf syncBuffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil)) // Info
	c := &http.Client{Transport: Chain(Config{Logger: logger, Log: LogConfig{Bodies: true}}, nil)}
	req, _ := newReq(t, context.Background(), getOp, srv.URL, "")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	recs := buf.records(t)
	if len(recs) != 1 || recs[0]["request_headers"] != nil || recs[0]["response_body"] != nil || recs[0]["level"] != "INFO" {
		t.Fatalf("records %v", recs)
	}
}

func TestObserverBodyBounded(t *testing.T) {
	big := `{"data":"` + strings.Repeat("x", 10000) + `"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(big))
	}))
	defer srv.Close()
	var buf syncBuffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := &http.Client{Transport: Chain(Config{Logger: logger, Log: LogConfig{Bodies: true, MaxBody: 100}}, nil)}
	req, _ := newReq(t, context.Background(), getOp, srv.URL, "")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, resp); got != big {
		t.Fatalf("caller body altered (%d bytes)", len(got))
	}
	if n := len(buf.String()); n > 2000 {
		t.Fatalf("log record %d bytes", n)
	}
}
