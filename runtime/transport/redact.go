package transport

import (
	"bytes"
	"encoding/base64"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Redacted replaces secret values in logs and error messages.
const Redacted = "[REDACTED]"

// DefaultSecretHeaders are header names always redacted in logs, in addition
// to those an Authenticator reports and LogConfig.SecretHeaders.
func DefaultSecretHeaders() []string {
	return []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Api-Key", "Api-Key",
		"Apikey", "X-Auth-Token", "X-Access-Token", "X-Amz-Security-Token", "X-Csrf-Token"}
}

// DefaultSecretQuery are query parameter names always redacted in logged
// URLs (compared case-insensitively), in addition to those an Authenticator
// reports and LogConfig.SecretQuery.
func DefaultSecretQuery() []string {
	return []string{"api_key", "apikey", "api-key", "access_token", "refresh_token", "id_token", "token", "key",
		"client_secret", "password", "passwd", "secret", "signature", "sig", "x-amz-signature", "x-amz-security-token", "code"}
}

// secretFieldParts are substrings of normalised JSON/form field names
// (lower case, without '-' and '_') whose values are redacted in logged
// bodies.
func secretFieldParts() []string {
	return []string{"password", "passwd", "secret", "token", "apikey", "authorization", "credential", "privatekey", "signature", "cookie"}
}

// redactor knows which header, query and field names carry secrets.
type redactor struct {
	headers map[string]struct{} // canonical header keys
	query   map[string]struct{} // lower-case names
	known   func([]byte) []byte // replaces known credential values (SecretRedactor), or nil
}

// knownString applies r.known to s.
func (r *redactor) knownString(s string) string {
	if r.known == nil || s == "" {
		return s
	}
	if b := r.known([]byte(s)); string(b) != s {
		return string(b)
	}
	return s
}

func newRedactor(headers, query []string) *redactor {
	r := &redactor{headers: map[string]struct{}{}, query: map[string]struct{}{}}
	for _, h := range DefaultSecretHeaders() {
		r.headers[http.CanonicalHeaderKey(h)] = struct{}{}
	}
	for _, h := range headers {
		r.headers[http.CanonicalHeaderKey(h)] = struct{}{}
	}
	for _, q := range DefaultSecretQuery() {
		r.query[strings.ToLower(q)] = struct{}{}
	}
	for _, q := range query {
		r.query[strings.ToLower(q)] = struct{}{}
	}
	return r
}

func (r *redactor) secretHeader(canonical string) bool {
	_, ok := r.headers[canonical]
	return ok
}

func (r *redactor) secretQuery(name string) bool {
	_, ok := r.query[strings.ToLower(name)]
	if ok {
		return true
	}
	return secretField(name)
}

// secretField reports whether a body field name looks like it holds a
// secret.
func secretField(name string) bool {
	n := strings.ToLower(name)
	n = strings.ReplaceAll(n, "_", "")
	n = strings.ReplaceAll(n, "-", "")
	for _, p := range secretFieldParts() {
		if strings.Contains(n, p) {
			return true
		}
	}
	return false
}

// url returns u as a string with user info and secret query values
// redacted.
func (r *redactor) url(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	if c.User != nil {
		c.User = url.User(Redacted)
	}
	c.RawQuery = r.form(u.RawQuery)
	c.ForceQuery = false
	s := c.String()
	if c.User != nil {
		s = strings.Replace(s, url.PathEscape(Redacted)+"@", Redacted+"@", 1)
	}
	return r.knownString(s)
}

// form redacts secret values in a URL query or form-encoded body.
func (r *redactor) form(q string) string {
	if q == "" {
		return ""
	}
	var b strings.Builder
	for i, part := range strings.Split(q, "&") {
		if i > 0 {
			b.WriteByte('&')
		}
		k, v, hasV := strings.Cut(part, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		b.WriteString(k)
		if hasV {
			b.WriteByte('=')
			if r.secretQuery(name) {
				b.WriteString(Redacted)
			} else {
				b.WriteString(v)
			}
		}
	}
	return b.String()
}

// text redacts "name=value" occurrences of secret query names in free text
// such as error messages that embed a URL.
func (r *redactor) text(s string) string {
	return r.knownString(r.namedValues(s))
}

// namedValues is text without the known-value pass.
func (r *redactor) namedValues(s string) string {
	if !strings.ContainsAny(s, "=") {
		return s
	}
	var b strings.Builder
	i := 0
	for i < len(s) {
		eq := strings.IndexByte(s[i:], '=')
		if eq < 0 {
			b.WriteString(s[i:])
			break
		}
		eq += i
		// name runs back from eq to a separator
		start := eq
		for start > i && isNameByte(s[start-1]) {
			start--
		}
		b.WriteString(s[i : eq+1])
		end := eq + 1
		for end < len(s) && !isValueEnd(s[end]) {
			end++
		}
		if name := s[start:eq]; name != "" && r.secretQuery(name) {
			b.WriteString(Redacted)
		} else {
			b.WriteString(s[eq+1 : end])
		}
		i = end
	}
	return b.String()
}

func isNameByte(c byte) bool {
	return c == '_' || c == '-' || c == '.' || c == '%' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isValueEnd(c byte) bool {
	return c == '&' || c == ' ' || c == '"' || c == '\'' || c == ';' || c == ',' || c == '\n' || c == '#' || c == ')'
}

// header renders h with secret values redacted, sorted by name.
func (r *redactor) header(h http.Header) []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		v := strings.Join(h[k], ", ")
		if r.secretHeader(http.CanonicalHeaderKey(k)) {
			v = Redacted
		} else {
			v = r.knownString(v)
		}
		out = append(out, k+": "+v)
	}
	return out
}

// body returns a loggable, redacted rendering of a (possibly truncated)
// body: JSON with secret fields replaced, form data with secret values
// replaced, and nothing but a size for other content types.
func (r *redactor) body(contentType string, b []byte, truncated bool) string {
	if len(b) == 0 {
		return ""
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	var s string
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json") || (mt == "" && looksJSON(b)):
		// Members with secret names, then secrets quoted inside string
		// values (error details such as "api_key=… rejected").
		s = string(redactAuthSchemes([]byte(r.text(string(redactJSON(b))))))
	case mt == "application/x-www-form-urlencoded":
		s = r.knownString(r.form(string(b)))
	default:
		if mt == "" {
			mt = "unknown content type"
		}
		return "[" + strconv.Itoa(len(b)) + " bytes of " + mt + " omitted]"
	}
	if truncated {
		s += "…[truncated]"
	}
	return s
}

func looksJSON(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{', '[':
			return true
		}
		return false
	}
	return false
}

// redactJSON replaces the value of every object member whose name looks
// secret by "[REDACTED]". It tolerates truncated and invalid input: it never
// fails, and anything after a malformed point is dropped rather than copied
// unredacted.
func redactJSON(in []byte) []byte {
	out := make([]byte, 0, len(in))
	i := 0
	for i < len(in) {
		c := in[i]
		if c != '"' {
			out = append(out, c)
			i++
			continue
		}
		end, ok := scanString(in, i)
		if !ok {
			// Truncated string: keep it only if it cannot be a secret value
			// (we do not know); drop it.
			return append(out, `"…`...)
		}
		str := in[i:end]
		out = append(out, str...)
		i = end
		// Is this string an object key?
		j := skipSpace(in, i)
		if j < len(in) && in[j] == ':' {
			name := string(str[1 : len(str)-1])
			if secretField(name) {
				out = append(out, in[i:j+1]...)
				k := skipSpace(in, j+1)
				out = append(out, in[j+1:k]...)
				vend, complete := skipValue(in, k)
				out = append(out, `"`+Redacted+`"`...)
				if !complete {
					return out
				}
				i = vend
			}
		}
	}
	return out
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanString returns the index just past the string starting at b[i]=='"'.
func scanString(b []byte, i int) (int, bool) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return len(b), false
}

// skipValue returns the index just past the JSON value starting at b[i].
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch b[i] {
	case '"':
		return scanString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, ok := scanString(b, j)
				if !ok {
					return len(b), false
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, true
				}
			}
		}
		return len(b), false
	}
	for j := i; j < len(b); j++ {
		switch b[j] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return j, true
		}
	}
	return len(b), false
}

// RedactSecrets returns a copy of text with secret-looking values replaced
// by Redacted, for error messages that quote a response body: in JSON, the
// values of members whose names look secret (password, token, secret,
// api_key, authorization, …; anything after a malformed or truncated point
// is dropped); and everywhere (JSON string values included) the values of
// such name=value pairs and the credentials following "Bearer " or
// "Basic ". It never fails.
func RedactSecrets(text []byte) []byte {
	if looksJSON(text) {
		text = redactJSON(text)
	}
	return redactAuthSchemes([]byte(newRedactor(nil, nil).namedValues(string(text))))
}

// redactAuthSchemes replaces the token after each (case-insensitive)
// "Bearer " or "Basic " in b.
func redactAuthSchemes(b []byte) []byte {
	var out []byte
	last := 0
	for i := 0; i < len(b); i++ {
		var n int
		basic := false
		switch {
		case hasFoldPrefix(b[i:], "bearer "):
			n = len("bearer ")
		case hasFoldPrefix(b[i:], "basic "):
			n, basic = len("basic "), true
		default:
			continue
		}
		if i > 0 && isNameByte(b[i-1]) {
			continue // part of a longer word
		}
		start := i + n
		for start < len(b) && b[start] == ' ' {
			start++
		}
		end := start
		for end < len(b) && isTokenByte(b[end]) {
			end++
		}
		if end == start || basic && !basicCredential(b[start:end]) {
			continue
		}
		out = append(append(out, b[last:start]...), Redacted...)
		last, i = end, end-1
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

// basicCredential reports whether tok is base64 of "user:password" (so
// that "basic" in prose is left alone).
func basicCredential(tok []byte) bool {
	dec, err := base64.StdEncoding.DecodeString(string(tok))
	return err == nil && bytes.IndexByte(dec, ':') >= 0
}

func hasFoldPrefix(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && strings.EqualFold(string(b[:len(prefix)]), prefix)
}

// isTokenByte reports whether c may appear in a bearer token (RFC 6750
// b64token) or a basic credential.
func isTokenByte(c byte) bool {
	return isNameByte(c) || c == '~' || c == '+' || c == '/' || c == '='
}
