package oas

import "encoding/json"

// This file holds a small allocation-free JSON scanner used to walk the
// top-level members of an object without decoding their values. It validates
// the full JSON grammar (so callers never act on half-valid input) and bounds
// nesting depth the way encoding/json does.

const maxScanDepth = 10000

// errSyntax is returned (wrapped) for malformed JSON.
const errSyntax = scanError("invalid JSON")

type scanError string

// Error returns the message.
func (e scanError) Error() string { return string(e) }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

func trimSpace(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && isSpace(b[i]) {
		i++
	}
	for j > i && isSpace(b[j-1]) {
		j--
	}
	return b[i:j]
}

// scanString scans the string literal starting at b[i] == '"'. It returns the
// index just past the closing quote and whether the literal contains escapes.
func scanString(b []byte, i int) (end int, escaped, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false, false
	}
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, escaped, true
		case c == '\\':
			escaped = true
			i++
			if i >= len(b) {
				return i, escaped, false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) {
					return i, escaped, false
				}
				for k := 1; k <= 4; k++ {
					if !isHex(b[i+k]) {
						return i, escaped, false
					}
				}
				i += 4
			default:
				return i, escaped, false
			}
		case c < 0x20:
			return i, escaped, false
		}
	}
	return i, escaped, false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// scanNumber scans a JSON number starting at b[i].
func scanNumber(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return i, false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return i, false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	return i, true
}

func scanLiteral(b []byte, i int, lit string) (int, bool) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, false
	}
	return i + len(lit), true
}

// scanValue scans the JSON value starting at b[i] (no leading white space)
// and returns the index just past it.
func scanValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch c := b[i]; {
	case c == '"':
		end, _, ok := scanString(b, i)
		return end, ok
	case c == '{' || c == '[':
		if depth >= maxScanDepth {
			return i, false
		}
		return scanContainer(b, i, depth+1)
	case c == 't':
		return scanLiteral(b, i, "true")
	case c == 'f':
		return scanLiteral(b, i, "false")
	case c == 'n':
		return scanLiteral(b, i, "null")
	default:
		return scanNumber(b, i)
	}
}

func scanContainer(b []byte, i, depth int) (int, bool) {
	isObject := b[i] == '{'
	closer := byte(']')
	if isObject {
		closer = '}'
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == closer {
		return i + 1, true
	}
	for {
		var ok bool
		if isObject {
			if i, _, ok = scanString(b, i); !ok {
				return i, false
			}
			i = skipSpace(b, i)
			if i >= len(b) || b[i] != ':' {
				return i, false
			}
			i = skipSpace(b, i+1)
		}
		if i, ok = scanValue(b, i, depth); !ok {
			return i, false
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return i, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case closer:
			return i + 1, true
		default:
			return i, false
		}
	}
}

// member is one top-level member of a JSON object.
type member struct {
	key        []byte // the key literal including its quotes
	keyEscaped bool
	value      []byte // the raw value
}

// keyString returns the decoded key.
func (m member) keyString() (string, error) {
	if !m.keyEscaped {
		return string(m.key[1 : len(m.key)-1]), nil
	}
	var s string
	err := json.Unmarshal(m.key, &s)
	return s, err
}

// keyEquals reports whether the decoded key equals s, without allocating
// for keys that contain no escapes.
func (m member) keyEquals(s string) bool {
	if !m.keyEscaped {
		return string(m.key[1:len(m.key)-1]) == s
	}
	k, err := m.keyString()
	return err == nil && k == s
}

// eachMember calls fn for every top-level member of the JSON object b, in
// order, stopping early when fn returns false. It validates the whole
// object, including the members after an early stop, and reports a syntax
// error for anything that is not exactly one JSON object.
func eachMember(b []byte, fn func(m member) bool) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		if end, ok := scanValue(b, i, 0); ok && skipSpace(b, end) == len(b) {
			return errNotObject
		}
		return errSyntax
	}
	call := true
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			var m member
			start := i
			end, escaped, ok := scanString(b, i)
			if !ok {
				return errSyntax
			}
			m.key, m.keyEscaped = b[start:end], escaped
			i = skipSpace(b, end)
			if i >= len(b) || b[i] != ':' {
				return errSyntax
			}
			i = skipSpace(b, i+1)
			vstart := i
			if i, ok = scanValue(b, i, 1); !ok {
				return errSyntax
			}
			m.value = b[vstart:i]
			if call && !fn(m) {
				call = false
			}
			i = skipSpace(b, i)
			if i >= len(b) {
				return errSyntax
			}
			if b[i] == '}' {
				i++
				break
			}
			if b[i] != ',' {
				return errSyntax
			}
			i = skipSpace(b, i+1)
		}
	}
	if skipSpace(b, i) != len(b) {
		return errSyntax
	}
	return nil
}

const errNotObject = scanError("not a JSON object")
