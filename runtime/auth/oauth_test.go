package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/connectorgen/connectorgen/runtime/observe"
	"github.com/connectorgen/connectorgen/runtime/secret"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

// tokenServer is a fake OAuth token endpoint.
type tokenServer struct {
	*httptest.Server
	hits      atomic.Int64
	delay     time.Duration
	expiresIn int
	mu        sync.Mutex
	fail      string // "invalid_grant", "500", ""
	rotate    bool
	lastGrant string
	lastRT    string
}

func newTokenServer(t *testing.T) *tokenServer {
	ts := &tokenServer{expiresIn: 3600}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := ts.hits.Add(1)
		if ts.delay > 0 {
			time.Sleep(ts.delay)
		}
		if err := r.ParseForm(); err != nil {
			t.Errorf("token request: %v", err)
		}
		id, sec, ok := r.BasicAuth()
		ts.mu.Lock()
		defer ts.mu.Unlock()
		ts.lastGrant, ts.lastRT = r.PostForm.Get("grant_type"), r.PostForm.Get("refresh_token")
		w.Header().Set("Content-Type", "application/json")
		switch ts.fail {
		case "invalid_grant":
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"error":"invalid_grant","error_description":"refresh token revoked","echo":"` + r.PostForm.Get("refresh_token") + sec + `"}`))
			return
		case "500":
			w.WriteHeader(500)
			_, _ = w.Write([]byte(`{"echo":"` + sec + `"}`))
			return
		}
		if !ok || id != "client-id" || sec != "client-secret-XYZ" {
			w.WriteHeader(401)
			_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
		resp := map[string]any{"access_token": "access-" + strconv.FormatInt(n, 10), "token_type": "bearer", "expires_in": ts.expiresIn}
		if ts.rotate {
			resp["refresh_token"] = "refresh-" + strconv.FormatInt(n, 10)
		}
		_ = json.NewEncoder(w).Encode(resp)
	}))
	return ts
}

func (ts *tokenServer) setFail(f string) {
	ts.mu.Lock()
	ts.fail = f
	ts.mu.Unlock()
}

// apiServer accepts only the tokens in valid.
type apiServer struct {
	*httptest.Server
	hits  atomic.Int64
	mu    sync.Mutex
	valid map[string]bool
	seen  []string
}

func newAPIServer(valid ...string) *apiServer {
	a := &apiServer{valid: map[string]bool{}}
	for _, v := range valid {
		a.valid[v] = true
	}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.hits.Add(1)
		h := r.Header.Get("Authorization")
		a.mu.Lock()
		a.seen = append(a.seen, h)
		ok := a.valid[h]
		a.mu.Unlock()
		if !ok {
			w.WriteHeader(401)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	return a
}

func (a *apiServer) accept(h string) {
	a.mu.Lock()
	a.valid[h] = true
	a.mu.Unlock()
}

var oauthOp = &transport.Operation{ID: "listLeads", Method: "GET", Idempotent: true, Security: []transport.SecurityRequirement{{"oauth"}}}

func oauthClient(t *testing.T, apiURL string, cred Credential) *http.Client {
	t.Helper()
	set, err := NewSet(apiURL)
	if err != nil {
		t.Fatal(err)
	}
	set.Add("oauth", cred)
	return &http.Client{Transport: transport.Chain(transport.Config{System: "crm", Auth: set, Retry: transport.RetryConfig{Disabled: true}}, nil)}
}

func TestSingleFlightRefreshAcross100Goroutines(t *testing.T) {
	ts := newTokenServer(t)
	defer ts.Close()
	ts.delay = 50 * time.Millisecond
	api := newAPIServer("Bearer access-1")
	defer api.Close()
	mem := observe.NewMemory(observe.MemoryOptions{})
	cred, err := RefreshToken(OAuthConfig{TokenURL: ts.URL, ClientID: "client-id", ClientSecret: secret.New("client-secret-XYZ"),
		Token:        &oauth2.Token{AccessToken: "old", TokenType: "Bearer", RefreshToken: "refresh-0", Expiry: time.Now().Add(20 * time.Second)},
		EarlyRefresh: time.Minute, Observer: mem, System: "crm"})
	if err != nil {
		t.Fatal(err)
	}
	c := oauthClient(t, api.URL, cred)
	var wg sync.WaitGroup
	var failures atomic.Int64
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := do(t, c, opReq(t, context.Background(), oauthOp, api.URL))
			if err != nil || resp.StatusCode != 200 {
				failures.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := ts.hits.Load(); n != 1 {
		t.Fatalf("token endpoint hit %d times", n)
	}
	if failures.Load() != 0 {
		t.Fatalf("%d calls failed", failures.Load())
	}
	if ts.lastGrant != "refresh_token" || ts.lastRT != "refresh-0" {
		t.Errorf("grant %q rt %q", ts.lastGrant, ts.lastRT)
	}
	if got := mem.Snapshot().TokenRefreshes["crm/oauth"][observe.TokenRefreshed]; got != 1 {
		t.Errorf("observed refreshes %d", got)
	}
}

func TestRotatedRefreshTokenReachesHook(t *testing.T) {
	ts := newTokenServer(t)
	defer ts.Close()
	ts.rotate = true
	ts.expiresIn = 1 // each token is due at once (early refresh at half its life)
	var mu sync.Mutex
	var persisted []string
	cred, err := RefreshToken(OAuthConfig{TokenURL: ts.URL, ClientID: "client-id", ClientSecret: secret.New("client-secret-XYZ"),
		RefreshToken: secret.New("refresh-0"),
		OnToken: func(ctx context.Context, tok *oauth2.Token) error {
			mu.Lock()
			persisted = append(persisted, tok.RefreshToken)
			mu.Unlock()
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	api := newAPIServer("Bearer access-1", "Bearer access-2")
	defer api.Close()
	c := oauthClient(t, api.URL, cred)
	for i := 0; i < 2; i++ {
		if resp, err := do(t, c, opReq(t, context.Background(), oauthOp, api.URL)); err != nil || resp.StatusCode != 200 {
			t.Fatalf("call %d: %v", i, err)
		}
		time.Sleep(600 * time.Millisecond) // past the early-refresh point
	}
	if len(persisted) != 2 || persisted[0] != "refresh-1" || persisted[1] != "refresh-2" {
		t.Fatalf("persisted %v", persisted)
	}
	if ts.lastRT != "refresh-1" {
		t.Errorf("second refresh used %q, not the rotated token", ts.lastRT)
	}
}

func TestInvalidGrantIsPermanentAndFailsFast(t *testing.T) {
	ts := newTokenServer(t)
	defer ts.Close()
	ts.setFail("invalid_grant")
	api := newAPIServer()
	defer api.Close()
	mem := observe.NewMemory(observe.MemoryOptions{})
	cred, _ := RefreshToken(OAuthConfig{TokenURL: ts.URL, ClientID: "client-id", ClientSecret: secret.New("client-secret-XYZ"),
		RefreshToken: secret.New("revoked-refresh-token"), Observer: mem, System: "crm"})
	c := oauthClient(t, api.URL, cred)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := do(t, c, opReq(t, context.Background(), oauthOp, api.URL))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		var re *ReauthorizationRequiredError
		if !errors.As(err, &re) || !errors.Is(err, transport.ErrAuth) || re.Code != "invalid_grant" || re.Scheme != "oauth" {
			t.Fatalf("err %v", err)
		}
	}
	for i := 0; i < 10; i++ {
		if _, err := do(t, c, opReq(t, context.Background(), oauthOp, api.URL)); !errors.Is(err, transport.ErrAuth) {
			t.Fatalf("later call: %v", err)
		}
	}
	if n := ts.hits.Load(); n != 1 {
		t.Fatalf("token endpoint hit %d times", n)
	}
	if api.hits.Load() != 0 {
		t.Fatal("API called without a token")
	}
	if mem.Snapshot().TokenRefreshes["crm/oauth"][observe.TokenReauthorize] != 1 {
		t.Error("permanent failure not observed")
	}
	// New credentials clear the permanent state.
	ts.setFail("")
	api.accept("Bearer fresh")
	cred.SetToken(&oauth2.Token{AccessToken: "fresh", TokenType: "Bearer", RefreshToken: "new-rt", Expiry: time.Now().Add(time.Hour)})
	if resp, err := do(t, c, opReq(t, context.Background(), oauthOp, api.URL)); err != nil || resp.StatusCode != 200 {
		t.Fatalf("after SetToken: %v", err)
	}
}

func Test401ForcesOneRefreshAndOneRetry(t *testing.T) {
	ts := newTokenServer(t)
	defer ts.Close()
	api := newAPIServer("Bearer access-1")
	defer api.Close()
	cred, _ := ClientCredentials(OAuthConfig{TokenURL: ts.URL, ClientID: "client-id", ClientSecret: secret.New("client-secret-XYZ"),
		Token: &oauth2.Token{AccessToken: "revoked", TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)}})
	c := oauthClient(t, api.URL, cred)
	info := &transport.CallInfo{}
	resp, err := do(t, c, opReq(t, transport.WithCallInfo(context.Background(), info), oauthOp, api.URL))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %v err %v", resp, err)
	}
	if info.Attempts != 2 {
		t.Errorf("CallInfo.Attempts = %d, want 2 (the resend after renewal counts)", info.Attempts)
	}
	if ts.hits.Load() != 1 || api.hits.Load() != 2 || ts.lastGrant != "client_credentials" {
		t.Fatalf("token hits %d api hits %d", ts.hits.Load(), api.hits.Load())
	}
	if api.seen[0] != "Bearer revoked" || api.seen[1] != "Bearer access-1" {
		t.Errorf("seen %v", api.seen)
	}
	// A server that keeps answering 401: exactly one more refresh and one
	// retry, then the 401 is returned.
	api2 := newAPIServer()
	defer api2.Close()
	c2 := oauthClient(t, api2.URL, cred)
	resp, err = do(t, c2, opReq(t, context.Background(), oauthOp, api2.URL))
	if err != nil || resp.StatusCode != 401 {
		t.Fatalf("status %v err %v", resp, err)
	}
	if ts.hits.Load() != 2 || api2.hits.Load() != 2 {
		t.Fatalf("token hits %d api hits %d", ts.hits.Load(), api2.hits.Load())
	}
}

func TestConcurrent401sShareOneRefresh(t *testing.T) {
	ts := newTokenServer(t)
	defer ts.Close()
	ts.delay = 20 * time.Millisecond
	api := newAPIServer("Bearer access-1")
	defer api.Close()
	cred, _ := ClientCredentials(OAuthConfig{TokenURL: ts.URL, ClientID: "client-id", ClientSecret: secret.New("client-secret-XYZ"),
		Token: &oauth2.Token{AccessToken: "revoked", TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)}})
	c := oauthClient(t, api.URL, cred)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if resp, err := do(t, c, opReq(t, context.Background(), oauthOp, api.URL)); err != nil || resp.StatusCode != 200 {
				t.Errorf("call failed: %v", err)
			}
		}()
	}
	wg.Wait()
	if n := ts.hits.Load(); n != 1 {
		t.Fatalf("token endpoint hit %d times", n)
	}
}

func TestTransientRefreshFailureKeepsValidToken(t *testing.T) {
	ts := newTokenServer(t)
	defer ts.Close()
	ts.setFail("500")
	api := newAPIServer("Bearer still-valid")
	defer api.Close()
	cred, _ := ClientCredentials(OAuthConfig{TokenURL: ts.URL, ClientID: "client-id", ClientSecret: secret.New("client-secret-XYZ"),
		Token: &oauth2.Token{AccessToken: "still-valid", TokenType: "Bearer", Expiry: time.Now().Add(30 * time.Second)}})
	c := oauthClient(t, api.URL, cred)
	if resp, err := do(t, c, opReq(t, context.Background(), oauthOp, api.URL)); err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %v err %v", resp, err)
	}
	// Without a usable token the transient error surfaces, and is not
	// remembered: the next call tries again.
	cred2, _ := ClientCredentials(OAuthConfig{TokenURL: ts.URL, ClientID: "client-id", ClientSecret: secret.New("client-secret-XYZ")})
	c2 := oauthClient(t, api.URL, cred2)
	before := ts.hits.Load()
	_, err := do(t, c2, opReq(t, context.Background(), oauthOp, api.URL))
	var te *TokenError
	if !errors.As(err, &te) || !errors.Is(err, transport.ErrServer) || te.Status != 500 {
		t.Fatalf("err %v", err)
	}
	_, _ = do(t, c2, opReq(t, context.Background(), oauthOp, api.URL))
	if ts.hits.Load() != before+2 {
		t.Fatalf("transient failure was remembered (%d hits)", ts.hits.Load()-before)
	}
}

func TestRefreshWaitHonoursContext(t *testing.T) {
	ts := newTokenServer(t)
	defer ts.Close()
	ts.delay = time.Second
	api := newAPIServer()
	defer api.Close()
	cred, _ := ClientCredentials(OAuthConfig{TokenURL: ts.URL, ClientID: "client-id", ClientSecret: secret.New("client-secret-XYZ")})
	c := oauthClient(t, api.URL, cred)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := do(t, c, opReq(t, ctx, oauthOp, api.URL))
	if err == nil || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
}

func TestOAuthConfigValidation(t *testing.T) {
	if _, err := ClientCredentials(OAuthConfig{TokenURL: "https://x"}); err == nil {
		t.Error("client credentials without client ID accepted")
	}
	if _, err := RefreshToken(OAuthConfig{TokenURL: "https://x", ClientID: "c"}); err == nil {
		t.Error("refresh grant without refresh token accepted")
	}
	if _, err := ClientCredentials(OAuthConfig{ClientID: "c"}); err == nil {
		t.Error("missing token URL accepted")
	}
}
