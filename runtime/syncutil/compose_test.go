package syncutil

import (
	"slices"
	"testing"
)

func TestPrepend(t *testing.T) {
	for _, c := range []struct {
		xs, first, want []string
	}{
		{[]string{"bug", "ui"}, []string{"freshdesk"}, []string{"freshdesk", "bug", "ui"}},
		{nil, []string{"freshdesk"}, []string{"freshdesk"}},
		{[]string{"freshdesk", "bug", "bug"}, []string{"freshdesk"}, []string{"freshdesk", "bug"}},
		{[]string{"a"}, nil, []string{"a"}},
	} {
		if got := Prepend(c.xs, c.first...); !slices.Equal(got, c.want) {
			t.Errorf("Prepend(%q, %q) = %q, want %q", c.xs, c.first, got, c.want)
		}
	}
	xs := []string{"x", "y"}
	_ = Prepend(xs, "z")
	if !slices.Equal(xs, []string{"x", "y"}) {
		t.Errorf("Prepend changed its input: %q", xs)
	}
}

func TestFindFilter(t *testing.T) {
	for key, want := range map[string]string{
		"https://acme.freshdesk.com/a/tickets/7": `cf[10050] = "https://acme.freshdesk.com/a/tickets/7"`,
		`a"b\c`:                                  `cf[10050] = "a\"b\\c"`,
	} {
		if got := FindFilter(`cf[10050] = "{key}"`, key); got != want {
			t.Errorf("FindFilter(%q) = %s, want %s", key, got, want)
		}
	}
}
