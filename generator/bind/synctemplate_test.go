package bind

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/connectorgen/connectorgen/generator/config"
	"github.com/connectorgen/connectorgen/generator/ir"
	"github.com/connectorgen/connectorgen/generator/load"
	"github.com/connectorgen/connectorgen/generator/lower"
	"github.com/connectorgen/connectorgen/generator/naming"
)

// keysClients lowers the desk and tracker specs of golden/syncs/keys.
func keysClients(t *testing.T) []*ir.Client {
	t.Helper()
	var out []*ir.Client
	for _, sys := range []string{"desk", "tracker"} {
		spec, diags := load.Load(filepath.Join("..", "..", "golden", "syncs", "keys", sys+".yaml"), load.Options{})
		if spec == nil {
			t.Fatalf("load %s: %v", sys, diags)
		}
		pkg, d := lower.Lower(spec, lower.Options{Package: sys})
		if pkg == nil {
			t.Fatalf("lower %s: %v", sys, d)
		}
		out = append(out, &ir.Client{System: sys, Field: naming.Exported(sys), Pkg: pkg, ImportPath: "example.com/conn/" + sys})
	}
	return out
}

// bindTickets binds one desk.Ticket → tracker.Issue sync with the given
// match and fields sections.
func bindTickets(t *testing.T, match, fields string) (*ir.Connector, string) {
	t.Helper()
	src := `version: 1
package: sync
systems:
  desk: { spec: desk.yaml }
  tracker: { spec: tracker.yaml }
entities:
  desk.Ticket:
    key: id
    read: { list: listTickets, get: getTicket, cursor: updated_at, since: updated_since }
  tracker.Issue:
    key: id
    write: { create: createIssue, update: updateIssue, find: searchIssues }
syncs:
  tickets:
    from: desk.Ticket
    to: tracker.Issue
` + match + "    fields:\n" + fields
	cfg, diags := config.Parse("connector.yaml", []byte(src))
	if cfg == nil {
		t.Fatalf("parse: %v", diags)
	}
	conn, d := Bind(Input{Config: cfg, Clients: keysClients(t)})
	return conn, d.String()
}

func TestTemplateAndFindFilter(t *testing.T) {
	conn, diags := bindTickets(t, `    match: [xref, { natural_key: external_ref, by: body.filter.external_ref, filter: 'ref = "{key}"' }, create]
`, `      summary: { template: "{subject} #{id}" }
      external_ref: { template: "https://desk.example/tickets/{id}?p={priority}&s={status}" }
`)
	if conn == nil {
		t.Fatalf("bind failed:\n%s", diags)
	}
	s := conn.Syncs[0]
	if s.FindFilter != `ref = "{key}"` || s.NaturalKey == nil || s.NaturalKey.Path != "external_ref" {
		t.Errorf("find filter %q, natural key %v", s.FindFilter, s.NaturalKey)
	}
	var tpl *ir.Assign
	for _, a := range s.Assigns {
		if a.Target.Path == "external_ref" {
			tpl = a
		}
	}
	if tpl == nil || tpl.Kind != ir.AssignTemplate {
		t.Fatalf("external_ref is not bound as a template: %+v", tpl)
	}
	if got := strings.Join(tpl.Template.Text, "|"); got != "https://desk.example/tickets/|?p=|&s=|" {
		t.Errorf("template text %q", got)
	}
	if len(tpl.Sources) != 3 || tpl.Template.Convs[0] != ir.ConvIntToString || tpl.Template.Convs[1] != ir.ConvIntToString || tpl.Template.Convs[2] != ir.ConvNone {
		t.Errorf("template sources %v, conversions %v", tpl.Sources, tpl.Template.Convs)
	}
}

func TestTemplateAndPrependErrors(t *testing.T) {
	for _, c := range []struct{ match, fields, want string }{
		{"", `      summary: subject
      priority: { template: "{id}" }
`, `a template builds a string but the target is int64`},
		{"", `      summary: { template: "{subject" }
`, `has a { without its }`},
		{"", `      summary: { template: "subject}" }
`, `has a } without its {`},
		{"", `      summary: { template: "x{}" }
`, `has an empty {}`},
		{"", `      summary: { template: "plain" }
`, `names no source field; write a constant with const`},
		{`    match: [xref, { natural_key: external_ref, by: body.filter.external_ref, filter: '{key} {id}' }, create]
`, `      summary: subject
      external_ref: { template: "t{id}" }
`, `{key} is its only placeholder`},
		{"", `      summary: { from: subject, prepend: [x] }
`, `prepend puts constants before a list's items, but the target is string`},
	} {
		conn, diags := bindTickets(t, c.match, c.fields)
		if conn != nil || !strings.Contains(diags, c.want) {
			t.Errorf("%s%s: got %q, want an error containing %q", c.match, c.fields, diags, c.want)
		}
	}
}
