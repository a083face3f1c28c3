package engine

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"time"

	"github.com/connectorgen/connectorgen/runtime/secret"
)

// WebhookScheme is how a sender signs its webhook deliveries. Every scheme
// is an HMAC-SHA256 with the shared secret, compared in constant time.
type WebhookScheme int

// Signature schemes.
const (
	// SchemeTimestamped is ours: a header "t=<unix seconds>,v1=<hex
	// HMAC of "<t>.<raw body>">", several v1 values accepted (key
	// rotation), the timestamp within the tolerance (replays refused).
	// Default header X-Signature.
	SchemeTimestamped WebhookScheme = iota
	// SchemeStripe is Stripe's Stripe-Signature header: the same format
	// and checks as SchemeTimestamped. Default header Stripe-Signature.
	SchemeStripe
	// SchemeShopify is Shopify's X-Shopify-Hmac-Sha256 header: the
	// base64 HMAC of the raw body, with no timestamp (Shopify signs
	// none, so replays within the event-ID deduplication are the only
	// guard). Default header X-Shopify-Hmac-Sha256. The body is the
	// changed record itself; the event ID is in X-Shopify-Webhook-Id
	// (WebhookConfig.IDHeader).
	SchemeShopify
)

// defaultHeader is the scheme's usual signature header.
func (s WebhookScheme) defaultHeader() string {
	switch s {
	case SchemeStripe:
		return "Stripe-Signature"
	case SchemeShopify:
		return "X-Shopify-Hmac-Sha256"
	}
	return "X-Signature"
}

// defaultIDHeader is the header in which the scheme's senders name each
// delivery, for bodies that do not ("" when the scheme has none).
func (s WebhookScheme) defaultIDHeader() string {
	if s == SchemeShopify {
		return "X-Shopify-Webhook-Id"
	}
	return ""
}

// verifyScheme checks a delivery's signature header under cfg's scheme.
func verifyScheme(cfg WebhookConfig, header string, body []byte) error {
	if cfg.Scheme == SchemeShopify {
		return verifyBase64Body(header, cfg.Secret, body)
	}
	return verify(header, cfg.Secret, body, cfg.Now(), cfg.Tolerance)
}

// verifyBase64Body checks a base64 HMAC-SHA256 of the raw body.
func verifyBase64Body(header string, key secret.Secret, body []byte) error {
	if header == "" {
		return errNoSignature
	}
	got, err := base64.StdEncoding.DecodeString(header)
	if err != nil || len(got) != sha256.Size {
		return errNoSignature
	}
	m := hmac.New(sha256.New, []byte(key.Reveal()))
	m.Write(body)
	if !hmac.Equal(got, m.Sum(nil)) {
		return errBadSignature
	}
	return nil
}

// SignWebhookScheme returns the signature header value a sender using
// scheme computes for body at time at (at is ignored by SchemeShopify),
// for tests and for relaying events.
func SignWebhookScheme(scheme WebhookScheme, key secret.Secret, at time.Time, body []byte) string {
	if scheme == SchemeShopify {
		m := hmac.New(sha256.New, []byte(key.Reveal()))
		m.Write(body)
		return base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	return SignWebhook(key, at, body)
}
