package e2e

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/connectorgen/connectorgen/generator/sandbox"
)

// The oracle must be able to fail: on the seeded systems before any sync,
// and after edits no connector would make, it reports each discrepancy.
// (No build, no process: this runs in a second.)
func TestCRMEmailOracleReports(t *testing.T) {
	p := crmemailPairing()
	sb, err := sandbox.Load(filepath.Join(RepoRoot(t), p.Config), p.Sandbox)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	r := &Run{T: t, SB: sb, Rand: rand.New(rand.NewPCG(1, 1)), Vars: map[string]any{}, p: p}
	if err := p.Seed(r); err != nil {
		t.Fatal(err)
	}
	has := func(probs []string, part string) bool {
		for _, p := range probs {
			if strings.Contains(p, part) {
				return true
			}
		}
		return false
	}
	probs := r.Check()
	if !has(probs, "no sender") || !has(probs, ": no member") || !has(probs, "source_id missing") {
		t.Fatalf("before any sync the oracle should report missing senders, missing members and the adopted member's missing source_id; got:\n%s", head(probs))
	}
	email := sb.System("email")
	u := r.Vars["untouched"].([]sandbox.Record)[0]
	if _, _, err := email.Update("Member", u["id"].(string), func(m sandbox.Record) { m["status"] = "unsubscribed" }); err != nil {
		t.Fatal(err)
	}
	var out sandbox.Record
	for _, l := range records(r, "crm", "crm.Lead") {
		if !leadInScope(l) {
			out = l
			break
		}
	}
	e, _ := str(out, "email")
	if _, err := email.Create("Member", sandbox.Record{"list_id": nurtureList, "email_address": lowerTrim(e), "status": "subscribed"}); err != nil {
		t.Fatal(err)
	}
	probs = r.Check()
	if !has(probs, "not the connector's, changed") || !has(probs, "is out of scope but has member") {
		t.Errorf("the oracle missed a changed foreign member or a member of an out-of-scope lead:\n%s", head(probs))
	}
}

// TestLinesAbout: a convergence failure shows the log lines, of every
// process so far, that name the records of its first discrepancy.
func TestLinesAbout(t *testing.T) {
	r := &Run{pastLogs: "a cus_000019 before the kill\nother cus_000190\n", proc: &process{}}
	r.proc.logs.WriteString("after con_000007 restart\nnothing here\n")
	got := r.linesAbout(`customer cus_000019: name "Cy Vance", contact con_000007`)
	want := "a cus_000019 before the kill\nafter con_000007 restart\n"
	if got != want {
		t.Errorf("linesAbout = %q, want %q", got, want)
	}
}
