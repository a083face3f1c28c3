package crm_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/connectorgen/connectorgen/golden/crmemail/crm"
	"github.com/connectorgen/connectorgen/runtime/auth"
	"github.com/connectorgen/connectorgen/runtime/rest"
	"github.com/connectorgen/connectorgen/runtime/secret"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

// TestNoSecretInLogsOrErrors drives the generated CRM client with every
// credential kind it can use — OAuth 2.0 client credentials and refresh
// token (the spec's scheme) and HTTP basic through rest.WithCredential —
// through success and every failure path, with Debug logging of headers and
// bodies, and checks that no secret appears in any log line or error string.
func TestNoSecretInLogsOrErrors(t *testing.T) {
	const (
		clientSecret = "client-secret-S3CRET"
		refreshToken = "refresh-token-S3CRET"
		basicPW      = "basic-pw-S3CRET"
	)
	secrets := []string{clientSecret, refreshToken, basicPW, "acc-S3CRET-", "rot-S3CRET-",
		base64.StdEncoding.EncodeToString([]byte("crm-user:" + basicPW)),
		base64.StdEncoding.EncodeToString([]byte("crm-sync:" + clientSecret))}

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

	// The API echoes the credentials it receives in secret-named JSON fields
	// and in a cookie, and fails on cue: the path's lead ID names the fault.
	var revokeOnce atomic.Bool
	var sawBearer, sawBasic atomic.Bool
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authz := r.Header.Get("Authorization")
		sawBearer.CompareAndSwap(false, strings.HasPrefix(authz, "Bearer acc-S3CRET-"))
		sawBasic.CompareAndSwap(false, strings.HasPrefix(authz, "Basic "))
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Set-Cookie", "session="+strings.ReplaceAll(authz, " ", "_"))
		fault := strings.TrimPrefix(r.URL.Path, "/v1/leads/")
		if revokeOnce.CompareAndSwap(true, false) {
			fault = "401"
		}
		switch fault {
		case "401", "403", "500", "503":
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			code := map[string]int{"401": 401, "403": 403, "500": 500, "503": 503}[fault]
			w.WriteHeader(code)
			fmt.Fprintf(w, `{"code":"e%d","message":"request failed"}`, code)
		case "429":
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(429)
			io.WriteString(w, `{"code":"rate_limited","message":"slow down"}`)
		case "reset":
			reset(w, r)
		case "slow":
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
		case "malformed":
			fmt.Fprintf(w, `{"id":"ld_42","access_token":%q,"version":`, authz)
		default:
			fmt.Fprintf(w, `{"id":"ld_42","email":"ada@example.com","status":"new","authorization":%q,"nested":{"access_token":%q}}`,
				authz, strings.TrimPrefix(authz, "Bearer "))
		}
	}))
	defer api.Close()
	base := api.URL + "/v1"
	ts := newTokenServer(t, "acc-S3CRET-", time.Hour, 0)
	badTS := newTokenServer(t, "acc-S3CRET-", time.Hour, 0)
	badTS.fail.Store("invalid_grant")
	downTS := newTokenServer(t, "acc-S3CRET-", time.Hour, 0)
	downTS.fail.Store("500")
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close() // connection refused

	retry := transport.RetryConfig{BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond, MaxAttempts: 2, AttemptTimeout: 100 * time.Millisecond}
	newClient := func(cred auth.Credential, opts ...crm.Option) *crm.Client {
		t.Helper()
		all := append([]crm.Option{rest.WithSystem("crm"), rest.WithLogger(logger),
			rest.WithLogConfig(transport.LogConfig{Level: slog.LevelDebug, Bodies: true}),
			rest.WithRetry(retry), rest.WithCredential(crm.SecurityOAuth2, cred)}, opts...)
		c, err := crm.NewClient(base, all...)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	oauthCfg := func(tokenURL string) auth.OAuthConfig {
		return auth.OAuthConfig{TokenURL: tokenURL, ClientID: "crm-sync", ClientSecret: secret.New(clientSecret),
			Logger: logger, System: "crm",
			OnToken: func(ctx context.Context, tok *oauth2.Token) error { return errors.New("state store unavailable") }}
	}
	clientCreds := func(tokenURL string) auth.Credential {
		o, err := auth.ClientCredentials(oauthCfg(tokenURL))
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	refresh := func(tokenURL string) auth.Credential {
		cfg := oauthCfg(tokenURL)
		cfg.RefreshToken = secret.New(refreshToken)
		o, err := auth.RefreshToken(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	get := func(c *crm.Client, id string) error {
		_, err := c.GetLead(context.Background(), crm.GetLeadParams{LeadID: id})
		return err
	}

	creds := map[string]func() auth.Credential{
		"client credentials": func() auth.Credential { return clientCreds(ts.srv.URL) },
		"refresh token":      func() auth.Credential { return refresh(ts.srv.URL) },
		"basic":              func() auth.Credential { return auth.Basic("crm-user", secret.New(basicPW)) },
	}
	for name, mk := range creds {
		c := newClient(mk(), rest.WithBreaker(transport.BreakerConfig{Disabled: true}))
		if err := get(c, "ld_42"); err != nil {
			t.Fatalf("%s: success path: %v", name, err)
		}
		for _, fault := range []string{"401", "403", "500", "503", "reset", "slow", "malformed"} {
			record(name+" "+fault, get(c, fault))
		}
		revokeOnce.Store(true) // one 401, then success (OAuth renews and resends)
		if err := get(c, "ld_42"); err != nil && !strings.HasPrefix(name, "basic") {
			t.Fatalf("%s: renewal after 401: %v", name, err)
		} else if err != nil {
			record(name+" revoked", err)
		}
		_, err := c.CreateLead(context.Background(), crm.LeadCreate{LastName: "Hopper", Email: "grace@example.com"})
		if err != nil {
			t.Fatalf("%s: createLead: %v", name, err)
		}
		// A long Retry-After, then the limiter's hold.
		c = newClient(mk())
		record(name+" 429", get(c, "429"))
		record(name+" held", get(c, "ld_42"))
		// The breaker opens.
		c = newClient(mk(), rest.WithBreaker(transport.BreakerConfig{Threshold: 1, CoolDown: time.Hour}))
		record(name+" breaker trips", get(c, "500"))
		record(name+" breaker open", get(c, "ld_42"))
		// Cancellation.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err = c.GetLead(ctx, crm.GetLeadParams{LeadID: "ld_42"})
		record(name+" cancelled", err)
	}
	// Token endpoint failures: permanent, transient, unreachable.
	record("invalid_grant", get(newClient(clientCreds(badTS.srv.URL)), "ld_42"))
	record("invalid_grant refresh", get(newClient(refresh(badTS.srv.URL)), "ld_42"))
	record("token endpoint 500", get(newClient(clientCreds(downTS.srv.URL)), "ld_42"))
	record("token endpoint gone", get(newClient(clientCreds(gone.URL)), "ld_42"))
	// Missing credentials for the operation's scheme.
	c, err := crm.NewClient(base, rest.WithLogger(logger), rest.WithCredential("other", auth.Basic("crm-user", secret.New(basicPW))))
	if err != nil {
		t.Fatal(err)
	}
	record("missing credentials", get(c, "ld_42"))

	if !sawBearer.Load() || !sawBasic.Load() {
		t.Fatal("the API never received the credentials; the test proves nothing")
	}
	out := logs.String()
	if !strings.Contains(out, `"request_headers"`) || !strings.Contains(out, "[REDACTED]") || !strings.Contains(out, `"response_body"`) {
		t.Fatalf("debug logging did not happen:\n%s", out)
	}
	for _, want := range []string{`"status":401`, `"outcome":"network_error"`, `"outcome":"timeout"`, "circuit breaker state change", "oauth token could not be persisted"} {
		if !strings.Contains(out, want) {
			t.Errorf("the logs lack %s", want)
		}
	}
	for _, s := range secrets {
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, s) {
				t.Errorf("log line leaks %q: %s", s, line)
			}
		}
		for _, e := range errs {
			if strings.Contains(e, s) {
				t.Errorf("error leaks %q: %s", s, e)
			}
		}
	}
	t.Logf("%d log lines, %d error strings checked", strings.Count(out, "\n"), len(errs))
}
