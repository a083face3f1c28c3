package oas

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// This file holds the JSON fast paths shared by Opt and Nullable. For the
// common scalar types they produce exactly the bytes encoding/json would,
// without reflection; every other type, and every input the fast paths are
// not sure about, goes through encoding/json so that results and error
// values are the standard ones.

// marshalValue encodes *v as JSON. It is generic only in name: the fast
// paths live in the non-generic marshalFast, so that each Opt[T] and
// Nullable[T] instantiation in a generated package compiles a few lines
// instead of the whole type switch (generated packages hold hundreds of
// instantiations, and compiling them dominated their build time).
func marshalValue[T any](v *T) ([]byte, error) {
	if b, ok := marshalFast(v); ok {
		return b, nil
	}
	return json.Marshal(*v)
}

// marshalFast encodes the common scalar types without reflection; ok is
// false for every other type.
func marshalFast(v any) (b []byte, ok bool) {
	switch x := v.(type) {
	case *string:
		return appendJSONString(make([]byte, 0, len(*x)+2), *x), true
	case *bool:
		if *x {
			return []byte("true"), true
		}
		return []byte("false"), true
	case *int:
		return strconv.AppendInt(make([]byte, 0, 20), int64(*x), 10), true
	case *int64:
		return strconv.AppendInt(make([]byte, 0, 20), *x, 10), true
	case *int32:
		return strconv.AppendInt(make([]byte, 0, 11), int64(*x), 10), true
	case *float64:
		return appendJSONFloat(make([]byte, 0, 24), *x, 64)
	case *float32:
		return appendJSONFloat(make([]byte, 0, 16), float64(*x), 32)
	}
	return nil, false
}

// unmarshalValue decodes the JSON value b (never the literal null; callers
// handle that) into *v, which the caller has reset to the zero value. Like
// marshalValue, its fast paths are in a non-generic function.
func unmarshalValue[T any](b []byte, v *T) error {
	if done, err := unmarshalFast(b, v); done {
		return err
	}
	return json.Unmarshal(b, v)
}

// unmarshalFast decodes the common scalar types without reflection, and
// date-times leniently; done is false when encoding/json should decode.
func unmarshalFast(b []byte, v any) (done bool, err error) {
	switch x := v.(type) {
	case *string:
		if s, ok := plainJSONString(b); ok {
			*x = s
			return true, nil
		}
	case *bool:
		switch string(b) {
		case "true":
			*x = true
			return true, nil
		case "false":
			*x = false
			return true, nil
		}
	case *int:
		if n, ok := parseJSONInt(b, strconv.IntSize); ok {
			*x = int(n)
			return true, nil
		}
	case *int64:
		if n, ok := parseJSONInt(b, 64); ok {
			*x = n
			return true, nil
		}
	case *int32:
		if n, ok := parseJSONInt(b, 32); ok {
			*x = int32(n)
			return true, nil
		}
	case *time.Time:
		return true, unmarshalDateTime(b, x)
	case *float64:
		if isJSONNumber(b) {
			if f, err := strconv.ParseFloat(string(b), 64); err == nil {
				*x = f
				return true, nil
			}
		}
	}
	return false, nil
}

// isJSONNull reports whether b is the JSON literal null, allowing the
// surrounding white space encoding/json may leave in place.
func isJSONNull(b []byte) bool {
	b = trimSpace(b)
	return len(b) == 4 && b[0] == 'n' && b[1] == 'u' && b[2] == 'l' && b[3] == 'l'
}

// plainJSONString returns the contents of a JSON string literal that needs
// no unescaping: no backslash, no control characters, valid UTF-8.
func plainJSONString(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	in := b[1 : len(b)-1]
	ascii := true
	for _, c := range in {
		if c < 0x20 || c == '"' || c == '\\' {
			return "", false
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	if !ascii && !utf8.Valid(in) {
		return "", false
	}
	return string(in), true
}

// parseJSONInt parses a JSON integer literal that fits in bits bits.
func parseJSONInt(b []byte, bits int) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	neg := b[0] == '-'
	digits := b
	if neg {
		digits = b[1:]
	}
	if len(digits) == 0 || (digits[0] == '0' && len(digits) > 1) {
		return 0, false
	}
	var u uint64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		if u > (math.MaxUint64-9)/10 {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	limit := uint64(1) << (bits - 1)
	if neg {
		if u > limit {
			return 0, false
		}
		return -int64(u-1) - 1, true // avoids overflow at the minimum value
	}
	if u >= limit {
		return 0, false
	}
	return int64(u), true
}

// isJSONNumber reports whether b matches the JSON number grammar.
func isJSONNumber(b []byte) bool {
	end, ok := scanNumber(b, 0)
	return ok && end == len(b)
}

// appendJSONFloat appends f formatted the way encoding/json formats floats.
// It reports false for NaN and infinities, which JSON cannot represent.
func appendJSONFloat(b []byte, f float64, bits int) ([]byte, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// Shorten a two-digit negative exponent: 1e-07 becomes 1e-7.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string literal, escaped exactly as
// encoding/json escapes it by default (including the HTML-safe escapes of <,
// > and &, U+2028 and U+2029, and U+FFFD for invalid UTF-8).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
