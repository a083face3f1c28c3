package pgstore_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/connectorgen/connectorgen/runtime/auth"
	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/pgstore"
	"github.com/connectorgen/connectorgen/runtime/pgstore/pgtest"
	"github.com/connectorgen/connectorgen/runtime/secret"
)

// rotatingEndpoint accepts each refresh token once and rotates it; a used
// or unknown one gets invalid_grant.
type rotatingEndpoint struct {
	*httptest.Server
	mu        sync.Mutex
	valid     map[string]bool
	n         int
	refreshed atomic.Int64
	refused   atomic.Int64
}

func newRotatingEndpoint(t *testing.T, first string) *rotatingEndpoint {
	re := &rotatingEndpoint{valid: map[string]bool{first: true}}
	re.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		rt := r.PostForm.Get("refresh_token")
		re.mu.Lock()
		ok := re.valid[rt]
		if ok {
			delete(re.valid, rt)
			re.n++
			re.valid["rt-"+strconv.Itoa(re.n)] = true
		}
		n := re.n
		re.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if !ok {
			re.refused.Add(1)
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		re.refreshed.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at-" + strconv.Itoa(n), "token_type": "bearer",
			"expires_in": 3600, "refresh_token": "rt-" + strconv.Itoa(n)})
	}))
	t.Cleanup(re.Close)
	return re
}

// credential builds a process's CRM credential the way generated
// NewClients does: the environment's refresh token, TokenFor, TokenHook
// and SharedToken of an engine on store.
func credential(t *testing.T, store engine.Store, tokenURL, supplied string) *auth.OAuth {
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

func header(o *auth.OAuth) (string, error) {
	req, _ := http.NewRequest("GET", "https://crm.example.com/leads", nil)
	if err := o.Apply(req); err != nil {
		return "", err
	}
	return req.Header.Get("Authorization"), nil
}

// TestTwoEnginesShareRotatingToken: two engines on one schema (two pools,
// as two worker processes would have) start with the same refresh token
// from their environment and nothing stored; the provider rotates refresh
// tokens. Their first calls race: one refreshes, the other takes its
// token. Then, round after round, the API rejects the access token in both
// at once (several callers each): the advisory lock lets one refresh
// while the other waits and takes the saved token. One refresh per round,
// no refresh token refused.
func TestTwoEnginesShareRotatingToken(t *testing.T) {
	a := open(t)
	b, err := pgstore.Open(context.Background(), pgtest.URL(t), pgstore.Options{Schema: a.Schema()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	te := newRotatingEndpoint(t, "rt-env")
	procs := []*auth.OAuth{credential(t, a, te.URL, "rt-env"), credential(t, b, te.URL, "rt-env")}
	const rounds, callers = 8, 4
	for round := 0; round <= rounds; round++ {
		var stale []string
		if round > 0 {
			for _, o := range procs {
				h, err := header(o)
				if err != nil {
					t.Fatal(err)
				}
				stale = append(stale, h)
			}
		}
		var wg sync.WaitGroup
		errs := make(chan error, len(procs)*callers)
		for i, o := range procs {
			for range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if round == 0 {
						_, err := header(o)
						errs <- err
						return
					}
					req, _ := http.NewRequest("GET", "https://crm.example.com/leads", nil)
					req.Header.Set("Authorization", stale[i])
					errs <- o.Invalidate(context.Background(), req)
				}()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		want := "Bearer at-" + strconv.Itoa(round+1)
		for i, o := range procs {
			if h, err := header(o); err != nil || h != want {
				t.Fatalf("round %d, process %d: %q %v, want %q", round, i+1, h, err, want)
			}
		}
		if n := te.refreshed.Load(); n != int64(round+1) {
			t.Fatalf("round %d: %d refreshes, want one per round", round, n)
		}
	}
	if n := te.refused.Load(); n != 0 {
		t.Fatalf("the endpoint refused %d refresh tokens", n)
	}
	// A process started now resumes from the stored token.
	if h, err := header(credential(t, a, te.URL, "rt-env")); err != nil || h != "Bearer at-"+strconv.Itoa(rounds+1) {
		t.Fatalf("a new process: %q %v", h, err)
	}
}
