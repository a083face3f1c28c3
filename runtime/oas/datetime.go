package oas

import (
	"encoding/json"
	"fmt"
	"time"
)

// ParseDateTime reads a format: date-time value leniently. Servers often
// send timestamps that are not quite RFC 3339, and one such value would
// otherwise fail a whole response, so besides RFC 3339 it accepts:
//
//   - no zone offset ("2018-01-01T00:01:01"), read as UTC: the spec's
//     format promises an absolute time and UTC is what such APIs mean in
//     practice;
//   - a space or a lower-case "t" between date and time, and a lower-case
//     "z";
//   - fractional seconds of any length;
//   - an offset without a colon ("+0100") or hours only ("+01").
//
// Output is always strict RFC 3339 (time.Time's own encoding).
func ParseDateTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	b := []byte(s)
	if len(b) > 10 && (b[10] == ' ' || b[10] == 't') {
		b[10] = 'T'
	}
	if n := len(b); n > 0 && b[n-1] == 'z' {
		b[n-1] = 'Z'
	}
	norm := string(b)
	// Tried in order after strict RFC 3339; a layout without an offset
	// parses as UTC. ".999999999" accepts any number of fractional digits,
	// or none.
	layouts := [...]string{
		"2006-01-02T15:04:05.999999999Z07:00",
		"2006-01-02T15:04:05.999999999Z0700",
		"2006-01-02T15:04:05.999999999Z07",
		"2006-01-02T15:04:05.999999999",
		"2006-01-02T15:04Z07:00",
		"2006-01-02T15:04",
	}
	for _, layout := range layouts {
		if t, err := time.Parse(layout, norm); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("oas: %q is not a date-time (RFC 3339, optionally without offset)", s)
}

// unmarshalDateTime decodes a JSON string holding a date-time leniently
// (see [ParseDateTime]).
func unmarshalDateTime(b []byte, t *time.Time) error {
	if err := t.UnmarshalJSON(b); err == nil {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("oas: a date-time must be a JSON string, got %.40s", b)
	}
	v, err := ParseDateTime(s)
	if err != nil {
		return err
	}
	*t = v
	return nil
}
