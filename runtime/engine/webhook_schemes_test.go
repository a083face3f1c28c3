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
