package rest

import (
	"errors"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
)

// Version is the version of this runtime, reported in the default
// User-Agent.
const Version = "0.1.0"

// DefaultUserAgent is the User-Agent sent when [WithUserAgent] is not used.
const DefaultUserAgent = "connectorgen-runtime/" + Version

// DefaultMaxErrorBody is how many bytes of a non-2xx response body
// [Client.NewError] keeps unless [WithMaxErrorBody] says otherwise.
const DefaultMaxErrorBody = 64 << 10

// Client sends the requests of one API. It is immutable after New and safe
// for concurrent use.
type Client struct {
	base       *url.URL // scheme, host and escaped base path (no trailing '/')
	basePath   string   // escaped base path without trailing '/'
	origin     string   // scheme://host:port, lower case, for same-origin checks
	insecure   bool
	userAgent  string
	headers    []headerKV // static headers, canonical names, in option order
	maxErrBody int
	hc         *http.Client        // middleware chain + innermost transport
	bare       *http.Client        // innermost transport only (cross-origin requests)
	redact     func([]byte) []byte // replaces the credentials' values in text, or nil
	shapes     *shapeCache         // one-way property shapes by type (see oneway.go)
}

type headerKV struct{ name, value string }

// settings collects the options given to New.
type settings struct {
	hc           *http.Client
	middleware   []func(http.RoundTripper) http.RoundTripper
	userAgent    string
	insecure     bool
	headers      []headerKV
	maxErrorBody int
	chain        chainSettings
	err          error
}

func (s *settings) fail(err error) {
	if s.err == nil {
		s.err = err
	}
}

// Option configures a Client.
type Option func(*settings)

// WithHTTPClient makes the client send through hc: hc.Transport is the
// innermost transport, under the transport chain and every middleware
// (http.DefaultTransport when nil), so its connection pool, proxy and TLS
// settings are used; hc.Timeout (which bounds a whole call, retries
// included), hc.Jar and hc.CheckRedirect apply to every call. hc itself is
// not modified.
func WithHTTPClient(hc *http.Client) Option {
	return func(s *settings) { s.hc = hc }
}

// WithMiddleware wraps the transport with mw, outside the transport chain:
// a middleware sees each logical call once (before authentication, rate
// limiting and retries) and its final outcome. The first middleware listed
// is the outermost (it sees each request first); several calls append, so
// WithMiddleware(a), WithMiddleware(b) equals WithMiddleware(a, b).
// Requests sent to another origin ([Request.SetURL]) bypass these
// middlewares, so credentials they might add stay on the base URL's origin.
func WithMiddleware(mw ...func(http.RoundTripper) http.RoundTripper) Option {
	return func(s *settings) {
		for _, m := range mw {
			if m == nil {
				s.fail(errors.New("rest: WithMiddleware: nil middleware"))
				return
			}
		}
		s.middleware = append(s.middleware, mw...)
	}
}

// WithUserAgent sets the User-Agent header sent with every request
// (default [DefaultUserAgent]).
func WithUserAgent(ua string) Option {
	return func(s *settings) {
		if !validHeaderValue(ua) {
			s.fail(errors.New("rest: WithUserAgent: the value contains control characters"))
			return
		}
		s.userAgent = ua
	}
}

// WithInsecureHTTP allows a plain-http base URL (and plain-http URLs given to
// [Request.SetURL]) for hosts that are not loopback. Use it only for
// development against servers on a trusted network: credentials travel in
// clear text.
func WithInsecureHTTP() Option {
	return func(s *settings) { s.insecure = true }
}

// WithHeader adds a static header sent with every request to the base URL's
// origin (never to another origin reached through [Request.SetURL]). A later
// WithHeader for the same name replaces the value; a header set by the
// request itself (a header parameter) takes precedence.
func WithHeader(name, value string) Option {
	return func(s *settings) {
		if !validToken(name) {
			s.fail(errors.New("rest: WithHeader: invalid header name " + strconv.Quote(name)))
			return
		}
		if !validHeaderValue(value) {
			s.fail(errors.New("rest: WithHeader: the value of " + name + " contains control characters"))
			return
		}
		name = textproto.CanonicalMIMEHeaderKey(name)
		for i := range s.headers {
			if s.headers[i].name == name {
				s.headers[i].value = value
				return
			}
		}
		s.headers = append(s.headers, headerKV{name, value})
	}
}

// WithMaxErrorBody sets how many bytes of a non-2xx response body
// [Client.NewError] keeps in [Error.Body] (default [DefaultMaxErrorBody]).
// Zero keeps none; a negative value makes New fail.
func WithMaxErrorBody(n int) Option {
	return func(s *settings) {
		if n < 0 {
			s.fail(errors.New("rest: WithMaxErrorBody: negative size"))
			return
		}
		s.maxErrorBody = n
	}
}

// New returns a Client for the API at baseURL, which must be an absolute
// https URL; http is accepted only when the host is loopback (localhost,
// 127.0.0.0/8, ::1) or [WithInsecureHTTP] is given. A trailing '/' is
// removed; the path is kept, and operation paths are appended to it. The
// base URL may not carry user information, a query or a fragment.
//
// Every request goes through the WithMiddleware middlewares, then the
// transport chain
//
//	auth → rate limit → retry → circuit breaker → observer → hc.Transport
//
// built from the options, with safe defaults when none is given: up to 4
// attempts for idempotent requests (and non-idempotent ones carrying an
// idempotency key) with capped exponential backoff and Retry-After honoured,
// a 30 s per-attempt timeout, waits when the server reports an exhausted
// rate budget, and a circuit breaker opening after 5 consecutive failures.
// Authentication is on when [WithCredential] or [WithAuth] is given.
func New(baseURL string, opts ...Option) (*Client, error) {
	s := settings{userAgent: DefaultUserAgent, maxErrorBody: DefaultMaxErrorBody}
	for _, o := range opts {
		if o != nil {
			o(&s)
		}
	}
	if s.err != nil {
		return nil, s.err
	}
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, errors.New("rest: invalid base URL: " + err.Error())
	}
	if !u.IsAbs() || u.Host == "" {
		return nil, errors.New("rest: base URL " + strconv.Quote(baseURL) + " is not absolute (want https://host/path)")
	}
	if u.User != nil {
		return nil, errors.New("rest: base URL must not contain credentials; use an authentication middleware")
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, errors.New("rest: base URL must not have a query or fragment")
	}
	if err := checkScheme(u, s.insecure); err != nil {
		return nil, err
	}
	basePath := strings.TrimRight(u.EscapedPath(), "/")
	base := &url.URL{Scheme: strings.ToLower(u.Scheme), Host: u.Host}
	if basePath != "" {
		p, err := url.PathUnescape(basePath)
		if err != nil {
			return nil, errors.New("rest: invalid base URL path: " + err.Error())
		}
		base.Path = p
		if p != basePath {
			base.RawPath = basePath
		}
	}

	c := &Client{
		base:       base,
		basePath:   basePath,
		origin:     originOf(base),
		insecure:   s.insecure,
		userAgent:  s.userAgent,
		headers:    s.headers,
		maxErrBody: s.maxErrorBody,
		shapes:     &shapeCache{},
	}
	set, err := s.chain.buildAuth(base, c.origin, s.insecure)
	if err != nil {
		return nil, err
	}
	if set != nil {
		c.redact = set.Redact
	}
	if s.chain.system == "" {
		s.chain.system = strings.ToLower(base.Hostname())
	}
	same, other := s.chain.buildChain(set)

	inner := http.DefaultTransport
	var hc http.Client
	var userRedirect func(*http.Request, []*http.Request) error
	if s.hc != nil {
		if s.hc.Transport != nil {
			inner = s.hc.Transport
		}
		hc.Timeout, hc.Jar, userRedirect = s.hc.Timeout, s.hc.Jar, s.hc.CheckRedirect
	}
	hc.CheckRedirect = c.checkRedirect(userRedirect)
	bare := hc
	bare.Transport = other(inner)
	rt := same(inner)
	for i := len(s.middleware) - 1; i >= 0; i-- {
		rt = s.middleware[i](rt)
		if rt == nil {
			return nil, errors.New("rest: a middleware returned a nil RoundTripper")
		}
	}
	hc.Transport = rt
	c.hc, c.bare = &hc, &bare
	return c, nil
}

// checkScheme enforces https, allowing http for loopback hosts or when
// insecure.
func checkScheme(u *url.URL, insecure bool) error {
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if insecure || isLoopback(u.Hostname()) {
			return nil
		}
		return errors.New("rest: refusing plain http to " + strconv.Quote(u.Host) +
			": use https (http is allowed only for loopback hosts, or with WithInsecureHTTP)")
	}
	return errors.New("rest: unsupported URL scheme " + strconv.Quote(u.Scheme) + " (want https)")
}

// isLoopback reports whether host (without port) is localhost or a loopback
// IP address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// originOf returns scheme://host:port in lower case with the default port
// made explicit.
func originOf(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		port = "443"
		if scheme == "http" {
			port = "80"
		}
	}
	return scheme + "://" + strings.ToLower(net.JoinHostPort(u.Hostname(), port))
}

// BaseURL returns a copy of the client's base URL (without a trailing '/').
func (c *Client) BaseURL() *url.URL {
	if c == nil {
		return nil
	}
	u := *c.base
	return &u
}
