// Package fmtutil holds the mapping functions of the features sync golden:
// a merge (two fields into one) and a split without an error result.
package fmtutil

import "strings"

// Join joins a first and a last name with one space, skipping empty parts.
func Join(first, last string) string {
	return strings.TrimSpace(strings.TrimSpace(first) + " " + strings.TrimSpace(last))
}

// Halves splits an email address at its @.
func Halves(email string) (local, domain string) {
	local, domain, _ = strings.Cut(email, "@")
	return local, domain
}
