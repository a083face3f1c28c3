// Package phoneutil holds the hand-written mapping function the example
// connector's split names: mapping files call typed Go functions for what a
// declarative rule cannot say.
package phoneutil

import (
	"fmt"
	"strings"
)

// Classify normalises a phone number and says whether it is a mobile or a
// landline number; exactly one result is non-empty. The rule is the North
// one the simulated CRM uses: a number ending in 00 is an office landline
// (as in +1 202 555 0100), every other number is mobile. A number with fewer than 7 digits is an error.
func Classify(phone string) (mobile, landline string, err error) {
	var digits strings.Builder
	for i, r := range phone {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r == '+' && i == 0, r == ' ', r == '-', r == '.', r == '(', r == ')':
		default:
			return "", "", fmt.Errorf("phone number %q: unexpected %q", phone, r)
		}
	}
	d := digits.String()
	if len(d) < 7 {
		return "", "", fmt.Errorf("phone number %q: too few digits", phone)
	}
	normalised := "+" + d
	if strings.HasSuffix(d, "00") {
		return "", normalised, nil
	}
	return normalised, "", nil
}
