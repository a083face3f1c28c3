// Package transport is the runtime's HTTP middleware layer: the chain
// auth → rate limit → retry → circuit breaker → observer → net/http that every
// generated client sends its requests through.
//
// The middlewares are built from one Config by Chain (or one by one by
// RateLimit, Retry, CircuitBreaker and Observe); the auth middleware lives in
// the auth package and plugs in through the Authenticator interface.
//
// The package must not: import anything but the standard library,
// golang.org/x/time and the runtime's observe package; keep package-level
// mutable state (shared budgets and breakers live in registries the caller
// owns); sleep without honouring the context; or put a secret into a log
// record or an error message.
//
// This file holds the operation metadata that generated code attaches to each
// request. It is a leaf: it imports only the standard library so that both the
// rest package (which builds requests) and every middleware can read it.
package transport

import (
	"context"
	"time"
)

// Operation describes one API operation as the generator saw it in the spec.
// Generated code declares one package-level value per operation and never
// modifies it; the runtime treats it as read-only.
type Operation struct {
	// ID is the operationId from the spec (or the synthesized one).
	ID string
	// Method is the HTTP method in upper case.
	Method string
	// PathTemplate is the path as written in the spec, e.g. "/leads/{id}".
	PathTemplate string
	// Idempotent is true when repeating the request has no additional effect:
	// GET, HEAD, OPTIONS, PUT, DELETE, TRACE, or an operation the spec marks
	// with x-idempotent: true.
	Idempotent bool
	// IdempotencyKeyHeader names the header the API accepts as an idempotency
	// key (e.g. "Idempotency-Key"), when the spec documents one.
	IdempotencyKeyHeader string
	// Security lists the alternative security requirements: the request is
	// authorised when every scheme of any one alternative is applied. An empty
	// alternative means the operation may be called anonymously. A nil slice
	// means the operation needs no credentials at all.
	Security []SecurityRequirement
}

// SecurityRequirement is one alternative of an operation's security: the
// names of the security schemes (keys of components.securitySchemes) that
// must all be applied.
type SecurityRequirement []string

type operationKey struct{}

type idempotentKey struct{}

// WithIdempotent returns a context whose requests the caller declares safe
// to repeat, whatever their method: a PATCH that sets absolute values, say,
// which generated sync code sends. The retry middleware then retries them
// like a GET. Declaring a request that creates or increments something
// idempotent can make it act twice.
func WithIdempotent(ctx context.Context) context.Context {
	return context.WithValue(ctx, idempotentKey{}, true)
}

// IdempotentFrom reports whether WithIdempotent marked ctx.
func IdempotentFrom(ctx context.Context) bool {
	v, _ := ctx.Value(idempotentKey{}).(bool)
	return v
}

// WithOperation returns a context carrying op. The rest package calls it for
// every request so middlewares can make per-operation decisions.
func WithOperation(ctx context.Context, op *Operation) context.Context {
	return context.WithValue(ctx, operationKey{}, op)
}

// OperationFrom returns the operation attached to ctx, or nil.
func OperationFrom(ctx context.Context) *Operation {
	op, _ := ctx.Value(operationKey{}).(*Operation)
	return op
}

// CallInfo collects facts about one logical call (all of its attempts) that
// the middlewares learn and the code reporting errors needs. The rest package
// attaches a fresh CallInfo to each call's context; the retry middleware
// updates it. It is owned by a single call and never shared.
type CallInfo struct {
	// Attempts is how many times the request was sent (1 when not retried).
	Attempts int
	// RetryReason says why the current attempt is a retry: an HTTP status
	// code such as "503", "network" or "timeout". Empty on the first attempt.
	// Set by the retry middleware before each attempt; read by the observer
	// middleware for its log record.
	RetryReason string
	// RetryWait is how long the retry middleware waited before the current
	// attempt (0 on the first attempt).
	RetryWait time.Duration
	// Redact, when not nil, replaces the credential values of the call's
	// client in text (see SecretRedactor). The rest package sets it from the
	// client's credentials; code that builds errors quoting a response body
	// (rest.NewError, rest.DecodeJSON) applies it.
	Redact func(text []byte) []byte
}

type callInfoKey struct{}

// WithCallInfo returns a context carrying info.
func WithCallInfo(ctx context.Context, info *CallInfo) context.Context {
	return context.WithValue(ctx, callInfoKey{}, info)
}

// CallInfoFrom returns the CallInfo attached to ctx, or nil.
func CallInfoFrom(ctx context.Context) *CallInfo {
	info, _ := ctx.Value(callInfoKey{}).(*CallInfo)
	return info
}
