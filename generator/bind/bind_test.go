package bind

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/connectorgen/connectorgen/generator/config"
	"github.com/connectorgen/connectorgen/generator/emit"
	"github.com/connectorgen/connectorgen/generator/ir"
	"github.com/connectorgen/connectorgen/generator/load"
	"github.com/connectorgen/connectorgen/generator/lower"
	"github.com/connectorgen/connectorgen/generator/naming"
)

// lowered loads and lowers the example specs once per test.
func lowered(t testing.TB) []*ir.Client {
	t.Helper()
	var out []*ir.Client
	for _, sys := range []string{"crm", "email"} {
		spec, diags := load.Load(filepath.Join("..", "..", "specs", sys, "openapi.yaml"), load.Options{})
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

// classify stands in for go/packages: it knows one function.
func classify(importPath, name string) (*ir.Func, error) {
	if name != "Classify" {
		return nil, os.ErrNotExist
	}
	s := ir.BuiltinRef("string")
	return &ir.Func{ImportPath: importPath, Name: name, Params: []*ir.TypeRef{s}, Results: []*ir.TypeRef{s, s}, ResultNames: []string{"mobile", "landline"}, HasError: true}, nil
}

func TestBindExample(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "specs", "crmemail", "connector.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, diags := config.Parse("connector.yaml", data)
	if cfg == nil {
		t.Fatal(diags)
	}
	conn, diags := Bind(Input{Config: cfg, Clients: lowered(t), Funcs: classify})
	if conn == nil {
		t.Fatalf("bind failed:\n%v", diags)
	}
	if len(conn.Syncs) != 2 {
		t.Fatalf("got %d syncs, want 2", len(conn.Syncs))
	}
	s := conn.Syncs[1]
	if s.FuncName != "QualifiedLeadsToNurture" || s.WriteType != "QualifiedLeadsToNurtureWrite" {
		t.Errorf("names: %s, %s", s.FuncName, s.WriteType)
	}
	if want := []ir.MatchStep{ir.MatchXref, ir.MatchNaturalKey, ir.MatchCreate}; !slices.Equal(s.Match, want) {
		t.Errorf("match = %v, want %v", s.Match, want)
	}
	if s.NaturalKey == nil || s.NaturalKey.Path != "email_address" || s.FindParam == nil || s.FindParam.Name != "email_address" {
		t.Errorf("natural key not bound to findMembers' email_address: %+v", s.NaturalKey)
	}
	var paths []string
	for _, f := range s.Fields {
		paths = append(paths, f.Path+"="+f.Policy.String())
	}
	want := "email_address=source_wins status=source_wins source_id=source_wins merge_fields.FNAME=target_wins merge_fields.LNAME=source_wins merge_fields.COMPANY=source_wins merge_fields.TIER=source_wins merge_fields.SENDER=source_wins merge_fields.MOBILE=source_wins merge_fields.LANDLINE=source_wins"
	if got := strings.Join(paths, " "); got != want {
		t.Errorf("fields:\n got %s\nwant %s", got, want)
	}
	if s.From.CursorKind != ir.CursorTime || s.From.VersionFrom != ir.VersionField || s.From.List.SinceParam == nil || s.From.List.SinceParam.Name != "updated_since" {
		t.Errorf("cursor not bound to updated_at/updated_since")
	}
	if s.From.Webhook == nil || s.From.Webhook.Key.Text != "lead_id" {
		t.Errorf("webhook not bound")
	}
	for _, a := range s.Assigns {
		if a.Kind == ir.AssignSplit && (a.Into[0] == nil || a.Into[0].Path != "merge_fields.MOBILE" || a.Into[1].Path != "merge_fields.LANDLINE") {
			t.Errorf("split results bound wrongly: %+v", a.Into)
		}
	}
}

// FuzzBind decodes and binds arbitrary mapping files against the example
// clients: no panics, a nil connector always comes with an error, and
// whatever binds emits sync code that type-checks.
func FuzzBind(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "..", "golden", "errors", "mapping-*", "connector.yaml"))
	seeds = append(seeds, filepath.Join("..", "..", "specs", "crmemail", "connector.yaml"))
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
		}
	}
	clients := lowered(f)
	tc := newTypeChecker(f, clients)
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, _ := config.Parse("connector.yaml", data)
		if cfg == nil {
			return
		}
		conn, diags := Bind(Input{Config: cfg, Clients: clients, Funcs: classify})
		if conn == nil && !diags.HasErrors() {
			t.Fatal("Bind returned nothing and no error")
		}
		if conn == nil || len(conn.Syncs) == 0 {
			return
		}
		// Whatever binds must emit Go that parses, and a runbook.
		if conn.Package == "" {
			conn.Package = "fuzz"
		}
		file, err := emit.Syncs(conn)
		if err != nil {
			t.Fatalf("emit: %v", err)
		}
		// Type-check, not only parse: names that collide or code that
		// does not compile must be caught by bind, not by the user's go
		// build (issue 7, defect 15).
		if _, err := tc.check("example.com/conn", []string{file.Name}, [][]byte{file.Content}); err != nil {
			t.Fatalf("generated sync code does not type-check: %v\n%s", err, data)
		}
		if _, err := emit.Runbook(conn); err != nil {
			t.Fatalf("runbook: %v", err)
		}
	})
}

// bindText binds a mapping given as text against the example clients.
func bindText(t *testing.T, text string, funcs FuncResolver) (*ir.Connector, string) {
	t.Helper()
	cfg, diags := config.Parse("connector.yaml", []byte(text))
	if cfg == nil {
		t.Fatalf("config: %v", diags)
	}
	conn, diags := Bind(Input{Config: cfg, Clients: lowered(t), Funcs: funcs})
	return conn, diags.String()
}

// specsHead declares the crm and email systems; entities follow.
const specsHead = `version: 1
package: sync
systems:
  crm: { spec: crm.yaml }
  email: { spec: email.yaml }
entities:
`

const cascadeHead = specsHead + `  crm.Lead:
    key: id
    read: { list: listLeads, get: getLead, cursor: updated_at, since: updated_since }
  email.Member:
    key: id
    params: { list_id: lst_nurture }
    read: { get: getMember }
    write: { create: addMember, update: updateMember, find: findMembers }
`

// TestFailedFunctionReportedOnce: a split whose with: function does not
// resolve is one problem; conflicts and natural keys that name its targets
// are not reported again as "not a mapped target field", and a package
// that fails to load is reported at its first use only (issue 7, defect
// 17).
func TestFailedFunctionReportedOnce(t *testing.T) {
	text := cascadeHead + `syncs:
  leads:
    from: crm.Lead
    to: email.Member
    match: [xref, { natural_key: merge_fields.MOBILE, from: phone }, create]
    fields:
      email_address: { from: email }
      status: { const: subscribed, on: create }
    split:
      - { from: phone, with: example.com/fn.Clasify, into: { mobile: merge_fields.MOBILE } }
      - { from: phone, with: example.com/broken.A, into: { mobile: merge_fields.LANDLINE } }
    merge:
      - { from: [first_name, last_name], with: example.com/broken.B, into: merge_fields.FNAME }
    conflicts: { fields: { merge_fields.MOBILE: target_wins, merge_fields.LANDLINE: target_wins } }
`
	funcs := func(importPath, name string) (*ir.Func, error) {
		if importPath == "example.com/broken" {
			return nil, &PackageError{ImportPath: importPath, Msg: "package \"example.com/broken\": syntax error"}
		}
		return classify(importPath, name)
	}
	conn, got := bindText(t, text, funcs)
	if conn != nil {
		t.Fatal("bind succeeded")
	}
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "split of") || !strings.Contains(lines[1], "syntax error") {
		t.Errorf("want exactly the unknown function and the broken package, got:\n%s", got)
	}
}

// TestFullScanWarning: a source read without a lower bound is a warning
// (every poll reads every record), not silence.
func TestFullScanWarning(t *testing.T) {
	text := cascadeHead + `  crm.Owner:
    key: id
    read: { list: listOwners }
  email.Sender:
    key: id
    write: { create: createSender, update: updateSender }
syncs:
  owners:
    from: crm.Owner
    to: email.Sender
    match: [create]
    fields:
      name: name
      email: email
`
	_, got := bindText(t, text, classify)
	if !strings.Contains(got, `warning: sync "owners": "crm.Owner" is read without a lower bound`) {
		t.Errorf("no full-scan warning in:\n%s", got)
	}
}

// TestFunctionsBeforeOutputExists: with: functions resolve on a fresh
// project whose output directory is not created yet (go/packages runs
// from its nearest existing ancestor, in the same module).
func TestFunctionsBeforeOutputExists(t *testing.T) {
	if testing.Short() {
		t.Skip("loads packages with the go command")
	}
	resolve := PackagesResolver(filepath.Join("..", "..", "golden", "not-generated-yet", "sync"))
	fn, err := resolve("github.com/connectorgen/connectorgen/golden/crmemail/phoneutil", "Classify")
	if err != nil {
		t.Fatalf("resolve before the output exists: %v", err)
	}
	if fn.Name != "Classify" || len(fn.Params) != 1 {
		t.Errorf("resolved %+v", fn)
	}
}

// TestMergeOptionalParams: a with: function may take a source field as it
// is (oas.Opt), which bind marks optional; any other mismatch is an error
// naming both forms.
func TestMergeOptionalParams(t *testing.T) {
	opt := ir.Wrap(ir.Opt, ir.BuiltinRef("string"))
	funcs := func(importPath, name string) (*ir.Func, error) {
		s := ir.BuiltinRef("string")
		if name == "OptJoin" {
			return &ir.Func{ImportPath: importPath, Name: name, Params: []*ir.TypeRef{opt, s}, Results: []*ir.TypeRef{s}}, nil
		}
		return &ir.Func{ImportPath: importPath, Name: name, Params: []*ir.TypeRef{ir.BuiltinRef("int64"), s}, Results: []*ir.TypeRef{s}}, nil
	}
	text := cascadeHead + `syncs:
  leads:
    from: crm.Lead
    to: email.Member
    fields:
      email_address: { from: email }
      status: { const: subscribed, on: create }
    merge:
      - { from: [first_name, email], with: example.com/fn.OptJoin, into: merge_fields.FNAME }
`
	conn, diags := bindText(t, text, funcs)
	if conn == nil {
		t.Fatalf("bind failed:\n%s", diags)
	}
	for _, a := range conn.Syncs[0].Assigns {
		if a.Kind == ir.AssignMerge && (len(a.Optional) != 2 || !a.Optional[0] || a.Optional[1]) {
			t.Errorf("optional = %v, want [true false]", a.Optional)
		}
	}
	_, diags = bindText(t, strings.ReplaceAll(text, "OptJoin", "IntJoin"), funcs)
	if !strings.Contains(diags, `parameter 1 of example.com/fn.IntJoin is int64 but "first_name" is string (or oas.Opt[string] or *string, taken as it is)`) {
		t.Errorf("diagnostics:\n%s", diags)
	}
}

// TestBindWebhookID: a webhook's event id is a field of the event, a
// request header (id: header.NAME), or, left out, the scheme's header
// (shopify: X-Shopify-Webhook-Id); a body that is the record itself may
// not use a record field as its id; each mistake is reported at its line.
func TestBindWebhookID(t *testing.T) {
	for _, tc := range []struct {
		name, webhook  string
		idHeader, err  string
		line           int
		recordBody     bool
		idPath         string
		schemeConstant string
	}{
		{name: "event field", webhook: "{ event: LeadEvent, id: id, key: lead_id }", idPath: "id", schemeConstant: "SchemeTimestamped"},
		{name: "shopify default", webhook: "{ event: Lead, key: id, signature: { scheme: shopify } }", idHeader: "X-Shopify-Webhook-Id", recordBody: true, schemeConstant: "SchemeShopify"},
		{name: "declared header", webhook: "{ event: Lead, id: header.X-Delivery, key: id }", idHeader: "X-Delivery", recordBody: true, schemeConstant: "SchemeTimestamped"},
		{name: "no id", webhook: "{ event: LeadEvent, key: lead_id }", line: 10, err: "webhook needs id: a field of event LeadEvent"},
		{name: "bad header", webhook: "{ event: Lead, id: \"header.X Delivery\", key: id }", line: 11, err: `"X Delivery" is not an HTTP header name`},
		{name: "empty header", webhook: "{ event: Lead, id: header., key: id }", line: 11, err: `"" is not an HTTP header name`},
		{name: "record field", webhook: "{ event: Lead, id: id, key: id, signature: { scheme: shopify } }", line: 11, err: `webhook id "id" is a field of the record itself`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := `version: 1
package: conn
systems:
  crm: { spec: crm.yaml }
  email: { spec: email.yaml }
entities:
  crm.Lead:
    key: id
    read: { list: listLeads, get: getLead, cursor: updated_at, since: updated_since }
    webhook:
      ` + tc.webhook + `
  email.Member:
    key: id
    params: { list_id: lst_nurture }
    read: { get: getMember }
    write: { create: addMember, update: updateMember }
syncs:
  leads:
    from: crm.Lead
    to: email.Member
    fields:
      email_address: email
      status: { const: subscribed, on: create }
`
			cfg, diags := config.Parse("connector.yaml", []byte(src))
			if cfg == nil {
				t.Fatal(diags)
			}
			conn, diags := Bind(Input{Config: cfg, Clients: lowered(t), Funcs: classify})
			if tc.err != "" {
				found := false
				for _, d := range diags {
					if strings.Contains(d.Msg, tc.err) && d.Pos.Line == tc.line {
						found = true
					}
				}
				if conn != nil || !found {
					t.Fatalf("want an error at line %d containing %q; got %v", tc.line, tc.err, diags)
				}
				return
			}
			if conn == nil {
				t.Fatalf("bind failed: %v", diags)
			}
			w := conn.Syncs[0].From.Webhook
			if w == nil {
				t.Fatal("webhook not bound")
			}
			if w.IDHeader != tc.idHeader || w.RecordBody != tc.recordBody || w.ID.Text != tc.idPath || w.Scheme != tc.schemeConstant {
				t.Errorf("bound %+v; want id header %q, record body %v, id %q, scheme %s", w, tc.idHeader, tc.recordBody, tc.idPath, tc.schemeConstant)
			}
		})
	}
}

// TestEchoReverseWithoutGetWarning: the reverse sync of a two-way pair
// that only updates records the other direction linked needs a fetch to
// read a record again once its link arrives; without read.get it is a
// warning, and a key_from match (or read.get) silences it.
func TestEchoReverseWithoutGetWarning(t *testing.T) {
	text := func(read, match string) string {
		return specsHead + `  crm.Lead:
    key: id
    read: { list: listLeads, get: getLead, cursor: updated_at, since: updated_since }
    write: { update: updateLead }
  email.Member:
    key: id
    params: { list_id: lst_nurture }
    read: ` + read + `
    write: { create: addMember, update: updateMember }
syncs:
  leads:
    from: crm.Lead
    to: email.Member
    echo_suppression: true
    fields:
      email_address: { from: email }
      status: { const: subscribed, on: create }
  members:
    from: email.Member
    to: crm.Lead
    match: ` + match + `
    echo_suppression: true
    fields:
      email: email_address
`
	}
	const want = `sync "members": matches only records leads linked, and "email.Member" has no read.get`
	for _, c := range []struct {
		read, match string
		warn        bool
	}{
		{"{ list: listMembers, cursor: last_changed }", "[xref]", true},
		{"{ list: listMembers, get: getMember, cursor: last_changed }", "[xref]", false},
		{"{ list: listMembers, cursor: last_changed }", "[xref, { key_from: id }]", false},
	} {
		conn, got := bindText(t, text(c.read, c.match), classify)
		if conn == nil || len(conn.Syncs) != 2 {
			t.Errorf("read %s, match %s: did not bind:\n%s", c.read, c.match, got)
		}
		if strings.Contains(got, "error") {
			t.Errorf("read %s, match %s: errors:\n%s", c.read, c.match, got)
		}
		if strings.Contains(got, want) != c.warn {
			t.Errorf("read %s, match %s: want the warning %v, got:\n%s", c.read, c.match, c.warn, got)
		}
	}
}
