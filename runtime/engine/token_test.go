package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/connectorgen/connectorgen/runtime/auth"
	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/secret"
)

// tokenEndpoint accepts the refresh tokens in valid and rotates each one it
// accepts: rt is consumed and "<rt>-r" becomes valid.
type tokenEndpoint struct {
	*httptest.Server
	mu    sync.Mutex
	valid map[string]bool
}

func newTokenEndpoint(t *testing.T, valid ...string) *tokenEndpoint {
	te := &tokenEndpoint{valid: map[string]bool{}}
	te.revokeAllBut(valid...)
	te.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		rt := r.PostForm.Get("refresh_token")
		w.Header().Set("Content-Type", "application/json")
		te.mu.Lock()
		ok := te.valid[rt]
		if ok {
			delete(te.valid, rt)
			te.valid[rt+"-r"] = true
		}
		te.mu.Unlock()
		if !ok {
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at-" + rt, "token_type": "bearer", "expires_in": 3600, "refresh_token": rt + "-r"})
	}))
	t.Cleanup(te.Close)
	return te
}

func (te *tokenEndpoint) revokeAllBut(valid ...string) {
	te.mu.Lock()
	defer te.mu.Unlock()
	clear(te.valid)
	for _, v := range valid {
		te.valid[v] = true
	}
}

// start builds the connector's OAuth credential the way generated
// NewClients does at start: the operator-supplied refresh token, the stored
// token from TokenFor, the engine's hook and its shared token store, over a
// new engine on store (a process of its own).
func start(t *testing.T, store engine.Store, tokenURL, supplied string) *auth.OAuth {
	t.Helper()
	e := engine.New(store)
	cfg := auth.OAuthConfig{TokenURL: tokenURL, ClientID: "id", ClientSecret: secret.New("cs"), RefreshToken: secret.New(supplied), OnToken: e.TokenHook("crm")}
	tok, err := e.TokenFor(context.Background(), "crm", cfg.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Token = tok
	cfg.Shared = e.SharedToken("crm")
	o, err := auth.RefreshToken(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// call authorises a request; renew says the API answered the stored
// access token with 401, so the credential renews with its refresh token.
func call(o *auth.OAuth, renew bool) (string, error) {
	req, _ := http.NewRequest("GET", "https://crm.example.com/leads", nil)
	if err := o.Apply(req); err != nil {
		return "", err
	}
	if renew {
		if err := o.Invalidate(context.Background(), req); err != nil {
			return "", err
		}
		if err := o.Apply(req); err != nil {
			return "", err
		}
	}
	return req.Header.Get("Authorization"), nil
}

// TestReauthorizeThroughEnvironment follows the runbook: the stored
// (rotated) refresh token is revoked, the sync fails with invalid_grant,
// the operator puts a new refresh token in the configured variable and
// restarts. The new one must win over the revoked one in the store; the
// restart after that resumes from the token rotated from the new one.
func TestReauthorizeThroughEnvironment(t *testing.T) {
	store := engine.NewMemoryStore()
	te := newTokenEndpoint(t, "rt-A")
	if h, err := call(start(t, store, te.URL, "rt-A"), false); err != nil || h != "Bearer at-rt-A" {
		t.Fatalf("first start: %q %v", h, err)
	}
	// A restart with the same variable resumes from the stored rotated
	// token (rt-A itself was consumed by the rotation).
	if h, err := call(start(t, store, te.URL, "rt-A"), true); err != nil || h != "Bearer at-rt-A-r" {
		t.Fatalf("restart with the same supplied token: %q %v", h, err)
	}
	// The connector's grant is revoked: invalid_grant.
	te.revokeAllBut("rt-B")
	var re *auth.ReauthorizationRequiredError
	if _, err := call(start(t, store, te.URL, "rt-A"), true); !errors.As(err, &re) {
		t.Fatalf("revoked: %v", err)
	}
	// The operator supplies rt-B and restarts: it wins.
	if h, err := call(start(t, store, te.URL, "rt-B"), false); err != nil || h != "Bearer at-rt-B" {
		t.Fatalf("after re-authorisation: %q %v: the revoked stored token won over the new one", h, err)
	}
	// The next restart (rt-B still in the variable, consumed by the
	// rotation) resumes from the token rotated from it.
	if h, err := call(start(t, store, te.URL, "rt-B"), true); err != nil || h != "Bearer at-rt-B-r" {
		t.Fatalf("restart after re-authorisation: %q %v", h, err)
	}
}

// TestProcessesShareRotatingToken: two processes of one service start
// with the same refresh token in their environment, before either has
// refreshed, on one state; the provider rotates refresh tokens. The second
// takes the first's token from the store instead of spending the consumed
// environment token, and when both see a 401 at once, one renews and the
// other takes its token: the rotation chain advances once per round and no
// refresh token is refused.
func TestProcessesShareRotatingToken(t *testing.T) {
	store := engine.NewMemoryStore()
	te := newTokenEndpoint(t, "rt-A")
	p1, p2 := start(t, store, te.URL, "rt-A"), start(t, store, te.URL, "rt-A")
	if h, err := call(p1, false); err != nil || h != "Bearer at-rt-A" {
		t.Fatalf("process 1: %q %v", h, err)
	}
	if h, err := call(p2, false); err != nil || h != "Bearer at-rt-A" {
		t.Fatalf("process 2 at start: %q %v (the environment token was consumed by process 1)", h, err)
	}
	presented := "rt-A-r"
	for round := 1; round <= 5; round++ {
		var wg sync.WaitGroup
		hs, errs := make([]string, 2), make([]error, 2)
		for i, p := range []*auth.OAuth{p1, p2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				hs[i], errs[i] = call(p, true)
			}()
		}
		wg.Wait()
		want := "Bearer at-" + presented
		for i := range hs {
			if errs[i] != nil || hs[i] != want {
				t.Fatalf("round %d, process %d: %q %v, want %q", round, i+1, hs[i], errs[i], want)
			}
		}
		presented += "-r"
	}
	// A third process started now resumes from the stored token.
	if h, err := call(start(t, store, te.URL, "rt-A"), false); err != nil || h != "Bearer at-rt-A-r-r-r-r-r" {
		t.Fatalf("process 3: %q %v", h, err)
	}
}

// TestReauthorizeThroughOtherProcess: the connector's grant is revoked;
// the operator supplies a new refresh token to one process only and
// restarts it. The other process, whose refresh token is now refused,
// continues from the token the re-authorised one saved instead of
// staying without credentials; the tokens it saves from then on descend
// from the new supplied token, so a restart with it resumes from the
// store.
func TestReauthorizeThroughOtherProcess(t *testing.T) {
	store := engine.NewMemoryStore()
	te := newTokenEndpoint(t, "rt-A")
	p1 := start(t, store, te.URL, "rt-A")
	if h, err := call(p1, false); err != nil || h != "Bearer at-rt-A" {
		t.Fatalf("process 1: %q %v", h, err)
	}
	te.revokeAllBut("rt-B")
	p2 := start(t, store, te.URL, "rt-B")
	if h, err := call(p2, false); err != nil || h != "Bearer at-rt-B" {
		t.Fatalf("re-authorised process 2: %q %v", h, err)
	}
	if h, err := call(p1, true); err != nil || h != "Bearer at-rt-B" {
		t.Fatalf("process 1 after its refresh token was refused: %q %v", h, err)
	}
	if h, err := call(p1, true); err != nil || h != "Bearer at-rt-B-r" {
		t.Fatalf("process 1 renews: %q %v", h, err)
	}
	if h, err := call(start(t, store, te.URL, "rt-B"), false); err != nil || h != "Bearer at-rt-B-r" {
		t.Fatalf("restart with rt-B: %q %v (the token process 1 saved was not recognised as descending from rt-B)", h, err)
	}
}

// failingTokens fails SaveToken while down is set.
type failingTokens struct {
	engine.Store
	down  atomic.Bool
	saves atomic.Int64
}

func (f *failingTokens) SaveToken(ctx context.Context, system string, b []byte) error {
	f.saves.Add(1)
	if f.down.Load() {
		return errors.New("disk I/O error")
	}
	return f.Store.SaveToken(ctx, system, b)
}

// TestTokenSaveFailureAlerts: a token the store cannot save is retried by
// the hook, then reported through the alert hook (token_not_saved, with
// the system), and the alert resolves when a later save succeeds.
func TestTokenSaveFailureAlerts(t *testing.T) {
	fs := &failingTokens{Store: engine.NewMemoryStore()}
	var al alerts
	e := engine.New(fs, engine.WithAlertHook(al.hook))
	ctx := context.Background()
	fs.down.Store(true)
	tok := &oauth2.Token{AccessToken: "at", RefreshToken: "rotated-2", Expiry: time.Now().Add(time.Hour)}
	if err := e.TokenHook("crm")(ctx, tok); err == nil {
		t.Fatal("hook reported success with the store down")
	}
	if fs.saves.Load() != 3 {
		t.Fatalf("%d save attempts, want 3", fs.saves.Load())
	}
	if n := al.count(engine.AlertTokenNotSaved, false); n != 1 {
		t.Fatalf("alerts %+v", al.get())
	}
	if a := al.get()[0]; a.System != "crm" {
		t.Fatalf("alert %+v", a)
	}
	fs.down.Store(false)
	if err := e.TokenHook("crm")(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if n := al.count(engine.AlertTokenNotSaved, true); n != 1 {
		t.Fatalf("alert not resolved: %+v", al.get())
	}
	if got, _ := e.Token(ctx, "crm"); got == nil || got.RefreshToken != "rotated-2" {
		t.Fatalf("stored %+v", got)
	}
}
