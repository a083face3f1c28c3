package e2e

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/connectorgen/connectorgen/generator/sandbox"
)

// Pairing 2 of ../shared/pairings: Shopify customers who accept email
// marketing → Klaviyo profiles (specs/shopify-klaviyo/connector.yaml over
// the vendor specs in ../shared/corpus). Klaviyo's profile import is a
// create-or-update by email, so the oracle pairs by email.

var skCities = []string{"Ottawa", "Lyon", "Porto", "Oslo"}

func shopifyKlaviyoPairing() Pairing {
	return Pairing{
		Name:   "shopifyklaviyo",
		Config: "specs/shopify-klaviyo/connector.yaml",
		Corpus: "../shared/corpus",
		Sandbox: sandbox.Options{
			Seed: 2,
			// Klaviyo's profile import finds the profile by email (its spec
			// says so in prose).
			Hints: map[string]sandbox.Hint{"klaviyo.Profile": {Unique: []string{"data.attributes.email"}}},
		},
		Env: func(r *Run) []string {
			return []string{"SHOPIFY_ACCESS_TOKEN=shpat_e2e", "KLAVIYO_API_KEY=pk_e2e", "SHOPIFY_WEBHOOK_SECRET=shpss_e2e"}
		},
		// Shopify's customers/create and customers/update webhooks: the
		// customer itself as the body, X-Shopify-Hmac-Sha256 and
		// X-Shopify-Webhook-Id.
		Webhooks: []Webhook{{System: "shopify", Sync: "marketing_customers", Secret: "shpss_e2e", Scheme: sandbox.SignShopify, Entity: "shopify.Customer"}},
		Seed:     skSeed,
		Change:   skChange,
		Check:    skCheck,
		Targets:  []string{"klaviyo"},
		Records: func(r *Run) int {
			n := 0
			for _, c := range records(r, "shopify", "shopify.Customer") {
				if customerInScope(c) {
					n++
				}
			}
			return n
		},
	}
}

func TestShopifyKlaviyo(t *testing.T) {
	Execute(t, shopifyKlaviyoPairing(), Options{})
}

// skCountries are the countries of the seeded customers' addresses.
var skCountries = []struct{ Name, Code string }{{"Canada", "CA"}, {"France", "FR"}, {"United Kingdom", "GB"}, {"Portugal", "PT"}}

// skPhone returns a phone number as a customer in country might type it
// (national or international; the with: function phone.E164 reads a
// national one in the address's country), or none.
func skPhone(r *Run, country string) any {
	n := r.Rand.IntN(10000)
	if r.Rand.IntN(5) == 0 {
		return nil
	}
	intl := r.Rand.IntN(3) == 0
	switch country {
	case "FR":
		if intl {
			return fmt.Sprintf("+33 6 12 34 %02d %02d", n/100, n%100)
		}
		return fmt.Sprintf("06 12 34 %02d %02d", n/100, n%100)
	case "GB":
		if intl {
			return fmt.Sprintf("0044 7700 90%04d", n)
		}
		return fmt.Sprintf("07700 90%04d", n)
	case "PT":
		if intl {
			return fmt.Sprintf("+351 912 34%04d", n)
		}
		return fmt.Sprintf("912 34%04d", n)
	}
	switch r.Rand.IntN(4) {
	case 0:
		return fmt.Sprintf("(613) 555-%04d", n)
	case 1:
		return fmt.Sprintf("+1 613 555 %04d", n)
	case 2:
		return fmt.Sprintf("1-613-555-%04d", n)
	}
	return fmt.Sprintf("+1613555%04d", n)
}

// skE164 is the oracle's own reading of a seeded phone number in E.164:
// international numbers keep their country code; national ones get the
// address country's, without the trunk prefix.
func skE164(phone, country string) string {
	var d strings.Builder
	for _, c := range phone {
		if c >= '0' && c <= '9' {
			d.WriteRune(c)
		}
	}
	digits := d.String()
	switch {
	case strings.HasPrefix(strings.TrimSpace(phone), "+"):
		return "+" + digits
	case strings.HasPrefix(digits, "00"):
		return "+" + digits[2:]
	}
	switch country {
	case "FR":
		return "+33" + digits[1:]
	case "GB":
		return "+44" + digits[1:]
	case "PT":
		return "+351" + digits
	}
	if len(digits) == 10 {
		return "+1" + digits
	}
	return "+" + digits
}

// skAddress is a default address in the customer's country (moves stay in
// the country: a national phone number is read in it).
func skAddress(r *Run, country string) map[string]any {
	for _, c := range skCountries {
		if c.Code == country {
			return map[string]any{"city": pick(r, skCities), "country": c.Name, "country_code": c.Code}
		}
	}
	panic("unknown country " + country)
}

func skNewCustomer(r *Run, i int) sandbox.Record {
	email := fmt.Sprintf("%s%d@shop.example", strings.ToLower(pick(r, crmFirst)), i)
	if i%5 == 0 {
		email = " " + strings.ToUpper(email[:1]) + email[1:]
	}
	c := sandbox.Record{"email": email, "first_name": pick(r, crmFirst), "last_name": pick(r, crmLast),
		"accepts_marketing": r.Rand.IntN(2) == 0,
		"orders_count":      r.Rand.IntN(20), "total_spent": fmt.Sprintf("%d.%02d", r.Rand.IntN(900), r.Rand.IntN(100))}
	country := skCountries[r.Rand.IntN(len(skCountries))].Code
	c["phone"], c["default_address"] = skPhone(r, country), skAddress(r, country)
	if c["phone"] == nil {
		delete(c, "phone") // no phone: absent (the spec's phone is not nullable)
	}
	return c
}

func skSeed(r *Run) error {
	shop := r.SB.System("shopify")
	n := 60 * Scale()
	for i := range n {
		if _, err := shop.Create("Customer", skNewCustomer(r, i)); err != nil {
			return err
		}
	}
	r.Vars["next"] = n
	return nil
}

// skChange: customers place orders, move, opt in (never out: the mapping
// declares no exit action), new customers arrive.
func skChange(r *Run, round int) error {
	shop := r.SB.System("shopify")
	custs := records(r, "shopify", "shopify.Customer")
	for range 25 * Scale() {
		id := keyOf(pick(r, custs)["id"])
		if _, _, err := shop.Update("Customer", id, func(c sandbox.Record) {
			switch r.Rand.IntN(3) {
			case 0:
				c["orders_count"] = intOf(c["orders_count"]) + 1
				c["total_spent"] = fmt.Sprintf("%d.%02d", 900+r.Rand.IntN(900), r.Rand.IntN(100))
			case 1:
				country := "CA"
				if a, ok := c["default_address"].(map[string]any); ok {
					if cc, ok := a["country_code"].(string); ok {
						country = cc
					}
				}
				c["default_address"] = skAddress(r, country)
			default:
				c["accepts_marketing"] = true
			}
		}); err != nil {
			return err
		}
	}
	next := r.Vars["next"].(int)
	for i := range 5 * Scale() {
		if _, err := shop.Create("Customer", skNewCustomer(r, next+i)); err != nil {
			return err
		}
	}
	r.Vars["next"] = next + 5*Scale()
	return nil
}

func customerInScope(c sandbox.Record) bool {
	e, _ := str(c, "email")
	return c["accepts_marketing"] == true && strings.TrimSpace(e) != ""
}

func skCheck(r *Run) []string {
	var probs []string
	bad := func(f string, a ...any) { probs = append(probs, fmt.Sprintf(f, a...)) }
	profiles := map[string]sandbox.Record{}
	for _, p := range records(r, "klaviyo", "klaviyo.Profile") {
		e, _ := str(p, "data.attributes.email")
		if _, dup := profiles[e]; dup {
			bad("profile %s duplicated", e)
		}
		profiles[e] = p
	}
	for _, c := range records(r, "shopify", "shopify.Customer") {
		e, _ := str(c, "email")
		p, ok := profiles[lowerTrim(e)]
		delete(profiles, lowerTrim(e))
		if !customerInScope(c) {
			if ok {
				bad("customer %v does not accept marketing but has profile %s", c["id"], lowerTrim(e))
			}
			continue
		}
		if !ok {
			bad("customer %v: no profile %s", c["id"], lowerTrim(e))
			continue
		}
		want := map[string]string{"data.attributes.email": lowerTrim(e)}
		for from, to := range map[string]string{"first_name": "first_name", "last_name": "last_name",
			"default_address.city": "location.city", "default_address.country": "location.country"} {
			if v, ok := str(c, from); ok {
				want["data.attributes."+to] = v
			}
		}
		if v, ok := str(c, "phone"); ok {
			cc, _ := str(c, "default_address.country_code")
			want["data.attributes.phone_number"] = skE164(v, cc)
		}
		// Order stats are numbers in Klaviyo: total_spent is Shopify's
		// decimal string converted.
		spent, _ := str(c, "total_spent")
		want["data.attributes.properties.total_spent"] = "number " + numText(spent)
		want["data.attributes.properties.orders_count"] = "number " + keyOf(c["orders_count"])
		want["data.attributes.properties.shopify_id"] = "number " + keyOf(c["id"])
		got := map[string]string{}
		for k := range want {
			if v, ok := str(p, k); ok {
				got[k] = v
			}
		}
		props, _ := p["data"].(map[string]any)["attributes"].(map[string]any)["properties"].(map[string]any)
		for _, k := range []string{"orders_count", "shopify_id", "total_spent"} {
			if v, ok := props[k]; ok {
				got["data.attributes.properties."+k] = typedNum(v)
			}
		}
		if d := diffMaps(want, got); d != "" {
			bad("profile %s of customer %v: %s", lowerTrim(e), c["id"], d)
		}
	}
	for e := range profiles {
		bad("profile %s belongs to no customer", e)
	}
	sort.Strings(probs)
	return probs
}

// numText is a decimal's canonical text (123.40 → 123.4).
func numText(s string) string {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return "not a number: " + s
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// typedNum says what a JSON value is: "number N" for a number (a string
// holding digits is not one).
func typedNum(v any) string {
	switch n := v.(type) {
	case json.Number:
		return "number " + numText(n.String())
	case float64:
		return "number " + strconv.FormatFloat(n, 'f', -1, 64)
	}
	return fmt.Sprintf("%T %v", v, v)
}
