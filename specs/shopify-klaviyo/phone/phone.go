// Package phone holds the with: function of the Shopify → Klaviyo
// connector (specs/shopify-klaviyo/connector.yaml): Klaviyo takes phone
// numbers in E.164 only, Shopify keeps them as the customer typed them.
package phone

import (
	"fmt"
	"strings"
)

// E164 returns phone in E.164 form (+ and 8 to 15 digits). Spaces, dots,
// dashes and parentheses are dropped; a number starting with + or 00 keeps
// its country code; a national number of 10 digits (or 11 starting with the
// trunk prefix 1) is taken as North American (+1), the shop's country. Any
// other number is an error: the profile is dead-lettered with the reason
// rather than sent with a phone number Klaviyo would refuse.
func E164(phone string) (string, error) {
	s := strings.TrimSpace(phone)
	intl := false
	switch {
	case strings.HasPrefix(s, "+"):
		intl, s = true, s[1:]
	case strings.HasPrefix(s, "00"):
		intl, s = true, s[2:]
	}
	var d strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			d.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return "", fmt.Errorf("phone %q: unexpected %q", phone, r)
		}
	}
	digits := d.String()
	switch {
	case intl && len(digits) >= 8 && len(digits) <= 15 && digits[0] != '0':
		return "+" + digits, nil
	case !intl && len(digits) == 10 && digits[0] >= '2':
		return "+1" + digits, nil
	case !intl && len(digits) == 11 && digits[0] == '1' && digits[1] >= '2':
		return "+" + digits, nil
	}
	return "", fmt.Errorf("phone %q is not an international number or a 10-digit North American one", phone)
}
