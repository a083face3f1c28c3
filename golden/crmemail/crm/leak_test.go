package crm_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
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

// Secrets of TestNoSecretInLogsOrErrors. Every one contains "S3CRET" so that
// a leak of any of them, or of a token derived from them, is found by one
// search; the encodings that do not contain it are listed separately.
const (
	leakHeaderKey    = "hdr-key-S3CRET-1111"
	leakQueryKey     = "qry-key-S3CRET-2222"
	leakCookieKey    = "ck-key-S3CRET-3333"
	leakBasicPW      = "basic-pw-S3CRET"
	leakBearer       = "bearer-tok-S3CRET-4444"
	leakClientSecret = "client-secret-S3CRET"
	leakRefreshToken = "refresh-token-S3CRET"
	leakTokenPrefix  = "acc-S3CRET-" // access tokens and rotated refresh tokens the token endpoint issues
)

// TestNoSecretInLogsOrErrors drives the generated CRM client with every
// credential kind the runtime has — API key in a header, in the query and
// in a cookie, HTTP basic, bearer, OAuth 2.0 client credentials and
// refresh token — through success and every failure path: connection
// reset and refused, per-attempt timeout, 4xx and 5xx responses whose
// bodies and headers echo the credential (in secret-named JSON members, in
// prose, raw), 429 retried to exhaustion and 429 beyond the longest wait
// (retry-later), malformed JSON echoing it, the breaker opening and
// refusing calls, the rate limiter's hold, cancellation, missing
// credentials and, for OAuth, invalid_grant (with a provider echoing the
// client secret and refresh token), a failing and an unreachable token
// endpoint and a failing token hook. slog is captured at Debug level with
// headers and bodies; no log line and no rendering of any error
// (Error(), %v, %+v, %s, %q, %#v, for the error and everything it wraps)
// may contain a secret.
func TestNoSecretInLogsOrErrors(t *testing.T) {
	basicEnc := base64.StdEncoding.EncodeToString([]byte("crm-user:" + leakBasicPW))
	clientEnc := base64.StdEncoding.EncodeToString([]byte("crm-sync:" + leakClientSecret))
	forbidden := []string{"S3CRET", basicEnc, clientEnc}

	var logs lockedBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var errs []string
	paths := map[string]bool{}
	record := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: want an error", what)
			return
		}
		paths[what[strings.LastIndex(what, ": ")+2:]] = true
		errs = append(errs, errorStrings(err)...)
	}

	// The API echoes whatever credentials it receives — Authorization,
	// X-API-Key, the crm_key query parameter, the Cookie header and a basic
	// password — in a cookie, a response header and the body, and fails on
	// cue: the lead ID in the path names the fault.
	var sawCreds atomic.Int64
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var got []string
		for _, v := range []string{r.Header.Get("Authorization"), r.Header.Get("X-Api-Key"), r.URL.Query().Get("crm_key"), r.Header.Get("Cookie")} {
			if v != "" {
				got = append(got, v)
			}
		}
		if _, pw, ok := r.BasicAuth(); ok {
			got = append(got, pw)
		}
		if len(got) > 0 {
			sawCreds.Add(1)
		}
		echo := strings.Join(got, " ")
		quoted, _ := json.Marshal(echo)
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Set-Cookie", "session="+strings.NewReplacer(" ", "_", ";", "_").Replace(echo))
		w.Header().Set("X-Debug-Credential", echo)
		fault := strings.TrimPrefix(r.URL.Path, "/v1/leads/")
		switch fault {
		case "400", "401", "403", "404", "422", "500", "503":
			var code int
			fmt.Sscan(fault, &code)
			if code == 401 {
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			}
			w.WriteHeader(code)
			fmt.Fprintf(w, `{"code":"e%d","message":"credential %s rejected","request_id":"rq","details":{"authorization":%s,"token":%s}}`,
				code, strings.Trim(string(quoted), `"`), quoted, quoted)
		case "429":
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(429)
			fmt.Fprintf(w, `{"code":"rate_limited","message":"slow down, %s"}`, strings.Trim(string(quoted), `"`))
		case "429-short":
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(429)
			fmt.Fprintf(w, `{"code":"rate_limited","message":"slow down, %s"}`, strings.Trim(string(quoted), `"`))
		case "reset":
			reset(w, r)
		case "slow":
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
		case "malformed":
			fmt.Fprintf(w, `{"id":"ld_42","note":"seen %s","access_token":%s,"version":`, strings.Trim(string(quoted), `"`), quoted)
		default:
			fmt.Fprintf(w, `{"id":"ld_42","email":"ada@example.com","status":"new","note":"seen %s","authorization":%s}`,
				strings.Trim(string(quoted), `"`), quoted)
		}
	}))
	defer api.Close()
	base := api.URL + "/v1"
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close() // connection refused
	ts := newTokenServer(t, leakTokenPrefix, time.Hour, 0)
	echoTS := newTokenServer(t, leakTokenPrefix, time.Hour, 0)
	echoTS.fail.Store("invalid_grant_echo")
	downTS := newTokenServer(t, leakTokenPrefix, time.Hour, 0)
	downTS.fail.Store("500")

	retry := transport.RetryConfig{BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond, MaxAttempts: 2, AttemptTimeout: 100 * time.Millisecond}
	newClient := func(baseURL string, cred auth.Credential, opts ...crm.Option) *crm.Client {
		t.Helper()
		all := append([]crm.Option{rest.WithSystem("crm"), rest.WithLogger(logger),
			rest.WithLogConfig(transport.LogConfig{Level: slog.LevelDebug, Bodies: true}),
			rest.WithRetry(retry), rest.WithCredential(crm.SecurityOAuth2, cred)}, opts...)
		c, err := crm.NewClient(baseURL, all...)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	oauthCfg := func(tokenURL string) auth.OAuthConfig {
		return auth.OAuthConfig{TokenURL: tokenURL, ClientID: "crm-sync", ClientSecret: secret.New(leakClientSecret),
			Logger: logger, System: "crm",
			OnToken: func(ctx context.Context, tok *oauth2.Token) error {
				// A careless hook quotes the token in its error.
				return fmt.Errorf("state store unavailable, token %s refresh %s lost", tok.AccessToken, tok.RefreshToken)
			}}
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
		cfg.RefreshToken = secret.New(leakRefreshToken)
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

	creds := []struct {
		name  string
		oauth bool
		mk    func() auth.Credential
	}{
		{"api key in header", false, func() auth.Credential { return auth.APIKeyHeader("X-API-Key", secret.New(leakHeaderKey)) }},
		{"api key in query", false, func() auth.Credential { return auth.APIKeyQuery("crm_key", secret.New(leakQueryKey)) }},
		{"api key in cookie", false, func() auth.Credential { return auth.APIKeyCookie("crm_session", secret.New(leakCookieKey)) }},
		{"basic", false, func() auth.Credential { return auth.Basic("crm-user", secret.New(leakBasicPW)) }},
		{"bearer", false, func() auth.Credential { return auth.Bearer(secret.New(leakBearer)) }},
		{"oauth2 client credentials", true, func() auth.Credential { return clientCreds(ts.srv.URL) }},
		{"oauth2 refresh token", true, func() auth.Credential { return refresh(ts.srv.URL) }},
	}
	for _, cr := range creds {
		before := sawCreds.Load()
		name := cr.name + ": "
		c := newClient(base, cr.mk(), rest.WithBreaker(transport.BreakerConfig{Disabled: true}))
		if err := get(c, "ld_42"); err != nil {
			t.Fatalf("%ssuccess path: %v", name, err)
		}
		if _, err := c.CreateLead(context.Background(), newLead()); err != nil {
			t.Fatalf("%screateLead: %v", name, err)
		}
		for _, fault := range []string{"400", "401", "403", "404", "422", "500", "503", "429-short", "reset", "slow", "malformed"} {
			record(name+fault, get(c, fault))
		}
		// Connection refused.
		record(name+"refused", get(newClient(gone.URL+"/v1", cr.mk()), "ld_42"))
		// A long Retry-After (retry-later), then the limiter's hold.
		c = newClient(base, cr.mk())
		record(name+"429 retry-later", get(c, "429"))
		record(name+"limiter hold", get(c, "ld_42"))
		// The breaker opens, then refuses.
		c = newClient(base, cr.mk(), rest.WithBreaker(transport.BreakerConfig{Threshold: 1, CoolDown: time.Hour}))
		record(name+"breaker trips", get(c, "500"))
		record(name+"breaker open", get(c, "ld_42"))
		// Cancellation.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := c.GetLead(ctx, crm.GetLeadParams{LeadID: "ld_42"})
		record(name+"cancelled", err)
		if sawCreds.Load() == before {
			t.Fatalf("%sthe API never received the credential; the test proves nothing", name)
		}
		if !cr.oauth {
			continue
		}
		// invalid_grant from a provider that echoes the client secret and
		// refresh token; a failing and an unreachable token endpoint.
		var cfgFor func(string) auth.Credential
		if strings.Contains(cr.name, "refresh") {
			cfgFor = refresh
		} else {
			cfgFor = clientCreds
		}
		c = newClient(base, cfgFor(echoTS.srv.URL))
		record(name+"invalid_grant", get(c, "ld_42"))
		record(name+"invalid_grant again", get(c, "ld_42"))
		record(name+"token endpoint 500", get(newClient(base, cfgFor(downTS.srv.URL)), "ld_42"))
		record(name+"token endpoint gone", get(newClient(base, cfgFor(gone.URL)), "ld_42"))
	}
	// Missing credentials for the operation's scheme.
	c, err := crm.NewClient(base, rest.WithLogger(logger), rest.WithCredential("other", auth.Basic("crm-user", secret.New(leakBasicPW))))
	if err != nil {
		t.Fatal(err)
	}
	record("none: missing credentials", get(c, "ld_42"))

	out := logs.String()
	if !strings.Contains(out, `"request_headers"`) || !strings.Contains(out, "[REDACTED]") || !strings.Contains(out, `"response_body"`) {
		t.Fatalf("debug logging did not happen:\n%s", out)
	}
	for _, want := range []string{`"status":400`, `"status":401`, `"status":429`, `"status":503`, `"outcome":"network_error"`,
		`"outcome":"timeout"`, "circuit breaker state change", "oauth token could not be persisted"} {
		if !strings.Contains(out, want) {
			t.Errorf("the logs lack %s", want)
		}
	}
	for _, p := range []string{"400", "422", "503", "429-short", "reset", "refused", "slow", "malformed", "429 retry-later",
		"limiter hold", "breaker open", "cancelled", "invalid_grant", "token endpoint 500", "missing credentials"} {
		if !paths[p] {
			t.Errorf("failure path %q was not exercised", p)
		}
	}
	// The error kinds are what a caller expects (the renderings checked
	// below are of real failures).
	for _, s := range forbidden {
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
	t.Logf("%d log lines, %d error renderings, %d failure paths checked", strings.Count(out, "\n"), len(errs), len(paths))
}

// TestErrorBodiesDoNotEchoCredentials: the body and headers of a *rest.Error
// keep what the server said, except the client's own credential values.
func TestErrorBodiesDoNotEchoCredentials(t *testing.T) {
	t.Parallel()
	a := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Echo", r.Header.Get("Authorization"))
		w.WriteHeader(403)
		fmt.Fprintf(w, `{"code":"forbidden","message":"token %s lacks crm.write"}`, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	})
	c := newCRM(t, a, rest.WithCredential(crm.SecurityOAuth2, auth.Bearer(secret.New(leakBearer))))
	_, err := getLead(c, context.Background())
	var e *rest.Error
	if !errors.As(err, &e) || e.StatusCode != 403 || !errors.Is(err, transport.ErrAuth) {
		t.Fatalf("%v", err)
	}
	if string(e.Body) != `{"code":"forbidden","message":"token [REDACTED] lacks crm.write"}` {
		t.Fatalf("body %s", e.Body)
	}
	if m, ok := e.Model.(*crm.Error); !ok || m.Message != "token [REDACTED] lacks crm.write" {
		t.Fatalf("model %#v", e.Model)
	}
	if h := e.Header.Get("X-Echo"); h != "[REDACTED]" {
		t.Fatalf("header %q", h)
	}
	if a.hit(0).header.Get("Authorization") != "Bearer "+leakBearer {
		t.Fatal("the credential was not sent")
	}
}
