package crm_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/connectorgen/connectorgen/golden/crmemail/crm"
	"github.com/connectorgen/connectorgen/runtime/auth"
	"github.com/connectorgen/connectorgen/runtime/rest"
	"github.com/connectorgen/connectorgen/runtime/secret"
)

// TestOAuthSharedTokenRefreshesOnce: 100 goroutines calling through four
// generated clients that share one OAuth 2.0 client-credentials credential
// cause exactly one token request each time the token needs renewing —
// when it is about to expire, when the API revokes it (401), and when the
// clock passes its expiry.
func TestOAuthSharedTokenRefreshesOnce(t *testing.T) {
	ts := newTokenServer(t, "tok-", time.Hour, 50*time.Millisecond)
	var skew atomic.Int64 // the credential's clock runs ahead by this much
	ev := &events{}
	o, err := auth.ClientCredentials(auth.OAuthConfig{
		TokenURL:     ts.srv.URL + "/oauth/token",
		ClientID:     "crm-sync",
		ClientSecret: secret.New("client-secret"),
		Scopes:       []string{"crm.read"},
		HTTPClient:   ts.srv.Client(),
		// The token persisted by a previous run expires in 30 s.
		Token:    &oauth2.Token{AccessToken: "tok-0", TokenType: "Bearer", Expiry: time.Now().Add(30 * time.Second)},
		Now:      func() time.Time { return time.Now().Add(time.Duration(skew.Load())) },
		Observer: ev,
		System:   "crm",
	})
	if err != nil {
		t.Fatal(err)
	}
	var accepted sync.Map
	a := newFakeAPI(t, bearerAPI(&accepted))
	clients := make([]*crm.Client, 4)
	for i := range clients {
		c, err := crm.NewClient(a.base(), rest.WithSystem("crm"), rest.WithHTTPClient(a.srv.Client()),
			rest.WithCredential(crm.SecurityOAuth2, o))
		if err != nil {
			t.Fatal(err)
		}
		clients[i] = c
	}
	burst := func(phase string) {
		t.Helper()
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, 100)
		for i := 0; i < 100; i++ {
			wg.Add(1)
			go func(c *crm.Client) {
				defer wg.Done()
				<-start
				lead, err := getLead(c, context.Background())
				if err == nil && lead.ID != "ld_42" {
					t.Errorf("%s: lead %+v", phase, lead)
				}
				errs <- err
			}(clients[i%len(clients)])
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("%s: %v", phase, err)
			}
		}
	}

	// 1. 20 s later the token is still valid but inside the early-refresh
	// margin (half its remaining life when installed, 15 s): it is renewed
	// once, before any request uses it.
	skew.Store(int64(20 * time.Second))
	accepted.Store("tok-0", true)
	accepted.Store("tok-1", true)
	burst("expiring token")
	if n := ts.requests.Load(); n != 1 {
		t.Fatalf("expiring token: %d token requests, want 1", n)
	}
	apiCalls := a.count()
	if apiCalls != 100 {
		t.Fatalf("%d API requests, want 100", apiCalls)
	}
	for i := 0; i < apiCalls; i++ {
		if h := a.hit(i).header.Get("Authorization"); h != "Bearer tok-1" {
			t.Fatalf("request %d carried %q, want the renewed token", i, h)
		}
	}

	// 2. The API revokes tok-1: every goroutine gets a 401, one refresh
	// happens, and each request is resent once with tok-2.
	accepted.Delete("tok-0")
	accepted.Delete("tok-1")
	accepted.Store("tok-2", true)
	burst("revoked token")
	if n := ts.requests.Load(); n != 2 {
		t.Fatalf("revoked token: %d token requests in all, want 2", n)
	}
	if n := a.count() - apiCalls; n < 101 || n > 200 {
		t.Fatalf("revoked token: %d API requests, want 100 plus one resend per 401", n)
	}
	apiCalls = a.count()

	// 3. Time passes beyond tok-2's expiry: one refresh again.
	skew.Store(int64(2 * time.Hour))
	accepted.Store("tok-3", true)
	burst("expired token")
	if n := ts.requests.Load(); n != 3 {
		t.Fatalf("expired token: %d token requests in all, want 3", n)
	}
	if n := a.count() - apiCalls; n != 100 {
		t.Fatalf("expired token: %d API requests, want 100", n)
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if len(ev.refresh) != 3 || !ev.refresh[1].Forced || ev.refresh[0].Forced || ev.refresh[0].Scheme != crm.SecurityOAuth2 {
		t.Fatalf("token refresh reports %+v", ev.refresh)
	}
}
