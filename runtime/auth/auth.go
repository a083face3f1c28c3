// Package auth applies credentials to outgoing requests: API keys (header,
// query, cookie), HTTP basic, bearer tokens and OAuth 2.0 (client
// credentials and refresh token, with early single-flight refresh, one
// forced refresh on 401, rotated tokens handed to a persistence hook, and
// permanent failures such as invalid_grant reported once and then failed
// fast). A Set maps the security scheme names of an API description
// (components.securitySchemes) to credentials and is the outermost
// middleware of the transport chain: it reads the operation's security
// requirements from the request context and applies the first alternative
// whose schemes are all configured.
//
// The package must not: send credentials to any origin other than the
// configured base URL's (scheme, host and port), send them over plain HTTP
// except to a loopback address, put a secret in an error message, or keep
// package-level state. Besides the standard library it imports only
// golang.org/x/oauth2 and the runtime's transport, secret and observe
// packages.
package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/connectorgen/connectorgen/runtime/secret"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

// Credential adds one security scheme's credential to a request. Apply gets a
// private copy of the request (its Header and URL may be modified in place)
// and uses req.Context() for any I/O it needs.
type Credential interface {
	Apply(req *http.Request) error
}

// Refresher is a Credential that can be renewed, such as an OAuth 2.0 token.
// When a request carrying it is answered 401, the Set calls Invalidate with
// the rejected request; the credential renews itself unless it already has
// since that request was made, and the Set sends the request once more.
type Refresher interface {
	Credential
	Invalidate(ctx context.Context, rejected *http.Request) error
}

// sensitive is implemented by credentials that write into named headers or
// query parameters, so that logs can redact them.
type sensitive interface {
	sensitiveNames() (headers, query []string)
}

// APIKeyHeader sends key in the request header name (e.g. "X-API-Key").
func APIKeyHeader(name string, key secret.Secret) Credential {
	return &headerCred{name: http.CanonicalHeaderKey(name), value: key}
}

// Bearer sends "Authorization: Bearer <token>".
func Bearer(token secret.Secret) Credential {
	return &headerCred{name: "Authorization", value: secret.New("Bearer " + token.Reveal()), parts: []secret.Secret{token}}
}

// Basic sends HTTP basic authentication.
func Basic(username string, password secret.Secret) Credential {
	enc := base64.StdEncoding.EncodeToString([]byte(username + ":" + password.Reveal()))
	return &headerCred{name: "Authorization", value: secret.New("Basic " + enc), parts: []secret.Secret{password, secret.New(enc)}}
}

type headerCred struct {
	name  string
	value secret.Secret
	parts []secret.Secret // the secret pieces of value (token, password, encoding), for redaction
}

func (c *headerCred) appendSecrets(dst []string) []string {
	dst = append(dst, c.value.Reveal())
	for _, p := range c.parts {
		dst = append(dst, p.Reveal())
	}
	return dst
}

func (c *headerCred) Apply(req *http.Request) error {
	req.Header[c.name] = []string{c.value.Reveal()}
	return nil
}

func (c *headerCred) sensitiveNames() ([]string, []string) { return []string{c.name}, nil }

// APIKeyQuery sends key as the query parameter name.
func APIKeyQuery(name string, key secret.Secret) Credential {
	return &queryCred{name: name, key: key, pair: secret.New(url.QueryEscape(name) + "=" + url.QueryEscape(key.Reveal()))}
}

type queryCred struct {
	name string
	key  secret.Secret
	pair secret.Secret
}

func (c *queryCred) appendSecrets(dst []string) []string {
	k := c.key.Reveal()
	return append(dst, k, url.QueryEscape(k), url.PathEscape(k))
}

func (c *queryCred) Apply(req *http.Request) error {
	if req.URL.RawQuery == "" {
		req.URL.RawQuery = c.pair.Reveal()
	} else {
		req.URL.RawQuery += "&" + c.pair.Reveal()
	}
	return nil
}

func (c *queryCred) sensitiveNames() ([]string, []string) { return nil, []string{c.name} }

// APIKeyCookie sends key as the cookie name.
func APIKeyCookie(name string, key secret.Secret) Credential {
	ck := &http.Cookie{Name: name, Value: key.Reveal()}
	return &cookieCred{key: key, pair: secret.New(ck.String())}
}

type cookieCred struct{ key, pair secret.Secret }

func (c *cookieCred) appendSecrets(dst []string) []string {
	return append(dst, c.key.Reveal(), c.pair.Reveal())
}

func (c *cookieCred) Apply(req *http.Request) error {
	if prev := req.Header.Get("Cookie"); prev != "" {
		req.Header.Set("Cookie", prev+"; "+c.pair.Reveal())
	} else {
		req.Header.Set("Cookie", c.pair.Reveal())
	}
	return nil
}

func (c *cookieCred) sensitiveNames() ([]string, []string) { return []string{"Cookie"}, nil }

// Set maps security scheme names to credentials for one API and base URL.
// Configure it (Add, WithDefault) before use; it is then safe for concurrent
// use. It implements transport.Authenticator.
type Set struct {
	scheme, host, port string // the base URL's origin
	creds              map[string]Credential
	defaults           []transport.SecurityRequirement
}

// NewSet returns an empty Set for an API served at baseURL. Credentials are
// only ever sent to baseURL's origin, and baseURL must be https unless its
// host is a loopback address (localhost, 127.0.0.0/8, ::1).
func NewSet(baseURL string) (*Set, error) {
	return newSet(baseURL, false)
}

// NewInsecureSet is NewSet that also accepts a plain-http base URL on any
// host, so that credentials travel in clear text. It exists for development
// against servers on a trusted network (rest.WithInsecureHTTP uses it); do
// not use it in production.
func NewInsecureSet(baseURL string) (*Set, error) {
	return newSet(baseURL, true)
}

func newSet(baseURL string, insecure bool) (*Set, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, errors.New("auth: invalid base URL")
	}
	s := &Set{scheme: strings.ToLower(u.Scheme), host: strings.ToLower(u.Hostname()), creds: map[string]Credential{}}
	if s.host == "" {
		return nil, errors.New("auth: base URL " + u.Redacted() + " has no host")
	}
	s.port = portOf(s.scheme, u.Port())
	switch s.scheme {
	case "https":
	case "http":
		if !insecure && !loopback(s.host) {
			return nil, errors.New("auth: base URL " + u.Redacted() + " is not https: credentials are only sent over plain http to loopback addresses")
		}
	default:
		return nil, errors.New("auth: base URL " + u.Redacted() + " must be https")
	}
	return s, nil
}

func portOf(scheme, port string) string {
	if port != "" {
		return port
	}
	if scheme == "http" {
		return "80"
	}
	return "443"
}

func loopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Origin returns the origin credentials are sent to, as
// scheme://host:port in lower case with the port always present (for
// example "https://api.example.com:443", "http://[::1]:8080").
func (s *Set) Origin() string {
	return s.scheme + "://" + net.JoinHostPort(s.host, s.port)
}

// Clone returns a new Set for the same origin with the same credentials
// and default requirements; adding to the clone leaves s unchanged. The
// credentials themselves are shared (an OAuth token refreshed through one
// Set is seen by the other).
func (s *Set) Clone() *Set {
	c := &Set{scheme: s.scheme, host: s.host, port: s.port, creds: make(map[string]Credential, len(s.creds))}
	for k, v := range s.creds {
		c.creds[k] = v
	}
	c.defaults = append([]transport.SecurityRequirement(nil), s.defaults...)
	return c
}

// Add registers c for the security scheme named scheme and returns s.
func (s *Set) Add(scheme string, c Credential) *Set {
	if c != nil {
		if o, ok := c.(*OAuth); ok && o.scheme == "" {
			o.scheme = scheme
		}
		s.creds[scheme] = c
	}
	return s
}

// WithDefault sets the security requirements used for requests that carry
// no transport.Operation (hand-built requests); by default they get no
// credentials. It returns s.
func (s *Set) WithDefault(reqs ...transport.SecurityRequirement) *Set {
	s.defaults = reqs
	return s
}

// Has reports whether scheme has a credential.
func (s *Set) Has(scheme string) bool { _, ok := s.creds[scheme]; return ok }

// SensitiveNames returns the header and query parameter names the
// credentials write into (for log redaction).
func (s *Set) SensitiveNames() (headers, query []string) {
	names := make([]string, 0, len(s.creds))
	for n := range s.creds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if sn, ok := s.creds[n].(sensitive); ok {
			h, q := sn.sensitiveNames()
			headers = append(headers, h...)
			query = append(query, q...)
		}
	}
	return headers, query
}

// mayAuthorize reports whether req may carry credentials: its URL is on the
// base URL's origin and, when it is a redirect hop (http.Client sets
// req.Response), every earlier request of the redirect chain was too. A
// request that left the origin never gets credentials again, even when
// another origin redirects it back.
func (s *Set) mayAuthorize(req *http.Request) bool {
	if !s.sameOrigin(req.URL) {
		return false
	}
	for resp, hops := req.Response, 0; resp != nil && resp.Request != nil && hops < 64; resp, hops = resp.Request.Response, hops+1 {
		if !s.sameOrigin(resp.Request.URL) {
			return false
		}
	}
	return true
}

// sameOrigin reports whether u is on the base URL's origin.
func (s *Set) sameOrigin(u *url.URL) bool {
	if u == nil || !strings.EqualFold(u.Scheme, s.scheme) || !strings.EqualFold(u.Hostname(), s.host) {
		return false
	}
	return portOf(s.scheme, u.Port()) == s.port
}

// MissingCredentialsError reports an operation whose security requirements
// cannot be met with the configured credentials. It matches
// transport.ErrAuth.
type MissingCredentialsError struct {
	OperationID string
	// Missing lists, per alternative, the schemes without a credential.
	Missing [][]string
}

func (e *MissingCredentialsError) Error() string {
	var b strings.Builder
	b.WriteString("auth: ")
	if e.OperationID != "" {
		b.WriteString("operation " + quote(e.OperationID) + " ")
	} else {
		b.WriteString("request ")
	}
	b.WriteString("needs credentials for security scheme ")
	for i, alt := range e.Missing {
		if i > 0 {
			b.WriteString(" or ")
		}
		for j, s := range alt {
			if j > 0 {
				b.WriteString(" and ")
			}
			b.WriteString(quote(s))
		}
	}
	b.WriteString(", but none is configured")
	return b.String()
}

// Is reports whether target is transport.ErrAuth.
func (e *MissingCredentialsError) Is(target error) bool { return target == transport.ErrAuth }

func quote(s string) string { return `"` + s + `"` }

// choose returns the alternative to apply: the first non-empty one whose
// schemes all have credentials, else an empty one (anonymous) when the
// operation allows it. ok is false when no alternative can be met.
func (s *Set) choose(reqs []transport.SecurityRequirement) (alt transport.SecurityRequirement, ok bool) {
	anonymous := false
	for _, r := range reqs {
		if len(r) == 0 {
			anonymous = true
			continue
		}
		all := true
		for _, name := range r {
			if _, has := s.creds[name]; !has {
				all = false
				break
			}
		}
		if all {
			return r, true
		}
	}
	return nil, anonymous
}

func (s *Set) missing(op *transport.Operation, reqs []transport.SecurityRequirement) error {
	e := &MissingCredentialsError{OperationID: ""}
	if op != nil {
		e.OperationID = op.ID
	}
	for _, r := range reqs {
		var m []string
		for _, name := range r {
			if _, has := s.creds[name]; !has {
				m = append(m, name)
			}
		}
		e.Missing = append(e.Missing, m)
	}
	return e
}

// Wrap returns the authentication middleware over next. Per request it
// selects credentials from the operation's security requirements (see
// choose), applies them to a copy of the request, and on a 401 response
// invalidates renewable credentials once and resends (when the body can be
// replayed). Requests to another origin get no credentials: any
// credential-carrying header or query parameter is stripped from them. The
// same holds for every redirect hop (http.Client sends each through the
// transport): a hop to another origin, and any hop after the chain has left
// the origin, is stripped.
func (s *Set) Wrap(next http.RoundTripper) http.RoundTripper {
	h, q := s.SensitiveNames()
	strip := append([]string{"Authorization", "Cookie"}, h...)
	for i := range strip {
		strip[i] = http.CanonicalHeaderKey(strip[i])
	}
	return &authRT{set: s, next: next, stripHeaders: strip, stripQuery: q}
}

type authRT struct {
	set          *Set
	next         http.RoundTripper
	stripHeaders []string
	stripQuery   []string
}

func (t *authRT) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.set.mayAuthorize(req) {
		return t.next.RoundTrip(t.stripped(req))
	}
	op := transport.OperationFrom(req.Context())
	var reqs []transport.SecurityRequirement
	if op != nil {
		reqs = op.Security
	} else {
		reqs = t.set.defaults
	}
	if len(reqs) == 0 {
		return t.next.RoundTrip(req)
	}
	alt, ok := t.set.choose(reqs)
	if !ok {
		closeBody(req)
		return nil, t.set.missing(op, reqs)
	}
	if len(alt) == 0 {
		return t.next.RoundTrip(req)
	}
	areq, err := t.apply(req, req.Body, alt)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	resp, err := t.next.RoundTrip(areq)
	// 401: renew refreshable credentials once and resend — twice when the
	// first renewal took the token another process had saved (a shared
	// OAuth token), which the API may have revoked as well.
	for renewals := 0; ; renewals++ {
		if err != nil || resp.StatusCode != http.StatusUnauthorized ||
			renewals == 1 && !t.set.fromStore(alt, areq) || renewals == 2 {
			return resp, err
		}
		if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
			return resp, nil
		}
		renewed := false
		for _, name := range alt {
			if r, ok := t.set.creds[name].(Refresher); ok {
				if err := r.Invalidate(req.Context(), areq); err != nil {
					drain(resp)
					return nil, err
				}
				renewed = true
			}
		}
		if !renewed {
			return resp, nil
		}
		drain(resp)
		body := req.Body
		if req.Body != nil && req.Body != http.NoBody {
			if body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
		areq, err = t.apply(req, body, alt)
		if err != nil {
			if body != nil {
				_ = body.Close()
			}
			return nil, err
		}
		resp, err = t.next.RoundTrip(areq)
	}
}

// fromStore reports whether a credential of alt authorised sent with a
// token it took from a shared store rather than from its token endpoint.
func (s *Set) fromStore(alt transport.SecurityRequirement, sent *http.Request) bool {
	for _, name := range alt {
		if o, ok := s.creds[name].(*OAuth); ok && o.fromStore(sent.Header.Get("Authorization")) {
			return true
		}
	}
	return false
}

// apply copies req (header and URL cloned) with body and applies the
// credentials of alt.
func (t *authRT) apply(req *http.Request, body io.ReadCloser, alt transport.SecurityRequirement) (*http.Request, error) {
	r := req.WithContext(req.Context())
	r.Body = body
	r.Header = req.Header.Clone()
	if r.Header == nil {
		r.Header = http.Header{}
	}
	u := *req.URL
	r.URL = &u
	for _, name := range alt {
		if err := t.set.creds[name].Apply(r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// stripped returns req without credential headers or query parameters, for
// a request to another origin.
func (t *authRT) stripped(req *http.Request) *http.Request {
	dirtyH := false
	for _, h := range t.stripHeaders {
		if _, ok := req.Header[h]; ok {
			dirtyH = true
			break
		}
	}
	dirtyQ := false
	if len(t.stripQuery) > 0 && req.URL != nil && req.URL.RawQuery != "" {
		q := req.URL.Query()
		for _, name := range t.stripQuery {
			if q.Has(name) {
				dirtyQ = true
			}
		}
	}
	if !dirtyH && !dirtyQ {
		return req
	}
	r := req.WithContext(req.Context())
	if dirtyH {
		r.Header = req.Header.Clone()
		for _, h := range t.stripHeaders {
			delete(r.Header, h)
		}
	}
	if dirtyQ {
		u := *req.URL
		q := u.Query()
		for _, name := range t.stripQuery {
			q.Del(name)
		}
		u.RawQuery = q.Encode()
		r.URL = &u
	}
	return r
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

func drain(resp *http.Response) {
	if resp != nil && resp.Body != nil {
		_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
		_ = resp.Body.Close()
	}
}
