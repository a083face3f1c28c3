package sandbox

import "testing"

func TestJQL(t *testing.T) {
	issue := Record{"key": "ENG-1", "fields": map[string]any{
		"project":           map[string]any{"key": "ENG"},
		"labels":            []any{"freshdesk", "bug"},
		"customfield_10050": "https://acme.freshdesk.com/a/tickets/7",
	}}
	for q, want := range map[string]bool{
		`project = ENG AND cf[10050] = "https://acme.freshdesk.com/a/tickets/7"`:  true,
		`project = ENG AND cf[10050] = "https://acme.freshdesk.com/a/tickets/70"`: false,
		`project = OPS AND cf[10050] = "https://acme.freshdesk.com/a/tickets/7"`:  false,
		`labels = bug and labels = "freshdesk"`:                                   true,
		`labels = ui`:                                                             false,
		`summary = "x"`:                                                           false,
		`cf[10050] = "a\"b"`:                                                      false,
	} {
		cs, err := parseJQL(q)
		if err != nil {
			t.Errorf("parseJQL(%s): %v", q, err)
			continue
		}
		if got := jqlMatch(issue, cs); got != want {
			t.Errorf("%s on %v = %v, want %v", q, issue, got, want)
		}
	}
	if cs, err := parseJQL(`cf[10050] = "a\"b\\c"`); err != nil || cs[0].value != `a"b\c` {
		t.Errorf(`escaped string: %v, %v; want a"b\c`, cs, err)
	}
	for _, q := range []string{`project = ENG OR project = OPS`, `summary ~ "x"`, `project != ENG`, `labels IN (a, b)`,
		`project = ENG ORDER BY created`, `cf[10x] = "a"`, `summary = "open`, `= ENG`} {
		if _, err := parseJQL(q); err == nil {
			t.Errorf("parseJQL(%s) accepted a query the sandbox does not implement", q)
		}
	}
}
