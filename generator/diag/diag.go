// Package diag holds the compiler-style diagnostics every pipeline stage
// reports: a position in an input file, a severity and a message.
//
// It is a leaf of the generator: it knows nothing about OpenAPI, mapping files
// or Go output, and it never prints; callers decide where diagnostics go.
package diag

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Pos is a position in an input file. Line and Col are 1-based; a zero Line
// means the position is only known to the file.
type Pos struct {
	File string
	Line int
	Col  int
}

// String formats the position as file:line:col, dropping unknown parts.
func (p Pos) String() string {
	switch {
	case p.File == "":
		return ""
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// IsValid reports whether the position names at least a file.
func (p Pos) IsValid() bool { return p.File != "" }

// Severity says whether a diagnostic stops generation.
type Severity int

const (
	// Error diagnostics stop generation: no files are produced.
	Error Severity = iota
	// Warning diagnostics report a spec defect that was worked around.
	Warning
)

// Diagnostic is one positioned message.
type Diagnostic struct {
	Pos      Pos
	Severity Severity
	Msg      string
}

// String renders the diagnostic the way compilers do:
// "file:line:col: message" for errors, "file:line:col: warning: message" for
// warnings.
func (d Diagnostic) String() string {
	var b strings.Builder
	if s := d.Pos.String(); s != "" {
		b.WriteString(s)
		b.WriteString(": ")
	}
	if d.Severity == Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(d.Msg)
	return b.String()
}

// List is an ordered collection of diagnostics.
type List []Diagnostic

// Errorf appends an error at pos.
func (l *List) Errorf(pos Pos, format string, args ...any) {
	*l = append(*l, Diagnostic{Pos: pos, Severity: Error, Msg: fmt.Sprintf(format, args...)})
}

// Warnf appends a warning at pos.
func (l *List) Warnf(pos Pos, format string, args ...any) {
	*l = append(*l, Diagnostic{Pos: pos, Severity: Warning, Msg: fmt.Sprintf(format, args...)})
}

// Append adds other's diagnostics to l.
func (l *List) Append(other List) { *l = append(*l, other...) }

// HasErrors reports whether any diagnostic is an error.
func (l List) HasErrors() bool {
	return slices.ContainsFunc(l, func(d Diagnostic) bool { return d.Severity == Error })
}

// Errors returns the error diagnostics.
func (l List) Errors() List { return l.filter(Error) }

// Warnings returns the warning diagnostics.
func (l List) Warnings() List { return l.filter(Warning) }

func (l List) filter(s Severity) List {
	var out List
	for _, d := range l {
		if d.Severity == s {
			out = append(out, d)
		}
	}
	return out
}

// Sort orders diagnostics by file, line, column, severity and message, and
// drops exact duplicates, so reports are stable whatever order the stages
// found them in.
func (l List) Sort() List {
	out := slices.Clone(l)
	slices.SortStableFunc(out, func(a, b Diagnostic) int {
		return cmp.Or(
			cmp.Compare(a.Pos.File, b.Pos.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col),
			cmp.Compare(a.Severity, b.Severity),
			cmp.Compare(a.Msg, b.Msg),
		)
	})
	return slices.Compact(out)
}

// String renders the diagnostics one per line.
func (l List) String() string {
	var b strings.Builder
	for _, d := range l {
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// Err returns nil when l holds no errors, and otherwise an error whose text
// is every error diagnostic, sorted, one per line.
func (l List) Err() error {
	errs := l.Errors()
	if len(errs) == 0 {
		return nil
	}
	return &ListError{List: errs.Sort()}
}

// ListError is the error form of a diagnostic list.
type ListError struct{ List List }

func (e *ListError) Error() string { return strings.TrimSuffix(e.List.String(), "\n") }

// AsList extracts the diagnostics carried by err, if any.
func AsList(err error) (List, bool) {
	var le *ListError
	if errors.As(err, &le) {
		return le.List, true
	}
	return nil, false
}

// Suggest returns the candidate closest to name by edit distance, for
// "did you mean" hints, or "" when nothing is close enough to be a likely
// typo (distance at most a third of the name's length, minimum 1).
func Suggest(name string, candidates []string) string {
	best, bestDist := "", -1
	limit := max(1, len(name)/3)
	for _, c := range candidates {
		d := editDistance(strings.ToLower(name), strings.ToLower(c))
		if d > limit {
			continue
		}
		if bestDist < 0 || d < bestDist || (d == bestDist && c < best) {
			best, bestDist = c, d
		}
	}
	return best
}

// Hint is the tail of an "unknown name" message: " (did you mean %q?)"
// for the candidate Suggest picks, otherwise the known names when there are
// at most maxKnown of them (any number when maxKnown < 0, never when 0),
// otherwise "".
func Hint(name string, known []string, maxKnown int) string {
	if s := Suggest(name, known); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	if len(known) > 0 && maxKnown != 0 && (maxKnown < 0 || len(known) <= maxKnown) {
		return " (known: " + strings.Join(known, ", ") + ")"
	}
	return ""
}

// editDistance is the optimal-string-alignment distance between a and b,
// over bytes: Levenshtein plus the transposition of two adjacent bytes as
// one edit, so "emial" is one edit from "email" (typing errors are mostly
// transpositions, which plain Levenshtein counts as two).
func editDistance(a, b string) int {
	// Three rows: the one before the previous is needed for
	// transpositions.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
