package emit

import (
	"go/format"
	"strings"
	"testing"
)

func TestDocSyntax(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"<p>Creates a new customer object.</p>", "Creates a new customer object."},
		{"<p>One.</p><p>Two &amp; <code>three</code>.</p>", "One.\n\nTwo & three."},
		{`See <a href="https://x.example/docs">the docs</a> now.`, "See [the docs] now.\n\n[the docs]: https://x.example/docs\n"},
		{"<ul><li>a</li><li>b</li></ul>", "- a\n  - b"},
		{"Use [the guide](https://g.example/).", "Use [the guide].\n\n[the guide]: https://g.example/\n"},
		{"Relative [link](/docs/x) stays readable.", "Relative link (/docs/x) stays readable."},
		{"First line\n    continues here", "First line\ncontinues here"},
		{"Intro:\n* one\n+ two", "Intro:\n\n  - one\n  - two"},
		{"```\ncode here\n```", "\tcode here\n"},
		{"**Bold** words", "Bold words"},
		{"plain text", "plain text"},
		{"a < b and c > d", "a < b and c > d"},
	} {
		got := strings.TrimSpace(docSyntax(tc.in))
		if got != strings.TrimSpace(tc.want) {
			t.Errorf("docSyntax(%q)\n got %q\nwant %q", tc.in, got, strings.TrimSpace(tc.want))
		}
	}
}

// Whatever a description holds, the comment lines are a gofmt fixed point
// (sentry's indented continuation lines were re-indented by gofmt).
func TestCommentGofmtClean(t *testing.T) {
	for _, doc := range []string{
		"Return things.\n  indented continuation line\n    deeper\n- item one\n  continued\n* item two\n1. numbered\nback to text\n\ttab-indented",
		"A thing.\n    Indented continuation.\n  Second.",
		"<p>x</p><pre>  a\n    b</pre><ul><li>one<ul><li>nested</li></ul></li></ul>",
		"# Heading\ntext\n\n    code\n  - odd list\n\t\tmixed tabs",
		"1. one\n   2. two\n      - three\n\n        code?",
	} {
		var b strings.Builder
		b.WriteString("package p\n\n")
		for _, l := range canonicalDoc(docLines("T", doc, "")) {
			b.WriteString(l + "\n")
		}
		b.WriteString("type T int\n")
		src := b.String()
		out, err := format.Source([]byte(src))
		if err != nil {
			t.Fatalf("%q: %v", doc, err)
		}
		if string(out) != src {
			t.Errorf("not gofmt-clean for %q:\n%s\ngofmt:\n%s", doc, src, out)
		}
	}
}
