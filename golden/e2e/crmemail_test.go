package e2e

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/connectorgen/connectorgen/generator/sandbox"
)

// The example connector (specs/crmemail): CRM owners → email senders, and
// qualified CRM leads → members of the nurture list. This pairing proves
// the harness on a connector that works on main.

const (
	crmClientID     = "e2e-client"
	crmClientSecret = "e2e-client-secret"
	postboxKey      = "e2e-postbox-key"
	nurtureList     = "lst_nurture"
)

var (
	crmFirst   = []string{"Ada", "Grace", "Katherine", "Dorothy", "Hedy", "Radia", "Frances", "Barbara"}
	crmLast    = []string{"Lovelace", "Hopper", "Johnson", "Vaughan", "Lamarr", "Perlman", "Allen", "Liskov"}
	crmCompany = []string{"Naval Systems", "Analytical Engines", "Orbital Mechanics", "Compiler Works"}
	crmRatings = []string{"Hot", "Warm", "Cold"}
)

func crmemailPairing() Pairing {
	return Pairing{
		Name:    "crmemail",
		Config:  "specs/crmemail/connector.yaml",
		Modules: map[string]string{"github.com/connectorgen/connectorgen/golden": "golden"},
		Sandbox: sandbox.Options{
			Seed: 3,
			Credentials: map[string]sandbox.Credentials{
				"crm":   {ClientID: crmClientID, ClientSecret: crmClientSecret},
				"email": {APIKey: postboxKey},
			},
			// What the email spec says only in prose: a member's id is the
			// MD5 of its lower-cased address, and "" clears a merge field.
			Hints: map[string]sandbox.Hint{
				"email.Member": {KeyFrom: "md5_lower:email_address", ClearOnEmpty: []string{"merge_fields"}},
			},
		},
		Env: func(r *Run) []string {
			crm := r.SB.System("crm")
			return []string{
				"CRM_TOKEN_URL=" + crm.TokenURL(),
				"CRM_CLIENT_ID=" + crmClientID,
				"CRM_CLIENT_SECRET=" + crmClientSecret,
				"CRM_REFRESH_TOKEN=" + crm.IssueRefreshToken(),
				"POSTBOX_API_KEY=" + postboxKey,
				"CRM_WEBHOOK_SECRET=whsec_e2e",
			}
		},
		Webhooks: []Webhook{{System: "crm", Sync: "qualified_leads_to_nurture", Secret: "whsec_e2e", Entity: "crm.Lead"}},
		Seed:     crmemailSeed,
		Change:   crmemailChange,
		Check:    crmemailCheck,
		Targets:  []string{"email"},
		Records: func(r *Run) int {
			n := len(records(r, "crm", "crm.Owner"))
			for _, l := range records(r, "crm", "crm.Lead") {
				if leadInScope(l) {
					n++
				}
			}
			return n
		},
	}
}

func TestCRMEmail(t *testing.T) {
	Execute(t, crmemailPairing(), Options{})
}

func records(r *Run, system, entity string) []sandbox.Record {
	r.T.Helper()
	recs, err := r.SB.System(system).Records(entity)
	if err != nil {
		r.T.Fatal(err)
	}
	return recs
}

func str(rec sandbox.Record, path string) (string, bool) {
	var cur any = rec
	for _, p := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return "", false
		}
		cur, ok = m[p]
		if !ok {
			return "", false
		}
	}
	s, ok := cur.(string)
	return s, ok
}

func pick[T any](r *Run, xs []T) T { return xs[r.Rand.IntN(len(xs))] }

// crmPhone returns a phone number; about a third are office landlines
// (ending in 00, the with: function's rule), some are absent.
func crmPhone(r *Run) any {
	switch r.Rand.IntN(4) {
	case 0:
		return nil
	case 1:
		return fmt.Sprintf("+1 (202) 555-%02d00", r.Rand.IntN(100))
	}
	n := 1 + r.Rand.IntN(9998)
	if n%100 == 0 {
		n++
	}
	return fmt.Sprintf("+1 202 555 %04d", n)
}

func crmNewLead(r *Run, i int) sandbox.Record {
	owners := r.Vars["owners"].([]string)
	status := pick(r, []string{"new", "contacted", "qualified", "qualified", "unqualified"})
	email := fmt.Sprintf("%s.%s%d@leads.example", strings.ToLower(pick(r, crmFirst)), strings.ToLower(pick(r, crmLast)), i)
	if i%7 == 0 {
		// As people type addresses into a CRM.
		email = "  " + strings.ToUpper(email[:1]) + email[1:] + " "
	}
	rec := sandbox.Record{"email": email, "status": status, "first_name": pick(r, crmFirst), "last_name": pick(r, crmLast),
		"company_name": pick(r, crmCompany), "phone": crmPhone(r), "rating": nil, "owner_id": nil, "source": "web"}
	if r.Rand.IntN(4) != 0 {
		rec["rating"] = pick(r, crmRatings)
	}
	if r.Rand.IntN(3) != 0 {
		rec["owner_id"] = pick(r, owners)
	}
	return rec
}

func crmemailSeed(r *Run) error {
	crm, email := r.SB.System("crm"), r.SB.System("email")
	var owners []string
	for i := range 4 {
		o, err := crm.Create("Owner", sandbox.Record{"name": fmt.Sprintf("Owner %d", i), "email": fmt.Sprintf("Owner%d@Acme.example", i), "active": true, "team": nil})
		if err != nil {
			return err
		}
		owners = append(owners, o["id"].(string))
	}
	r.Vars["owners"] = owners
	n := 60 * Scale()
	var adopt string
	for i := range n {
		l, err := crm.Create("Lead", crmNewLead(r, i))
		if err != nil {
			return err
		}
		if adopt == "" && leadInScope(l) {
			adopt, _ = str(l, "email")
		}
	}
	r.Vars["next"] = n
	// Members the connector must leave alone: other people on the list,
	// and one already subscribed lead it must adopt, not duplicate.
	var untouched []sandbox.Record
	for i := range 3 {
		m, err := email.Create("Member", sandbox.Record{"list_id": nurtureList, "email_address": fmt.Sprintf("reader%d@elsewhere.example", i),
			"status": "subscribed", "merge_fields": map[string]any{"FNAME": "Reader"}})
		if err != nil {
			return err
		}
		untouched = append(untouched, m)
	}
	r.Vars["untouched"] = untouched
	if _, err := email.Create("Member", sandbox.Record{"list_id": nurtureList, "email_address": strings.ToLower(strings.TrimSpace(adopt)), "status": "subscribed"}); err != nil {
		return err
	}
	return nil
}

// crmemailChange edits leads as sales reps would: statuses progress (a
// qualified lead stays qualified: the mapping declares no exit action),
// names, companies, phones, ratings and owners change, new leads arrive;
// an owner is renamed. Values are replaced, never removed (the mapping
// cannot clear a target field).
func crmemailChange(r *Run, round int) error {
	crm := r.SB.System("crm")
	leads := records(r, "crm", "crm.Lead")
	owners := r.Vars["owners"].([]string)
	for range 25 * Scale() {
		id := pick(r, leads)["id"].(string)
		_, _, err := crm.Update("Lead", id, func(l sandbox.Record) {
			switch k := r.Rand.IntN(8); {
			case k < 2:
				switch l["status"] {
				case "new":
					l["status"] = "contacted"
				case "contacted":
					l["status"] = pick(r, []string{"qualified", "unqualified"})
				}
			case k == 2:
				l["first_name"] = pick(r, crmFirst)
			case k == 3:
				l["last_name"] = pick(r, crmLast)
			case k == 4:
				l["company_name"] = pick(r, crmCompany)
			case k == 5 && l["phone"] != nil:
				l["phone"] = crmPhone(r)
				if l["phone"] == nil {
					l["phone"] = "+1 202 555 0199"
				}
			case k == 6 && l["rating"] != nil:
				l["rating"] = pick(r, crmRatings)
			default:
				if l["owner_id"] != nil {
					l["owner_id"] = pick(r, owners)
				}
			}
		})
		if err != nil {
			return err
		}
	}
	next := r.Vars["next"].(int)
	for i := range 5 * Scale() {
		if _, err := crm.Create("Lead", crmNewLead(r, next+i)); err != nil {
			return err
		}
	}
	r.Vars["next"] = next + 5*Scale()
	_, _, err := crm.Update("Owner", owners[round%len(owners)], func(o sandbox.Record) {
		o["name"] = fmt.Sprintf("Owner %d (round %d)", round%len(owners), round)
	})
	return err
}

func lowerTrim(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func leadInScope(l sandbox.Record) bool {
	e, _ := str(l, "email")
	return l["status"] == "qualified" && strings.TrimSpace(e) != ""
}

// crmemailCheck is the oracle of specs/crmemail/connector.yaml, written
// from the mapping's text.
func crmemailCheck(r *Run) []string {
	var probs []string
	bad := func(f string, a ...any) { probs = append(probs, fmt.Sprintf(f, a...)) }

	// owners_to_senders: one sender per owner, email trimmed and lower
	// case, name as is; nothing else.
	senderByEmail := map[string]sandbox.Record{}
	for _, s := range records(r, "email", "email.Sender") {
		e, _ := str(s, "email")
		if _, dup := senderByEmail[e]; dup {
			bad("sender %s duplicated", e)
		}
		senderByEmail[e] = s
	}
	owners := map[string]sandbox.Record{}
	for _, o := range records(r, "crm", "crm.Owner") {
		owners[o["id"].(string)] = o
		e, _ := str(o, "email")
		s, ok := senderByEmail[lowerTrim(e)]
		if !ok {
			bad("owner %s: no sender %s", o["id"], lowerTrim(e))
			continue
		}
		if s["name"] != o["name"] {
			bad("sender %s: name %q, want %q", lowerTrim(e), s["name"], o["name"])
		}
		delete(senderByEmail, lowerTrim(e))
	}
	for e := range senderByEmail {
		bad("sender %s belongs to no owner", e)
	}

	// qualified_leads_to_nurture: one member per qualified lead with an
	// email, keyed by the trimmed lower-case address.
	members := map[string]sandbox.Record{}
	for _, m := range records(r, "email", "email.Member") {
		if m["list_id"] != nurtureList {
			bad("member %s on list %v: the connector writes only %s", m["email_address"], m["list_id"], nurtureList)
			continue
		}
		e, _ := str(m, "email_address")
		if _, dup := members[e]; dup {
			bad("member %s duplicated", e)
		}
		members[e] = m
	}
	for _, want := range r.Vars["untouched"].([]sandbox.Record) {
		e, _ := str(want, "email_address")
		if got := members[e]; !reflect.DeepEqual(got, want) {
			bad("member %s, not the connector's, changed: %v, was %v", e, got, want)
		}
		delete(members, e)
	}
	for _, l := range records(r, "crm", "crm.Lead") {
		e, _ := str(l, "email")
		m, ok := members[lowerTrim(e)]
		delete(members, lowerTrim(e))
		if !leadInScope(l) {
			if ok {
				bad("lead %s (%v) is out of scope but has member %s", l["id"], l["status"], lowerTrim(e))
			}
			continue
		}
		if !ok {
			bad("qualified lead %s: no member %s", l["id"], lowerTrim(e))
			continue
		}
		want := map[string]string{"email_address": lowerTrim(e), "status": "subscribed", "source_id": l["id"].(string)}
		for from, to := range map[string]string{"first_name": "FNAME", "last_name": "LNAME", "company_name": "COMPANY"} {
			if v, ok := str(l, from); ok {
				want["merge_fields."+to] = v
			}
		}
		if v, ok := str(l, "rating"); ok {
			want["merge_fields.TIER"] = map[string]string{"Hot": "gold", "Warm": "silver", "Cold": "bronze"}[v]
		}
		if o, ok := str(l, "owner_id"); ok {
			oe, _ := str(owners[o], "email")
			if s, ok := findSender(r, lowerTrim(oe)); ok {
				want["merge_fields.SENDER"] = s
			} else {
				want["merge_fields.SENDER"] = "<sender of " + o + ">"
			}
		}
		if p, ok := str(l, "phone"); ok {
			digits := strings.Map(func(c rune) rune {
				if c >= '0' && c <= '9' {
					return c
				}
				return -1
			}, p)
			if strings.HasSuffix(digits, "00") {
				want["merge_fields.LANDLINE"] = "+" + digits
			} else {
				want["merge_fields.MOBILE"] = "+" + digits
			}
		}
		got := map[string]string{}
		for _, k := range []string{"email_address", "status", "source_id"} {
			if v, ok := str(m, k); ok {
				got[k] = v
			}
		}
		if mf, ok := m["merge_fields"].(map[string]any); ok {
			for k, v := range mf {
				if s, _ := v.(string); s != "" {
					got["merge_fields."+k] = s
				}
			}
		}
		if d := diffMaps(want, got); d != "" {
			bad("member %s of lead %s: %s", lowerTrim(e), l["id"], d)
		}
	}
	for e := range members {
		bad("member %s belongs to no lead", e)
	}
	sort.Strings(probs)
	return probs
}

func findSender(r *Run, email string) (string, bool) {
	for _, s := range records(r, "email", "email.Sender") {
		if e, _ := str(s, "email"); e == email {
			return s["id"].(string), true
		}
	}
	return "", false
}

// diffMaps describes how got differs from want, key by key.
func diffMaps(want, got map[string]string) string {
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var d []string
	for _, k := range keys {
		w, wok := want[k]
		g, gok := got[k]
		switch {
		case wok && !gok:
			d = append(d, fmt.Sprintf("%s missing (want %q)", k, w))
		case !wok && gok:
			d = append(d, fmt.Sprintf("%s=%q unexpected", k, g))
		case w != g:
			d = append(d, fmt.Sprintf("%s=%q, want %q", k, g, w))
		}
	}
	return strings.Join(d, "; ")
}
