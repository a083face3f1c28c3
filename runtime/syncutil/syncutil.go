// Package syncutil holds the small helpers generated sync code calls:
// field snapshots, 404 and rejection classification, zero tests and the
// squash transform. They lived as copies in every generated connector;
// here they are written, tested and fixed once.
//
// Role: runtime support for generated sync code (sync_gen.go). It only
// inspects values and errors; it performs no I/O, keeps no state and must
// not import anything beyond the runtime's core packages and the standard
// library.
package syncutil

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/oas"
	"github.com/connectorgen/connectorgen/runtime/rest"
)

// Map returns the map *m, making it first when it is nil, so that generated
// code writes a key of a map field in one statement:
//
//	syncutil.Map(&b.Properties)["email"] = v
func Map[M ~map[K]V, K comparable, V any](m *M) M {
	if *m == nil {
		*m = make(M)
	}
	return *m
}

// FieldJSON renders a set value (or null) as canonical JSON, for the
// engine's field snapshots; ok is false when the value is absent or does
// not marshal.
func FieldJSON[T any](o oas.Nullable[T]) (string, bool) {
	if o.IsNull() {
		return "null", true
	}
	v, ok := o.Get()
	if !ok {
		return "", false
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// IsNotFound reports whether err is a 404 answer from a client call.
func IsNotFound(err error) bool {
	var he *rest.Error
	return errors.As(err, &he) && he.StatusCode == 404
}

// Rejected marks a 4xx answer to a write as permanent, so the engine
// dead-letters the record at once instead of retrying a request the target
// refuses. 401, 403, 408 and 429 stay as they are: credentials, timeouts
// and throttling are the system's state, not the record's.
func Rejected(err error) error {
	var he *rest.Error
	if !errors.As(err, &he) || he.StatusCode < 400 || he.StatusCode >= 500 {
		return err
	}
	switch he.StatusCode {
	case 401, 403, 408, 429:
		return err
	}
	return engine.Permanent(err)
}

// NonZero reports whether v is not its type's zero value.
func NonZero[T comparable](v T) bool {
	var zero T
	return v != zero
}

// Squash trims s and collapses inner runs of white space to one space.
func Squash(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
