// Package fn holds the with: functions of the draft Freshdesk → Jira
// connector the e2e harness runs (what a declarative rule cannot say yet).
package fn

import "strconv"

// Labels is the Jira labels of a ticket: "freshdesk" first, then the
// ticket's tags in order, without repeats.
func Labels(tags []string) []string {
	out := []string{"freshdesk"}
	seen := map[string]bool{"freshdesk": true}
	for _, t := range tags {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// TicketURL is the agent-facing URL of a ticket on the helpdesk.
func TicketURL(id int64) string {
	return "https://example.freshdesk.com/a/tickets/" + strconv.FormatInt(id, 10)
}
