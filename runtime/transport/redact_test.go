package transport

import (
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
