// Package secret holds credentials so that they cannot leak by accident.
//
// A Secret prints, formats, marshals and logs as "[REDACTED]" whatever verb or
// encoder is used; only Reveal returns the value. Secrets are obtained from
// references such as "env://CRM_TOKEN" or "file:///run/secrets/crm_token"
// through a Resolver, which dispatches by scheme to a Provider; vaults plug in
// as further Providers.
//
// The package must not: keep package-level state, print a secret's value in
// any error message, or read credentials from anywhere but the reference it is
// given. It imports only the standard library.
package secret

import (
	"fmt"
	"log/slog"
)

// Redacted is what a Secret prints instead of its value.
const Redacted = "[REDACTED]"

// Secret is a credential value that never reveals itself when printed,
// formatted, marshalled or logged. The zero Secret is empty.
//
// The value lives behind a pointer so that even reflection-based printing of
// a struct holding a Secret in an unexported field (fmt's %+v, or a verb
// that does not apply such as %s) shows an address, never the value.
type Secret struct {
	v *string
}

// New wraps s in a Secret. Use it for values obtained programmatically, for
// example from a Provider; configuration should use references resolved by a
// Resolver.
func New(s string) Secret {
	if s == "" {
		return Secret{}
	}
	return Secret{v: &s}
}

// Reveal returns the secret value. Call it only at the point of use (building
// a header, signing a request) and never log the result.
func (s Secret) Reveal() string {
	if s.v == nil {
		return ""
	}
	return *s.v
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.v == nil || *s.v == "" }

// Len returns the length of the value in bytes, which is safe to report.
func (s Secret) Len() int { return len(s.Reveal()) }

// String returns "[REDACTED]".
func (s Secret) String() string { return Redacted }

// GoString returns "[REDACTED]" so that %#v does not reveal the value.
func (s Secret) GoString() string { return Redacted }

// Format implements fmt.Formatter: every verb and flag prints "[REDACTED]"
// (quoted for %q).
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		_, _ = f.Write([]byte(`"` + Redacted + `"`))
		return
	}
	_, _ = f.Write([]byte(Redacted))
}

// MarshalJSON encodes the secret as the JSON string "[REDACTED]".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText encodes the secret as "[REDACTED]" (used by encoders such as
// encoding/xml and map keys in encoding/json).
func (s Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// LogValue implements slog.LogValuer so structured logs show "[REDACTED]".
func (s Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }
