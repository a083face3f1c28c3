package phone

import "testing"

func TestE164(t *testing.T) {
	str := func(s string) *string { return &s }
	for _, tc := range []struct {
		in      string
		country *string
		want    string
	}{
		{"+16135550123", nil, "+16135550123"},
		{"+1 613 555 0123", str("FR"), "+16135550123"},
		{"(613) 555-0123", nil, "+16135550123"},
		{"613.555.0123", str("CA"), "+16135550123"},
		{"1-613-555-0123", str("us"), "+16135550123"},
		{"0033 1 23 45 67 89", nil, "+33123456789"},
		{" +351 912 345 678 ", nil, "+351912345678"},
		{"06 12 34 56 78", str("FR"), "+33612345678"},
		{"020 7946 0958", str("GB"), "+442079460958"},
		{"07700 900123", str("GB"), "+447700900123"},
		{"912 345 678", str("PT"), "+351912345678"},
		{"030 1234567", str("DE"), "+49301234567"},
	} {
		got, err := E164(tc.in, tc.country)
		if err != nil || got != tc.want {
			t.Errorf("E164(%q, %v) = %q, %v; want %q", tc.in, deref(tc.country), got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		in      string
		country *string
	}{
		{"", nil}, {"12345", nil}, {"555-0123", nil}, {"+0 613 555 0123", nil},
		{"613 555 0123 ext 4", nil}, {"+1234567890123456", nil}, {"0613550123", nil},
		{"06 12 34 56", str("FR")}, {"333 1234567", str("IT")}, {"123 456 7890", nil},
	} {
		if got, err := E164(tc.in, tc.country); err == nil {
			t.Errorf("E164(%q, %v) = %q, want an error", tc.in, deref(tc.country), got)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
