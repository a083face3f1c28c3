package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/connectorgen/connectorgen/runtime/secret"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

// rotatingEndpoint is a token endpoint that rotates refresh tokens the
// way providers do: each refresh token is accepted once and replaced by a
// new one; a used or unknown one gets invalid_grant. Access tokens last
// an hour of the test's clock: expires_in adds the clock's offset from
// real time (x/oauth2 computes Expiry from the real clock).
type rotatingEndpoint struct {
	*httptest.Server
	offset    *atomic.Int64 // the test clock's lead over real time, ns
	mu        sync.Mutex
	valid     map[string]bool
	n         int
	refreshed atomic.Int64
	refused   atomic.Int64
}

func newRotatingEndpoint(t *testing.T, offset *atomic.Int64, valid ...string) *rotatingEndpoint {
	re := &rotatingEndpoint{offset: offset, valid: map[string]bool{}}
	for _, v := range valid {
		re.valid[v] = true
	}
	re.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("token request: %v", err)
		}
		rt := r.PostForm.Get("refresh_token")
		w.Header().Set("Content-Type", "application/json")
		re.mu.Lock()
		ok := re.valid[rt]
		var n int
		if ok {
			delete(re.valid, rt)
			re.n++
			n = re.n
			re.valid["rt-"+strconv.Itoa(n)] = true
		}
		re.mu.Unlock()
		if !ok {
			re.refused.Add(1)
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		re.refreshed.Add(1)
		life := time.Hour + time.Duration(re.offset.Load())
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at-" + strconv.Itoa(n), "token_type": "bearer",
			"expires_in": int(life / time.Second), "refresh_token": "rt-" + strconv.Itoa(n)})
	}))
	t.Cleanup(re.Close)
	return re
}

// sharedStore is a SharedToken over one in-memory token, standing in for
// the state store the processes share (the engine's is tested in the
// engine and pgstore packages).
type sharedStore struct {
	sem chan struct{}
	mu  sync.Mutex
	tok *oauth2.Token
	// hide makes Latest("") answer nil, as the engine does for a token
	// descending from another operator-supplied refresh token.
	hide  bool
	saves int
}

func newSharedStore() *sharedStore { return &sharedStore{sem: make(chan struct{}, 1)} }

func (s *sharedStore) Lock(ctx context.Context) (func(), error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var once sync.Once
	return func() { once.Do(func() { <-s.sem }) }, nil
}

func (s *sharedStore) Latest(_ context.Context, refused string) (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok == nil || refused == "" && s.hide {
		return nil, nil
	}
	t := *s.tok
	return &t, nil
}

func (s *sharedStore) save(_ context.Context, tok *oauth2.Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := *tok
	s.tok = &t
	s.saves++
	return nil
}

// process builds one process's credential: the refresh token from its
// environment (the same for every process) and the shared store.
func process(t *testing.T, tokenURL, supplied string, store *sharedStore, clock func() time.Time) *OAuth {
	t.Helper()
	o, err := RefreshToken(OAuthConfig{TokenURL: tokenURL, ClientID: "client-id", ClientSecret: secret.New("client-secret-XYZ"),
		RefreshToken: secret.New(supplied), Now: clock, OnToken: store.save, Shared: store})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func authorize(o *OAuth) (string, error) {
	req, _ := http.NewRequest("GET", "https://api.example.com/leads", nil)
	if err := o.Apply(req); err != nil {
		return "", err
	}
	return req.Header.Get("Authorization"), nil
}

// TestSharedTokenAcrossRotations: two processes start with the same
// refresh token from their environment and share one token store; the
// provider rotates refresh tokens. Each time the access token expires
// both need a new one at once: one of them refreshes, the other finds the
// new token in the store and uses it. Across several rotations the
// endpoint refuses nothing (no invalid_grant, no reauthorization
// required) and is asked once per expiry.
func TestSharedTokenAcrossRotations(t *testing.T) {
	var offset atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	te := newRotatingEndpoint(t, &offset, "rt-env")
	store := newSharedStore()
	procs := []*OAuth{process(t, te.URL, "rt-env", store, clock), process(t, te.URL, "rt-env", store, clock)}
	const rounds = 6
	for round := 1; round <= rounds; round++ {
		if round > 1 {
			offset.Add(int64(2 * time.Hour)) // every access token has expired
		}
		headers := make([]string, len(procs))
		errs := make([]error, len(procs))
		var wg sync.WaitGroup
		for i, o := range procs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				headers[i], errs[i] = authorize(o)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, process %d: %v", round, i+1, err)
			}
		}
		want := "Bearer at-" + strconv.Itoa(round)
		if headers[0] != want || headers[1] != want {
			t.Fatalf("round %d: headers %q, want both %q", round, headers, want)
		}
		if n := te.refreshed.Load(); n != int64(round) {
			t.Fatalf("round %d: %d refreshes, want one per expiry", round, n)
		}
		// Until the next expiry, neither asks again.
		for i, o := range procs {
			if h, err := authorize(o); err != nil || h != want {
				t.Fatalf("round %d, process %d again: %q %v", round, i+1, h, err)
			}
		}
	}
	if n := te.refused.Load(); n != 0 {
		t.Fatalf("the endpoint refused %d refresh tokens", n)
	}
	if store.saves != rounds {
		t.Fatalf("%d saves, want %d", store.saves, rounds)
	}
}

// TestSharedTokenEarlyAndLateRefreshes: the processes' clocks see the
// expiry at different moments, so each renews on its own: a process whose
// stored copy is rotated away by the other renews from the store's
// refresh token, never its own spent one, and after the API rejected its
// access token (401) it takes the other process's newer one without a
// token request.
func TestSharedTokenEarlyAndLateRefreshes(t *testing.T) {
	var offset atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	te := newRotatingEndpoint(t, &offset, "rt-env")
	store := newSharedStore()
	a, b := process(t, te.URL, "rt-env", store, clock), process(t, te.URL, "rt-env", store, clock)
	for round := 1; round <= 5; round++ {
		// a renews because the API rejected its token (401)...
		ha, err := authorize(a)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", "https://api.example.com/leads", nil)
		req.Header.Set("Authorization", ha)
		if err := a.Invalidate(context.Background(), req); err != nil {
			t.Fatalf("round %d: a renews after 401: %v", round, err)
		}
		ha, err = authorize(a)
		if err != nil {
			t.Fatal(err)
		}
		// ... b's token is the older one: the API rejects it too, and b
		// takes a's from the store.
		hb, err := authorize(b)
		if err != nil {
			t.Fatal(err)
		}
		before := te.refreshed.Load()
		if hb != ha {
			req.Header.Set("Authorization", hb)
			if err := b.Invalidate(context.Background(), req); err != nil {
				t.Fatalf("round %d: b renews after 401: %v", round, err)
			}
			if hb, err = authorize(b); err != nil || hb != ha {
				t.Fatalf("round %d: b has %q (%v), want a's %q", round, hb, err, ha)
			}
			if te.refreshed.Load() != before {
				t.Fatalf("round %d: b asked the endpoint although the store held a valid newer token", round)
			}
		}
		// Then b's clock reaches the expiry first: b renews from the
		// store's refresh token (a's rotation), and a follows b.
		offset.Add(int64(2 * time.Hour))
		if _, err := authorize(b); err != nil {
			t.Fatalf("round %d: b renews on expiry: %v", round, err)
		}
		if _, err := authorize(a); err != nil {
			t.Fatalf("round %d: a after b's renewal: %v", round, err)
		}
	}
	if n := te.refused.Load(); n != 0 {
		t.Fatalf("the endpoint refused %d refresh tokens", n)
	}
}

// TestSharedTokenRetriesRefusedRefreshToken: a credential whose refresh
// token was rotated by another process without it seeing the store
// before (the store's token came from another re-authorisation, which
// Latest("") leaves out) gets invalid_grant, then reloads once and
// succeeds with the stored refresh token. When the store has nothing
// else, invalid_grant stays a reauthorization_required error.
func TestSharedTokenRetriesRefusedRefreshToken(t *testing.T) {
	var offset atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	te := newRotatingEndpoint(t, &offset, "rt-env")
	store := newSharedStore()
	a := process(t, te.URL, "rt-env", store, clock)
	if h, err := authorize(a); err != nil || h != "Bearer at-1" {
		t.Fatalf("a: %q %v", h, err)
	}
	store.hide = true
	b := process(t, te.URL, "rt-env", store, clock)
	if h, err := authorize(b); err != nil || h != "Bearer at-1" {
		t.Fatalf("b after its env token was refused: %q %v", h, err)
	}
	if te.refused.Load() != 1 || te.refreshed.Load() != 1 {
		t.Fatalf("refused %d, refreshed %d: want the env token refused once and the stored access token used", te.refused.Load(), te.refreshed.Load())
	}
	// Expired: b renews with the refresh token it took from the store
	// (rt-1), without another refusal.
	offset.Add(int64(2 * time.Hour))
	if h, err := authorize(b); err != nil || h != "Bearer at-2" {
		t.Fatalf("b on expiry: %q %v", h, err)
	}
	if te.refused.Load() != 1 {
		t.Fatalf("refused %d", te.refused.Load())
	}
	// A credential whose refresh token is refused while the store holds
	// the same one needs re-authorisation.
	c := process(t, te.URL, "rt-revoked", newSharedStore(), clock)
	var re *ReauthorizationRequiredError
	if _, err := authorize(c); !errors.As(err, &re) {
		t.Fatalf("refused with nothing else stored: %v", err)
	}
}

// TestSharedTokenRevokedStoredTokenRenewsAgain: the API revokes every
// access token issued so far. Process b's call is answered 401; b takes
// the newer token process a saved, which the API rejects as well — so b
// renews a second time, from the endpoint, and the call succeeds. A
// second 401 after a renewal from the endpoint is final.
func TestSharedTokenRevokedStoredTokenRenewsAgain(t *testing.T) {
	var offset atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	te := newRotatingEndpoint(t, &offset, "rt-env")
	var minValid atomic.Int64 // access tokens "at-N" with N below are revoked
	var apiHits atomic.Int64
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apiHits.Add(1)
		n, err := strconv.Atoi(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer at-"))
		if err != nil || int64(n) < minValid.Load() {
			w.WriteHeader(401)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer api.Close()
	store := newSharedStore()
	a, b := process(t, te.URL, "rt-env", store, clock), process(t, te.URL, "rt-env", store, clock)
	ca, cb := oauthClient(t, api.URL, a), oauthClient(t, api.URL, b)
	get := func(c *http.Client) int {
		t.Helper()
		req, _ := http.NewRequestWithContext(transport.WithOperation(context.Background(), oauthOp), "GET", api.URL+"/leads", nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if get(ca) != 200 || get(cb) != 200 { // at-1, shared
		t.Fatal("first calls failed")
	}
	minValid.Store(2)   // at-1 revoked
	if get(ca) != 200 { // a: 401, renews from the endpoint: at-2
		t.Fatal("a after the first revocation")
	}
	minValid.Store(3) // at-2 revoked too
	hits := apiHits.Load()
	if code := get(cb); code != 200 {
		t.Fatalf("b after the second revocation: %d", code)
	}
	// at-1 (401), the stored at-2 (401), at-3 from the endpoint (200).
	if n := apiHits.Load() - hits; n != 3 {
		t.Fatalf("b sent %d requests, want 3", n)
	}
	if te.refreshed.Load() != 3 || te.refused.Load() != 0 {
		t.Fatalf("refreshed %d, refused %d", te.refreshed.Load(), te.refused.Load())
	}
	// The API now refuses everything: b, whose token is the newest, renews
	// once from the endpoint and gives up with the 401; a renews from the
	// store (b's token), then from the endpoint, and gives up.
	minValid.Store(1 << 30)
	for _, c := range []struct {
		name   string
		client *http.Client
		sent   int64
	}{{"b", cb, 2}, {"a", ca, 3}} {
		hits = apiHits.Load()
		if code := get(c.client); code != 401 {
			t.Fatalf("%s with every token refused: %d", c.name, code)
		}
		if n := apiHits.Load() - hits; n != c.sent {
			t.Fatalf("%s sent %d requests with every token refused, want %d", c.name, n, c.sent)
		}
	}
	if te.refused.Load() != 0 {
		t.Fatalf("refused %d", te.refused.Load())
	}
}
