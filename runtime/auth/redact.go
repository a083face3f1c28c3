package auth

import (
	"bytes"
	"sort"

	"github.com/connectorgen/connectorgen/runtime/secret"
)

// MinRedactLen is the shortest credential value Redact searches for: a
// shorter "secret" would blank out ordinary words of the text. (The runtime
// never prints credential values itself, whatever their length.)
const MinRedactLen = 6

// secretLister is implemented by credentials that can list the values they
// send, so that text echoing them can be redacted.
type secretLister interface {
	appendSecrets(dst []string) []string
}

// Redact returns text with every credential value of the set replaced by
// "[REDACTED]": API keys (as given and URL-encoded), cookie pairs, bearer
// tokens, basic passwords and their base64 encoding, and the OAuth access
// token (current and previous), refresh token and client secret. It is the
// last line of defence for text that may echo a credential without naming
// it — a response body such as {"message":"invalid key pbx-live-123"} —
// and is applied to error body excerpts (rest.Error, rest.DecodeError) and
// logged bodies, headers and error messages. Values shorter than
// MinRedactLen bytes are not searched for. text is returned unchanged (not
// copied) when it holds no credential. Safe for concurrent use.
func (s *Set) Redact(text []byte) []byte {
	if s == nil || len(text) < MinRedactLen || len(s.creds) == 0 {
		return text
	}
	var buf [16]string
	values := buf[:0]
	for _, c := range s.creds {
		if l, ok := c.(secretLister); ok {
			values = l.appendSecrets(values)
		}
	}
	return redactValues(text, values)
}

// redactValues replaces each of values (longest first, so that a value
// containing another is replaced whole) found in text.
func redactValues(text []byte, values []string) []byte {
	sort.Slice(values, func(i, j int) bool { return len(values[i]) > len(values[j]) })
	out := text
	copied := false
	for i, v := range values {
		if len(v) < MinRedactLen || i > 0 && v == values[i-1] {
			continue
		}
		if bytes.Contains(out, []byte(v)) {
			if !copied {
				out = append([]byte(nil), out...)
				copied = true
			}
			out = bytes.ReplaceAll(out, []byte(v), []byte(secret.Redacted))
		}
	}
	return out
}
