package email_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/golden/crmemail/email"
	"github.com/connectorgen/connectorgen/runtime/auth"
	"github.com/connectorgen/connectorgen/runtime/rest"
	"github.com/connectorgen/connectorgen/runtime/secret"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

// TestNoSecretInLogsOrErrors drives the generated Postbox client, which
// authenticates with an API key in the X-API-Key header, through success
// and every failure path with Debug logging of headers and bodies, and
// checks that the key appears in no log line and no error string.
func TestNoSecretInLogsOrErrors(t *testing.T) {
	const apiKey = "pbx-live-S3CRET-0123456789"
	var logs lockedBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var errs []string
	record := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: want an error", what)
			return
		}
		errs = append(errs, errorStrings(err)...)
	}
	// The API echoes the key in a secret-named field, in a cookie and in
	// prose ("api_key=…"), and fails on cue: the member ID names the fault.
	var sawKey atomic.Bool
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("X-Api-Key")
		sawKey.CompareAndSwap(false, key == apiKey)
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Set-Cookie", "pbx_session="+key)
		parts := strings.Split(r.URL.Path, "/")
		fault := parts[len(parts)-1]
		if r.Method == http.MethodPost {
			fault = "ok"
		}
		w.Header().Set("Content-Type", "application/problem+json")
		switch fault {
		case "401", "403", "404", "500", "503":
			var code int
			fmt.Sscan(fault, &code)
			w.WriteHeader(code)
			fmt.Fprintf(w, `{"type":"about:blank","title":"failed","status":%d,"detail":"request with api_key=%s failed","api_key":%q}`, code, key, key)
		case "429":
			w.Header().Set("Retry-After", time.Now().Add(2*time.Hour).UTC().Format(http.TimeFormat))
			w.WriteHeader(429)
			io.WriteString(w, `{"type":"about:blank","title":"slow down","status":429}`)
		case "reset":
			reset(w, r)
		case "slow":
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
		case "malformed":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"id":"x","apiKey":%q,"email_address":`, key)
		default:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"id":"x","email_address":"a@example.com","status":"subscribed","x_api_key":%q}`, key)
		}
	}))
	defer api.Close()

	retry := transport.RetryConfig{BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond, MaxAttempts: 2, AttemptTimeout: 100 * time.Millisecond}
	newClient := func(opts ...email.Option) *email.Client {
		t.Helper()
		all := append([]email.Option{rest.WithLogger(logger),
			rest.WithLogConfig(transport.LogConfig{Level: slog.LevelDebug, Bodies: true}), rest.WithRetry(retry),
			rest.WithCredential(email.SecurityAPIKey, auth.APIKeyHeader("X-API-Key", secret.New(apiKey)))}, opts...)
		c, err := email.NewClient(api.URL+"/3.0", all...)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	get := func(c *email.Client, id string) error {
		_, err := c.GetMember(context.Background(), email.GetMemberParams{ListID: "l1", MemberID: id})
		return err
	}

	c := newClient(rest.WithBreaker(transport.BreakerConfig{Disabled: true}))
	if err := get(c, "ok"); err != nil {
		t.Fatal(err)
	}
	if _, err := addMember(c, "key-1"); err != nil {
		t.Fatal(err)
	}
	for _, fault := range []string{"401", "403", "404", "500", "503", "reset", "slow", "malformed"} {
		record(fault, get(c, fault))
	}
	c = newClient()
	record("429", get(c, "429"))
	record("held by the limiter", get(c, "ok"))
	c = newClient(rest.WithBreaker(transport.BreakerConfig{Threshold: 1, CoolDown: time.Hour}))
	record("breaker trips", get(c, "500"))
	record("breaker open", get(c, "ok"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.GetMember(ctx, email.GetMemberParams{ListID: "l1", MemberID: "ok"})
	record("cancelled", err)
	// No key configured for the scheme.
	bare, err := email.NewClient(api.URL, rest.WithLogger(logger), rest.WithCredential("other", auth.APIKeyHeader("X-Other", secret.New(apiKey))))
	if err != nil {
		t.Fatal(err)
	}
	record("missing key", get(bare, "ok"))

	if !sawKey.Load() {
		t.Fatal("the API never received the key; the test proves nothing")
	}
	out := logs.String()
	if !strings.Contains(out, `"request_headers"`) || !strings.Contains(out, "X-Api-Key: [REDACTED]") {
		t.Fatalf("debug logging did not happen:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, apiKey) || strings.Contains(line, "S3CRET") {
			t.Errorf("log line leaks the key: %s", line)
		}
	}
	for _, e := range errs {
		if strings.Contains(e, "S3CRET") {
			t.Errorf("error leaks the key: %s", e)
		}
	}
	t.Logf("%d log lines, %d error strings checked", strings.Count(out, "\n"), len(errs))
}
