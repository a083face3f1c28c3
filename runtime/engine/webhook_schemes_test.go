package engine_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// TestWebhookSchemes: each vendor scheme accepts its own signature on its
// default header and refuses a forged, missing or other-scheme one (401,
// nothing queued); Stripe's is timestamped, so a stale one is refused too.
func TestWebhookSchemes(t *testing.T) {
	now := time.Unix(1_750_000_000, 0)
	body := "id=e1;key=a;version=1"
	for _, tc := range []struct {
		scheme engine.WebhookScheme
		header string
	}{
		{engine.SchemeTimestamped, "X-Signature"},
		{engine.SchemeStripe, "Stripe-Signature"},
		{engine.SchemeShopify, "X-Shopify-Hmac-Sha256"},
	} {
		f := setup(t, engine.NewMemoryStore())
		f.add(t)
		h := f.eng.Webhook("leads", engine.WebhookConfig{Scheme: tc.scheme, Secret: whSecret, Now: func() time.Time { return now }})
		post := func(header, sig string) int {
			req := httptest.NewRequest(http.MethodPost, "/hooks/leads", strings.NewReader(body))
			if sig != "" {
				req.Header.Set(header, sig)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec.Code
		}
		other := engine.SchemeShopify
		if tc.scheme == engine.SchemeShopify {
			other = engine.SchemeStripe
		}
		good := engine.SignWebhookScheme(tc.scheme, whSecret, now, []byte(body))
		for name, sig := range map[string]string{
			"missing":      "",
			"other scheme": engine.SignWebhookScheme(other, whSecret, now, []byte(body)),
			"forged":       engine.SignWebhookScheme(tc.scheme, whSecret, now, []byte(body+"x")),
		} {
			if code := post(tc.header, sig); code != http.StatusUnauthorized {
				t.Errorf("scheme %d, %s: %d, want 401", tc.scheme, name, code)
			}
		}
		if tc.scheme != engine.SchemeShopify {
			stale := engine.SignWebhookScheme(tc.scheme, whSecret, now.Add(-10*time.Minute), []byte(body))
			if code := post(tc.header, stale); code != http.StatusUnauthorized {
				t.Errorf("scheme %d, stale: %d, want 401", tc.scheme, code)
			}
		}
		if code := post(tc.header, good); code != http.StatusAccepted {
			t.Errorf("scheme %d, signed: %d, want 202", tc.scheme, code)
		}
	}
}

// A Shopify-style sender signs the raw body only.
func ExampleSignWebhookScheme() {
	sig := engine.SignWebhookScheme(engine.SchemeShopify, whSecret, time.Time{}, []byte(`{"id":1}`))
	fmt.Println(len(sig))
	// Output: 44
}

// TestWebhookIDFromHeader: a Shopify delivery's body is the record itself
// (no event ID); the ID is X-Shopify-Webhook-Id, so a redelivery (same
// header) is a duplicate, another delivery for the same record is queued,
// and one without the header is refused. A configured IDHeader replaces the
// scheme's; an ID in the body wins over the header.
func TestWebhookIDFromHeader(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cfg      engine.WebhookConfig
		idHeader string
	}{
		{"shopify default", engine.WebhookConfig{Scheme: engine.SchemeShopify}, "X-Shopify-Webhook-Id"},
		{"declared header", engine.WebhookConfig{Scheme: engine.SchemeShopify, IDHeader: "X-Delivery"}, "X-Delivery"},
		{"default scheme", engine.WebhookConfig{IDHeader: "X-Delivery"}, "X-Delivery"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Unix(1_750_000_000, 0)
			f := setup(t, engine.NewMemoryStore())
			f.add(t)
			cfg := tc.cfg
			cfg.Secret, cfg.Now = whSecret, func() time.Time { return now }
			h := f.eng.Webhook("leads", cfg)
			post := func(body string, headers map[string]string) int {
				req := httptest.NewRequest(http.MethodPost, "/hooks/leads", strings.NewReader(body))
				sigHeader := "X-Signature"
				if cfg.Scheme == engine.SchemeShopify {
					sigHeader = "X-Shopify-Hmac-Sha256"
				}
				req.Header.Set(sigHeader, engine.SignWebhookScheme(cfg.Scheme, whSecret, now, []byte(body)))
				for k, v := range headers {
					req.Header.Set(k, v)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				return rec.Code
			}
			depth := func() int {
				n, err := f.store.QueueDepth(t.Context(), "leads")
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			steps := []struct {
				body    string
				headers map[string]string
				want    int
				depth   int
			}{
				{"key=a;version=1", nil, http.StatusBadRequest, 0},
				{"key=a;version=1", map[string]string{"X-Other-Id": "w1"}, http.StatusBadRequest, 0},
				{"key=a;version=1", map[string]string{tc.idHeader: strings.Repeat("w", 600)}, http.StatusBadRequest, 0},
				{"key=a;version=1", map[string]string{tc.idHeader: "w1"}, http.StatusAccepted, 1},
				{"key=a;version=1", map[string]string{tc.idHeader: "w1"}, http.StatusOK, 1},
				{"key=a;version=2", map[string]string{tc.idHeader: "w2"}, http.StatusAccepted, 2},
				// The body's own ID wins: w2 is taken by the header above,
				// but this event is e3.
				{"id=e3;key=a;version=3", map[string]string{tc.idHeader: "w2"}, http.StatusAccepted, 3},
			}
			for i, s := range steps {
				if code := post(s.body, s.headers); code != s.want {
					t.Errorf("step %d (%s %v): %d, want %d", i, s.body, s.headers, code, s.want)
				}
				if d := depth(); d != s.depth {
					t.Errorf("step %d: queue depth %d, want %d", i, d, s.depth)
				}
			}
		})
	}
}
