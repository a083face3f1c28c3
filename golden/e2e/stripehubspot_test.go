package e2e

import (
	"fmt"
	"maps"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/generator/sandbox"
)

// Pairing 3 of ../shared/pairings: Stripe customers ⇄ HubSpot contacts,
// specs/stripe-hubspot/connector.yaml over the vendor specs in
// ../shared/corpus. Changes are made on both sides every round: billing
// facts in Stripe, names and phones in HubSpot. The oracle is written from
// the config by hand: a contact per customer with an email, carrying the
// customer's billing facts; the customer carries the contact's name and
// phone; contacts the connector does not own untouched; a deleted
// customer's contact unlinked (stripe_customer_id cleared) and otherwise
// as it was. The harness's
// quiet round checks that neither system is written when nothing changed
// (no ping-pong between the two directions).

var (
	shFirst  = []string{"Ann", "Bo", "Cy", "Dee", "Eli", "Fay"}
	shLast   = []string{"Lee", "Ek", "Moss", "Park", "Vance"}
	shCities = []string{"Oslo", "Lyon", "Porto", "Kyoto"}
	shPlans  = []string{"starter", "pro", "enterprise"}
)

func stripeHubSpotPairing() Pairing {
	return Pairing{
		Name:   "stripehubspot",
		Config: "specs/stripe-hubspot/connector.yaml",
		Corpus: "../shared/corpus",
		// The with: functions (name split and merge, cents) live in the
		// golden module.
		Modules: map[string]string{"github.com/connectorgen/connectorgen/golden": "golden"},
		Sandbox: sandbox.Options{Seed: 3},
		Env: func(r *Run) []string {
			return []string{"STRIPE_SECRET_KEY=sk_test_e2e", "HUBSPOT_PRIVATE_APP_TOKEN=pat-e2e", "STRIPE_WEBHOOK_SECRET=whsec_e2e"}
		},
		// Stripe signs its webhooks with Stripe-Signature (t=…,v1=…):
		// every customer change is also delivered to the running
		// connector, which re-reads the customer (the feed reconciles).
		Webhooks: []Webhook{{System: "stripe", Sync: "customers_to_contacts", Secret: "whsec_e2e", Scheme: sandbox.SignStripe, Entity: "stripe.Customer"}},
		Seed:     shSeed,
		Change:   shChange,
		Check:    shCheck,
		Targets:  []string{"stripe", "hubspot"},
		// HubSpot's search (the contacts' read and the find by email) is
		// a POST that writes nothing.
		Reads: []string{"post-/crm/v3/objects/contacts/search_doSearch"},
		Records: func(r *Run) int {
			n := 0
			for _, c := range records(r, "stripe", "stripe.Customer") {
				if _, ok := c["email"].(string); ok {
					n++
				}
			}
			return n
		},
	}
}

func TestStripeHubSpot(t *testing.T) {
	Execute(t, stripeHubSpotPairing(), Options{})
}

func shNewCustomer(r *Run, i int) sandbox.Record {
	c := sandbox.Record{"object": "customer", "livemode": false, "created": time.Now().Unix(),
		"email":      fmt.Sprintf(" Customer%d@Example.com", i),
		"name":       pick(r, shFirst) + " " + pick(r, shLast),
		"phone":      fmt.Sprintf("+1555%07d", r.Rand.IntN(10_000_000)),
		"balance":    r.Rand.IntN(100_000) - 20_000,
		"delinquent": r.Rand.IntN(4) == 0,
		"metadata":   map[string]any{},
	}
	if r.Rand.IntN(3) > 0 {
		c["address"] = map[string]any{"city": pick(r, shCities)}
	}
	if r.Rand.IntN(2) == 0 {
		c["metadata"] = map[string]any{"plan": pick(r, shPlans)}
	}
	if i%7 == 3 {
		delete(c, "email") // out of scope: no contact
	}
	return c
}

func shSeed(r *Run) error {
	st, hs := r.SB.System("stripe"), r.SB.System("hubspot")
	for i := range 20 * Scale() {
		if _, err := st.Create("Customer", shNewCustomer(r, i)); err != nil {
			return err
		}
	}
	r.Vars["next"] = 20 * Scale()
	// Contacts sales created before the customer existed, carrying the
	// customer's email in another case: the connector finds them by email
	// and links them instead of creating a second contact (which HubSpot
	// would refuse with 409).
	custs := records(r, "stripe", "stripe.Customer")
	preseeded := map[string]string{} // contact id → the name sales gave it
	r.Vars["preseeded"], r.Vars["renamed"] = preseeded, map[string]bool{}
	for i, pre := 0, 0; i < len(custs) && pre < 3; i++ {
		email, ok := custs[i]["email"].(string)
		if !ok {
			continue
		}
		now := time.Now().UTC().Format(time.RFC3339)
		c, err := hs.Create("Contact", sandbox.Record{"archived": false, "createdAt": now, "updatedAt": now,
			"properties": map[string]any{"email": strings.ToUpper(strings.TrimSpace(email)), "firstname": "Pre", "lastname": fmt.Sprintf("Seeded%d", pre)}})
		if err != nil {
			return err
		}
		preseeded[keyOf(c["id"])] = fmt.Sprintf("Pre Seeded%d", pre)
		pre++
	}
	// Contacts of people who are not customers: left alone.
	var untouched []sandbox.Record
	for i := range 3 {
		now := time.Now().UTC().Format(time.RFC3339)
		c, err := hs.Create("Contact", sandbox.Record{"archived": false, "createdAt": now, "updatedAt": now,
			"properties": map[string]any{"email": fmt.Sprintf("lead%d@example.com", i), "firstname": "Lead", "lastname": strconv.Itoa(i)}})
		if err != nil {
			return err
		}
		untouched = append(untouched, c)
	}
	r.Vars["untouched"] = untouched
	// Contacts of deleted customers (contact id → properties when their
	// customer was deleted), see shChange.
	r.Vars["deleted"] = map[string]map[string]any{}
	return nil
}

// shChange deletes a customer that has a contact, changes billing facts
// in Stripe and names and phones in HubSpot (each side what it owns), and
// adds customers.
func shChange(r *Run, round int) error {
	st, hs := r.SB.System("stripe"), r.SB.System("hubspot")
	// A customer deleted in Stripe (a customer.deleted event): its
	// contact is unlinked (on_exit) and otherwise left as it is. The
	// contact is remembered as it was (the previous round converged) and
	// no longer changed by sales here, so the oracle can tell that the
	// connector wrote nothing else to it.
	deleted := r.Vars["deleted"].(map[string]map[string]any)
	var candidates []sandbox.Record
	for _, c := range records(r, "hubspot", "hubspot.Contact") {
		if p, ok := c["properties"].(map[string]any); ok {
			if cid, _ := p["stripe_customer_id"].(string); cid != "" {
				candidates = append(candidates, c)
			}
		}
	}
	if len(candidates) > 0 {
		ct := pick(r, candidates)
		p := ct["properties"].(map[string]any)
		if _, err := st.Delete("Customer", p["stripe_customer_id"].(string)); err != nil {
			return err
		}
		deleted[keyOf(ct["id"])] = p
	}
	custs := records(r, "stripe", "stripe.Customer")
	for range 8 * Scale() {
		id := keyOf(pick(r, custs)["id"])
		if _, _, err := st.Update("Customer", id, func(c sandbox.Record) {
			switch r.Rand.IntN(4) {
			case 0:
				c["balance"] = r.Rand.IntN(100_000) - 20_000
			case 1:
				c["delinquent"] = !(c["delinquent"] == true)
			case 2:
				c["address"] = map[string]any{"city": pick(r, shCities)}
			default:
				c["metadata"] = map[string]any{"plan": fmt.Sprintf("%s-r%d", pick(r, shPlans), round)}
			}
		}); err != nil {
			return err
		}
	}
	var linked []sandbox.Record
	for _, c := range records(r, "hubspot", "hubspot.Contact") {
		if p, ok := c["properties"].(map[string]any); ok && p["stripe_customer_id"] != nil && deleted[keyOf(c["id"])] == nil {
			linked = append(linked, c)
		}
	}
	for range 6 * Scale() {
		if len(linked) == 0 {
			break
		}
		id := keyOf(pick(r, linked)["id"])
		renamed := r.Vars["renamed"].(map[string]bool)
		if _, _, err := hs.Update("Contact", id, func(c sandbox.Record) {
			p, _ := c["properties"].(map[string]any)
			switch r.Rand.IntN(3) {
			case 0:
				p["firstname"] = pick(r, shFirst)
				renamed[id] = true
			case 1:
				p["lastname"] = fmt.Sprintf("%s-%d", pick(r, shLast), round)
				renamed[id] = true
			default:
				p["phone"] = fmt.Sprintf("+1444%07d", r.Rand.IntN(10_000_000))
			}
			c["updatedAt"] = time.Now().UTC().Format(time.RFC3339Nano)
		}); err != nil {
			return err
		}
	}
	next := r.Vars["next"].(int)
	for i := range 2 * Scale() {
		if _, err := st.Create("Customer", shNewCustomer(r, next+i)); err != nil {
			return err
		}
	}
	r.Vars["next"] = next + 2*Scale()
	return nil
}

// cents is the oracle's decimal amount of integer cents.
func cents(v any) string {
	n := intOf(v)
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	return fmt.Sprintf("%s%d.%02d", sign, n/100, n%100)
}

func joinName(first, last string) string { return strings.Join(strings.Fields(first+" "+last), " ") }

// shCheck is the oracle of specs/stripe-hubspot/connector.yaml.
func shCheck(r *Run) []string {
	var probs []string
	bad := func(f string, a ...any) { probs = append(probs, fmt.Sprintf(f, a...)) }
	deleted := r.Vars["deleted"].(map[string]map[string]any)
	untouched := map[string]sandbox.Record{}
	for _, u := range r.Vars["untouched"].([]sandbox.Record) {
		untouched[keyOf(u["id"])] = u
	}
	byCustomer := map[string]sandbox.Record{}
	for _, c := range records(r, "hubspot", "hubspot.Contact") {
		id := keyOf(c["id"])
		if u, ok := untouched[id]; ok {
			if !reflect.DeepEqual(c, u) {
				bad("contact %s, not the connector's, changed: %v, was %v", id, c["properties"], u["properties"])
			}
			continue
		}
		p, _ := c["properties"].(map[string]any)
		cid, _ := p["stripe_customer_id"].(string)
		if was, ok := deleted[id]; ok {
			// Its customer was deleted: the link cleared, nothing else
			// written since.
			// (lastmodifieddate is HubSpot's, moved by the exit write.)
			want := maps.Clone(was)
			want["stripe_customer_id"] = ""
			got := maps.Clone(p)
			if got["stripe_customer_id"] == nil {
				got["stripe_customer_id"] = ""
			}
			delete(want, "lastmodifieddate")
			delete(got, "lastmodifieddate")
			if !reflect.DeepEqual(got, want) {
				bad("contact %s of deleted customer %v: %v, want %v (the link cleared, nothing else changed)", id, was["stripe_customer_id"], got, want)
			}
			continue
		}
		if cid == "" {
			bad("contact %s names no customer: %v", id, p)
			continue
		}
		if prev, dup := byCustomer[cid]; dup {
			bad("customer %s has contacts %v and %s", cid, prev["id"], id)
		}
		byCustomer[cid] = c
	}
	for _, cu := range records(r, "stripe", "stripe.Customer") {
		id := keyOf(cu["id"])
		ct, ok := byCustomer[id]
		delete(byCustomer, id)
		email, hasEmail := cu["email"].(string)
		if !hasEmail {
			if ok {
				bad("customer %s has no email but contact %v", id, ct["id"])
			}
			continue
		}
		if !ok {
			bad("customer %s (%s): no contact", id, email)
			continue
		}
		p, _ := ct["properties"].(map[string]any)
		get := func(k string) string { s, _ := p[k].(string); return s }
		want := map[string]string{
			"email":              strings.ToLower(strings.TrimSpace(email)),
			"stripe_customer_id": id,
			"stripe_delinquent":  strconv.FormatBool(cu["delinquent"] == true),
			"stripe_balance":     cents(cu["balance"]),
		}
		if a, ok := cu["address"].(map[string]any); ok && a["city"] != nil {
			want["city"] = fmt.Sprint(a["city"])
		}
		if m, ok := cu["metadata"].(map[string]any); ok && m["plan"] != nil {
			want["plan"] = fmt.Sprint(m["plan"])
		}
		got := map[string]string{}
		for k := range want {
			if v, ok := p[k].(string); ok {
				got[k] = v
			}
		}
		for _, k := range []string{"city", "plan"} {
			if _, w := want[k]; !w && get(k) != "" {
				got[k] = get(k)
			}
		}
		if d := diffMaps(want, got); d != "" {
			bad("contact %v of customer %s: %s", ct["id"], id, d)
		}
		// HubSpot wins the name and phone: the customer carries them. A
		// contact sales named before the customer existed keeps that name
		// (until sales change it).
		name, _ := cu["name"].(string)
		phone, _ := cu["phone"].(string)
		ctID := keyOf(ct["id"])
		if want, pre := r.Vars["preseeded"].(map[string]string)[ctID]; pre && !r.Vars["renamed"].(map[string]bool)[ctID] {
			if got := joinName(get("firstname"), get("lastname")); got != want {
				bad("contact %s, named %q by sales before customer %s existed, is named %q", ctID, want, id, got)
			}
		}
		if w := joinName(get("firstname"), get("lastname")); name != w || phone != get("phone") {
			bad("customer %s: name %q phone %q, want the contact's %q %q", id, name, phone, w, get("phone"))
		}
	}
	for id, ct := range byCustomer {
		bad("contact %v names customer %s, which does not exist", ct["id"], id)
	}
	sort.Strings(probs)
	return probs
}
