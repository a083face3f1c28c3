package transport

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestRedactJSON(t *testing.T) {
	cases := map[string]string{
		`{"password":"p1","user":"u"}`:                `{"password":"[REDACTED]","user":"u"}`,
		`{"a":{"client_secret":{"x":[1,"}"]}},"b":2}`: `{"a":{"client_secret":"[REDACTED]"},"b":2}`,
		`{"api_key": 12345, "n": "api_key"}`:          `{"api_key": "[REDACTED]", "n": "api_key"}`,
		`[{"Refresh-Token":"r"},{"accessToken":"a"}]`: `[{"Refresh-Token":"[REDACTED]"},{"accessToken":"[REDACTED]"}]`,
		`{"token":"abc\"def","ok":true}`:              `{"token":"[REDACTED]","ok":true}`,
		`{"password":"trunc`:                          `{"password":"[REDACTED]"`,
		`{"x":"unterminated`:                          `{"x":"…`,
		`{"secret":{"deep":`:                          `{"secret":"[REDACTED]"`,
	}
	for in, want := range cases {
		if got := string(redactJSON([]byte(in))); got != want {
			t.Errorf("redactJSON(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestRedactURLAndText(t *testing.T) {
	r := newRedactor([]string{"X-My-Key"}, []string{"sig2"})
	u, _ := url.Parse("https://user:pw-secret@api.example.com/v1/x?api_key=k1&Token=k2&page=3&sig2=k3&client_secret=k4")
	got := r.url(u)
	for _, s := range []string{"pw-secret", "k1", "k2", "k3", "k4"} {
		if strings.Contains(got, s) {
			t.Errorf("url leaks %s: %s", s, got)
		}
	}
	if !strings.Contains(got, "page=3") || !strings.Contains(got, "api.example.com/v1/x") {
		t.Errorf("url over-redacted: %s", got)
	}
	txt := r.text(`Get "https://h/x?access_token=abc123&page=2": dial tcp: connection refused`)
	if strings.Contains(txt, "abc123") || !strings.Contains(txt, "page=2") {
		t.Errorf("text = %s", txt)
	}
	if !r.secretHeader("X-My-Key") || !r.secretHeader("X-Api-Key") || r.secretHeader("Accept") {
		t.Error("secretHeader")
	}
	if b := r.body("application/x-www-form-urlencoded", []byte("grant_type=refresh_token&refresh_token=rt1&client_secret=cs1"), false); strings.Contains(b, "rt1") || strings.Contains(b, "cs1") || !strings.Contains(b, "grant_type=refresh_token") {
		t.Errorf("form body %s", b)
	}
	if b := r.body("application/octet-stream", []byte("binary-secret"), false); strings.Contains(b, "binary-secret") {
		t.Errorf("binary body %s", b)
	}
}

// knownAuth is an Authenticator that also redacts one known value.
type knownAuth struct{ value string }

func (knownAuth) Wrap(next http.RoundTripper) http.RoundTripper { return next }
func (knownAuth) SensitiveNames() ([]string, []string)          { return nil, nil }
func (a knownAuth) Redact(b []byte) []byte {
	return bytes.ReplaceAll(b, []byte(a.value), []byte(Redacted))
}

func TestRedactorUsesSecretRedactor(t *testing.T) {
	cfg := Config{Auth: knownAuth{"k-123456"}}.withDefaults()
	r := cfg.redactor
	if r.known == nil {
		t.Fatal("the Authenticator's Redact was not picked up")
	}
	u, _ := url.Parse("https://h/v1/items/k-123456?q=k-123456")
	if got := r.url(u); strings.Contains(got, "k-123456") {
		t.Errorf("url %s", got)
	}
	if got := r.text("invalid key k-123456"); got != "invalid key [REDACTED]" {
		t.Errorf("text %s", got)
	}
	if got := r.header(http.Header{"X-Echo": {"seen k-123456"}}); len(got) != 1 || got[0] != "X-Echo: seen [REDACTED]" {
		t.Errorf("header %v", got)
	}
	for ct, body := range map[string]string{
		"application/json":                  `{"message":"invalid key k-123456"}`,
		"application/x-www-form-urlencoded": `note=k-123456`,
	} {
		if got := r.body(ct, []byte(body), false); strings.Contains(got, "k-123456") || !strings.Contains(got, Redacted) {
			t.Errorf("%s body %s", ct, got)
		}
	}
	// RedactSecrets (name-based, for text without a client) is unchanged.
	if got := string(RedactSecrets([]byte("key k-123456"))); got != "key k-123456" {
		t.Errorf("RedactSecrets %s", got)
	}
}
