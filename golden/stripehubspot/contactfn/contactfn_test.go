package contactfn

import (
	"math"
	"testing"
)

func TestNamesRoundTrip(t *testing.T) {
	for _, c := range []struct{ name, first, last string }{
		{"Ann Lee", "Ann", "Lee"}, {"Mary Ann Lee", "Mary", "Ann Lee"}, {"Cher", "Cher", ""}, {"", "", ""}, {"  Bo   Ek ", "Bo", "Ek"},
	} {
		f, l := SplitName(c.name)
		if f != c.first || l != c.last {
			t.Errorf("SplitName(%q) = %q, %q; want %q, %q", c.name, f, l, c.first, c.last)
		}
		if got, want := FullName(f, l), SplitJoined(c.name); got != want {
			t.Errorf("FullName(SplitName(%q)) = %q, want %q", c.name, got, want)
		}
	}
	if got := FullName("Ann", ""); got != "Ann" {
		t.Errorf("FullName(Ann, \"\") = %q", got)
	}
}

// SplitJoined is the normal form of a name (single inner spaces).
func SplitJoined(s string) string { f, l := SplitName(s); return FullName(f, l) }

func TestCentsToDecimal(t *testing.T) {
	for in, want := range map[int64]string{0: "0.00", 5: "0.05", -5: "-0.05", 1234: "12.34", -100000: "-1000.00", math.MinInt64: "-92233720368547758.08"} {
		if got := CentsToDecimal(in); got != want {
			t.Errorf("CentsToDecimal(%d) = %q, want %q", in, got, want)
		}
	}
}
