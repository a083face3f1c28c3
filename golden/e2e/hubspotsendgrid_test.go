package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/connectorgen/connectorgen/generator/config"
	"github.com/connectorgen/connectorgen/generator/sandbox"
)

// Pairing 1 of ../shared/pairings: HubSpot contacts that become marketing-
// or sales-qualified leads → SendGrid Marketing contacts
// (specs/hubspot-sendgrid/connector.yaml over the vendor specs in
// ../shared/corpus). Reads go through HubSpot's search (filtered and sorted
// on lastmodifieddate, paged with after), writes through SendGrid's bulk
// upsert, batched, into the nurture list the config names (the upsert's
// list_ids, which the sandbox keeps per contact). SendGrid finds contacts
// by email, so the oracle pairs by email; a contact that leaves the scope
// by becoming a customer keeps its SendGrid contact, marked
// lifecycle=customer by the exit write (on_exit when), and one that
// leaves otherwise (back to lead, or its email removed) keeps its SendGrid
// contact as last written: no exit write.

const (
	hubspotToken = "pat-e2e-hubspot"
	sendgridKey  = "SG.e2e-sendgrid"
)

var (
	hsCountries = []string{"Canada", "France", "Portugal", "Norway"}
	hsCompanies = []string{"Acme", "Globex", "Initech", "Umbrella"}
	// hsOutStages never enter the scope; customers leave it.
	hsOutStages = []string{"subscriber", "lead", "opportunity"}
	hsInStages  = []string{"marketingqualifiedlead", "salesqualifiedlead"}
)

func hubspotSendgridPairing(config string) Pairing {
	return Pairing{
		Name:   "hubspotsendgrid",
		Config: config,
		Corpus: "../shared/corpus",
		Sandbox: sandbox.Options{
			Seed: 1,
			Credentials: map[string]sandbox.Credentials{
				"hubspot":  {Bearer: hubspotToken},
				"sendgrid": {Bearer: sendgridKey},
			},
		},
		Env: func(r *Run) []string {
			return []string{"HUBSPOT_PRIVATE_APP_TOKEN=" + hubspotToken, "SENDGRID_API_KEY=" + sendgridKey}
		},
		Seed:    hsSeed,
		Change:  hsChange,
		Check:   hsCheck,
		Targets: []string{"sendgrid"},
		Records: func(r *Run) int {
			n := 0
			for _, c := range records(r, "hubspot", "hubspot.Contact") {
				if contactInScope(c) {
					n++
				}
			}
			return n
		},
	}
}

func TestHubSpotSendGrid(t *testing.T) {
	Execute(t, hubspotSendgridPairing("specs/hubspot-sendgrid/connector.yaml"), Options{})
}

// TestHubSpotSendGridBulkVersusSingle measures the initial sync's records
// per second with bulk writes (batches of 500) and with the same sync
// writing one record per request (batch: 1), without faults, on a larger
// seed (CONNECTORGEN_E2E_SCALE, default 10 here). Both variants drop the
// config's HubSpot rate limit (90 requests per 10 s), which the sandbox
// does not need and which would otherwise bound both runs by the reads.
// It reports the figures; it asserts only that both runs end with the
// target the mapping says.
func TestHubSpotSendGridBulkVersusSingle(t *testing.T) {
	if os.Getenv("CONNECTORGEN_E2E_BENCH") == "" {
		t.Skip("benchmark: CONNECTORGEN_E2E_BENCH=1 runs it")
	}
	root := RepoRoot(t)
	bulkCfg := configVariant(t, root, "")
	single := configVariant(t, root, "bulk: { list: contacts, batch: 1 }")
	opts := Options{FaultRate: -1, Rounds: 1, KillRound: -1}
	if os.Getenv("CONNECTORGEN_E2E_SCALE") == "" {
		t.Setenv("CONNECTORGEN_E2E_SCALE", "10")
	}
	var bulk, one Figures
	t.Run("bulk", func(t *testing.T) { bulk = Execute(t, hubspotSendgridPairing(bulkCfg), opts) })
	t.Run("single", func(t *testing.T) { one = Execute(t, hubspotSendgridPairing(single), opts) })
	t.Logf("pairing 1, %d records: bulk %.0f records/s (%d SendGrid requests in all), one write per record %.0f records/s (%d SendGrid requests in all)",
		bulk.Records, bulk.RecordsPerSecond(), bulk.Requests["sendgrid"], one.RecordsPerSecond(), one.Requests["sendgrid"])
}

// configVariant writes a copy of the pairing's config without its HubSpot
// rate limit and, when bulk is set, with that bulk write, beside it
// (removed when the test ends), and returns its path relative to the root.
func configVariant(t *testing.T, root, bulk string) string {
	dir := filepath.Join(root, "specs", "hubspot-sendgrid")
	b, err := os.ReadFile(filepath.Join(dir, "connector.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, r := range [][2]string{
		{"    limits: [ { requests: 90, per: 10s, burst: 10 }, { requests: 250000, per: day } ]\n", ""},
		{"bulk: { list: contacts, batch: 500 }", bulk},
	} {
		if r[1] == "" && r[0][0] == 'b' {
			continue
		}
		if !strings.Contains(text, r[0]) {
			t.Fatalf("the config has no %q: update the benchmark", r[0])
		}
		text = strings.Replace(text, r[0], r[1], 1)
	}
	f, err := os.CreateTemp(dir, ".bench-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(f.Name()) })
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(root, f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

func hsNewContact(r *Run, i int) sandbox.Record {
	first, last := pick(r, crmFirst), pick(r, crmLast)
	email := fmt.Sprintf("%s.%s%d@hs.example", strings.ToLower(first), strings.ToLower(last), i)
	if i%6 == 0 {
		// As people type addresses into a CRM.
		email = " " + strings.ToUpper(email[:1]) + email[1:] + " "
	}
	stage := pick(r, hsOutStages)
	if r.Rand.IntN(2) == 0 {
		stage = pick(r, hsInStages)
	}
	props := map[string]any{"email": email, "firstname": first, "lastname": last,
		"country": pick(r, hsCountries), "company": pick(r, hsCompanies), "lifecyclestage": stage,
		// Not asked for by the connector: the search must not return it.
		"hs_lead_status": "OPEN"}
	if r.Rand.IntN(3) > 0 {
		props["phone"] = fmt.Sprintf("+1613555%04d", r.Rand.IntN(10000))
	}
	if i%9 == 0 {
		delete(props, "email") // no email: never in scope
	}
	return sandbox.Record{"properties": props, "archived": false}
}

func hsSeed(r *Run) error {
	hs, sg := r.SB.System("hubspot"), r.SB.System("sendgrid")
	n := 0
	for range 60 * Scale() {
		n++
		if _, err := hs.Create("hubspot.Contact", hsNewContact(r, n)); err != nil {
			return err
		}
	}
	r.Vars["n"] = n
	// SendGrid contacts of another source the connector must leave alone.
	var untouched []sandbox.Record
	for i := range 3 {
		c, err := sg.Create("sendgrid.Contact", sandbox.Record{"email": fmt.Sprintf("newsletter%d@other.example", i),
			"first_name": "Reader", "custom_fields": map[string]any{"company": "Elsewhere"}})
		if err != nil {
			return err
		}
		untouched = append(untouched, c)
	}
	r.Vars["untouched"] = untouched
	r.Vars["customers"] = map[string]bool{} // contact ids that left the scope as customers
	r.Vars["left"] = map[string]hsLeft{}    // contact ids that left the scope otherwise
	list, err := hsNurtureList(r)
	if err != nil {
		return err
	}
	r.Vars["list"] = list
	return nil
}

// hsLeft is a synced contact that left the scope other than as a customer:
// its SendGrid contact (by the email it had) keeps the stage it had.
type hsLeft struct{ email, stage string }

// hsNurtureList is the list the config puts contacts on: the list_ids
// param of sendgrid.Contact.
func hsNurtureList(r *Run) (string, error) {
	cfg, diags := config.Load(filepath.Join(r.Root, r.p.Config))
	if cfg == nil || diags.HasErrors() {
		return "", fmt.Errorf("config: %s", diags)
	}
	for _, e := range cfg.Entities {
		for _, p := range e.Params {
			if e.Name == "sendgrid.Contact" && p.Name == "list_ids" {
				return p.Value.Text, nil
			}
		}
	}
	return "", fmt.Errorf("%s: sendgrid.Contact has no list_ids param", r.p.Config)
}

func hsProps(c sandbox.Record) map[string]any {
	m, _ := c["properties"].(map[string]any)
	return m
}

func hsProp(c sandbox.Record, k string) (string, bool) {
	v, ok := hsProps(c)[k].(string)
	return v, ok
}

func contactInScope(c sandbox.Record) bool {
	stage, _ := hsProp(c, "lifecyclestage")
	email, _ := hsProp(c, "email")
	return slices.Contains(hsInStages, stage) && email != ""
}

// hsChange makes one round of CRM changes: in-scope contacts that were
// synced become customers (leaving the scope: the exit write) or leave
// otherwise (back to lead, email removed: no exit write), others are
// edited or move between the two qualified stages, out-of-scope contacts
// become qualified, new contacts arrive.
func hsChange(r *Run, round int) error {
	hs := r.SB.System("hubspot")
	customers := r.Vars["customers"].(map[string]bool)
	left := r.Vars["left"].(map[string]hsLeft)
	var in, out []sandbox.Record
	for _, c := range records(r, "hubspot", "hubspot.Contact") {
		stage, _ := hsProp(c, "lifecyclestage")
		switch {
		case contactInScope(c):
			in = append(in, c)
		case stage != "customer":
			out = append(out, c)
		}
	}
	touched := map[string]bool{}
	update := func(c sandbox.Record, f func(p map[string]any)) error {
		id := keyOf(c["id"])
		touched[id] = true
		_, _, err := hs.Update("hubspot.Contact", id, func(rec sandbox.Record) {
			p, _ := rec["properties"].(map[string]any)
			f(p)
		})
		return err
	}
	// Synced in the previous round (converged), now customers: only the
	// stage changes, so the oracle knows every other field.
	for range 3 * Scale() {
		if len(in) == 0 {
			break
		}
		i := r.Rand.IntN(len(in))
		c := in[i]
		in = slices.Delete(in, i, i+1)
		customers[keyOf(c["id"])] = true
		if err := update(c, func(p map[string]any) { p["lifecyclestage"] = "customer" }); err != nil {
			return err
		}
	}
	// Synced, now out of scope for another reason: back to lead, or the
	// email removed. Left alone afterwards, so the oracle knows what their
	// SendGrid contacts hold.
	for i := range 2 * Scale() {
		if len(in) == 0 {
			break
		}
		j := r.Rand.IntN(len(in))
		c := in[j]
		in = slices.Delete(in, j, j+1)
		email, _ := hsProp(c, "email")
		stage, _ := hsProp(c, "lifecyclestage")
		left[keyOf(c["id"])] = hsLeft{email: strings.ToLower(strings.TrimSpace(email)), stage: stage}
		err := update(c, func(p map[string]any) {
			if i%2 == 0 {
				p["lifecyclestage"] = "lead"
			} else {
				delete(p, "email")
			}
		})
		if err != nil {
			return err
		}
	}
	for range 12 * Scale() {
		if len(in) == 0 {
			break
		}
		c := pick(r, in)
		err := update(c, func(p map[string]any) {
			switch r.Rand.IntN(5) {
			case 0:
				p["firstname"] = fmt.Sprintf("%s%d", pick(r, crmFirst), round)
			case 1:
				p["company"] = pick(r, hsCompanies) + fmt.Sprintf(" %d", round)
			case 2:
				p["phone"] = fmt.Sprintf("+1613555%04d", r.Rand.IntN(10000))
			case 3:
				p["country"] = pick(r, hsCountries)
			default:
				if p["lifecyclestage"] == hsInStages[0] {
					p["lifecyclestage"] = hsInStages[1]
				} else {
					p["lifecyclestage"] = hsInStages[0]
				}
			}
		})
		if err != nil {
			return err
		}
	}
	for range 5 * Scale() {
		if len(out) == 0 {
			break
		}
		c := pick(r, out)
		if _, ok := hsProp(c, "email"); !ok || touched[keyOf(c["id"])] {
			continue
		}
		if _, gone := left[keyOf(c["id"])]; gone {
			continue
		}
		if err := update(c, func(p map[string]any) { p["lifecyclestage"] = pick(r, hsInStages) }); err != nil {
			return err
		}
	}
	r.T.Logf("round %d: %d contacts left the scope as customers so far, %d otherwise", round, len(customers), len(left))
	n := r.Vars["n"].(int)
	for range 5 * Scale() {
		n++
		if _, err := hs.Create("hubspot.Contact", hsNewContact(r, n)); err != nil {
			return err
		}
	}
	r.Vars["n"] = n
	return nil
}

// hsCheck is the oracle of specs/hubspot-sendgrid/connector.yaml.
func hsCheck(r *Run) []string {
	var probs []string
	bad := func(f string, a ...any) { probs = append(probs, fmt.Sprintf(f, a...)) }
	customers := r.Vars["customers"].(map[string]bool)
	left := r.Vars["left"].(map[string]hsLeft)
	list := r.Vars["list"].(string)
	// The connector's own record of what it wrote: a contact's xref is
	// committed after its batch was accepted. Converged means committed
	// too, so a round's changes never race a commit still to come (a
	// contact written just before the SIGKILL and re-read after it).
	xrefs, err := r.Xrefs()
	if err != nil {
		return []string{"reading the connector's xrefs: " + err.Error()}
	}
	xrefOf := map[string]string{} // HubSpot id → SendGrid key (email)
	for _, x := range xrefs {
		xrefOf[x.Source] = x.Target
	}
	untouched := map[string]sandbox.Record{}
	for _, u := range r.Vars["untouched"].([]sandbox.Record) {
		untouched[u["email"].(string)] = u
	}
	targets := map[string]sandbox.Record{}
	for _, c := range records(r, "sendgrid", "sendgrid.Contact") {
		email, _ := c["email"].(string)
		if u, ok := untouched[email]; ok {
			if !reflect.DeepEqual(c, u) {
				bad("contact %s, not the connector's, changed: %v, was %v", email, c, u)
			}
			delete(untouched, email)
			continue
		}
		if _, dup := targets[email]; dup {
			bad("two SendGrid contacts with email %q", email)
		}
		targets[email] = c
	}
	for email := range untouched {
		bad("contact %s, not the connector's, is gone", email)
	}
	for _, c := range records(r, "hubspot", "hubspot.Contact") {
		id := keyOf(c["id"])
		raw, _ := hsProp(c, "email")
		email := strings.ToLower(strings.TrimSpace(raw))
		in := contactInScope(c)
		stage, _ := hsProp(c, "lifecyclestage")
		if l, ok := left[id]; ok {
			// Left as a lead or without an email: its SendGrid contact
			// keeps what was written while it was in, the stage included.
			email, stage = l.email, l.stage
		} else if !in && !customers[id] {
			if t, ok := targets[email]; ok && email != "" {
				bad("contact %s (%s, stage %v) is out of scope but has SendGrid contact %v", id, email, hsProps(c)["lifecyclestage"], t["email"])
			}
			delete(targets, email)
			continue
		}
		t, ok := targets[email]
		delete(targets, email)
		if !ok {
			bad("contact %s (%s, stage %v): no SendGrid contact", id, email, hsProps(c)["lifecyclestage"])
			continue
		}
		if xrefOf[id] != email {
			bad("contact %s (%s): the connector's xref names SendGrid contact %q", id, email, xrefOf[id])
		}
		if customers[id] {
			stage = "customer" // the exit write
		}
		want := map[string]string{"email": email, "external_id": id, "custom_fields.lifecycle": stage}
		for src, dst := range map[string]string{"firstname": "first_name", "lastname": "last_name", "phone": "phone_number_id",
			"country": "country", "company": "custom_fields.company"} {
			if v, ok := hsProp(c, src); ok && v != "" {
				want[dst] = v
			}
		}
		got := map[string]string{}
		for _, k := range []string{"email", "external_id", "first_name", "last_name", "phone_number_id", "country", "custom_fields.company", "custom_fields.lifecycle"} {
			if v, ok := str(t, k); ok && v != "" {
				got[k] = v
			}
		}
		if d := diffMaps(want, got); d != "" {
			bad("SendGrid contact %s of HubSpot contact %s: %s", email, id, d)
		}
		// On the nurture list the config names, and on no other.
		if lists, _ := t["list_ids"].([]any); len(lists) != 1 || lists[0] != list {
			bad("SendGrid contact %s of HubSpot contact %s is on lists %v, want exactly [%s]", email, id, t["list_ids"], list)
		}
	}
	for email := range targets {
		bad("SendGrid contact %s belongs to no HubSpot contact", email)
	}
	sort.Strings(probs)
	return probs
}
