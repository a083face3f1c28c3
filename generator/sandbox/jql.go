package sandbox

import (
	"fmt"
	"strings"
)

// This file answers Jira's JQL searches (a list or find operation with a
// jql query parameter, as searchForIssuesUsingJql) for the simple queries
// generated connectors send: clauses FIELD = VALUE joined by AND. FIELD is
// a name under the fields (project, issuetype, priority, status,
// labels, summary, …) or cf[N] for customfield_N; an object value matches
// by its key, name, id or value (project = ENG), a list by any item
// (labels = freshdesk). VALUE is a bare word or a double-quoted string
// with backslash escapes. Anything else (OR, ~, !=, IN, ORDER BY,
// functions) is refused with 400, so a connector that relies on more
// learns it here instead of being served every issue.

// jqlClause is one FIELD = VALUE test.
type jqlClause struct{ field, value string }

// parseJQL parses the supported subset.
func parseJQL(q string) ([]jqlClause, error) {
	var out []jqlClause
	rest := strings.TrimSpace(q)
	for {
		var c jqlClause
		var err error
		if c.field, rest, err = jqlField(rest); err != nil {
			return nil, err
		}
		rest = strings.TrimSpace(rest)
		if !strings.HasPrefix(rest, "=") || strings.HasPrefix(rest, "==") {
			return nil, fmt.Errorf("sandbox JQL: only FIELD = VALUE is supported after %q", c.field)
		}
		if c.value, rest, err = jqlValue(strings.TrimSpace(rest[1:])); err != nil {
			return nil, err
		}
		out = append(out, c)
		rest = strings.TrimSpace(rest)
		if rest == "" {
			return out, nil
		}
		word, after, _ := strings.Cut(rest, " ")
		if !strings.EqualFold(word, "AND") {
			return nil, fmt.Errorf("sandbox JQL: clauses are joined by AND only, not %q", word)
		}
		rest = after
	}
}

func jqlField(s string) (string, string, error) {
	if n, ok := strings.CutPrefix(s, "cf["); ok {
		end := strings.IndexByte(n, ']')
		if end <= 0 || strings.Trim(n[:end], "0123456789") != "" {
			return "", "", fmt.Errorf("sandbox JQL: malformed custom field reference in %q", s)
		}
		return "customfield_" + n[:end], n[end+1:], nil
	}
	i := 0
	for i < len(s) && (s[i] == '_' || s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || s[i] >= '0' && s[i] <= '9') {
		i++
	}
	if i == 0 {
		return "", "", fmt.Errorf("sandbox JQL: expected a field name at %q", s)
	}
	return s[:i], s[i:], nil
}

func jqlValue(s string) (string, string, error) {
	if !strings.HasPrefix(s, `"`) {
		end := strings.IndexAny(s, " \t")
		if end < 0 {
			end = len(s)
		}
		if end == 0 || strings.ContainsAny(s[:end], `()"',`) {
			return "", "", fmt.Errorf("sandbox JQL: expected a value at %q", s)
		}
		return s[:end], s[end:], nil
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 == len(s) {
				return "", "", fmt.Errorf("sandbox JQL: unterminated string in %q", s)
			}
			i++
			b.WriteByte(s[i])
		case '"':
			return b.String(), s[i+1:], nil
		default:
			b.WriteByte(s[i])
		}
	}
	return "", "", fmt.Errorf("sandbox JQL: unterminated string in %q", s)
}

// jqlMatch reports whether an issue record satisfies every clause.
func jqlMatch(rec Record, cs []jqlClause) bool {
	fields, _ := rec["fields"].(map[string]any)
	for _, c := range cs {
		if !jqlHolds(fields[c.field], c.value) {
			return false
		}
	}
	return true
}

func jqlHolds(v any, want string) bool {
	switch x := v.(type) {
	case nil:
		return false
	case []any:
		for _, it := range x {
			if jqlHolds(it, want) {
				return true
			}
		}
		return false
	case map[string]any:
		for _, k := range []string{"key", "name", "id", "value"} {
			if s, ok := x[k]; ok && jqlHolds(s, want) {
				return true
			}
		}
		return false
	}
	return strings.EqualFold(keyString(v), want)
}

// jqlOf parses the jql query parameter of an operation that declares one
// (nil when absent or empty: every record).
func (s *System) jqlOf(r *route, q map[string][]string) ([]jqlClause, error) {
	v := ""
	if vs := q["jql"]; len(vs) > 0 {
		v = vs[0]
	}
	if strings.TrimSpace(v) == "" || r.op == nil {
		return nil, nil
	}
	for _, p := range r.op.Parameters {
		if p.Value != nil && p.Value.Name == "jql" && p.Value.In == "query" {
			return parseJQL(v)
		}
	}
	return nil, nil
}
