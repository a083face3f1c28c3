package e2e

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/connectorgen/connectorgen/generator/sandbox"
)

// Pairing 4 of ../shared/pairings: Freshdesk bug tickets → Jira issues,
// specs/freshdesk-jira/connector.yaml over the vendor specs in
// ../shared/corpus. Each issue carries its ticket's URL in
// customfield_10050 (a template rule), which the oracle pairs them by;
// the connector's xref in its state file must agree, and every issue must
// be accounted for. Jira fails after applying writes too: a create whose
// answer is lost is found again by the mapping's JQL search on that URL,
// never repeated.

const (
	freshdeskKey = "fd-e2e-key"
	jiraEmail    = "bot@example.com"
	jiraToken    = "jira-e2e-token"
)

var (
	fdSubjects = []string{"Checkout fails", "Login loops", "Export is empty", "Search times out", "Invoice PDF blank"}
	fdTags     = []string{"bug", "billing", "ui", "api", "mobile"}
)

func freshdeskJiraPairing() Pairing {
	return Pairing{
		Name:   "freshdeskjira",
		Config: "specs/freshdesk-jira/connector.yaml",
		Corpus: "../shared/corpus",
		Sandbox: sandbox.Options{
			Seed: 4,
			Credentials: map[string]sandbox.Credentials{
				"freshdesk": {Username: freshdeskKey, Password: "X"},
				"jira":      {Username: jiraEmail, Password: jiraToken},
			},
			// Jira's editIssue sets the fields it names and keeps the
			// others; its spec says so only in prose.
			// Nor does Jira keep custom field values unique: a repeated
			// create would make a second issue with the same ticket URL.
			Hints: map[string]sandbox.Hint{"jira.Issue": {MergeOnPut: true, NaturalKeysNotUnique: true}},
		},
		Env: func(r *Run) []string {
			return []string{"FRESHDESK_API_KEY=" + freshdeskKey, "FRESHDESK_PASSWORD_X=X",
				"JIRA_EMAIL=" + jiraEmail, "JIRA_API_TOKEN=" + jiraToken}
		},
		// Every failed Jira write fails after Jira applied it (the harness
		// default is half): the lost answers of creates are what the
		// mapping's find by ticket URL must absorb without a duplicate.
		AdjustFaults: func(system string, f *sandbox.Faults) {
			if system == "jira" {
				f.AfterWrite = 1
			}
		},
		Seed:    fdSeed,
		Change:  fdChange,
		Check:   fdCheck,
		Targets: []string{"jira"},
		Records: func(r *Run) int {
			n := 0
			for _, t := range records(r, "freshdesk", "freshdesk.Ticket") {
				if ticketInScope(t) {
					n++
				}
			}
			return n
		},
	}
}

func TestFreshdeskJira(t *testing.T) {
	p := freshdeskJiraPairing()
	// The run must have lost the answer of a create Jira applied (every
	// failed Jira write fails after applying) and searched before
	// creating again, or it proves nothing about creating each issue once.
	var jira sandbox.Stats
	lost := map[*process]int{}
	check := p.Check
	p.Check = func(r *Run) []string {
		jira = r.SB.System("jira").Stats()
		lost[r.proc] = lostAnswers(r.proc.log(), "createIssue")
		return check(r)
	}
	Execute(t, p, Options{})
	n := 0
	for _, c := range lost {
		n += c
	}
	searches := jira.Requests["GET searchForIssuesUsingJql"]
	t.Logf("Jira: %d creates whose answer was lost after Jira applied them, %d writes failed after applying in all, %d JQL searches, %d create requests",
		n, jira.FaultsAfterWrite, searches, jira.Requests["POST createIssue"])
	if n < 2 || searches == 0 {
		t.Errorf("%d create answers lost (want at least the 2 of round 1), %d searches: the run does not test that a re-sent create finds the first issue", n, searches)
	}
}

// lostAnswers counts the connector's logged HTTP attempts of operation
// that ended in a server error, a reset or a timeout: with every failed
// Jira write failing after it applied, each is a create Jira made whose
// answer the connector never got.
func lostAnswers(log, operation string) int {
	n := 0
	for _, line := range strings.Split(log, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil || m["msg"] != "http attempt" || m["operation"] != operation {
			continue
		}
		switch m["outcome"] {
		case "server_error", "network_error", "timeout":
			n++
		}
	}
	return n
}

func fdNewTicket(r *Run) sandbox.Record {
	var tags []string
	for i, tg := range fdTags {
		// Half the tickets are bugs; other tags a third of the time.
		if i == 0 && r.Rand.IntN(2) == 0 || i > 0 && r.Rand.IntN(3) == 0 {
			tags = append(tags, tg)
		}
	}
	if tags == nil {
		tags = []string{}
	}
	subject := pick(r, fdSubjects)
	return sandbox.Record{"subject": subject, "description": "<p>" + subject + "</p>", "description_text": subject + " since the last release",
		"priority": 1 + r.Rand.IntN(4), "status": 2, "source": 1, "tags": tags, "requester_id": 1000 + r.Rand.IntN(50)}
}

func fdSeed(r *Run) error {
	fd, jira := r.SB.System("freshdesk"), r.SB.System("jira")
	for range 60 * Scale() {
		if _, err := fd.Create("Ticket", fdNewTicket(r)); err != nil {
			return err
		}
	}
	// Issues of another project the connector must leave alone.
	var untouched []sandbox.Record
	for i := range 3 {
		is, err := jira.Create("Issue", sandbox.Record{"key": fmt.Sprintf("OPS-%d", i+1), "id": strconv.Itoa(900 + i),
			"fields": map[string]any{"project": map[string]any{"key": "OPS"}, "summary": fmt.Sprintf("Ops task %d", i)}})
		if err != nil {
			return err
		}
		untouched = append(untouched, is)
	}
	r.Vars["untouched"] = untouched
	return nil
}

// fdChange edits tickets as agents would: subjects and descriptions are
// rewritten, priorities go up (a ticket in scope stays in
// scope: the mapping declares no exit action), new tickets arrive.
func fdChange(r *Run, round int) error {
	fd := r.SB.System("freshdesk")
	if round == 1 {
		// Besides the random faults, the next two creates are made and
		// their answers lost for sure: each must be found by its ticket
		// URL when re-sent, not created again.
		r.SB.System("jira").LoseAnswers("createIssue", 2)
	}
	tickets := records(r, "freshdesk", "freshdesk.Ticket")
	for range 25 * Scale() {
		id := keyOf(pick(r, tickets)["id"])
		_, _, err := fd.Update("Ticket", id, func(t sandbox.Record) {
			// Tags stay: the mapping writes labels on create only.
			switch r.Rand.IntN(3) {
			case 0:
				t["subject"] = fmt.Sprintf("%s (round %d)", pick(r, fdSubjects), round)
			case 1:
				t["description_text"] = fmt.Sprintf("Still failing in round %d", round)
			default:
				if p := intOf(t["priority"]); p < 4 {
					t["priority"] = p + 1
				}
			}
		})
		if err != nil {
			return err
		}
	}
	for range 5 * Scale() {
		if _, err := fd.Create("Ticket", fdNewTicket(r)); err != nil {
			return err
		}
	}
	return nil
}

func keyOf(v any) string {
	switch k := v.(type) {
	case string:
		return k
	case json.Number:
		return k.String()
	case float64:
		return strconv.FormatInt(int64(k), 10)
	}
	return fmt.Sprint(v)
}

func intOf(v any) int {
	n, _ := strconv.Atoi(keyOf(v))
	return n
}

func toStrings(v any) []string {
	var out []string
	if xs, ok := v.([]any); ok {
		for _, x := range xs {
			s, _ := x.(string)
			out = append(out, s)
		}
	}
	return out
}

func ticketInScope(t sandbox.Record) bool {
	p := intOf(t["priority"])
	return (p == 3 || p == 4) && slices.Contains(toStrings(t["tags"]), "bug")
}

// fdURL is the ticket URL the mapping's template writes.
func fdURL(id string) string { return "https://acme.freshdesk.com/a/tickets/" + id }

// fdCheck is the oracle of specs/freshdesk-jira/connector.yaml.
func fdCheck(r *Run) []string {
	var probs []string
	bad := func(f string, a ...any) { probs = append(probs, fmt.Sprintf(f, a...)) }
	xref, err := r.Xrefs()
	if err != nil {
		return []string{"reading the connector's xrefs: " + err.Error()}
	}
	xrefOf := map[string]string{} // ticket id → issue key
	for _, x := range xref {
		xrefOf[x.Source] = x.Target
	}
	issues := map[string]sandbox.Record{} // by ticket URL
	untouched := map[string]sandbox.Record{}
	for _, u := range r.Vars["untouched"].([]sandbox.Record) {
		untouched[u["key"].(string)] = u
	}
	for _, is := range records(r, "jira", "jira.Issue") {
		k, _ := is["key"].(string)
		if u, ok := untouched[k]; ok {
			if !reflect.DeepEqual(is, u) {
				bad("issue %s, not the connector's, changed: %v, was %v", k, is, u)
			}
			continue
		}
		url, _ := str(is, "fields.customfield_10050")
		if prev, dup := issues[url]; dup {
			// A create whose answer was lost, repeated instead of found.
			bad("issues %v and %s both carry ticket URL %q (a duplicate)", prev["key"], k, url)
			continue
		}
		issues[url] = is
	}
	for _, t := range records(r, "freshdesk", "freshdesk.Ticket") {
		id := keyOf(t["id"])
		is, ok := issues[fdURL(id)]
		delete(issues, fdURL(id))
		if !ticketInScope(t) {
			if ok {
				bad("ticket %s is out of scope (priority %v, tags %v) but has issue %v", id, t["priority"], t["tags"], is["key"])
			}
			continue
		}
		if !ok {
			bad("ticket %s (priority %v): no issue", id, t["priority"])
			continue
		}
		if x := xrefOf[id]; x != is["key"] {
			bad("ticket %s: issue %v carries its URL but the xref says %q", id, is["key"], x)
		}
		desc, _ := t["description_text"].(string)
		// Labels: the constant "freshdesk", then the ticket's tags (written
		// on create only; tags never change here).
		labels := []string{"freshdesk"}
		for _, tg := range toStrings(t["tags"]) {
			if !slices.Contains(labels, tg) {
				labels = append(labels, tg)
			}
		}
		want := map[string]string{
			"fields.project.key":       "ENG",
			"fields.issuetype.name":    "Bug",
			"fields.summary":           t["subject"].(string),
			"fields.description":       desc,
			"fields.priority.name":     map[int]string{4: "Highest", 3: "High"}[intOf(t["priority"])],
			"fields.labels":            fmt.Sprint(labels),
			"fields.customfield_10050": fdURL(id),
		}
		got := map[string]string{}
		for k := range want {
			if v, ok := str(is, k); ok {
				got[k] = v
			}
		}
		if f, ok := is["fields"].(map[string]any); ok {
			if _, ok := f["labels"]; ok {
				got["fields.labels"] = fmt.Sprint(toStrings(f["labels"]))
			}
		}
		if d := diffMaps(want, got); d != "" {
			bad("issue %v of ticket %s: %s", is["key"], id, d)
		}
	}
	for url, is := range issues {
		bad("issue %v (ticket URL %q) belongs to no ticket", is["key"], url)
	}
	sort.Strings(probs)
	return probs
}
