package emit

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/connectorgen/connectorgen/generator/ir"
	"github.com/connectorgen/connectorgen/templates"
)

// runbookView is the data of templates/runbook.md.tmpl.
type runbookView struct {
	Header, Source, Package string
	Clients                 []runbookClient
	Syncs                   []runbookSync
	// Main is set when cmd/<Package> is generated; Webhooks are its
	// endpoints.
	Main     bool
	Webhooks []runbookWebhook
}

type runbookWebhook struct {
	Sync, Header, Secret, IDHeader string
	RecordBody                     bool
}

// signatureHeader is the header a webhook's signature arrives in: the
// declared one, or its scheme's (runtime/engine's defaults).
func signatureHeader(w *ir.Webhook) string {
	if w.SignatureHeader != "" {
		return w.SignatureHeader
	}
	switch w.Scheme {
	case "SchemeStripe":
		return "Stripe-Signature"
	case "SchemeShopify":
		return "X-Shopify-Hmac-Sha256"
	}
	return "X-Signature"
}

type runbookEnv struct {
	Name, URL  string
	Production bool
}

type runbookClient struct {
	System, Package string
	Operations      []string
	Auth            []ir.AuthDoc
	Scopes, Extra   []string
	Envs            []runbookEnv
}

type runbookSync struct {
	Name, Source, Target, Trigger, Match, Xref string
	Schedule, Alerts                           string
	Attempts                                   int
	DeadLetter                                 bool
	Rows                                       []runbookRow
}

type runbookRow struct{ Target, From, Rule, Policy string }

// Runbook renders the connector's README.md from templates/.
func Runbook(c *ir.Connector) (File, error) {
	tmpl, err := template.ParseFS(templates.FS, "runbook.md.tmpl")
	if err != nil {
		return File{}, fmt.Errorf("runbook template: %w (this is a connectorgen bug)", err)
	}
	v := runbookView{Header: Header, Source: c.Source.Path, Package: c.Package, Main: c.Main}
	for _, cl := range c.Clients {
		rc := runbookClient{System: cl.System, Package: cl.Pkg.Name, Operations: cl.Operations, Auth: cl.Auth, Scopes: cl.Scopes, Extra: cl.ExtraScopes}
		for _, e := range Environments(cl.Pkg) {
			rc.Envs = append(rc.Envs, runbookEnv{Name: e.Name, URL: e.Server.URL, Production: e.Production})
		}
		v.Clients = append(v.Clients, rc)
	}
	for _, s := range c.Syncs {
		v.Syncs = append(v.Syncs, runbookSyncView(s))
		if wh := s.From.Webhook; s.Realtime && wh != nil {
			v.Webhooks = append(v.Webhooks, runbookWebhook{Sync: s.Name, Header: signatureHeader(wh), Secret: wh.SecretSource, IDHeader: wh.IDHeader, RecordBody: wh.RecordBody})
		}
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, v); err != nil {
		return File{}, fmt.Errorf("runbook template: %w (this is a connectorgen bug)", err)
	}
	return File{Name: "README.md", Content: buf.Bytes()}, nil
}

func runbookSyncView(s *ir.Sync) runbookSync {
	rs := runbookSync{Name: s.Name, Source: s.From.Name, Target: s.To.Name, Xref: s.Xref, Attempts: s.MaxAttempts, DeadLetter: s.DeadLetter}
	if rs.Attempts == 0 {
		rs.Attempts = 5
	}
	if s.Enter != nil {
		rs.Trigger = predText(s.Enter)
	}
	var steps []string
	for _, m := range s.Match {
		switch m {
		case ir.MatchXref:
			steps = append(steps, "the xref table")
		case ir.MatchNaturalKey:
			steps = append(steps, "natural key `"+s.NaturalKey.Path+"`")
		case ir.MatchKeyFrom:
			steps = append(steps, "the key the source holds in `"+s.KeyFrom.Text+"`")
		case ir.MatchCreate:
			steps = append(steps, "creating it")
		}
	}
	rs.Match = strings.Join(steps, ", then ")
	var sched []string
	if s.Every > 0 {
		sched = append(sched, "polled every "+human(s.Every))
	}
	if s.Realtime {
		hook := "webhooks trigger re-fetches in real time"
		if w := s.From.Webhook; w != nil && (w.SignatureHeader != "" || w.SecretSource != "") {
			hook += fmt.Sprintf(" (signed in the `%s` header; the signing secret comes from `%s`)", signatureHeader(w), w.SecretSource)
		}
		if w := s.From.Webhook; w != nil && w.IDHeader != "" {
			hook += fmt.Sprintf("; each delivery is named by its `%s` header (redeliveries are recognised by it)", w.IDHeader)
		}
		sched = append(sched, hook)
	}
	if len(sched) == 0 {
		sched = append(sched, "run on demand")
	}
	rs.Schedule = strings.Join(sched, "; ")
	var alerts []string
	if s.AlertFailures > 0 {
		alerts = append(alerts, fmt.Sprintf("%d consecutive failed runs", s.AlertFailures))
	}
	if s.Freshness > 0 {
		alerts = append(alerts, "no successful run for "+human(s.Freshness))
	}
	if s.AlertDeadLetters > 0 {
		alerts = append(alerts, fmt.Sprintf("%d or more dead letters", s.AlertDeadLetters))
	}
	rs.Alerts = strings.Join(alerts, "; ")
	for _, a := range s.Assigns {
		targets := []*ir.WField{a.Target}
		if a.Kind == ir.AssignSplit || a.Kind == ir.AssignMerge {
			targets = a.Into
		}
		for _, w := range targets {
			if w == nil {
				continue
			}
			rs.Rows = append(rs.Rows, runbookRow{Target: w.Path, From: fromText(a), Rule: ruleText(a, w), Policy: strings.ReplaceAll(w.Policy.String(), "_", " ")})
		}
	}
	return rs
}

func fromText(a *ir.Assign) string {
	switch a.Kind {
	case ir.AssignConst:
		return "—"
	case ir.AssignMerge, ir.AssignTemplate:
		var names []string
		for _, p := range a.Sources {
			names = append(names, "`"+p.Text+"`")
		}
		return strings.Join(names, ", ")
	}
	return "`" + a.Source.Text + "`"
}

func ruleText(a *ir.Assign, w *ir.WField) string {
	var parts []string
	switch a.Kind {
	case ir.AssignConst:
		parts = append(parts, fmt.Sprintf("constant `%v`", a.Const.Value))
	case ir.AssignLookup:
		parts = append(parts, fmt.Sprintf("looked up in xref `%s` (missing: %s)", a.Lookup, a.Missing))
	case ir.AssignSplit, ir.AssignMerge:
		parts = append(parts, fmt.Sprintf("`%s.%s`", a.Func.ImportPath[strings.LastIndex(a.Func.ImportPath, "/")+1:], a.Func.Name))
	case ir.AssignTemplate:
		parts = append(parts, fmt.Sprintf("template `%s`", a.Template.Raw))
	default:
		if len(a.Prepend) > 0 {
			parts = append(parts, fmt.Sprintf("after the constants %v", prependValues(a)))
		}
		if a.Map != nil {
			var pairs []string
			for _, m := range a.Map {
				pairs = append(pairs, fmt.Sprintf("%v→%v", m.From.Value, m.To.Value))
			}
			if a.Else != nil {
				pairs = append(pairs, fmt.Sprintf("else %v", a.Else.Value))
			}
			parts = append(parts, "map "+strings.Join(pairs, ", "))
		}
		if len(a.Transforms) > 0 {
			var names []string
			for _, t := range a.Transforms {
				names = append(names, t.String())
			}
			parts = append(parts, strings.Join(names, ", "))
		}
		if a.Conv != ir.ConvNone {
			parts = append(parts, "converted to "+w.Type.String())
		}
		if a.Default != nil {
			parts = append(parts, fmt.Sprintf("default `%v`", a.Default.Value))
		}
	}
	if a.CreateOnly || w.CreateOnly {
		parts = append(parts, "on create only")
	}
	if len(parts) == 0 {
		return "copied"
	}
	return strings.Join(parts, "; ")
}

func predText(p *ir.Pred) string {
	join := func(ps []*ir.Pred, sep string) string {
		var out []string
		for _, q := range ps {
			out = append(out, predText(q))
		}
		return strings.Join(out, sep)
	}
	switch {
	case p.All != nil:
		return join(p.All, " and ")
	case p.Any != nil:
		return "(" + join(p.Any, " or ") + ")"
	case p.Not != nil:
		return "not " + predText(p.Not)
	}
	switch p.Op {
	case ir.OpPresent:
		if p.Present {
			return p.Field.Text + " is present"
		}
		return p.Field.Text + " is absent"
	case ir.OpContains:
		return fmt.Sprintf("%s contains %v", p.Field.Text, p.Operands[0].Value)
	case ir.OpIn:
		var vals []string
		for _, o := range p.Operands {
			vals = append(vals, fmt.Sprint(o.Value))
		}
		return p.Field.Text + " in [" + strings.Join(vals, ", ") + "]"
	}
	op := map[ir.PredOp]string{ir.OpEq: "=", ir.OpNe: "≠"}[p.Op]
	return fmt.Sprintf("%s %s %v", p.Field.Text, op, p.Operands[0].Value)
}

// human writes a duration without zero units: 1h, 90m, 5m30s.
func human(d time.Duration) string {
	out := d.String()
	if strings.HasSuffix(out, "m0s") {
		out = strings.TrimSuffix(out, "0s")
	}
	if strings.HasSuffix(out, "h0m") {
		out = strings.TrimSuffix(out, "0m")
	}
	return out
}
