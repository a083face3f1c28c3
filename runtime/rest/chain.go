package rest

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/connectorgen/connectorgen/runtime/auth"
	"github.com/connectorgen/connectorgen/runtime/observe"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

// chainSettings collects the options that configure the transport chain
// (auth → rate limit → retry → circuit breaker → observer) New installs.
type chainSettings struct {
	system        string
	retry         transport.RetryConfig
	rateLimit     transport.RateLimitConfig
	sharedLimiter *transport.Limiter
	breaker       transport.BreakerConfig
	sharedBreaker *transport.Breaker
	observer      observe.Observer
	logger        *slog.Logger
	log           transport.LogConfig
	clock         transport.Clock
	authSet       *auth.Set
	creds         []namedCredential // in option order; a later one for the same scheme wins
}

type namedCredential struct {
	scheme string
	cred   auth.Credential
}

// WithSystem names the API for metrics, logs and the circuit breaker
// (default: the base URL's host name). Generated clients pass their package
// name first, so a WithSystem given by the caller overrides it: the last
// WithSystem wins.
func WithSystem(name string) Option {
	return func(s *settings) {
		if name == "" {
			s.fail(errors.New("rest: WithSystem: empty name"))
			return
		}
		s.chain.system = name
	}
}

// WithRetry replaces the retry policy (see transport.RetryConfig; its zero
// fields take the defaults: 4 attempts, 1 s base backoff with full jitter
// capped at 30 s, Retry-After honoured up to 60 s, 30 s per-attempt timeout).
// The last WithRetry or WithoutRetries wins.
func WithRetry(cfg transport.RetryConfig) Option {
	return func(s *settings) { s.chain.retry = cfg }
}

// WithoutRetries makes every call a single attempt. The per-attempt timeout
// still applies; other RetryConfig fields keep their defaults.
func WithoutRetries() Option {
	return func(s *settings) { s.chain.retry = transport.RetryConfig{Disabled: true} }
}

// WithRateLimit sets the client's own token bucket (requests per second and
// burst). Without it the client has no local bucket but still waits when
// the server reports an exhausted budget (RateLimit-*, X-RateLimit-*,
// Retry-After on 429/503). [WithSharedLimiter] takes precedence.
func WithRateLimit(cfg transport.RateLimitConfig) Option {
	return func(s *settings) { s.chain.rateLimit = cfg }
}

// WithSharedLimiter makes the client draw from l, a budget shared with every
// other client given the same Limiter — typically all clients using one
// credential, from a transport.Limiters registry keyed by
// transport.LimiterKey(system, credential).
func WithSharedLimiter(l *transport.Limiter) Option {
	return func(s *settings) {
		if l == nil {
			s.fail(errors.New("rest: WithSharedLimiter: nil *transport.Limiter"))
			return
		}
		s.chain.sharedLimiter = l
	}
}

// WithBreaker configures the client's circuit breaker (default: open after
// 5 consecutive failed attempts, 30 s cool-down, 1 half-open probe;
// Disabled turns it off). Observer, Logger and Clock default to the
// client's. [WithSharedBreaker] takes precedence.
func WithBreaker(cfg transport.BreakerConfig) Option {
	return func(s *settings) { s.chain.breaker = cfg }
}

// WithSharedBreaker makes the client use b, a breaker shared with the other
// clients of the same system (see transport.Breakers).
func WithSharedBreaker(b *transport.Breaker) Option {
	return func(s *settings) {
		if b == nil {
			s.fail(errors.New("rest: WithSharedBreaker: nil *transport.Breaker"))
			return
		}
		s.chain.sharedBreaker = b
	}
}

// WithObserver reports every attempt, call, retry, rate-limit wait and
// breaker change to o (for example an observe.Memory serving Prometheus
// metrics). The last WithObserver wins; use observe.Multi to report to
// several.
func WithObserver(o observe.Observer) Option {
	return func(s *settings) { s.chain.observer = o }
}

// WithLogger writes one record per attempt to l (secrets redacted; see
// [WithLogConfig]). Nil turns logging off.
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) { s.chain.logger = l }
}

// WithLogConfig sets the level of successful attempts, body logging (at
// Debug, redacted and bounded) and extra header and query names to redact.
func WithLogConfig(cfg transport.LogConfig) Option {
	return func(s *settings) { s.chain.log = cfg }
}

// WithClock replaces the time source of waits, backoff and the breaker
// (tests use a fake clock).
func WithClock(c transport.Clock) Option {
	return func(s *settings) {
		if c == nil {
			s.fail(errors.New("rest: WithClock: nil transport.Clock"))
			return
		}
		s.chain.clock = c
	}
}

// WithCredential authenticates the operations that require the security
// scheme named scheme (a key of the spec's components.securitySchemes) with
// c: an auth.APIKeyHeader, APIKeyQuery, APIKeyCookie, Basic, Bearer or an
// *auth.OAuth. New collects the credentials into an auth.Set for the base
// URL's origin, so they are never sent anywhere else. Several calls add up;
// a later credential for the same scheme replaces an earlier one. Combined
// with [WithAuth], the credentials are added to a copy of that Set.
func WithCredential(scheme string, c auth.Credential) Option {
	return func(s *settings) {
		if scheme == "" {
			s.fail(errors.New("rest: WithCredential: empty security scheme name"))
			return
		}
		if c == nil {
			s.fail(errors.New("rest: WithCredential: nil credential for scheme " + strconv.Quote(scheme)))
			return
		}
		s.chain.creds = append(s.chain.creds, namedCredential{scheme, c})
	}
}

// WithAuth authenticates requests with set, which must have been made for
// the base URL's origin (auth.NewSet(baseURL)). The last WithAuth wins.
func WithAuth(set *auth.Set) Option {
	return func(s *settings) {
		if set == nil {
			s.fail(errors.New("rest: WithAuth: nil *auth.Set"))
			return
		}
		s.chain.authSet = set
	}
}

// buildAuth returns the Set the chain authenticates with, or nil.
func (cs *chainSettings) buildAuth(base *url.URL, origin string, insecure bool) (*auth.Set, error) {
	set := cs.authSet
	if set != nil && set.Origin() != origin {
		return nil, errors.New("rest: WithAuth: the credential set is for " + set.Origin() +
			" but the base URL's origin is " + origin + "; credentials would never be sent")
	}
	if len(cs.creds) == 0 {
		return set, nil
	}
	if set != nil {
		set = set.Clone()
	} else {
		newSet := auth.NewSet
		if insecure {
			newSet = auth.NewInsecureSet
		}
		var err error
		if set, err = newSet(base.String()); err != nil {
			return nil, errors.New("rest: " + err.Error())
		}
	}
	for _, nc := range cs.creds {
		set.Add(nc.scheme, nc.cred)
	}
	return set, nil
}

// buildChain returns the middleware for same-origin requests (with auth) and
// the one for requests to other origins (without auth); both share one rate
// limiter and one breaker.
func (cs *chainSettings) buildChain(set *auth.Set) (same, other transport.Middleware) {
	cfg := transport.Config{
		System:        cs.system,
		RateLimit:     cs.rateLimit,
		SharedLimiter: cs.sharedLimiter,
		Retry:         cs.retry,
		Breaker:       cs.breaker,
		SharedBreaker: cs.sharedBreaker,
		Observer:      cs.observer,
		Logger:        cs.logger,
		Log:           cs.log,
		Clock:         cs.clock,
	}
	if cfg.SharedLimiter == nil {
		cfg.SharedLimiter = transport.NewLimiter(cfg.RateLimit)
	}
	if cfg.SharedBreaker == nil && !cfg.Breaker.Disabled {
		bc := cfg.Breaker
		if bc.Observer == nil {
			bc.Observer = cfg.Observer
		}
		if bc.Logger == nil {
			bc.Logger = cfg.Logger
		}
		if bc.Clock == nil {
			bc.Clock = cfg.Clock
		}
		cfg.SharedBreaker = transport.NewBreaker(cfg.System, bc)
	}
	other = transport.ChainMiddleware(cfg)
	if set == nil {
		return other, other
	}
	cfg.Auth = set
	return transport.ChainMiddleware(cfg), other
}

// checkRedirect wraps the caller's redirect policy (http.Client's default
// when nil): a redirect to plain http on a non-loopback host is refused
// unless WithInsecureHTTP was given, and a hop to another origin loses the
// static headers (WithHeader) and the headers that usually carry
// credentials. (Credentials added by the auth middleware are never on the
// request http.Client copies headers from, and the auth middleware refuses
// to add them once a redirect chain has left the origin.)
func (c *Client) checkRedirect(user func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if err := checkScheme(req.URL, c.insecure); err != nil {
			return errors.New("rest: redirect refused: " + strings.TrimPrefix(err.Error(), "rest: "))
		}
		if originOf(req.URL) != c.origin {
			for _, kv := range c.headers {
				delete(req.Header, kv.name)
			}
			for _, h := range transport.DefaultSecretHeaders() {
				delete(req.Header, http.CanonicalHeaderKey(h))
			}
		}
		if user != nil {
			return user(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}
