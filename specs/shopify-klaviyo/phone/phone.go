// Package phone holds the with: function of the Shopify → Klaviyo
// connector (specs/shopify-klaviyo/connector.yaml): Klaviyo takes phone
// numbers in E.164 only, Shopify keeps them as the customer typed them.
package phone

import (
	"fmt"
	"strings"
)

// E164 returns phone in E.164 form (+ and 8 to 15 digits). Spaces, dots,
// dashes and parentheses are dropped. A number starting with + or 00 keeps
// its country code. A national number is read in the country of the
// customer's address (country, an ISO 3166 alpha-2 code such as "FR"; nil
// or unknown: North America): its trunk prefix (the leading 0 of most
// countries, 1 in North America) is dropped and the country's calling code
// put in front. A number that fits neither is an error: the profile is
// dead-lettered with the reason rather than sent with a phone number
// Klaviyo would refuse.
func E164(phone string, country *string) (string, error) {
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
	if intl {
		if len(digits) >= 8 && len(digits) <= 15 && digits[0] != '0' {
			return "+" + digits, nil
		}
		return "", fmt.Errorf("phone %q: an international number has 8 to 15 digits after its + and no leading 0", phone)
	}
	cc := "US"
	if country != nil && *country != "" {
		cc = strings.ToUpper(strings.TrimSpace(*country))
	}
	plan, ok := numberingPlan(cc)
	if !ok {
		return "", fmt.Errorf("phone %q: a national number in %s, whose numbering plan this connector does not know; store it with its + country code", phone, cc)
	}
	if plan.trunk != "" && strings.HasPrefix(digits, plan.trunk) && len(digits)-len(plan.trunk) >= plan.min {
		digits = digits[len(plan.trunk):]
	}
	if len(digits) < plan.min || len(digits) > plan.max || digits[0] == '0' || plan.code == "1" && digits[0] == '1' {
		return "", fmt.Errorf("phone %q is not a national number of %s (%d to %d digits after the trunk prefix %q)", phone, cc, plan.min, plan.max, plan.trunk)
	}
	return "+" + plan.code + digits, nil
}

// plan is a country's numbering plan as far as E164 needs it: its calling
// code, the trunk prefix national numbers are dialled with, and the length
// of a national significant number.
type plan struct {
	code, trunk string
	min, max    int
}

// numberingPlan returns the plans of the countries the shops sell to most
// (ITU-T E.164 assignments); a switch, not a table, so there is no
// package-level state.
func numberingPlan(country string) (plan, bool) {
	switch country {
	case "US", "CA", "PR":
		return plan{"1", "1", 10, 10}, true
	case "GB":
		return plan{"44", "0", 9, 10}, true
	case "IE":
		return plan{"353", "0", 7, 9}, true
	case "FR":
		return plan{"33", "0", 9, 9}, true
	case "DE":
		return plan{"49", "0", 6, 13}, true
	case "NL":
		return plan{"31", "0", 9, 9}, true
	case "BE":
		return plan{"32", "0", 8, 9}, true
	case "CH":
		return plan{"41", "0", 9, 9}, true
	case "AT":
		return plan{"43", "0", 4, 13}, true
	case "ES":
		return plan{"34", "", 9, 9}, true
	case "PT":
		return plan{"351", "", 9, 9}, true
	case "SE":
		return plan{"46", "0", 7, 9}, true
	case "NO":
		return plan{"47", "", 8, 8}, true
	case "DK":
		return plan{"45", "", 8, 8}, true
	case "FI":
		return plan{"358", "0", 5, 12}, true
	case "PL":
		return plan{"48", "", 9, 9}, true
	case "AU":
		return plan{"61", "0", 9, 9}, true
	case "NZ":
		return plan{"64", "0", 8, 10}, true
	case "JP":
		return plan{"81", "0", 9, 10}, true
	case "BR":
		return plan{"55", "0", 10, 11}, true
	case "MX":
		return plan{"52", "", 10, 10}, true
	}
	return plan{}, false
}
