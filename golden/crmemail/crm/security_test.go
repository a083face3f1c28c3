package crm_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/golden/crmemail/crm"
	"github.com/connectorgen/connectorgen/runtime/auth"
	"github.com/connectorgen/connectorgen/runtime/rest"
	"github.com/connectorgen/connectorgen/runtime/secret"
)

// TestPlainHTTPOnlyForLoopback: the generated constructor refuses an
// http:// base URL unless the host is loopback or WithInsecureHTTP is given.
func TestPlainHTTPOnlyForLoopback(t *testing.T) {
	t.Parallel()
	cred := rest.WithCredential(crm.SecurityOAuth2, auth.Bearer(secret.New("token-123456")))
	for _, base := range []string{"http://api.acmecrm.example/v1", "http://10.1.2.3/v1", "http://localhost.example.com/v1"} {
		if _, err := crm.NewClient(base, cred); err == nil || !strings.Contains(err.Error(), "refusing plain http") {
			t.Errorf("%s: %v", base, err)
		}
	}
	for _, base := range []string{crm.ServerProduction, "http://localhost:8080/v1", "http://127.0.0.1:9/v1", "http://[::1]:9/v1"} {
		if _, err := crm.NewClient(base, cred); err != nil {
			t.Errorf("%s: %v", base, err)
		}
	}
	if _, err := crm.NewClient("http://api.acmecrm.example/v1", cred, rest.WithInsecureHTTP()); err != nil {
		t.Errorf("WithInsecureHTTP: %v", err)
	}
}

// TestRedirectToAnotherHostGetsNoCredentials: whatever the credential kind,
// a redirect from the API to another origin is followed without it.
func TestRedirectToAnotherHostGetsNoCredentials(t *testing.T) {
	t.Parallel()
	const key = "cred-S3CRET-5555"
	var mu sync.Mutex
	var seen []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.RawQuery+"|"+r.Header.Get("Authorization")+"|"+r.Header.Get("X-Api-Key")+"|"+r.Header.Get("Cookie"))
		mu.Unlock()
		ok(leadJSON)(w, r)
	}))
	defer other.Close()
	for name, cred := range map[string]auth.Credential{
		"api key in header": auth.APIKeyHeader("X-API-Key", secret.New(key)),
		"api key in query":  auth.APIKeyQuery("crm_key", secret.New(key)),
		"api key in cookie": auth.APIKeyCookie("crm_session", secret.New(key)),
		"basic":             auth.Basic("user", secret.New(key)),
		"bearer":            auth.Bearer(secret.New(key)),
	} {
		a := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/mirror/leads/ld_42?page=1", http.StatusFound)
		})
		c := newCRM(t, a, rest.WithCredential(crm.SecurityOAuth2, cred))
		if _, err := getLead(c, context.Background()); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if h := a.hit(0); name != "api key in query" && h.header.Get("Authorization")+h.header.Get("X-Api-Key")+h.header.Get("Cookie") == "" {
			t.Fatalf("%s: the API itself got no credential; the test proves nothing", name)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 5 {
		t.Fatalf("the other host got %d requests, want 5", len(seen))
	}
	for _, s := range seen {
		if s != "page=1|||" {
			t.Errorf("the other host received credentials: %q", s)
		}
	}
}

// TestErrorBodyReadsAreBounded: a huge error body is neither read whole nor
// kept whole.
func TestErrorBodyReadsAreBounded(t *testing.T) {
	t.Parallel()
	chunk := []byte(strings.Repeat("x", 64<<10))
	a := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(400)
		for i := 0; i < 1<<10; i++ { // 64 MiB unless the client hangs up
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	c := newCRM(t, a)
	start := time.Now()
	_, err := getLead(c, context.Background())
	var e *rest.Error
	if !errors.As(err, &e) || e.StatusCode != 400 || len(e.Body) != rest.DefaultMaxErrorBody {
		t.Fatalf("%T, body %d bytes", err, len(e.Body))
	}
	if msg := err.Error(); len(msg) > 400 || !strings.HasSuffix(msg, "…") {
		t.Fatalf("message of %d bytes: %.80s", len(msg), msg)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v: the body was read whole", d)
	}
}
