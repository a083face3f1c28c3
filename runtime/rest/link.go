package rest

import (
	"net/http"
	"net/url"
	"strings"
)

// NextLink returns the target of the first link with relation type "next"
// in the response's RFC 8288 Link headers, or "" when there is none. It
// handles several Link headers, several links per header, quoted and
// unquoted rel values, relation lists (rel="next last"), and ignores case in
// relation types. The target is returned as written: it may be relative.
func NextLink(h http.Header) string {
	for _, v := range h.Values("Link") {
		if target, ok := findRel(v, "next"); ok {
			return target
		}
	}
	return ""
}

// NextLinkURL returns the next link of resp (see [NextLink]) resolved
// against the URL of the request that produced resp, as RFC 8288 requires,
// or "" when there is none or it cannot be parsed.
func NextLinkURL(resp *http.Response) string {
	if resp == nil {
		return ""
	}
	target := NextLink(resp.Header)
	if target == "" || resp.Request == nil || resp.Request.URL == nil {
		return target
	}
	ref, err := url.Parse(target)
	if err != nil {
		return ""
	}
	return resp.Request.URL.ResolveReference(ref).String()
}

// findRel scans one Link header value for a link whose rel includes want.
func findRel(v, want string) (string, bool) {
	for i := 0; i < len(v); {
		i = skipOWS(v, i)
		if i >= len(v) {
			break
		}
		if v[i] == ',' {
			i++
			continue
		}
		if v[i] != '<' {
			// Malformed: skip to the next link.
			i = nextComma(v, i)
			continue
		}
		end := strings.IndexByte(v[i+1:], '>')
		if end < 0 {
			return "", false
		}
		target := v[i+1 : i+1+end]
		i += end + 2
		matched := false
		// Parameters: ; name [= value]
		for {
			i = skipOWS(v, i)
			if i >= len(v) || v[i] != ';' {
				break
			}
			i = skipOWS(v, i+1)
			start := i
			for i < len(v) && v[i] != '=' && v[i] != ';' && v[i] != ',' && v[i] != ' ' && v[i] != '\t' {
				i++
			}
			name := v[start:i]
			i = skipOWS(v, i)
			var value string
			if i < len(v) && v[i] == '=' {
				i = skipOWS(v, i+1)
				value, i = paramValue(v, i)
			}
			if strings.EqualFold(name, "rel") {
				for _, rel := range strings.Fields(value) {
					if strings.EqualFold(rel, want) {
						matched = true
					}
				}
			}
		}
		if matched {
			return strings.TrimSpace(target), true
		}
		i = nextComma(v, i)
	}
	return "", false
}

func skipOWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// nextComma returns the index of the next ',' outside a quoted string.
func nextComma(s string, i int) int {
	quoted := false
	for ; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if quoted {
				i++
			}
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				return i
			}
		}
	}
	return i
}

// paramValue reads a token or quoted-string at s[i].
func paramValue(s string, i int) (string, int) {
	if i < len(s) && s[i] == '"' {
		var b strings.Builder
		for i++; i < len(s); i++ {
			switch s[i] {
			case '\\':
				if i+1 < len(s) {
					i++
					b.WriteByte(s[i])
				}
			case '"':
				return b.String(), i + 1
			default:
				b.WriteByte(s[i])
			}
		}
		return b.String(), i
	}
	start := i
	for i < len(s) && s[i] != ';' && s[i] != ',' && s[i] != ' ' && s[i] != '\t' {
		i++
	}
	return s[start:i], i
}
