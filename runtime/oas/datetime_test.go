package oas

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseDateTimeLenient(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"2018-01-01T00:01:01Z", utc(2018, 1, 1, 0, 1, 1, 0)},
		{"2018-01-01T00:01:01", utc(2018, 1, 1, 0, 1, 1, 0)}, // no offset: UTC
		{"2018-01-01 00:01:01", utc(2018, 1, 1, 0, 1, 1, 0)},
		{"2018-01-01t00:01:01z", utc(2018, 1, 1, 0, 1, 1, 0)},
		{"2018-01-01T00:01:01.5", utc(2018, 1, 1, 0, 1, 1, 5e8)},
		{"2018-01-01 00:01:01.123456789", utc(2018, 1, 1, 0, 1, 1, 123456789)},
		{"2018-01-01T01:01:01+0100", utc(2018, 1, 1, 0, 1, 1, 0)},
		{"2018-01-01T01:01:01+01", utc(2018, 1, 1, 0, 1, 1, 0)},
		{"2018-01-01 01:01:01.25+01:00", utc(2018, 1, 1, 0, 1, 1, 25e7)},
		{"2018-01-01T00:01", utc(2018, 1, 1, 0, 1, 0, 0)},
	} {
		got, err := ParseDateTime(tc.in)
		if err != nil {
			t.Errorf("ParseDateTime(%q): %v", tc.in, err)
			continue
		}
		if !got.Equal(tc.want) {
			t.Errorf("ParseDateTime(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "2018-01-01", "2018-13-01T00:00:00Z", "2018-01-01T00:01:01+25:00"} {
		if _, err := ParseDateTime(bad); err == nil {
			t.Errorf("ParseDateTime(%q) accepted", bad)
		}
	}
}

// Opt and Nullable of time.Time decode leniently and encode strictly.
func TestDateTimeFieldsLenientInStrictOut(t *testing.T) {
	var v struct {
		A Opt[time.Time]      `json:"a"`
		B Nullable[time.Time] `json:"b"`
	}
	if err := json.Unmarshal([]byte(`{"a":"2018-01-01T00:01:01","b":"2018-01-01 00:01:01.5"}`), &v); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a":"2018-01-01T00:01:01Z","b":"2018-01-01T00:01:01.5Z"}`; string(out) != want {
		t.Errorf("encoded %s, want %s", out, want)
	}
	if err := json.Unmarshal([]byte(`{"a":12}`), &v); err == nil {
		t.Error("a number decoded as a date-time")
	}
	if err := json.Unmarshal([]byte(`{"a":"soon"}`), &v); err == nil {
		t.Error(`"soon" decoded as a date-time`)
	}
}
