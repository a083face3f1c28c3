package auth

import (
	"strings"
	"testing"

	"github.com/connectorgen/connectorgen/runtime/secret"
)

// TestOAuthRefusesPlainHTTPTokenURL: the client secret and the refresh token
// travel to the token URL, so it gets the same rule as base URLs: https, or
// plain http only to a loopback host (or with InsecureTokenURL).
func TestOAuthRefusesPlainHTTPTokenURL(t *testing.T) {
	base := OAuthConfig{ClientID: "client-id", ClientSecret: secret.New("client-secret-XYZ"), RefreshToken: secret.New("rt-1")}
	for _, u := range []string{"http://auth.example.com/token", "http://10.0.0.7/token", "ftp://auth.example.com/token", "/token", "https:///token"} {
		cfg := base
		cfg.TokenURL = u
		if _, err := ClientCredentials(cfg); err == nil {
			t.Errorf("ClientCredentials accepted token URL %s", u)
		} else if strings.Contains(err.Error(), "client-secret-XYZ") {
			t.Errorf("error leaks the secret: %v", err)
		}
		if _, err := RefreshToken(cfg); err == nil {
			t.Errorf("RefreshToken accepted token URL %s", u)
		}
	}
	for _, u := range []string{"https://auth.example.com/token", "http://127.0.0.1:8080/token", "http://localhost/token", "http://[::1]:9/token"} {
		cfg := base
		cfg.TokenURL = u
		if _, err := RefreshToken(cfg); err != nil {
			t.Errorf("token URL %s refused: %v", u, err)
		}
	}
	cfg := base
	cfg.TokenURL = "http://auth.internal/token"
	cfg.InsecureTokenURL = true
	if _, err := RefreshToken(cfg); err != nil {
		t.Errorf("InsecureTokenURL: %v", err)
	}
}
