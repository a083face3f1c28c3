package rest

import (
	"net/http"
	"net/url"
	"testing"
)

// FuzzNextLink checks that Link parsing never panics and returns a target
// that appeared inside angle brackets.
func FuzzNextLink(f *testing.F) {
	for _, s := range []string{`<https://x/2>; rel="next"`, `<a>; rel=prev, <b>; rel="next last"`, `<`, `;;,,<>;rel=next`, `<x>; title="\"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got := NextLink(http.Header{"Link": {v}})
		if got != "" && !containsBracketed(v, got) {
			t.Fatalf("NextLink(%q) = %q, not a bracketed target", v, got)
		}
	})
}

func containsBracketed(v, target string) bool {
	for i := 0; i+len(target)+2 <= len(v); i++ {
		if v[i] == '<' && len(v) > i+1 {
			end := i + 1
			for end < len(v) && v[end] != '>' {
				end++
			}
			if end < len(v) && trimSpaceASCII(v[i+1:end]) == target {
				return true
			}
		}
	}
	return false
}

func trimSpaceASCII(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t' || s[0] == '\n' || s[0] == '\r' || s[0] == '\v' || s[0] == '\f') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t' || s[len(s)-1] == '\n' || s[len(s)-1] == '\r' || s[len(s)-1] == '\v' || s[len(s)-1] == '\f') {
		s = s[:len(s)-1]
	}
	return s
}

// FuzzQueryEncoding checks that every encoded query value decodes back to
// the original with the standard library.
func FuzzQueryEncoding(f *testing.F) {
	f.Add("color", "a/b c&d=e+f%")
	f.Add("x[y]", "日本\x00")
	f.Fuzz(func(t *testing.T, name, value string) {
		b, ok := appendQueryParam(nil, name, StyleForm, true, Scalar(value))
		if !ok {
			t.Fatal("refused")
		}
		q, err := url.ParseQuery(string(b))
		if err != nil {
			t.Fatalf("%q: %v", b, err)
		}
		if got := q[name]; len(got) != 1 || got[0] != value {
			t.Fatalf("%q decoded to %q", b, q)
		}
		p, ok := appendPathParam(nil, name, StyleSimple, false, Scalar(value))
		if !ok {
			t.Fatal("refused")
		}
		if back, err := url.PathUnescape(string(p)); err != nil || back != value {
			t.Fatalf("path %q -> %q %v", p, back, err)
		}
	})
}
