package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// constError is an error that can be declared as a constant.
type constError string

func (e constError) Error() string { return string(e) }

// errAttemptTimeout is the cancellation cause of an attempt that got no
// response headers within RetryConfig.AttemptTimeout.
const errAttemptTimeout constError = "no response headers within the per-attempt timeout"

// Error is a failure raised by the transport layer itself: a network error,
// a timeout, or a call refused by the circuit breaker. (Non-2xx responses are
// not errors at this layer; the rest package turns them into typed status
// errors.) It matches its Kind with errors.Is and unwraps to the cause.
type Error struct {
	// Kind classifies the failure (ErrNetwork, ErrTimeout, ErrUnavailable...).
	Kind Kind
	// OperationID and Method identify the call; OperationID is empty when
	// the request carried no Operation.
	OperationID string
	Method      string
	// Attempts is how many attempts were made (0 when refused before the
	// first one was sent).
	Attempts int
	// RetryAt, when not zero, is the earliest time a new call makes sense
	// (for ErrUnavailable: when the breaker lets a probe through).
	RetryAt time.Time
	// Err is the cause. Its URL, if any, has secret query values redacted.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("transport: ")
	if e.OperationID != "" {
		b.WriteString(e.OperationID)
		b.WriteByte(' ')
	}
	if e.Method != "" {
		b.WriteString(e.Method)
		b.WriteByte(' ')
	}
	b.WriteString(e.Kind.Error())
	if e.Attempts > 0 {
		b.WriteString(" after ")
		b.WriteString(strconv.Itoa(e.Attempts))
		if e.Attempts == 1 {
			b.WriteString(" attempt")
		} else {
			b.WriteString(" attempts")
		}
	}
	if !e.RetryAt.IsZero() {
		b.WriteString(" (retry at ")
		b.WriteString(e.RetryAt.UTC().Format(time.RFC3339))
		b.WriteByte(')')
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is e's Kind.
func (e *Error) Is(target error) bool {
	k, ok := target.(Kind)
	return ok && k == e.Kind
}

// RetryLaterError is returned instead of sleeping when the wait the server
// asks for (Retry-After, Retry-After-Ms, RateLimit-Reset) or the local rate
// limiter needs is longer than RetryConfig.MaxWait or would outlive the
// caller's deadline. It matches ErrRateLimited with errors.Is.
type RetryLaterError struct {
	OperationID string
	Method      string
	Attempts    int
	// Status is the response status that asked for the wait (429, 503), or 0
	// when the local rate limiter imposed it.
	Status int
	// RetryAt is when the server (or limiter) allows the next request.
	RetryAt time.Time
	// Wait is RetryAt minus the time of the decision.
	Wait time.Duration
}

func (e *RetryLaterError) Error() string {
	var b strings.Builder
	b.WriteString("transport: ")
	if e.OperationID != "" {
		b.WriteString(e.OperationID)
		b.WriteByte(' ')
	}
	if e.Method != "" {
		b.WriteString(e.Method)
		b.WriteByte(' ')
	}
	b.WriteString("rate limited")
	if e.Status != 0 {
		b.WriteString(" (status ")
		b.WriteString(strconv.Itoa(e.Status))
		b.WriteByte(')')
	} else {
		b.WriteString(" (local limiter)")
	}
	b.WriteString(": retry after ")
	b.WriteString(e.Wait.Round(time.Millisecond).String())
	b.WriteString(" at ")
	b.WriteString(e.RetryAt.UTC().Format(time.RFC3339))
	return b.String()
}

// Is reports whether target is ErrRateLimited.
func (e *RetryLaterError) Is(target error) bool {
	k, ok := target.(Kind)
	return ok && k == ErrRateLimited
}

// RetryAt returns the time carried by a RetryLaterError or an Error with
// RetryAt set, anywhere in err's chain.
func RetryAt(err error) (time.Time, bool) {
	var rl *RetryLaterError
	if errors.As(err, &rl) {
		return rl.RetryAt, true
	}
	var te *Error
	if errors.As(err, &te) && !te.RetryAt.IsZero() {
		return te.RetryAt, true
	}
	return time.Time{}, false
}

// KindOf classifies any error the transport chain can return: errors that
// carry a Kind report it; context deadlines and net timeouts are ErrTimeout;
// other errors are ErrNetwork. Caller cancellation (context.Canceled) and nil
// yield ErrUnknown.
func KindOf(err error) Kind {
	if err == nil {
		return ErrUnknown
	}
	for _, k := range [...]Kind{ErrUnavailable, ErrAuth, ErrValidation, ErrRateLimited, ErrClient, ErrServer, ErrTimeout, ErrNetwork} {
		if errors.Is(err, k) {
			return k
		}
	}
	if errors.Is(err, errAttemptTimeout) || errors.Is(err, context.DeadlineExceeded) {
		return ErrTimeout
	}
	if errors.Is(err, context.Canceled) {
		return ErrUnknown
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return ErrTimeout
	}
	return ErrNetwork
}

// transientNetwork reports whether err is a connection-level failure that a
// new attempt may not hit: resets, refused connections, broken connections,
// timeouts. TLS verification failures, unknown hosts and malformed requests
// are not transient.
func transientNetwork(err error) bool {
	var certErr *tls.CertificateVerificationError
	var uaErr x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	if errors.As(err, &certErr) || errors.As(err, &uaErr) || errors.As(err, &hostErr) {
		return false
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return !dnsErr.IsNotFound
	}
	if errors.Is(err, errAttemptTimeout) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ETIMEDOUT) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	msg := err.Error()
	for _, s := range [...]string{"connection reset", "broken pipe", "server closed idle connection", "transport connection broken", "connection refused", "GOAWAY", "stream error"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// notSent reports whether err shows that the request never reached the
// server (the connection could not be established), so that even a
// non-idempotent request may be sent again.
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// sanitize replaces a *url.Error cause by one whose URL has secret query
// values and user info redacted.
func sanitize(err error, r *redactor) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.URL != "" {
		if u, perr := url.Parse(ue.URL); perr == nil {
			return &url.Error{Op: ue.Op, URL: r.url(u), Err: ue.Err}
		}
		return &url.Error{Op: ue.Op, URL: "[unparseable URL]", Err: ue.Err}
	}
	return err
}

func operationID(op *Operation) string {
	if op == nil {
		return ""
	}
	return op.ID
}
