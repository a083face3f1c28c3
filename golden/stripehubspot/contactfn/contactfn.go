// Package contactfn holds the with: functions of the Stripe ⇄ HubSpot
// connector (specs/stripe-hubspot): Stripe keeps one name and amounts in
// integer cents, HubSpot a first and a last name and decimal amounts.
// SplitName and FullName are inverses on names with single inner spaces,
// so a name written one way reads back unchanged the other way (no echo).
package contactfn

import (
	"strconv"
	"strings"
)

// SplitName splits a Stripe customer name at its first space: "Ann Lee"
// → ("Ann", "Lee"), "Mary Ann Lee" → ("Mary", "Ann Lee"), "Cher" →
// ("Cher", "").
func SplitName(name string) (first, last string) {
	name = strings.Join(strings.Fields(name), " ")
	first, last, _ = strings.Cut(name, " ")
	return first, last
}

// FullName joins a HubSpot contact's first and last names into the Stripe
// name ("Cher" and "" → "Cher").
func FullName(first, last string) string {
	return strings.Join(strings.Fields(first+" "+last), " ")
}

// CentsToDecimal writes an amount in integer cents as a decimal amount:
// 1234 → "12.34", -5 → "-0.05", 0 → "0.00".
func CentsToDecimal(cents int64) string {
	sign := ""
	u := uint64(cents)
	if cents < 0 {
		sign, u = "-", uint64(-cents)
	}
	s := strconv.FormatUint(u/100, 10) + "." + strconv.FormatUint(100+u%100, 10)[1:]
	return sign + s
}
