package transport

// Kind classifies a failed call so callers can decide what to do without
// inspecting status codes. A Kind is itself an error value, so the constants
// work as sentinels with errors.Is:
//
//	if errors.Is(err, transport.ErrRateLimited) { ... }
//
// They are constants, not variables: nothing can reassign them.
type Kind int

const (
	// ErrUnknown is the zero Kind; no error reports it.
	ErrUnknown Kind = iota
	// ErrClient is a 4xx response other than 401, 403, 408 and 429.
	ErrClient
	// ErrServer is a 5xx response.
	ErrServer
	// ErrRateLimited is a 429 response, or a Retry-After wait longer than the
	// client is willing to sleep in-process.
	ErrRateLimited
	// ErrTimeout is a per-attempt timeout, a 408, or the caller's deadline.
	ErrTimeout
	// ErrNetwork is a connection failure: refused, reset, DNS, TLS.
	ErrNetwork
	// ErrValidation is a request the client refused to send, or a response
	// body that could not be decoded into the documented type.
	ErrValidation
	// ErrUnavailable is a call refused locally because the system's circuit
	// breaker is open.
	ErrUnavailable
	// ErrAuth is a 401 or 403 response, or credentials that cannot be
	// obtained or refreshed (for example OAuth invalid_grant).
	ErrAuth
)

// Error implements error so that a Kind can be an errors.Is target.
func (k Kind) Error() string {
	switch k {
	case ErrClient:
		return "client error"
	case ErrServer:
		return "server error"
	case ErrRateLimited:
		return "rate limited"
	case ErrTimeout:
		return "timeout"
	case ErrNetwork:
		return "network error"
	case ErrValidation:
		return "validation error"
	case ErrUnavailable:
		return "unavailable"
	case ErrAuth:
		return "authentication error"
	}
	return "unknown error"
}

// String returns the same text as Error.
func (k Kind) String() string { return k.Error() }

// KindOfStatus classifies an HTTP status code. 2xx and 3xx yield ErrUnknown.
func KindOfStatus(status int) Kind {
	switch {
	case status == 401 || status == 403:
		return ErrAuth
	case status == 408:
		return ErrTimeout
	case status == 429:
		return ErrRateLimited
	case status >= 400 && status < 500:
		return ErrClient
	case status >= 500:
		return ErrServer
	}
	return ErrUnknown
}
