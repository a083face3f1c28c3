package phone

import "testing"

func TestE164(t *testing.T) {
	for in, want := range map[string]string{
		"+16135550123":       "+16135550123",
		"+1 613 555 0123":    "+16135550123",
		"(613) 555-0123":     "+16135550123",
		"613.555.0123":       "+16135550123",
		"1-613-555-0123":     "+16135550123",
		"0033 1 23 45 67 89": "+33123456789",
		" +351 912 345 678 ": "+351912345678",
	} {
		got, err := E164(in)
		if err != nil || got != want {
			t.Errorf("E164(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "12345", "555-0123", "+0 613 555 0123", "613 555 0123 ext 4", "+1234567890123456", "0613550123"} {
		if got, err := E164(in); err == nil {
			t.Errorf("E164(%q) = %q, want an error", in, got)
		}
	}
}
