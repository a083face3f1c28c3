package oas

// UUID is a universally unique identifier: the value of a string property
// with format "uuid". Its text and JSON form is the canonical lower-case
// 8-4-4-4-12 hexadecimal form, e.g. "f47ac10b-58cc-4372-a567-0e02b2c3d479".
type UUID [16]byte

// ParseUUID parses the canonical 36-character form of a UUID, in upper,
// lower or mixed case. Other spellings (braces, a "urn:uuid:" prefix, no
// hyphens) are rejected.
func ParseUUID(s string) (UUID, error) {
	var u UUID
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return UUID{}, &uuidError{input: s}
	}
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
			continue
		}
		hi, ok1 := fromHex(s[i])
		lo, ok2 := fromHex(s[i+1])
		if !ok1 || !ok2 {
			return UUID{}, &uuidError{input: s}
		}
		u[j] = hi<<4 | lo
		j++
		i += 2
	}
	return u, nil
}

// MustParseUUID is like [ParseUUID] but panics when s is not a UUID. It is
// meant for constants written in source code, never for input.
func MustParseUUID(s string) UUID {
	u, err := ParseUUID(s)
	if err != nil {
		panic(err)
	}
	return u
}

func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// uuidError reports a string that is not a canonical UUID.
type uuidError struct{ input string }

// Error describes the rejected input.
func (e *uuidError) Error() string {
	return "oas: invalid UUID " + quoteInput(e.input) + ": want 36 characters in the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
}

// String returns the canonical lower-case form of u.
func (u UUID) String() string { return string(u.appendText(make([]byte, 0, 36))) }

func (u UUID) appendText(b []byte) []byte {
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return b
}

// AppendText appends the canonical form of u to b.
func (u UUID) AppendText(b []byte) ([]byte, error) { return u.appendText(b), nil }

// MarshalText returns the canonical form of u.
func (u UUID) MarshalText() ([]byte, error) { return u.appendText(make([]byte, 0, 36)), nil }

// UnmarshalText parses b as [ParseUUID] does.
func (u *UUID) UnmarshalText(b []byte) error {
	v, err := ParseUUID(string(b))
	if err != nil {
		return err
	}
	*u = v
	return nil
}

// IsZero reports whether u is the nil UUID (all zero bytes).
func (u UUID) IsZero() bool { return u == UUID{} }
