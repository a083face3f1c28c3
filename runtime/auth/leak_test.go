package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/connectorgen/connectorgen/runtime/observe"
	"github.com/connectorgen/connectorgen/runtime/secret"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

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

// TestNoSecretInLogsOrErrors drives every credential kind through success and
// every failure path with debug logging of headers and bodies, and checks
// that no secret value appears in any log line or error string.
func TestNoSecretInLogsOrErrors(t *testing.T) {
	secrets := []string{"hdrkey-S3CR3T", "qrykey-S3CR3T", "cookiekey-S3CR3T", "basicpw-S3CR3T", "bearer-S3CR3T",
		"client-secret-XYZ", "refresh-S3CR3T", "access-1", "access-2", "access-3", "revoked-S3CR3T",
		base64.StdEncoding.EncodeToString([]byte("basic-user:basicpw-S3CR3T"))}

	var logs lockedBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var errStrings []string
	record := func(err error) {
		if err != nil {
			errStrings = append(errStrings, err.Error(), fmt.Sprintf("%v|%+v|%s|%q", err, err, err, err))
			for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(u) {
				errStrings = append(errStrings, u.Error())
			}
		}
	}

	// The API echoes what it received in secret-named JSON fields, and
	// answers 401 to the "revoked" tokens and on /deny.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer other.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Set-Cookie", "session=cookiekey-S3CR3T")
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, other.URL+"/x", http.StatusFound)
			return
		}
		if strings.Contains(r.Header.Get("Authorization"), "revoked") || r.URL.Path == "/deny" {
			w.WriteHeader(401)
		}
		fmt.Fprintf(w, `{"authorization":%q,"api_key":%q,"cookie":%q,"nested":{"client_secret":%q}}`,
			r.Header.Get("Authorization"), r.Header.Get("X-Api-Key")+r.URL.Query().Get("api_key"), r.Header.Get("Cookie"), "client-secret-XYZ")
	}))
	defer api.Close()
	ts := newTokenServer(t)
	defer ts.Close()
	ts.rotate = true

	oauthCC, _ := ClientCredentials(OAuthConfig{TokenURL: ts.URL, ClientID: "client-id", ClientSecret: secret.New("client-secret-XYZ"),
		Token:  &oauth2.Token{AccessToken: "revoked-S3CR3T", TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)},
		Logger: logger, OnToken: func(context.Context, *oauth2.Token) error { return errors.New("state store down") }})
	oauthRT, _ := RefreshToken(OAuthConfig{TokenURL: ts.URL, ClientID: "client-id", ClientSecret: secret.New("client-secret-XYZ"),
		RefreshToken: secret.New("refresh-S3CR3T"), Logger: logger})
	set, err := NewSet(api.URL)
	if err != nil {
		t.Fatal(err)
	}
	set.Add("hdr", APIKeyHeader("X-Api-Key", secret.New("hdrkey-S3CR3T"))).
		Add("qry", APIKeyQuery("api_key", secret.New("qrykey-S3CR3T"))).
		Add("ck", APIKeyCookie("sid", secret.New("cookiekey-S3CR3T"))).
		Add("basic", Basic("basic-user", secret.New("basicpw-S3CR3T"))).
		Add("bearer", Bearer(secret.New("bearer-S3CR3T"))).
		Add("cc", oauthCC).
		Add("rt", oauthRT)
	chain := transport.Chain(transport.Config{System: "crm", Auth: set, Logger: logger, Observer: observe.NewMemory(observe.MemoryOptions{}),
		Log: transport.LogConfig{Bodies: true}, Retry: transport.RetryConfig{MaxAttempts: 2, BaseDelay: time.Millisecond}}, nil)
	c := &http.Client{Transport: chain}
	call := func(scheme, path string) {
		op := &transport.Operation{ID: "op_" + scheme, Method: "POST", Idempotent: true,
			Security: []transport.SecurityRequirement{{scheme}}}
		req, err := http.NewRequestWithContext(transport.WithOperation(context.Background(), op), "POST", api.URL+path,
			strings.NewReader(`{"password":"basicpw-S3CR3T","refresh_token":"refresh-S3CR3T"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := do(t, c, req)
		record(err)
		_ = resp
	}
	for _, scheme := range []string{"hdr", "qry", "ck", "basic", "bearer", "cc", "rt"} {
		call(scheme, "/ok")
		call(scheme, "/deny")     // 401 (forced refresh for OAuth)
		call(scheme, "/redirect") // cross-origin redirect
	}
	call("missing", "/ok") // missing credentials
	// Token endpoint failures: transient 500, then invalid_grant.
	oauthRT2, _ := RefreshToken(OAuthConfig{TokenURL: ts.URL, ClientID: "client-id", ClientSecret: secret.New("client-secret-XYZ"),
		RefreshToken: secret.New("refresh-S3CR3T")})
	set.Add("rt2", oauthRT2)
	ts.setFail("500")
	call("rt2", "/ok")
	ts.setFail("invalid_grant")
	call("rt2", "/ok")
	call("rt2", "/ok")
	// Network failure with an API key in the query.
	dead := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	deadURL := dead.URL
	dead.Close()
	deadSet, _ := NewSet(deadURL)
	deadSet.Add("qry", APIKeyQuery("api_key", secret.New("qrykey-S3CR3T")))
	dc := &http.Client{Transport: transport.Chain(transport.Config{Auth: deadSet, Logger: logger, Retry: transport.RetryConfig{MaxAttempts: 2, BaseDelay: time.Millisecond}}, nil)}
	req, _ := http.NewRequestWithContext(transport.WithOperation(context.Background(),
		&transport.Operation{ID: "x", Method: "GET", Security: []transport.SecurityRequirement{{"qry"}}}), "GET", deadURL+"/x?page=1", nil)
	_, err = dc.Do(req)
	if err == nil {
		t.Fatal("dead server answered")
	}
	record(err)

	out := logs.String()
	if testing.Verbose() {
		t.Log(out)
	}
	if strings.Count(out, "\n") < 20 {
		t.Fatalf("too few log lines to be meaningful:\n%s", out)
	}
	if len(errStrings) < 5 {
		t.Fatalf("too few errors: %v", errStrings)
	}
	all := out + "\n" + strings.Join(errStrings, "\n")
	for _, s := range secrets {
		if strings.Contains(all, s) {
			for _, line := range strings.Split(all, "\n") {
				if strings.Contains(line, s) {
					t.Errorf("secret %q leaked in: %s", s, line)
				}
			}
		}
	}
	// Sanity: the failure paths really happened.
	for _, want := range []string{"re-authorisation required", "needs credentials", "cannot obtain token", "state store down", `"status":401`} {
		if !strings.Contains(all, want) {
			t.Errorf("expected %q in logs or errors", want)
		}
	}
}
