package transport

import (
	"log/slog"
	"net/http"

	"github.com/connectorgen/connectorgen/runtime/observe"
)

// Middleware wraps a RoundTripper. It has the same underlying type as the
// function rest.WithMiddleware takes, so values convert implicitly.
type Middleware func(http.RoundTripper) http.RoundTripper

// Authenticator is the auth middleware (implemented by *auth.Set). It is
// outermost in the chain, so that one logical call is authorised once and a
// 401 can trigger a token refresh and one new call.
type Authenticator interface {
	// Wrap returns next wrapped with the authentication middleware.
	Wrap(next http.RoundTripper) http.RoundTripper
	// SensitiveNames returns the header and query parameter names the
	// authenticator writes credentials into, so that logs redact them.
	SensitiveNames() (headers, query []string)
}

// SecretRedactor is implemented by Authenticators that can find the
// credential values they send in arbitrary text and replace them (auth.Set
// does). The observer middleware applies it to every logged URL, header
// value, body and error message, on top of the name-based redaction, so
// that a server echoing a credential in an unnamed place ("invalid key
// abc123") does not put it in a log.
type SecretRedactor interface {
	Redact(text []byte) []byte
}

// Config configures the whole chain. The zero Config is a safe default:
// retries on (4 attempts, 1 s base backoff, 30 s per-attempt timeout),
// adaptive rate limiting from response headers without a local bucket, a
// circuit breaker opening after 5 consecutive failures, no auth, no
// observer and no logging.
type Config struct {
	// System names the API (e.g. "crm"); it labels metrics and logs and
	// names the breaker.
	System string
	// Auth, when set, authenticates requests (outermost middleware).
	Auth Authenticator
	// RateLimit configures the Limiter built when SharedLimiter is nil.
	RateLimit RateLimitConfig
	// SharedLimiter is the budget shared with other clients using the same
	// credential (see Limiters). It takes precedence over RateLimit.
	SharedLimiter *Limiter
	// Retry configures retries and per-attempt timeouts.
	Retry RetryConfig
	// Breaker configures the Breaker built when SharedBreaker is nil.
	Breaker BreakerConfig
	// SharedBreaker is the system's breaker shared with other clients (see
	// Breakers). It takes precedence over Breaker.
	SharedBreaker *Breaker
	// Observer receives request, call, retry, rate-limit and breaker
	// reports. Nil means none. Use observe.Multi to report to several.
	Observer observe.Observer
	// Logger receives one record per attempt (see Log). Nil means no
	// logging.
	Logger *slog.Logger
	// Log configures what is logged and which names are redacted.
	Log LogConfig
	// Clock is the time source for waits and durations; default
	// SystemClock{}.
	Clock Clock

	redactor            *redactor
	retryUpdatesLimiter bool
	defaulted           bool
}

func (c Config) withDefaults() Config {
	if c.defaulted {
		return c
	}
	c.defaulted = true
	if c.Clock == nil {
		c.Clock = SystemClock{}
	}
	c.Retry = c.Retry.withDefaults()
	c.Log = c.Log.withDefaults()
	if _, ok := c.Observer.(observe.Nop); ok {
		c.Observer = nil
	}
	if c.redactor == nil {
		headers, query := append([]string(nil), c.Log.SecretHeaders...), append([]string(nil), c.Log.SecretQuery...)
		if c.Auth != nil {
			h, q := c.Auth.SensitiveNames()
			headers = append(headers, h...)
			query = append(query, q...)
		}
		c.redactor = newRedactor(headers, query)
		if sr, ok := c.Auth.(SecretRedactor); ok {
			c.redactor.known = sr.Redact
		}
	}
	return c
}

func (c Config) breakerConfig() BreakerConfig {
	b := c.Breaker
	if b.Observer == nil {
		b.Observer = c.Observer
	}
	if b.Logger == nil {
		b.Logger = c.Logger
	}
	if b.Clock == nil {
		b.Clock = c.Clock
	}
	return b
}

// Chain builds the whole transport chain over base (nil: http.DefaultTransport):
//
//	auth → rate limit → retry → circuit breaker → observer → base
//
// The rate limiter admits each call once; retries inside it also wait for
// the shared budget and feed every attempt's headers to it. The breaker and
// the observer see each attempt. base is used as given (its connection
// pool, proxy and TLS settings are respected).
func Chain(cfg Config, base http.RoundTripper) http.RoundTripper {
	return ChainMiddleware(cfg)(base)
}

// ChainMiddleware returns Chain as a Middleware, ready for
// rest.WithMiddleware. The limiter and breaker are created once, here, and
// shared by every RoundTripper the middleware builds.
func ChainMiddleware(cfg Config) Middleware {
	cfg = cfg.withDefaults()
	if cfg.SharedLimiter == nil {
		cfg.SharedLimiter = NewLimiter(cfg.RateLimit)
	}
	if cfg.SharedBreaker == nil && !cfg.Breaker.Disabled {
		cfg.SharedBreaker = NewBreaker(cfg.System, cfg.breakerConfig())
	}
	cfg.retryUpdatesLimiter = true
	rl, retry, obs := RateLimit(cfg), Retry(cfg), Observe(cfg)
	var br Middleware
	if !cfg.Breaker.Disabled {
		br = CircuitBreaker(cfg)
	}
	return func(base http.RoundTripper) http.RoundTripper {
		if base == nil {
			base = http.DefaultTransport
		}
		rt := obs(base)
		if br != nil {
			rt = br(rt)
		}
		rt = rl(retry(rt))
		if cfg.Auth != nil {
			rt = cfg.Auth.Wrap(rt)
		}
		return rt
	}
}

// opLabel is the operation's metric label.
func opLabel(op *Operation) string {
	if op == nil || op.ID == "" {
		return "unknown"
	}
	return op.ID
}

func outcomeOfStatus(status int) observe.Outcome {
	if status < 400 {
		return observe.OutcomeSuccess
	}
	return outcomeOfKind(KindOfStatus(status))
}

func outcomeOfError(err error) observe.Outcome {
	k := KindOf(err)
	if k == ErrUnknown {
		return observe.OutcomeCanceled
	}
	return outcomeOfKind(k)
}

func outcomeOfKind(k Kind) observe.Outcome {
	switch k {
	case ErrClient:
		return observe.OutcomeClientError
	case ErrServer:
		return observe.OutcomeServerError
	case ErrRateLimited:
		return observe.OutcomeRateLimited
	case ErrTimeout:
		return observe.OutcomeTimeout
	case ErrNetwork:
		return observe.OutcomeNetwork
	case ErrValidation:
		return observe.OutcomeValidation
	case ErrUnavailable:
		return observe.OutcomeUnavailable
	case ErrAuth:
		return observe.OutcomeAuth
	}
	return observe.OutcomeOther
}
