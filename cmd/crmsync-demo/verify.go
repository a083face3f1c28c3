package main

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/connectorgen/connectorgen/cmd/crmsync-demo/sim"
	"github.com/connectorgen/connectorgen/golden/crmemail/phoneutil"
)

// tierOf is the mapping's rating map.
var tierOf = map[string]string{"Hot": "gold", "Warm": "silver", "Cold": "bronze"}

func lowerTrim(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// expectedMember returns what the mapping says the member of a qualified
// lead must look like: email_address, status, source_id and the merge
// fields, as strings (an absent merge field is absent from the map).
// senderID resolves an owner's email address to the sender ID.
func expectedMember(l sim.Lead, owners map[string]sim.Owner, senderID func(email string) string) map[string]string {
	m := map[string]string{
		"email_address": lowerTrim(l.Email),
		"status":        "subscribed",
		"source_id":     l.ID,
	}
	set := func(k string, p *string) {
		if p != nil {
			m["merge_fields."+k] = *p
		}
	}
	set("FNAME", l.FirstName)
	set("LNAME", l.LastName)
	set("COMPANY", l.CompanyName)
	if l.Rating != nil {
		m["merge_fields.TIER"] = tierOf[*l.Rating]
	}
	if l.OwnerID != nil {
		if o, ok := owners[*l.OwnerID]; ok {
			m["merge_fields.SENDER"] = senderID(lowerTrim(o.Email))
		} else {
			m["merge_fields.SENDER"] = "<unknown owner " + *l.OwnerID + ">"
		}
	}
	if l.Phone != nil {
		mobile, landline, err := phoneutil.Classify(*l.Phone)
		if err != nil {
			m["merge_fields.MOBILE"] = "<invalid phone>"
		} else if mobile != "" {
			m["merge_fields.MOBILE"] = mobile
		} else {
			m["merge_fields.LANDLINE"] = landline
		}
	}
	return m
}

// actualMember flattens a member the same way; only the merge fields the
// mapping writes are kept, and an empty merge field counts as absent (the
// generated split writes "" to the output that does not apply, which is how
// a merge field is cleared).
func actualMember(m sim.Member) map[string]string {
	out := map[string]string{"email_address": m.EmailAddress, "status": m.Status}
	if m.SourceID != nil {
		out["source_id"] = *m.SourceID
	}
	for _, k := range []string{"FNAME", "LNAME", "COMPANY", "TIER", "SENDER", "MOBILE", "LANDLINE"} {
		if v, ok := m.MergeFields[k]; ok && v != "" {
			out["merge_fields."+k] = v
		}
	}
	return out
}

// Verification compares the email list with what the mapping demands of
// the CRM's current data.
type Verification struct {
	Leads     int
	Qualified int
	Members   int
	Senders   int
	// Duplicates counts surplus members: members beyond the first with the
	// same source_id or the same email address, plus surplus senders with
	// the same address.
	Duplicates int
	// Lost counts qualified leads without a member.
	Lost int
	// Mismatched counts members of qualified leads with a wrong field.
	Mismatched int
	// TargetWinsOnly counts the mismatched members whose only wrong field
	// is merge_fields.FNAME, the mapping's target_wins field (see
	// TestTargetWinsAfterLostCommit); TargetWinsLeads lists their leads.
	TargetWinsOnly  int
	TargetWinsLeads map[string]bool
	// Stray counts members of leads that were never qualified (or of no
	// lead at all): non-qualified leads must stay untouched.
	Stray int
	// Problems describes the first few discrepancies.
	Problems []string
}

// OK reports a perfect result.
func (v Verification) OK() bool {
	return v.Duplicates == 0 && v.Lost == 0 && v.Mismatched == 0 && v.Stray == 0
}

func (v *Verification) problem(format string, args ...any) {
	if len(v.Problems) < 10 {
		v.Problems = append(v.Problems, fmt.Sprintf(format, args...))
	}
}

// verify checks members and senders against leads and owners.
func verify(leads []sim.Lead, owners []sim.Owner, members []sim.Member, senders []sim.Sender) Verification {
	v := Verification{Leads: len(leads), Members: len(members), Senders: len(senders)}
	ownerByID := map[string]sim.Owner{}
	for _, o := range owners {
		ownerByID[o.ID] = o
	}
	senderByEmail := map[string]string{}
	for _, s := range senders {
		k := lowerTrim(s.Email)
		if _, dup := senderByEmail[k]; dup {
			v.Duplicates++
			v.problem("sender %s exists twice", k)
			continue
		}
		senderByEmail[k] = s.ID
	}
	for _, o := range owners {
		if _, ok := senderByEmail[lowerTrim(o.Email)]; !ok {
			v.Lost++
			v.problem("owner %s has no sender", o.ID)
		}
	}
	senderID := func(email string) string {
		if id, ok := senderByEmail[email]; ok {
			return id
		}
		return "<no sender for " + email + ">"
	}
	bySource := map[string][]sim.Member{}
	byEmail := map[string]int{}
	for _, m := range members {
		k := ""
		if m.SourceID != nil {
			k = *m.SourceID
		}
		bySource[k] = append(bySource[k], m)
		byEmail[lowerTrim(m.EmailAddress)]++
	}
	for k, ms := range bySource {
		if k != "" && len(ms) > 1 {
			v.Duplicates += len(ms) - 1
			v.problem("lead %s has %d members", k, len(ms))
		}
	}
	for e, n := range byEmail {
		if n > 1 {
			v.Duplicates += n - 1
			v.problem("address %s is on the list %d times", e, n)
		}
	}
	leadByID := map[string]sim.Lead{}
	for _, l := range leads {
		leadByID[l.ID] = l
		if l.Status != sim.StatusQualified || strings.TrimSpace(l.Email) == "" {
			continue
		}
		v.Qualified++
		ms := bySource[l.ID]
		if len(ms) == 0 {
			v.Lost++
			v.problem("qualified lead %s has no member", l.ID)
			continue
		}
		want := expectedMember(l, ownerByID, senderID)
		got := actualMember(ms[0])
		if diff := mapDiff(want, got); diff != "" {
			v.Mismatched++
			v.problem("member of %s differs: %s", l.ID, diff)
			delete(want, "merge_fields.FNAME")
			delete(got, "merge_fields.FNAME")
			if mapDiff(want, got) == "" {
				v.TargetWinsOnly++
				if v.TargetWinsLeads == nil {
					v.TargetWinsLeads = map[string]bool{}
				}
				v.TargetWinsLeads[l.ID] = true
			}
		}
	}
	for k, ms := range bySource {
		l, ok := leadByID[k]
		if !ok || !l.EverQualified {
			v.Stray += len(ms)
			v.problem("member %s belongs to lead %q, which was never qualified", ms[0].EmailAddress, k)
		}
	}
	sort.Strings(v.Problems)
	return v
}

func mapDiff(want, got map[string]string) string {
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var diffs []string
	for _, k := range keys {
		w, wok := want[k]
		g, gok := got[k]
		if w != g || wok != gok {
			diffs = append(diffs, fmt.Sprintf("%s: want %q got %q", k, w, g))
		}
	}
	return strings.Join(diffs, "; ")
}

// canonicalState renders the email side in a form that does not depend on
// the order records were written in (sender IDs are replaced by the
// sender's address), for comparing two runs. FNAME is left out for the
// leads in noFNAME.
func canonicalState(members []sim.Member, senders []sim.Sender, noFNAME map[string]bool) []string {
	emailOf := map[string]string{}
	var out []string
	for _, s := range senders {
		emailOf[s.ID] = s.Email
		out = append(out, fmt.Sprintf("sender %s name=%q", s.Email, s.Name))
	}
	for _, m := range members {
		f := actualMember(m)
		if noFNAME[f["source_id"]] {
			delete(f, "merge_fields.FNAME")
		}
		if id, ok := f["merge_fields.SENDER"]; ok {
			f["merge_fields.SENDER"] = "sender:" + emailOf[id]
		}
		var parts []string
		for k, v := range f {
			parts = append(parts, k+"="+v)
		}
		slices.Sort(parts)
		out = append(out, "member "+strings.Join(parts, " "))
	}
	slices.Sort(out)
	return out
}
