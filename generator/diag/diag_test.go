package diag

import "testing"

// TestSuggestTranspositions: a swapped pair of letters is one edit
// (optimal string alignment), so short misspellings such as "emial" and
// "nmae" get a suggestion; plain Levenshtein counted them as two and, with
// the limit of a third of the name's length, suggested nothing (issue 7,
// defect 17).
func TestSuggestTranspositions(t *testing.T) {
	for _, tc := range []struct {
		name string
		cand []string
		want string
	}{
		{"emial", []string{"email", "phone", "id"}, "email"},
		{"nmae", []string{"name", "status"}, "name"},
		{"stauts", []string{"status", "source"}, "status"},
		{"emali", []string{"email"}, "email"},
		{"xyz", []string{"email"}, ""},
	} {
		if got := Suggest(tc.name, tc.cand); got != tc.want {
			t.Errorf("Suggest(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"kitten", "sitting", 3},
		{"ab", "ba", 1}, {"abc", "acb", 1}, {"ca", "abc", 3}, {"email", "email", 0},
	} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := editDistance(tc.b, tc.a); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d (symmetric)", tc.b, tc.a, got, tc.want)
		}
	}
}
