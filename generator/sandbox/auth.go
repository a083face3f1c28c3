package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
)

// authState holds issued OAuth 2.0 tokens and the idempotency store.
type authState struct {
	ttl     time.Duration
	mu      sync.Mutex
	tokens  map[string]time.Time // access token → expiry
	refresh map[string]bool      // live refresh tokens
	tokReqs map[string]int64     // grant type → count

	idemMu sync.Mutex
	idem   map[string]idemEntry
}

type idemEntry struct {
	hash   string
	status int
	header http.Header
	body   []byte
}

func newAuthState(ttl time.Duration) *authState {
	return &authState{ttl: ttl, tokens: map[string]time.Time{}, refresh: map[string]bool{}, tokReqs: map[string]int64{}, idem: map[string]idemEntry{}}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func same(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// badCredential is the error every refused credential gets: one message, so
// the answer does not tell which part of a credential was wrong.
func badCredential() error { return errors.New("credential missing or not accepted") }

// authenticate checks one security scheme of a request for openapi3filter:
// presence always, the value against the configured credentials.
func (s *System) authenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	req := in.RequestValidationInput.Request
	sc := in.SecurityScheme
	c := s.creds
	switch strings.ToLower(sc.Type) {
	case "apikey":
		var v string
		switch sc.In {
		case "header":
			v = req.Header.Get(sc.Name)
		case "query":
			v = req.URL.Query().Get(sc.Name)
		case "cookie":
			if ck, err := req.Cookie(sc.Name); err == nil {
				v = ck.Value
			}
		}
		if v == "" || (c.APIKey != "" && !same(v, c.APIKey) && !same(strings.TrimSpace(afterScheme(v)), c.APIKey)) {
			return badCredential()
		}
		return nil
	case "http":
		h := req.Header.Get("Authorization")
		switch strings.ToLower(sc.Scheme) {
		case "basic":
			u, p, ok := req.BasicAuth()
			if !ok || (c.Username != "" && !same(u, c.Username)) || (c.Password != "" && !same(p, c.Password)) {
				return badCredential()
			}
			return nil
		case "bearer":
			tok, ok := cutFold(h, "Bearer ")
			if !ok || tok == "" || !s.bearerOK(tok) {
				return badCredential()
			}
			return nil
		default:
			if h == "" {
				return badCredential()
			}
			return nil
		}
	case "oauth2", "openidconnect":
		tok, ok := cutFold(req.Header.Get("Authorization"), "Bearer ")
		if !ok || tok == "" || !s.bearerOK(tok) {
			return badCredential()
		}
		return nil
	}
	return nil // mutualTLS: not simulated
}

// afterScheme strips an "Scheme " prefix some API keys carry in
// Authorization headers ("Klaviyo-API-Key k").
func afterScheme(v string) string {
	if i := strings.IndexByte(v, ' '); i >= 0 {
		return v[i+1:]
	}
	return v
}

func cutFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return "", false
	}
	return s[len(prefix):], true
}

// bearerOK accepts the static bearer token, tokens the token endpoint
// issued and, when neither a static token nor an OAuth client is
// configured, any token.
func (s *System) bearerOK(tok string) bool {
	c := s.creds
	if c.Bearer != "" && same(tok, c.Bearer) {
		return true
	}
	s.auth.mu.Lock()
	exp, ok := s.auth.tokens[tok]
	s.auth.mu.Unlock()
	if ok && time.Now().Before(exp) {
		return true
	}
	return c.Bearer == "" && c.ClientID == ""
}

// token implements the OAuth 2.0 token endpoint: client credentials and
// refresh token grants; refresh tokens rotate on every use and a used or
// revoked one is answered invalid_grant.
func (s *System) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, "application/json", map[string]string{"error": "invalid_request"})
		return
	}
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, "application/json", map[string]string{"error": "invalid_request"})
		return
	}
	id, sec, ok := r.BasicAuth()
	if !ok {
		id, sec = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	c := s.creds
	if id == "" || (c.ClientID != "" && (!same(id, c.ClientID) || !same(sec, c.ClientSecret))) {
		writeJSON(w, http.StatusUnauthorized, "application/json", map[string]string{"error": "invalid_client"})
		return
	}
	grant := r.PostForm.Get("grant_type")
	a := s.auth
	a.mu.Lock()
	a.tokReqs[grant]++
	resp := map[string]any{"token_type": "Bearer", "expires_in": int(a.ttl / time.Second)}
	switch grant {
	case "client_credentials":
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		if !a.refresh[rt] {
			a.mu.Unlock()
			writeJSON(w, http.StatusBadRequest, "application/json", map[string]string{"error": "invalid_grant"})
			return
		}
		delete(a.refresh, rt)
		next := "rt_" + randomHex(16)
		a.refresh[next] = true
		resp["refresh_token"] = next
	default:
		a.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, "application/json", map[string]string{"error": "unsupported_grant_type"})
		return
	}
	at := "at_" + randomHex(16)
	a.tokens[at] = time.Now().Add(a.ttl)
	a.mu.Unlock()
	resp["access_token"] = at
	if sc := r.PostForm.Get("scope"); sc != "" {
		resp["scope"] = sc
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, "application/json", resp)
}

// IssueRefreshToken returns a new refresh token, as the authorization-code
// flow would hand out.
func (s *System) IssueRefreshToken() string {
	t := "rt_" + randomHex(16)
	s.auth.mu.Lock()
	s.auth.refresh[t] = true
	s.auth.mu.Unlock()
	return t
}

// RevokeRefreshToken revokes a refresh token (its next use gets
// invalid_grant).
func (s *System) RevokeRefreshToken(t string) {
	s.auth.mu.Lock()
	delete(s.auth.refresh, t)
	s.auth.mu.Unlock()
}

// RevokeTokens invalidates every access token: the API answers 401 until
// the client fetches a new one.
func (s *System) RevokeTokens() {
	s.auth.mu.Lock()
	s.auth.tokens = map[string]time.Time{}
	s.auth.mu.Unlock()
}

// TokenRequests returns the number of token requests by grant type.
func (s *System) TokenRequests() map[string]int64 {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	out := map[string]int64{}
	for k, v := range s.auth.tokReqs {
		out[k] = v
	}
	return out
}
