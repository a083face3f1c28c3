package rest

// This file turns Params into URL, header and cookie text according to the
// OpenAPI 3 style/explode rules. Every function appends to a caller-owned
// buffer so a request is built with a handful of allocations.

// escaper selects a percent-encoding set.
type escaper uint8

const (
	escPath   escaper = iota // url.PathEscape: unreserved plus $&+:=@ kept
	escQuery                 // unreserved only kept; space as %20
	escNone                  // header values: no encoding
	escCookie                // cookie-octet kept except ','
)

const upperHex = "0123456789ABCDEF"

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

func (e escaper) keep(c byte) bool {
	switch e {
	case escPath:
		if isUnreserved(c) {
			return true
		}
		switch c {
		case '$', '&', '+', ':', '=', '@':
			return true
		}
		return false
	case escQuery:
		return isUnreserved(c)
	case escCookie:
		return c > 0x20 && c < 0x7f && c != '"' && c != ',' && c != ';' && c != '\\'
	}
	return true
}

// appendEscaped appends s percent-encoded with e.
func appendEscaped(b []byte, s string, e escaper) []byte {
	if e == escNone {
		return append(b, s...)
	}
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if e.keep(c) {
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		start = i + 1
	}
	return append(b, s[start:]...)
}

// appendFlat appends a value flattened to comma-separated text: scalars
// escaped, list elements and object key/value pairs joined with sep.
func appendFlat(b []byte, p Param, e escaper, sep string) []byte {
	switch p.kind {
	case kindScalar:
		return appendEscaped(b, p.s, e)
	case kindList:
		for i, n := 0, p.listLen(); i < n; i++ {
			if i > 0 {
				b = append(b, sep...)
			}
			b = appendFlat(b, p.elem(i), e, ",")
		}
	case kindObject:
		for i, f := range p.fields {
			if i > 0 {
				b = append(b, sep...)
			}
			b = appendEscaped(b, f.Key, e)
			b = append(b, sep...)
			b = appendFlat(b, f.Value, e, ",")
		}
	}
	return b
}

// appendPairs appends an exploded object as key=value pairs joined by sep
// (the name-less form of explode=true objects).
func appendPairs(b []byte, p Param, e escaper, sep string) []byte {
	first := true
	for _, f := range p.fields {
		if f.Value.undefined() {
			continue
		}
		if !first {
			b = append(b, sep...)
		}
		first = false
		b = appendEscaped(b, f.Key, e)
		b = append(b, '=')
		b = appendFlat(b, f.Value, e, ",")
	}
	return b
}

// appendPathParam appends one path parameter in the simple, label or matrix
// style. It reports false for any other style.
func appendPathParam(b []byte, name string, style Style, explode bool, p Param) ([]byte, bool) {
	switch style {
	case StyleSimple:
		if p.kind == kindObject && explode {
			return appendPairs(b, p, escPath, ","), true
		}
		return appendFlat(b, p, escPath, ","), true
	case StyleLabel:
		if p.undefined() {
			return b, true
		}
		b = append(b, '.')
		switch {
		case p.kind == kindObject && explode:
			return appendPairs(b, p, escPath, "."), true
		case p.kind == kindList && explode:
			return appendFlat(b, p, escPath, "."), true
		}
		return appendFlat(b, p, escPath, ","), true
	case StyleMatrix:
		if p.undefined() {
			return b, true
		}
		switch {
		case p.kind == kindObject && explode:
			b = append(b, ';')
			return appendPairs(b, p, escPath, ";"), true
		case p.kind == kindList && explode:
			for i, n := 0, p.listLen(); i < n; i++ {
				b = append(b, ';')
				b = appendEscaped(b, name, escPath)
				b = append(b, '=')
				b = appendFlat(b, p.elem(i), escPath, ",")
			}
			return b, true
		}
		b = append(b, ';')
		b = appendEscaped(b, name, escPath)
		if p.kind == kindScalar && p.s == "" {
			return b, true
		}
		b = append(b, '=')
		return appendFlat(b, p, escPath, ","), true
	}
	return b, false
}

// appendQueryParam appends one query parameter (or form body property) in
// the form, spaceDelimited, pipeDelimited or deepObject style, preceded by
// '&' when b is not empty. It reports false for any other style.
func appendQueryParam(b []byte, name string, style Style, explode bool, p Param) ([]byte, bool) {
	if p.undefined() {
		switch style {
		case StyleForm, StyleSpaceDelimited, StylePipeDelimited, StyleDeepObject:
			return b, true
		}
		return b, false
	}
	sep := ","
	switch style {
	case StyleForm:
	case StyleSpaceDelimited:
		sep = "%20"
	case StylePipeDelimited:
		sep = "|"
	case StyleDeepObject:
		if p.kind != kindScalar {
			return appendDeep(b, appendEscaped(nil, name, escQuery), p), true
		}
	default:
		return b, false
	}
	if explode || p.kind == kindScalar {
		switch p.kind {
		case kindObject:
			if len(b) > 0 {
				b = append(b, '&')
			}
			return appendPairs(b, p, escQuery, "&"), true
		case kindList:
			for i, n := 0, p.listLen(); i < n; i++ {
				b = appendQueryPair(b, name, p.elem(i), ",")
			}
			return b, true
		}
		return appendQueryPair(b, name, p, ","), true
	}
	return appendQueryPair(b, name, p, sep), true
}

func appendQueryPair(b []byte, name string, p Param, sep string) []byte {
	if len(b) > 0 {
		b = append(b, '&')
	}
	b = appendEscaped(b, name, escQuery)
	b = append(b, '=')
	return appendFlat(b, p, escQuery, sep)
}

// appendDeep appends a deepObject value under the (already escaped) key
// prefix: objects nest with [key], lists with [index].
func appendDeep(b []byte, prefix []byte, p Param) []byte {
	switch p.kind {
	case kindScalar:
		if len(b) > 0 {
			b = append(b, '&')
		}
		b = append(b, prefix...)
		b = append(b, '=')
		return appendEscaped(b, p.s, escQuery)
	case kindList:
		for i, n := 0, p.listLen(); i < n; i++ {
			k := append(prefix[:len(prefix):len(prefix)], '[')
			k = appendInt(k, i)
			b = appendDeep(b, append(k, ']'), p.elem(i))
		}
	case kindObject:
		for _, f := range p.fields {
			k := append(prefix[:len(prefix):len(prefix)], '[')
			k = appendEscaped(k, f.Key, escQuery)
			b = appendDeep(b, append(k, ']'), f.Value)
		}
	}
	return b
}

func appendInt(b []byte, n int) []byte {
	if n < 10 {
		return append(b, byte('0'+n))
	}
	var tmp [20]byte
	i := len(tmp)
	for n > 0 {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
	}
	return append(b, tmp[i:]...)
}

// appendHeaderValue appends a header parameter in the simple style.
func appendHeaderValue(b []byte, explode bool, p Param) []byte {
	if p.kind == kindObject && explode {
		return appendPairs(b, p, escNone, ",")
	}
	return appendFlat(b, p, escNone, ",")
}

// appendCookie appends a cookie parameter in the form style, preceded by
// "; " when b is not empty.
func appendCookie(b []byte, name string, explode bool, p Param) []byte {
	if p.undefined() {
		return b
	}
	pair := func(b []byte, k string, v Param) []byte {
		if len(b) > 0 {
			b = append(b, ';', ' ')
		}
		b = append(b, k...)
		b = append(b, '=')
		return appendFlat(b, v, escCookie, ",")
	}
	switch {
	case explode && p.kind == kindList:
		for i, n := 0, p.listLen(); i < n; i++ {
			b = pair(b, name, p.elem(i))
		}
		return b
	case explode && p.kind == kindObject:
		for _, f := range p.fields {
			if !f.Value.undefined() && validToken(f.Key) {
				b = pair(b, f.Key, f.Value)
			}
		}
		return b
	}
	return pair(b, name, p)
}

// validToken reports whether s is an RFC 7230 token (header and cookie
// names).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			continue
		}
		switch c {
		case '!', '#', '$', '%', '&', '\'', '*', '+', '^', '`', '|':
			continue
		}
		return false
	}
	return true
}

// validHeaderValue reports whether s may be sent as a header value: no
// control characters other than horizontal tab.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
