// Package naming is the one place where connectorgen turns names found in
// specs and mapping files into Go identifiers.
//
// It splits words (iancoleman/strcase does the splitting; its own casing
// functions mangle initialisms, so they are not used), applies Go initialisms
// (ID, URL, HTTP, OAuth …), spells names that would otherwise be empty or
// start with a digit, keeps clear of keywords and predeclared identifiers,
// and resolves collisions deterministically within a Scope.
//
// Stage: used by lower only. It must not know about OpenAPI or jennifer; it
// sees strings and returns strings.
package naming

import (
	"go/token"
	"strconv"
	"strings"

	"github.com/iancoleman/strcase"
)

// initialisms are written in upper case when they form a whole word. The
// list follows Go's own conventions (golint's list) plus a few common in
// business APIs.
func isInitialism(w string) bool {
	switch w {
	case "acl", "api", "ascii", "aws", "cpu", "crm", "css", "csv", "db", "dns",
		"eof", "gid", "guid", "html", "http", "https", "id", "ip", "json", "jwt",
		"lhs", "mfa", "os", "pdf", "qps", "ram", "rhs", "rpc", "sdk", "sku",
		"sla", "sms", "smtp", "sql", "ssh", "ssl", "sso", "tcp", "tls", "ttl",
		"udp", "ui", "uid", "uri", "url", "utf", "uuid", "vat", "vm", "xml",
		"xmpp", "xsrf", "xss", "yaml", "md", "sha", "iso", "gps", "cors", "mime",
		"vpc", "otp", "iban":
		return true
	}
	return false
}

// isDigitInitialism reports whether w is the letter part of an initialism
// that starts with a digit: 2FA, 3DS.
func isDigitInitialism(w string) bool {
	switch w {
	case "fa", "ds":
		return true
	}
	return false
}

// specialWords have a casing that is neither title case nor all upper case.
func specialWord(w string) (string, bool) {
	switch w {
	case "oauth":
		return "OAuth", true
	case "ipv":
		return "IPv", true
	case "ids":
		return "IDs", true
	case "graphql":
		return "GraphQL", true
	}
	return "", false
}

// symbolWords spells the ASCII symbols that can appear in JSON property
// names and enum values, for names that are nothing but symbols and digits
// ("+1", "-1", "*").
func symbolWord(r byte) string {
	switch r {
	case '+':
		return "Plus"
	case '-':
		return "Minus"
	case '@':
		return "At"
	case '$':
		return "Dollar"
	case '#':
		return "Hash"
	case '*':
		return "Star"
	case '/':
		return "Slash"
	case '\\':
		return "Backslash"
	case '.':
		return "Dot"
	case '=':
		return "Eq"
	case '<':
		return "Lt"
	case '>':
		return "Gt"
	case '!':
		return "Not"
	case '~':
		return "Tilde"
	case '&':
		return "And"
	case '|':
		return "Or"
	case '%':
		return "Percent"
	case '^':
		return "Caret"
	case '?':
		return "Question"
	case ':':
		return "Colon"
	case ',':
		return "Comma"
	case '_':
		return "Underscore"
	case ' ':
		return "Space"
	case '(', ')', '[', ']', '{', '}':
		return "Paren"
	case '\'', '"', '`':
		return "Quote"
	case ';':
		return "Semicolon"
	}
	return ""
}

// Words splits s into lower-case ASCII words. Letters and digits that belong
// together stay together: "v2", "ipv4", "oauth2", "AddressLine1" → address,
// line1. Characters that are not ASCII letters or digits separate words.
func Words(s string) []string {
	s = splitKnownMixedCase(s)
	snake := strcase.ToSnake(s)
	var raw []string
	for _, w := range strings.FieldsFunc(snake, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) {
		raw = append(raw, w)
	}
	// strcase puts digits in words of their own: glue them back to the
	// word they follow ("v", "2" → "v2"), and glue a single letter to the
	// digits it follows ("3", "d" → "3d").
	var out []string
	for _, w := range raw {
		if n := len(out); n > 0 {
			prev := out[n-1]
			switch {
			case isDigits(w) && !isDigits(prev):
				out[n-1] = prev + w
				continue
			case len(w) == 1 && endsWithDigit(prev):
				out[n-1] = prev + w
				continue
			}
		}
		out = append(out, w)
	}
	return out
}

// splitKnownMixedCase isolates tokens whose mixed case strcase would split
// wrongly: "IDs" (→ "i", "ds") and "OAuth" (→ "o", "auth").
func splitKnownMixedCase(s string) string {
	for _, tok := range [...]string{"OAuth", "IDs", "URLs", "APIs", "UUIDs", "URIs", "IPs", "SKUs", "GraphQL"} {
		if !strings.Contains(s, tok) {
			continue
		}
		var b strings.Builder
		rest := s
		for {
			i := strings.Index(rest, tok)
			if i < 0 {
				b.WriteString(rest)
				break
			}
			end := i + len(tok)
			// "IDsomething" is not "IDs": only split when the token ends
			// a word.
			if end < len(rest) && rest[end] >= 'a' && rest[end] <= 'z' {
				b.WriteString(rest[:end])
				rest = rest[end:]
				continue
			}
			b.WriteString(rest[:i])
			b.WriteByte('_')
			b.WriteString(strings.ToLower(tok))
			b.WriteByte('_')
			rest = rest[end:]
		}
		s = b.String()
	}
	return s
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func endsWithDigit(s string) bool { return s != "" && s[len(s)-1] >= '0' && s[len(s)-1] <= '9' }

// caseWord writes one lower-case word in Go casing: initialisms upper case
// ("url" → "URL", "utf8" → "UTF8", "urls" → "URLs"), others title case.
func caseWord(w string) string {
	if s, ok := specialWord(w); ok {
		return s
	}
	// Split a trailing run of digits: "utf8" → "utf" + "8".
	i := len(w)
	for i > 0 && w[i-1] >= '0' && w[i-1] <= '9' {
		i--
	}
	letters, digits := w[:i], w[i:]
	if letters == "" {
		return digits
	}
	if s, ok := specialWord(letters); ok {
		return s + digits
	}
	if isInitialism(letters) {
		return strings.ToUpper(letters) + digits
	}
	if digits == "" && len(letters) > 2 && letters[len(letters)-1] == 's' && isInitialism(letters[:len(letters)-1]) {
		return strings.ToUpper(letters[:len(letters)-1]) + "s"
	}
	return strings.ToUpper(letters[:1]) + letters[1:] + digits
}

// Exported returns the exported Go identifier for s, or "" when s holds no
// letters, digits or spellable symbols at all. Names made only of symbols
// and digits are spelled ("+1" → "Plus1", "-1" → "Minus1"); other names
// starting with a digit get an "X" prefix ("3dSecure" → "X3dSecure").
func Exported(s string) string {
	words := Words(s)
	if len(words) == 0 || isDigits(words[0][:1]) {
		if spelled := spellLeadingSymbols(s); spelled != "" {
			return spelled
		}
	}
	var b strings.Builder
	for i, w := range words {
		if i > 0 && endsWithDigit(words[i-1]) && isDigitInitialism(w) {
			b.WriteString(strings.ToUpper(w)) // "2fa" → "2FA", "3ds" → "3DS"
			continue
		}
		b.WriteString(caseWord(w))
	}
	name := b.String()
	if name != "" && name[0] >= '0' && name[0] <= '9' {
		name = "X" + name
	}
	return name
}

// ExportedSpelled is like Exported but always spells leading symbols, so
// that "@type" becomes "AtType" where "Type" is already taken.
func ExportedSpelled(s string) string {
	if spelled := spellLeadingSymbols(s); spelled != "" {
		return spelled
	}
	return Exported(s)
}

// spellLeadingSymbols spells the symbols at the start of s and joins them
// with the exported form of the rest; "" when s starts with no symbol.
func spellLeadingSymbols(s string) string {
	var b strings.Builder
	i := 0
	for i < len(s) {
		w := symbolWord(s[i])
		if w == "" || s[i] == '_' && i > 0 {
			break
		}
		b.WriteString(w)
		i++
	}
	if i == 0 {
		return ""
	}
	rest := s[i:]
	if rest == "" {
		return b.String()
	}
	var tail strings.Builder
	for _, w := range Words(rest) {
		tail.WriteString(caseWord(w))
	}
	return b.String() + tail.String()
}

// Unexported returns an unexported Go identifier for s: the exported form
// with its first word lower-cased ("URLPath" → "urlPath"), suffixed with an
// underscore when it would be a keyword or predeclared identifier.
func Unexported(s string) string {
	name := Exported(s)
	if name == "" {
		return ""
	}
	words := Words(s)
	first := ""
	if len(words) > 0 {
		first = caseWord(words[0])
	}
	if first != "" && strings.HasPrefix(name, first) {
		name = strings.ToLower(first) + name[len(first):]
	} else {
		name = strings.ToLower(name[:1]) + name[1:]
	}
	if IsReserved(name) {
		name += "_"
	}
	return name
}

// IsReserved reports whether name is a Go keyword or a predeclared
// identifier, which generated code must never declare.
func IsReserved(name string) bool {
	if token.IsKeyword(name) {
		return true
	}
	switch name {
	case "any", "bool", "byte", "comparable", "complex64", "complex128",
		"error", "float32", "float64", "int", "int8", "int16", "int32", "int64",
		"rune", "string", "uint", "uint8", "uint16", "uint32", "uint64", "uintptr",
		"true", "false", "iota", "nil", "append", "cap", "clear", "close",
		"complex", "copy", "delete", "imag", "len", "make", "max", "min", "new",
		"panic", "print", "println", "real", "recover":
		return true
	}
	return false
}

// PackageName checks that s is usable as a generated package name: a
// lower-case identifier that is not a keyword or predeclared identifier.
// It returns a reason when it is not.
func PackageName(s string) (ok bool, reason string) {
	if s == "" {
		return false, "package name is empty"
	}
	if !token.IsIdentifier(s) {
		return false, "package name " + strconv.Quote(s) + " is not a Go identifier"
	}
	if strings.ToLower(s) != s {
		return false, "package name " + strconv.Quote(s) + " must be lower case"
	}
	if IsReserved(s) {
		return false, "package name " + strconv.Quote(s) + " is a Go keyword or predeclared identifier"
	}
	return true, ""
}

// ValueName returns the identifier suffix for an enum value: its exported
// form, with an underscore between adjacent numbers so that "1-10" and
// "110" stay distinct ("1_10", "110"), and symbols spelled where the value
// has nothing else ("+" → "Plus", "" → "Empty").
func ValueName(v string) string {
	if v == "" {
		return "Empty"
	}
	words := Words(v)
	var b strings.Builder
	if spelled := spellLeadingSymbols(v); spelled != "" && (len(words) == 0 || isDigits(words[0][:1])) {
		return strings.ReplaceAll(spelled, " ", "")
	}
	for i, w := range words {
		if i > 0 && endsWithDigit(words[i-1]) && w[0] >= '0' && w[0] <= '9' {
			b.WriteByte('_')
		}
		b.WriteString(caseWord(w))
	}
	if s := b.String(); s != "" {
		if trailing := trailingSymbols(v); trailing != "" {
			return s + trailing
		}
		return s
	}
	var sym strings.Builder
	for i := 0; i < len(v); i++ {
		sym.WriteString(symbolWord(v[i]))
	}
	return sym.String()
}

// trailingSymbols spells symbols ending a value when they carry meaning
// ("1000+" → "Plus").
func trailingSymbols(v string) string {
	i := len(v)
	for i > 0 && symbolWord(v[i-1]) != "" && v[i-1] != '_' && v[i-1] != ' ' && v[i-1] != '.' {
		i--
	}
	if i == len(v) || i == 0 {
		return ""
	}
	var b strings.Builder
	for j := i; j < len(v); j++ {
		b.WriteString(symbolWord(v[j]))
	}
	return b.String()
}

// Join concatenates two exported identifiers, dropping a word the second
// repeats from the end of the first: Join("Lead", "LeadSource") is
// "LeadSource", Join("BatchRead", "ReadResult") is "BatchReadResult". Words
// are split at upper-case letters that start a capitalised word, so
// initialisms stay whole ("URL" in "SiteURL").
func Join(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	last := lastWord(a)
	if last != "" && len(last) < len(b) && strings.HasPrefix(b, last) {
		next := b[len(last)]
		if next >= 'A' && next <= 'Z' || next >= '0' && next <= '9' {
			return a + b[len(last):]
		}
	}
	return a + b
}

// lastWord returns the last word of an exported identifier: the suffix
// starting at the last upper-case letter that begins a word.
func lastWord(s string) string {
	for i := len(s) - 1; i > 0; i-- {
		c := s[i]
		if c < 'A' || c > 'Z' {
			continue
		}
		// An upper-case letter starts a word when the next one is lower
		// case ("Read" in "BatchRead"), or it begins a run of upper case
		// that ends the identifier ("URL" in "SiteURL").
		if i+1 < len(s) && s[i+1] >= 'a' && s[i+1] <= 'z' {
			return s[i:]
		}
		if s[i-1] < 'A' || s[i-1] > 'Z' {
			return s[i:]
		}
	}
	return s
}

// SharedName names one type that stands for several structurally identical
// ones: the words every name has, in order (the longest common subsequence
// of their words, taken name by name), when that keeps at least two words:
// "UploadVideoRequestEmbed", "EditVideoRequestEmbed" → "VideoRequestEmbed";
// "VideoUploadStatus", "VideoVersionsUploadStatus" → "VideoUploadStatus".
// A single shared word is enough unless it is one that says nothing about
// the type ("Item", "Request", "Data" …): "LinkMethod", "BatchMethod" →
// "Method". It returns "" when the names share nothing usable.
// Word boundaries are those of Go identifiers: an upper-case letter that
// starts a capitalised word or an initialism.
func SharedName(names []string) string {
	if len(names) == 0 {
		return ""
	}
	common := identWords(names[0])
	for _, n := range names[1:] {
		common = commonWords(common, identWords(n))
	}
	if len(common) == 0 || len(common) == 1 && vagueWord(common[0]) {
		return ""
	}
	return strings.Join(common, "")
}

// vagueWord reports whether w, alone, would not tell a reader what a type
// holds.
func vagueWord(w string) bool {
	switch w {
	case "Item", "Items", "Data", "Object", "Value", "Values", "Request", "Response", "Body",
		"Params", "Result", "Results", "Inner", "Entry", "Properties", "Default", "Variant", "Alt", "Model":
		return true
	}
	return len(w) < 3
}

// identWords splits an exported identifier at its word starts.
func identWords(s string) []string {
	var out []string
	start := 0
	for i := 1; i < len(s); i++ {
		if wordStart(s, i) {
			out = append(out, s[start:i])
			start = i
		}
	}
	if s != "" {
		out = append(out, s[start:])
	}
	return out
}

// commonWords returns the longest common subsequence of a and b; among
// equally long ones, the one using the earliest words of a.
func commonWords(a, b []string) []string {
	// n[i][j] is the length of the LCS of a[i:] and b[j:].
	n := make([][]int, len(a)+1)
	for i := range n {
		n[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				n[i][j] = n[i+1][j+1] + 1
			} else {
				n[i][j] = max(n[i+1][j], n[i][j+1])
			}
		}
	}
	var out []string
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] == b[j]:
			out = append(out, a[i])
			i, j = i+1, j+1
		case n[i][j+1] >= n[i+1][j]:
			j++
		default:
			i++
		}
	}
	return out
}

// wordStart reports whether a word of the identifier s starts at byte i: an
// upper-case letter after a lower-case letter or digit, or the last capital
// of a run that a lower-case letter follows ("URLPath": U and P).
func wordStart(s string, i int) bool {
	upper := func(c byte) bool { return c >= 'A' && c <= 'Z' }
	lower := func(c byte) bool { return c >= 'a' && c <= 'z' }
	if i < 0 || i >= len(s) || !upper(s[i]) {
		return false
	}
	if i == 0 || !upper(s[i-1]) {
		return true
	}
	return i+1 < len(s) && lower(s[i+1])
}
