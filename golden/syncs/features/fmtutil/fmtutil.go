// Package fmtutil holds the mapping functions of the features sync golden:
// a merge (two fields into one) and a split without an error result.
package fmtutil

import (
	"cmp"
	"strings"

	"github.com/connectorgen/connectorgen/runtime/oas"
)

// Join joins a first and a last name with one space, skipping empty parts.
func Join(first, last string) string {
	return strings.TrimSpace(strings.TrimSpace(first) + " " + strings.TrimSpace(last))
}

// Halves splits an email address at its @.
func Halves(email string) (local, domain string) {
	local, domain, _ = strings.Cut(email, "@")
	return local, domain
}

// Initials takes optional inputs: it is called even when a name is absent
// (a merge of required inputs is skipped then). An optional input may be
// taken as the field's own oas.Opt or as a pointer, nil when absent.
func Initials(first oas.Opt[string], last *string) string {
	var b strings.Builder
	for _, v := range []string{oas.Or(first, ""), *cmp.Or(last, new(string))} {
		if v != "" {
			b.WriteString(strings.ToUpper(v[:1]))
		}
	}
	return b.String()
}
