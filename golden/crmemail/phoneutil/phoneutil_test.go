package phoneutil

import "testing"

func TestClassify(t *testing.T) {
	for _, tc := range []struct{ in, mobile, landline string }{
		{"+1 202 555 0143", "+12025550143", ""},
		{"+1 (202) 555-0100", "", "+12025550100"},
		{"202.555.0199", "+2025550199", ""},
	} {
		m, l, err := Classify(tc.in)
		if err != nil || m != tc.mobile || l != tc.landline {
			t.Errorf("Classify(%q) = %q, %q, %v; want %q, %q", tc.in, m, l, err, tc.mobile, tc.landline)
		}
	}
	for _, bad := range []string{"", "12", "call me", "+1 202 555 01x3"} {
		if _, _, err := Classify(bad); err == nil {
			t.Errorf("Classify(%q): want error", bad)
		}
	}
}
