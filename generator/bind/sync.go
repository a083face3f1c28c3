package bind

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/connectorgen/connectorgen/generator/config"
	"github.com/connectorgen/connectorgen/generator/diag"
	"github.com/connectorgen/connectorgen/generator/ir"
	"github.com/connectorgen/connectorgen/generator/naming"
)

// syncBinder binds one sync.
type syncBinder struct {
	*binder
	cfg      *config.Sync
	what     string
	s        *ir.Sync
	from, to *ir.Entity
	// filtered are source paths the enter trigger guarantees present.
	filtered map[string]bool
	fields   map[string]*ir.WField
	names    *naming.Scope
	ok       bool
	// unproduced are target paths whose split or merge failed to bind:
	// they count as mapped, so a failed with: is reported once and not
	// again by every conflict or natural key naming its targets.
	unproduced map[string]bool
}

func (b *binder) sync(cfg *config.Sync, scope *naming.Scope) *ir.Sync {
	sb := &syncBinder{binder: b, cfg: cfg, what: "sync " + strconv.Quote(cfg.Name), fields: map[string]*ir.WField{}, names: naming.NewScope(), ok: true, filtered: map[string]bool{}, unproduced: map[string]bool{}}
	s := &ir.Sync{Name: cfg.Name}
	namesOK := b.syncNames(cfg, s, scope)
	if !cfg.From.IsSet() || !cfg.To.IsSet() {
		return nil
	}
	sb.from = b.lookupEntityName(cfg.From, sb.what+": from")
	sb.to = b.lookupEntityName(cfg.To, sb.what+": to")
	if sb.from == nil || sb.to == nil || !namesOK {
		return nil
	}
	*s = ir.Sync{
		Name: cfg.Name, FuncName: s.FuncName, WriteType: s.WriteType, Funcs: s.Funcs,
		From: sb.from, To: sb.to,
		Every: cfg.Every, Freshness: cfg.AlertFreshness, Realtime: cfg.Realtime,
		MaxAttempts: cfg.MaxAttempts, DeadLetter: cfg.DeadLetter,
		AlertFailures: cfg.AlertFailures, AlertDeadLetters: cfg.AlertDeadLetters,
	}
	sb.s = s
	if sb.from.List == nil && sb.from.Search == nil && sb.from.Events == nil && sb.from.Get == nil {
		b.errorf(cfg.From.Pos, "%s: source entity %q has no read operations (read: list, get)", sb.what, cfg.From.Text)
		sb.ok = false
	}
	if sb.from.List == nil && sb.from.Search == nil && sb.from.Events == nil {
		b.errorf(cfg.From.Pos, "%s: source entity %q needs a read list operation (or read search or events) to poll", sb.what, cfg.From.Text)
		sb.ok = false
	}
	if sb.from.List != nil && sb.from.List.SinceParam == nil {
		b.diags.Warnf(cfg.From.Pos, "%s: %q is read without a lower bound (no read.since): every poll reads every record", sb.what, cfg.From.Text)
	}
	if s.Realtime && (sb.from.Webhook == nil || sb.from.Get == nil) {
		b.errorf(cfg.From.Pos, "%s: realtime needs a webhook and a read get operation on %q", sb.what, cfg.From.Text)
		sb.ok = false
	}
	if sb.to.Update == nil && sb.to.Create == nil {
		b.errorf(cfg.To.Pos, "%s: target entity %q has no write operations (write: create, update)", sb.what, cfg.To.Text)
		return nil
	}
	if cfg.Xref.IsSet() {
		x, ok := b.xrefs[cfg.Xref.Text]
		switch {
		case !ok:
			b.errorf(cfg.Xref.Pos, "%s", suggest(fmt.Sprintf("%s: no xref %q", sb.what, cfg.Xref.Text), cfg.Xref.Text, b.xrefNames()))
			sb.ok = false
		case x.From != cfg.From.Text || x.To != cfg.To.Text:
			b.errorf(cfg.Xref.Pos, "%s: xref %q links %s to %s, not %s to %s", sb.what, x.Name, x.From, x.To, cfg.From.Text, cfg.To.Text)
			sb.ok = false
		default:
			s.Xref = x.Name
		}
	}
	if cfg.Enter != nil {
		s.Enter = sb.pred(cfg.Enter, true, "trigger")
	}
	if cfg.Exit != nil {
		s.Exit = sb.pred(cfg.Exit, false, "trigger")
	}
	if cfg.OnExit != nil {
		s.OnExit = sb.exitAction(cfg.OnExit)
	}
	if cfg.EchoSuppression.IsSet() && strings.EqualFold(cfg.EchoSuppression.Text, "true") {
		b.echoes[s] = sb.echoSuppression(cfg)
	}
	for _, f := range cfg.Fields {
		sb.fieldMap(f)
	}
	for _, sp := range cfg.Splits {
		sb.split(sp)
	}
	for _, m := range cfg.Merges {
		sb.merge(m)
	}
	sb.match()
	sb.conflicts()
	if sb.ok {
		sb.requiredCreate()
	}
	if !sb.ok {
		return nil
	}
	return s
}

// syncNames decides every top-level name the sync's code declares (its
// constructor, write type and helper functions) and claims them in the
// package scope. The names follow from the sync's name, so a collision
// (leads_out and leadsOut, or a sync named new_clients) is reported at the
// sync, not renamed behind the user's back.
func (b *binder) syncNames(cfg *config.Sync, s *ir.Sync, scope *naming.Scope) bool {
	exported, stem := naming.Exported(cfg.Name), naming.Unexported(cfg.Name)
	if exported == "" || stem == "" {
		b.errorf(cfg.Pos, "sync %q: the name must contain a letter or digit to name its Go functions", cfg.Name)
		return false
	}
	s.FuncName, s.WriteType = exported, exported+"Write"
	s.Funcs = ir.SyncFuncs{Map: stem + "Map", Enter: stem + "Enter", Exit: stem + "Exit", Fields: stem + "Fields", CreateBody: stem + "CreateBody", UpdateBody: stem + "UpdateBody"}
	s.Funcs.Webhook = exported + "Webhook"
	names := []string{s.FuncName, s.WriteType, s.Funcs.Webhook, s.Funcs.Map, s.Funcs.Enter, s.Funcs.Exit, s.Funcs.Fields, s.Funcs.CreateBody, s.Funcs.UpdateBody}
	if a := cfg.OnExit; a != nil {
		if a.When != nil {
			s.Funcs.ExitWhen = stem + "ExitWhen"
			names = append(names, s.Funcs.ExitWhen)
		}
		if len(a.Set) > 0 {
			s.Funcs.ExitBody = stem + "ExitBody"
			names = append(names, s.Funcs.ExitBody)
		}
	}
	for _, n := range names {
		if owner, taken := scope.Owner(n); taken {
			b.errorf(cfg.Pos, "sync %q: its generated name %s is already %s; rename the sync", cfg.Name, n, owner)
			return false
		}
	}
	for _, n := range names {
		scope.Reserve(n, "used by sync "+strconv.Quote(cfg.Name))
	}
	return true
}

// pred binds a predicate on the source record (of the trigger, or of
// on_exit's when: where says which, for diagnostics); top-level
// conjunctions of the enter trigger record which source fields they
// guarantee present.
func (sb *syncBinder) pred(p *config.Predicate, top bool, where string) *ir.Pred {
	out := &ir.Pred{}
	for _, q := range p.All {
		out.All = append(out.All, sb.pred(q, top, where))
	}
	for _, q := range p.Any {
		out.Any = append(out.Any, sb.pred(q, false, where))
	}
	if p.Not != nil {
		out.Not = sb.pred(p.Not, false, where)
	}
	if !p.Field.IsSet() {
		return out
	}
	path, f, ok := sb.path(sb.from.Client, sb.from.Type, p.Field, sb.what+": "+where+" field")
	if !ok {
		sb.ok = false
		return out
	}
	op, _ := ir.ParsePredOp(p.Op) // the decoder accepts only known operators
	out.Field, out.Op = path, op
	leaf := f.Type.Unwrapped()
	if op == ir.OpContains {
		if leaf.Kind != ir.Slice {
			sb.errorf(p.Field.Pos, "%s: contains needs a list field; %q is %s", sb.what, p.Field.Text, leaf)
			sb.ok = false
			return out
		}
		// The operand is typed against the list's elements.
		leaf = leaf.Elem.Unwrapped()
	}
	for _, v := range p.Operands {
		if op == ir.OpPresent {
			switch v.Text {
			case "true", "false":
				out.Present = v.Text == "true"
			default:
				sb.errorf(v.Pos, "%s: present takes true or false, not %q", sb.what, v.Text)
				sb.ok = false
			}
			continue
		}
		lit := sb.literal(sb.from.Client, leaf, v, fmt.Sprintf("%s: %s on %q", sb.what, where, p.Field.Text))
		if lit == nil {
			sb.ok = false
			continue
		}
		out.Operands = append(out.Operands, lit)
	}
	if top && ((op == ir.OpPresent && out.Present) || op == ir.OpEq || op == ir.OpIn) {
		sb.filtered[p.Field.Text] = true
	}
	return out
}

// literal types a mapping-file value as a value of t: an enum constant, or
// a string, integer, float or boolean literal.
func (sb *syncBinder) literal(c *ir.Client, t *ir.TypeRef, v config.Value, what string) *ir.Literal {
	if et := sb.typeOf(c, t); et != nil && et.Kind == ir.Enum {
		var vals []string
		for _, ev := range et.EnumValues {
			s := fmt.Sprint(ev.Value)
			vals = append(vals, s)
			if s == v.Text {
				return &ir.Literal{Const: &ir.TypeRef{Kind: ir.Named, Pkg: c.ImportPath, Name: ev.ConstName}, Value: ev.Value, Type: qualify(t, c.ImportPath)}
			}
		}
		sb.errorf(v.Pos, "%s", suggest(fmt.Sprintf("%s: %q is not a value of enum %s", what, v.Text, et.Name), v.Text, vals))
		return nil
	}
	switch {
	case isString(t):
		return &ir.Literal{Value: v.Text, Type: t}
	case isInt(t):
		n, err := strconv.ParseInt(v.Text, 10, 64)
		if err != nil {
			sb.errorf(v.Pos, "%s: %q is not an integer (the field is %s)", what, v.Text, t)
			return nil
		}
		return &ir.Literal{Value: n, Type: t}
	case isFloat(t):
		n, err := strconv.ParseFloat(v.Text, 64)
		if err != nil {
			sb.errorf(v.Pos, "%s: %q is not a number (the field is %s)", what, v.Text, t)
			return nil
		}
		return &ir.Literal{Value: n, Type: t}
	case t != nil && t.Kind == ir.Builtin && t.Name == "bool":
		if v.Text != "true" && v.Text != "false" {
			sb.errorf(v.Pos, "%s: %q is not true or false (the field is a boolean)", what, v.Text)
			return nil
		}
		return &ir.Literal{Value: v.Text == "true", Type: t}
	}
	sb.errorf(v.Pos, "%s: constants of type %s are not supported; use a from field or a with function", what, t)
	return nil
}

// target resolves a target path to a write field, checking it is writable
// in the create and update bodies.
func (sb *syncBinder) target(v config.Value, createOnly bool) *ir.WField {
	if _, ok := sb.fields[v.Text]; ok {
		sb.errorf(v.Pos, "%s: target field %q is mapped twice", sb.what, v.Text)
		sb.ok = false
		return nil
	}
	to := sb.to
	wf := &ir.WField{Path: v.Text, CreateOnly: createOnly, Policy: ir.SourceWins}
	var leaf *ir.TypeRef
	found := false
	check := func(oc *ir.OpCall, dst *ir.Path, opWhat string) bool {
		if oc == nil || oc.BodyType == nil {
			return true
		}
		p, f, ok := sb.silentPath(oc.Client, oc.BodyType, v.Text)
		if !ok {
			return true
		}
		found = true
		if f.ReadOnly {
			sb.errorf(v.Pos, "%s: target field %q is readOnly in %s", sb.what, v.Text, oc.Op.ID)
			return false
		}
		t := qualify(f.Type.Unwrapped(), oc.Client.ImportPath)
		if leaf != nil && !sameType(leaf, t) {
			sb.errorf(v.Pos, "%s: target field %q is %s in one write operation and %s in %s", sb.what, v.Text, leaf, t, oc.Op.ID)
			return false
		}
		leaf = t
		*dst = p
		return true
	}
	okC := check(to.Create, &wf.Create, "create")
	okU := createOnly || check(to.Update, &wf.Update, "update")
	if !okC || !okU {
		sb.ok = false
		return nil
	}
	if !found {
		// Report against the record schema, which names every property,
		// with readOnly ones explained.
		_, f, ok := sb.silentPath(to.Client, to.Type, v.Text)
		switch {
		case ok && f.ReadOnly:
			sb.errorf(v.Pos, "%s: target field %q is readOnly on %s", sb.what, v.Text, to.Name)
		case ok:
			sb.errorf(v.Pos, "%s: target field %q is not in the request body of %s", sb.what, v.Text, opIDs(to))
		default:
			body := to.Type
			if to.Update != nil && to.Update.BodyType != nil {
				body = to.Update.BodyType
			} else if to.Create != nil && to.Create.BodyType != nil {
				body = to.Create.BodyType
			}
			sb.path(to.Client, body, v, sb.what+": target field")
		}
		sb.ok = false
		return nil
	}
	for _, p := range []ir.Path{wf.Create, wf.Update} {
		for i, st := range p.Steps {
			if st.MapKey && i != len(p.Steps)-1 {
				sb.errorf(v.Pos, "%s: target field %q: a map key must be the last segment of a target path (the map's values are objects)", sb.what, v.Text)
				sb.ok = false
				return nil
			}
		}
	}
	if to.Update != nil && !createOnly && len(wf.Update.Steps) == 0 && (slices.Contains(sb.matchKinds(), "xref") || slices.Contains(sb.matchKinds(), "natural_key") || slices.Contains(sb.matchKinds(), "key_from")) {
		sb.errorf(v.Pos, "%s: target field %q cannot be updated through %s; write it on create only (on: create)", sb.what, v.Text, to.Update.Op.ID)
		sb.ok = false
		return nil
	}
	if p, _, ok := sb.silentPath(to.Client, to.Type, v.Text); ok {
		wf.Read = p
	}
	wf.Type = leaf
	wf.Clear = sb.clearKind(wf)
	if len(wf.Create.Steps) > 0 {
		sb.pathNotes(v, wf.Create, "target")
	} else {
		sb.pathNotes(v, wf.Update, "target")
	}
	wf.GoName = sb.names.Claim(v.Text, naming.Exported(strings.ReplaceAll(v.Text, ".", "_")))
	sb.fields[v.Text] = wf
	sb.s.Fields = append(sb.s.Fields, wf)
	return wf
}

func opIDs(e *ir.Entity) string {
	var ids []string
	for _, oc := range []*ir.OpCall{e.Create, e.Update} {
		if oc != nil {
			ids = append(ids, oc.Op.ID)
		}
	}
	return strings.Join(ids, " or ")
}

func (sb *syncBinder) matchKinds() []string {
	var out []string
	for _, m := range sb.cfg.Match {
		out = append(out, m.Kind.Text)
	}
	return out
}

// silentPath resolves a path without reporting.
func (sb *syncBinder) silentPath(c *ir.Client, root *ir.TypeRef, text string) (ir.Path, *ir.Field, bool) {
	saved := len(sb.diags)
	p, f, ok := sb.path(c, root, config.Value{Text: text, Pos: diag.Pos{File: "-"}}, "")
	sb.diags = sb.diags[:saved]
	return p, f, ok
}

// source resolves a source path.
func (sb *syncBinder) source(v config.Value) (ir.Path, *ir.Field, bool) {
	p, f, ok := sb.path(sb.from.Client, sb.from.Type, v, sb.what+": source field")
	if !ok {
		sb.ok = false
		return p, f, ok
	}
	sb.pathNotes(v, p, "source")
	return p, f, ok
}

// pathNotes warns about a path the spec cannot check: a key of an untyped
// map, or an undeclared property that looks like a misspelt declared one.
func (sb *syncBinder) pathNotes(v config.Value, p ir.Path, side string) {
	if p.NearMiss != "" {
		sb.diags.Warnf(v.Pos, "%s: %s field %q is not declared and is taken as a key of the object's additional properties (did you mean %q?)", sb.what, side, v.Text, p.NearMiss)
	}
	if p.Untyped {
		sb.diags.Warnf(v.Pos, "%s: %s field %q is a key of a map with untyped values: its value is not checked against the spec (an overlay can give the map a type)", sb.what, side, v.Text)
	}
}

func (sb *syncBinder) fieldMap(f *config.FieldMap) {
	wf := sb.target(f.Target, f.OnCreate)
	if wf == nil {
		return
	}
	a := &ir.Assign{Target: wf, CreateOnly: f.OnCreate, Pos: f.Target.Pos.String()}
	where := fmt.Sprintf("%s: field %q", sb.what, f.Target.Text)
	if f.Const.IsSet() {
		a.Kind = ir.AssignConst
		if a.Const = sb.literal(sb.to.Client, wf.Type, f.Const, where); a.Const == nil {
			sb.ok = false
		}
		sb.s.Assigns = append(sb.s.Assigns, a)
		return
	}
	if f.Template.IsSet() {
		sb.template(f, wf, a, where)
		return
	}
	src, sf, ok := sb.source(f.From)
	if !ok {
		return
	}
	a.Source = src
	stype := sf.Type.Unwrapped()
	if f.Default.IsSet() {
		a.Default = sb.literal(sb.to.Client, wf.Type, f.Default, where+": default")
	}
	if f.Lookup.IsSet() {
		a.Kind = ir.AssignLookup
		a.Lookup = f.Lookup.Text
		a.Missing, _ = ir.ParseMissing(f.Missing.Text) // the decoder checked it; absent is defer
		if _, ok := sb.xrefs[f.Lookup.Text]; !ok {
			sb.errorf(f.Lookup.Pos, "%s", suggest(fmt.Sprintf("%s: no xref %q", where, f.Lookup.Text), f.Lookup.Text, sb.xrefNames()))
			sb.ok = false
			return
		}
		if !isString(stype) {
			sb.errorf(f.From.Pos, "%s: lookup key %q is %s; xref keys are strings", where, f.From.Text, stype)
			sb.ok = false
		}
		if !isString(wf.Type) {
			sb.errorf(f.Target.Pos, "%s: target is %s; an xref lookup yields a string key", where, wf.Type)
			sb.ok = false
		}
		sb.s.Assigns = append(sb.s.Assigns, a)
		return
	}
	a.Kind = ir.AssignFrom
	if f.Map != nil {
		sb.enumMap(a, f, sf, where)
		sb.s.Assigns = append(sb.s.Assigns, a)
		return
	}
	conv, ok := conversion(qualify(stype, sb.from.Client.ImportPath), wf.Type, sb.isEnum(sb.from.Client, stype), sb.isEnum(sb.to.Client, wf.Type))
	if !ok {
		hint := ""
		if sb.isEnum(sb.to.Client, wf.Type) {
			hint = "; map the values with map:"
		}
		sb.errorf(f.From.Pos, "%s: source %q is %s but the target is %s%s", where, f.From.Text, qualify(stype, sb.from.Client.ImportPath), wf.Type, hint)
		sb.ok = false
		return
	}
	a.Conv = conv
	if f.Prepend != nil && !sb.prepend(f, wf, a, where) {
		sb.ok = false
		return
	}
	for _, t := range f.Transform {
		tr, known := ir.ParseTransform(t.Text)
		if !known {
			sb.errorf(t.Pos, "%s", suggest(fmt.Sprintf("%s: unknown transform %q", where, t.Text), t.Text, ir.TransformNames()))
			sb.ok = false
			continue
		}
		if !isString(wf.Type) {
			sb.errorf(t.Pos, "%s: transform %q applies to strings; the target is %s", where, t.Text, wf.Type)
			sb.ok = false
			continue
		}
		a.Transforms = append(a.Transforms, tr)
	}
	sb.s.Assigns = append(sb.s.Assigns, a)
}

func (sb *syncBinder) isEnum(c *ir.Client, t *ir.TypeRef) bool {
	et := sb.typeOf(c, t)
	return et != nil && et.Kind == ir.Enum
}

func (sb *syncBinder) enumMap(a *ir.Assign, f *config.FieldMap, sf *ir.Field, where string) {
	stype := sf.Type.Unwrapped()
	st := sb.typeOf(sb.from.Client, stype)
	seen := map[string]bool{}
	for _, pr := range f.Map {
		if seen[pr.Key.Text] {
			sb.errorf(pr.Key.Pos, "%s: map key %q appears twice", where, pr.Key.Text)
			sb.ok = false
		}
		seen[pr.Key.Text] = true
		from := sb.literal(sb.from.Client, stype, pr.Key, where+": map key")
		to := sb.literal(sb.to.Client, a.Target.Type, pr.Value, where+": map value")
		if from == nil || to == nil {
			sb.ok = false
			continue
		}
		a.Map = append(a.Map, ir.MapPair{From: from, To: to})
	}
	if f.Else.IsSet() {
		if a.Else = sb.literal(sb.to.Client, a.Target.Type, f.Else, where+": else"); a.Else == nil {
			sb.ok = false
		}
		return
	}
	if st == nil || st.Kind != ir.Enum {
		sb.errorf(f.MapPos, "%s: the source %q is not an enum, so the map cannot be exhaustive; add else", where, f.From.Text)
		sb.ok = false
		return
	}
	var missing []string
	for _, ev := range st.EnumValues {
		if s := fmt.Sprint(ev.Value); !seen[s] {
			missing = append(missing, strconv.Quote(s))
		}
	}
	if len(missing) > 0 {
		sb.errorf(f.MapPos, "%s: map does not cover %s of %s; add them or an else", where, strings.Join(missing, ", "), st.Name)
		sb.ok = false
	}
}

func (sb *syncBinder) split(sp *config.Split) {
	where := fmt.Sprintf("%s: split of %q", sb.what, sp.From.Text)
	src, sf, ok := sb.source(sp.From)
	fn := sb.function(sp.With, where)
	if !ok || fn == nil {
		for _, pr := range sp.Into {
			sb.unproduced[pr.Value.Text] = true
		}
		return
	}
	a := &ir.Assign{Kind: ir.AssignSplit, Source: src, Func: fn, Pos: sp.Pos.String()}
	if len(fn.Params) != 1 {
		sb.errorf(sp.With.Pos, "%s: %s takes %s; a split function takes one (the %s value)", where, sp.With.Text, count(len(fn.Params), "parameter"), sf.Type.Unwrapped())
		sb.ok = false
		return
	}
	stype := qualify(sf.Type.Unwrapped(), sb.from.Client.ImportPath)
	if !sameType(fn.Params[0], stype) {
		sb.errorf(sp.With.Pos, "%s: %s takes %s but %q is %s", where, sp.With.Text, fn.Params[0], sp.From.Text, stype)
		sb.ok = false
		return
	}
	a.Into = make([]*ir.WField, len(fn.Results))
	for _, pr := range sp.Into {
		i := slices.Index(fn.ResultNames, pr.Key.Text)
		if i < 0 {
			sb.errorf(pr.Key.Pos, "%s", suggest(fmt.Sprintf("%s: %s has no result named %q", where, sp.With.Text, pr.Key.Text), pr.Key.Text, fn.ResultNames))
			sb.ok = false
			continue
		}
		wf := sb.target(pr.Value, false)
		if wf == nil {
			continue
		}
		if !sameType(fn.Results[i], wf.Type) {
			sb.errorf(pr.Value.Pos, "%s: result %q is %s but %q is %s", where, pr.Key.Text, fn.Results[i], pr.Value.Text, wf.Type)
			sb.ok = false
			continue
		}
		a.Into[i] = wf
	}
	sb.s.Assigns = append(sb.s.Assigns, a)
}

func (sb *syncBinder) merge(m *config.Merge) {
	where := fmt.Sprintf("%s: merge into %q", sb.what, m.Into.Text)
	fn := sb.function(m.With, where)
	a := &ir.Assign{Kind: ir.AssignMerge, Func: fn, Pos: m.Pos.String()}
	var types, wrapped []*ir.TypeRef
	for _, v := range m.From {
		p, f, ok := sb.source(v)
		if !ok {
			sb.unproduced[m.Into.Text] = true
			return
		}
		a.Sources = append(a.Sources, p)
		types = append(types, qualify(f.Type.Unwrapped(), sb.from.Client.ImportPath))
		wrapped = append(wrapped, qualify(f.Type, sb.from.Client.ImportPath))
	}
	wf := sb.target(m.Into, false)
	if fn == nil || wf == nil {
		return
	}
	a.Target = wf
	if len(fn.Params) != len(types) {
		sb.errorf(m.With.Pos, "%s: %s takes %s but from lists %s", where, m.With.Text, count(len(fn.Params), "parameter"), count(len(types), "field"))
		sb.ok = false
		return
	}
	for i, t := range types {
		last := a.Sources[i].Steps[len(a.Sources[i].Steps)-1]
		w := wrapped[i]
		optional := (w.Kind == ir.Opt || w.Kind == ir.Nullable || w.Kind == ir.Pointer) && !last.MapKey
		switch {
		case sameType(fn.Params[i], t):
			a.Optional = append(a.Optional, false)
			a.AsPointer = append(a.AsPointer, false)
		case optional && sameType(fn.Params[i], w):
			// The function takes the optional value itself: it is
			// called even when this input is absent.
			a.Optional = append(a.Optional, true)
			a.AsPointer = append(a.AsPointer, false)
		case optional && sameType(fn.Params[i], ir.Wrap(ir.Pointer, t)):
			// The same as a pointer, nil when absent.
			a.Optional = append(a.Optional, true)
			a.AsPointer = append(a.AsPointer, w.Kind != ir.Pointer)
		default:
			also := ""
			if optional {
				also = fmt.Sprintf(" (or %s or %s, taken as it is)", w, ir.Wrap(ir.Pointer, t))
			}
			sb.errorf(m.From[i].Pos, "%s: parameter %d of %s is %s but %q is %s%s", where, i+1, m.With.Text, fn.Params[i], m.From[i].Text, t, also)
			sb.ok = false
		}
	}
	if len(fn.Results) != 1 || !sameType(fn.Results[0], wf.Type) {
		sb.errorf(m.With.Pos, "%s: %s must return one %s (and optionally an error)", where, m.With.Text, wf.Type)
		sb.ok = false
		return
	}
	a.Into = []*ir.WField{wf}
	sb.s.Assigns = append(sb.s.Assigns, a)
}

// function resolves a with: reference "import/path.Func".
func (sb *syncBinder) function(v config.Value, where string) *ir.Func {
	i := strings.LastIndex(v.Text, ".")
	if i <= 0 || i == len(v.Text)-1 || strings.LastIndex(v.Text, "/") > i {
		sb.errorf(v.Pos, "%s: with must name a Go function as import/path.Func, not %q", where, v.Text)
		sb.ok = false
		return nil
	}
	if sb.in.Funcs == nil {
		sb.errorf(v.Pos, "%s: cannot load Go functions here", where)
		sb.ok = false
		return nil
	}
	fn, err := sb.in.Funcs(v.Text[:i], v.Text[i+1:])
	if err != nil {
		sb.ok = false
		// A package that does not load fails every function named in it
		// the same way: report it at its first use only.
		var pe *PackageError
		if errors.As(err, &pe) {
			if sb.failedPkgs[pe.ImportPath] {
				return nil
			}
			sb.failedPkgs[pe.ImportPath] = true
		}
		sb.errorf(v.Pos, "%s: %v", where, err)
		return nil
	}
	return fn
}

func (sb *syncBinder) match() {
	s := sb.s
	steps := sb.cfg.Match
	if len(steps) == 0 {
		steps = []config.MatchStep{{Kind: config.Value{Text: "xref"}}, {Kind: config.Value{Text: "create"}}}
	}
	for _, m := range steps {
		step, _ := ir.ParseMatchStep(m.Kind.Text) // the decoder accepts only known steps
		s.Match = append(s.Match, step)
		switch step {
		case ir.MatchXref:
			if s.Xref == "" {
				s.Xref = sb.cfg.Name
			}
			if sb.to.Update == nil {
				sb.errorf(sb.cfg.To.Pos, "%s: matching by xref needs an update operation on %q", sb.what, sb.to.Name)
				sb.ok = false
			}
		case ir.MatchCreate:
			if sb.to.Create == nil {
				sb.errorf(m.Kind.Pos, "%s: match step create needs a create operation on %q", sb.what, sb.to.Name)
				sb.ok = false
			}
		case ir.MatchKeyFrom:
			sb.keyFrom(m)
		case ir.MatchNaturalKey:
			prop, bySearch := strings.CutPrefix(m.By.Text, "search.")
			bySearch = bySearch && m.By.IsSet()
			if bySearch && !sb.findSearch(m, prop) {
				sb.ok = false
				continue
			}
			if !bySearch && sb.to.Find == nil {
				sb.errorf(m.Kind.Pos, "%s: match by natural key needs a find operation on %q", sb.what, sb.to.Name)
				sb.ok = false
				continue
			}
			wf, ok := sb.fields[m.NaturalKey.Text]
			if !ok && sb.unproduced[m.NaturalKey.Text] {
				continue
			}
			if !ok {
				sb.errorf(m.NaturalKey.Pos, "%s", suggest(fmt.Sprintf("%s: natural key %q is not a mapped target field", sb.what, m.NaturalKey.Text), m.NaturalKey.Text, sb.fieldNames()))
				sb.ok = false
				continue
			}
			if !isString(wf.Type) {
				sb.errorf(m.NaturalKey.Pos, "%s: natural key %q is %s; it must be a string", sb.what, m.NaturalKey.Text, wf.Type)
				sb.ok = false
			}
			if m.From.IsSet() {
				if _, _, ok := sb.source(m.From); !ok {
					continue
				}
			}
			s.NaturalKey = wf
			if bySearch {
				s.FindSearch = prop
				continue
			}
			sb.findBy(m)
			sb.findFilter(m)
		}
	}
}

// keyFrom checks a match step taking the target's key from a source field:
// the field is readable in the source and holds a key of the target key's
// type, and the target can be updated (the step finds a record to update,
// never one to create).
func (sb *syncBinder) keyFrom(m config.MatchStep) {
	s := sb.s
	if sb.to.Update == nil {
		sb.errorf(m.KeyFrom.Pos, "%s: match by key_from needs an update operation on %q", sb.what, sb.to.Name)
		sb.ok = false
		return
	}
	p, f, ok := sb.source(m.KeyFrom)
	if !ok {
		return
	}
	kk, kok := keyKind(f.Type.Unwrapped())
	switch {
	case !kok:
		sb.errorf(m.KeyFrom.Pos, "%s: key_from %q is %s; a key must be a string, an integer or a UUID", sb.what, m.KeyFrom.Text, f.Type.Unwrapped())
		sb.ok = false
		return
	case kk != sb.to.KeyKind:
		sb.errorf(m.KeyFrom.Pos, "%s: key_from %q is %s; %s's key %q is %s", sb.what, m.KeyFrom.Text, f.Type.Unwrapped(), sb.to.Name, sb.to.Key.Text, sb.to.KeyKind)
		sb.ok = false
		return
	}
	s.KeyFrom, s.KeyFromKind = p, kk
}

// findSearch checks a match step finding the target through its entity's
// search read (by: search.PROPERTY): the entity must read by search, and
// the search's operator enum must have EQ.
func (sb *syncBinder) findSearch(m config.MatchStep, prop string) bool {
	se := sb.to.Search
	if se == nil {
		sb.errorf(m.By.Pos, "%s: by: %q finds the target through its search read, but %q has no read.search", sb.what, m.By.Text, sb.to.Name)
		return false
	}
	if prop == "" || strings.ContainsAny(prop, " .[]") {
		sb.errorf(m.By.Pos, "%s: by: %q must name one search property (search.PROPERTY)", sb.what, m.By.Text)
		return false
	}
	if m.Filter.IsSet() {
		sb.errorf(m.Filter.Pos, "%s: filter: does not apply to a search match (by: %q compares the property with the key)", sb.what, m.By.Text)
		return false
	}
	if et := sb.typeOf(sb.to.Client, se.Op.Steps[len(se.Op.Steps)-1].Type.Unwrapped()); et != nil && et.Kind == ir.Enum {
		var vals []string
		for _, ev := range et.EnumValues {
			if v := fmt.Sprint(ev.Value); v == "EQ" {
				return true
			} else {
				vals = append(vals, v)
			}
		}
		sb.errorf(m.By.Pos, "%s: by: %q needs the search operator EQ, which %q does not have (%s)", sb.what, m.By.Text, se.Call.Op.ID, strings.Join(vals, ", "))
		return false
	}
	return true
}

// findBy decides where the find operation takes the natural key: the
// parameter or body path given by by:, else the parameter named like the
// key's last segment, else the operation's one required parameter.
func (sb *syncBinder) findBy(m config.MatchStep) {
	s, find := sb.s, sb.to.Find
	var names []string
	for _, p := range find.Op.Params {
		names = append(names, p.Name)
	}
	if by, ok := strings.CutPrefix(m.By.Text, "body."); ok && m.By.IsSet() {
		if find.BodyType == nil {
			sb.errorf(m.By.Pos, "%s: find operation %q has no request body to take the natural key", sb.what, find.Op.ID)
			sb.ok = false
			return
		}
		p, f, ok := sb.path(find.Client, find.BodyType, config.Value{Text: by, Pos: m.By.Pos}, sb.what+": find body field")
		if !ok {
			sb.ok = false
			return
		}
		if u := f.Type.Unwrapped(); !isString(u) {
			sb.errorf(m.By.Pos, "%s: find body field %q is %s; natural keys are strings", sb.what, by, u)
			sb.ok = false
			return
		}
		s.FindBody = p
		return
	}
	want := m.NaturalKey.Text[strings.LastIndex(m.NaturalKey.Text, ".")+1:]
	if m.By.IsSet() {
		want = m.By.Text
	}
	for _, p := range find.Op.Params {
		if p.Name == want {
			s.FindParam = p
		}
	}
	if s.FindParam == nil && m.By.IsSet() {
		sb.errorf(m.By.Pos, "%s", suggest(fmt.Sprintf("%s: find operation %q has no parameter %q (write body.PATH for a request body field)", sb.what, find.Op.ID, want), want, names))
		sb.ok = false
		return
	}
	if s.FindParam == nil {
		if free := freeParams(find, ""); len(free) == 1 {
			s.FindParam = free[0]
		}
	}
	if s.FindParam == nil {
		sb.errorf(m.NaturalKey.Pos, "%s: find operation %q has no parameter %q and no single required parameter to take the natural key; name it with by:", sb.what, find.Op.ID, want)
		sb.ok = false
	} else if u := s.FindParam.Type.Unwrapped(); !isString(u) {
		sb.errorf(m.NaturalKey.Pos, "%s: find parameter %q is %s; natural keys are strings", sb.what, s.FindParam.Name, u)
		sb.ok = false
	}
}

func (sb *syncBinder) fieldNames() []string {
	var out []string
	for _, f := range sb.s.Fields {
		out = append(out, f.Path)
	}
	return out
}

func (sb *syncBinder) conflicts() {
	def := ir.SourceWins
	if sb.cfg.ConflictDefault.IsSet() {
		def, _ = ir.ParsePolicy(sb.cfg.ConflictDefault.Text) // checked by the decoder
	}
	for _, f := range sb.s.Fields {
		f.Policy = def
	}
	for _, c := range sb.cfg.Conflicts {
		wf, ok := sb.fields[c.Field.Text]
		if !ok && sb.unproduced[c.Field.Text] {
			continue
		}
		if !ok {
			sb.errorf(c.Field.Pos, "%s", suggest(fmt.Sprintf("%s: conflicts: %q is not a mapped target field", sb.what, c.Field.Text), c.Field.Text, sb.fieldNames()))
			sb.ok = false
			continue
		}
		if c.Policy.IsSet() {
			wf.Policy, _ = ir.ParsePolicy(c.Policy.Text)
		}
	}
	lwwReported, lwwPos := false, sb.cfg.Pos
	if sb.cfg.ConflictDefault.Text == "last_writer_wins" {
		lwwPos = sb.cfg.ConflictDefault.Pos
	} else {
		for _, c := range sb.cfg.Conflicts {
			if c.Policy.Text == "last_writer_wins" {
				lwwPos = c.Policy.Pos
				break
			}
		}
	}
	for _, f := range sb.s.Fields {
		if f.Policy == ir.SourceWins {
			continue
		}
		sb.s.HasConflicts = true
		if len(f.Read.Steps) == 0 || sb.to.Get == nil && sb.to.Find == nil {
			sb.errorf(sb.cfg.Pos, "%s: conflict policy %s on %q needs to read the target: the field must exist on %s and the entity needs a read get operation", sb.what, f.Policy, f.Path, sb.to.Name)
			sb.ok = false
		}
		if f.Policy == ir.LastWriterWins && len(sb.to.Changed.Steps) == 0 && !lwwReported {
			// Without the target's change time every comparison would
			// see a zero time and the source would always win.
			lwwReported = true
			sb.errorf(lwwPos, "%s: last_writer_wins needs the change time of %s: declare changed: (a date-time field) or a date-time cursor on that entity", sb.what, sb.to.Name)
			sb.ok = false
		}
	}
	if sb.s.HasConflicts && sb.to.Get == nil {
		sb.errorf(sb.cfg.Pos, "%s: conflict policies other than source_wins need a read get operation on %q", sb.what, sb.to.Name)
		sb.ok = false
	}
}

// requiredCreate checks that every field the create operation requires is
// produced on every create.
func (sb *syncBinder) requiredCreate() {
	to := sb.to
	if to.Create == nil || !slices.Contains(sb.s.Match, ir.MatchCreate) {
		return
	}
	body := sb.typeOf(to.Client, to.Create.BodyType)
	if body == nil {
		return
	}
	produced := map[string]bool{}
	for _, a := range sb.s.Assigns {
		switch a.Kind {
		case ir.AssignConst:
			produced[a.Target.Path] = true
		case ir.AssignFrom:
			if a.Default != nil || alwaysPresent(a.Source) || sb.filtered[a.Source.Text] {
				produced[a.Target.Path] = true
			}
		case ir.AssignTemplate:
			produced[a.Target.Path] = templatePresent(sb, a)
		}
	}
	// A nested target (profile.email) produces its parents (profile).
	for p := range produced {
		for i := strings.IndexByte(p, '.'); i > 0; i = indexFrom(p, '.', i+1) {
			produced[p[:i]] = true
		}
	}
	for _, f := range body.Fields {
		if !f.Required || f.ReadOnly {
			continue
		}
		if produced[f.JSONName] {
			continue
		}
		if _, mapped := sb.fields[f.JSONName]; mapped {
			sb.errorf(sb.cfg.Pos, "%s: %q is required by %s but its source may be absent or null; add a default or a trigger condition {field: …, present: true}", sb.what, f.JSONName, to.Create.Op.ID)
		} else {
			sb.errorf(sb.cfg.Pos, "%s: %q is required by %s but no field mapping produces it", sb.what, f.JSONName, to.Create.Op.ID)
		}
		sb.ok = false
	}
}

// conversion decides how a source value of type s becomes a target value
// of type t.
func conversion(s, t *ir.TypeRef, sEnum, tEnum bool) (ir.Conversion, bool) {
	switch {
	case sameType(s, t):
		return ir.ConvNone, true
	case t != nil && t.Kind == ir.Builtin && t.Name == "any":
		// An untyped target (a map of any values) takes every value.
		return ir.ConvGo, true
	case t.IsRawJSON():
		// An untyped JSON target takes every value, marshalled.
		return ir.ConvToRawJSON, true
	case tEnum:
		return 0, false
	case sEnum && isString(t):
		return ir.ConvGo, true
	case isInt(s) && (isInt(t) || isFloat(t)):
		return ir.ConvGo, true
	case isFloat(s) && isFloat(t):
		return ir.ConvGo, true
	case isTime(s) && isDate(t):
		return ir.ConvTimeToDate, true
	case isDate(s) && isTime(t):
		return ir.ConvDateToTime, true
	case isString(t):
		switch {
		case isTime(s):
			return ir.ConvTimeToString, true
		case isDate(s):
			return ir.ConvDateToString, true
		case isInt(s):
			return ir.ConvIntToString, true
		case isFloat(s):
			return ir.ConvFloatToString, true
		case s.Kind == ir.Builtin && s.Name == "bool":
			return ir.ConvBoolToString, true
		case s.Kind == ir.Named && s.Pkg == ir.PkgOAS && s.Name == "UUID":
			return ir.ConvStringerToString, true
		}
	case isString(s):
		switch {
		case isInt(t):
			return ir.ConvStringToInt, true
		case isFloat(t):
			return ir.ConvStringToFloat, true
		case isTime(t):
			return ir.ConvStringToTime, true
		}
	}
	return 0, false
}

// clearKind decides how an update clears the field: null where the update
// body's field is nullable, an empty string for string (and string enum)
// fields, otherwise not at all.
func (sb *syncBinder) clearKind(wf *ir.WField) ir.ClearKind {
	if len(wf.Update.Steps) == 0 {
		return ir.ClearNone
	}
	leaf := wf.Update.Leaf()
	if leaf.Kind == ir.Nullable {
		if wf.Update.Steps[len(wf.Update.Steps)-1].MapKey {
			return ir.ClearNone // a map entry cannot be set null in place
		}
		return ir.ClearNull
	}
	u := leaf.Unwrapped()
	if isString(u) {
		return ir.ClearEmpty
	}
	if t := sb.typeOf(sb.to.Client, u); t != nil && t.Kind == ir.Enum && t.EnumBase != nil && isString(t.EnumBase) {
		return ir.ClearEmpty
	}
	return ir.ClearNone
}

// count writes n with its noun: "1 parameter", "2 parameters".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// indexFrom is strings.IndexByte from position i (-1 when absent).
func indexFrom(s string, c byte, i int) int {
	if j := strings.IndexByte(s[i:], c); j >= 0 {
		return i + j
	}
	return -1
}

// exitAction binds on_exit: a final write of constants through the
// target's update, or an archive/delete operation taking the target key,
// and its condition on the source record leaving (when).
func (sb *syncBinder) exitAction(a *config.ExitAction) *ir.ExitAction {
	out := sb.exitOp(a)
	if a.When != nil {
		when := sb.pred(a.When, false, "on_exit when")
		if out != nil {
			out.When = when
		}
	}
	return out
}

// exitOp binds on_exit's action.
func (sb *syncBinder) exitOp(a *config.ExitAction) *ir.ExitAction {
	to := sb.to
	what := sb.what + ": on_exit"
	if len(a.Set) > 0 {
		if to.Update == nil {
			sb.errorf(a.Pos, "%s: exit action on a read-only target: entity %q has no update operation, so its records cannot change after they are created", what, to.Name)
			sb.ok = false
			return nil
		}
		if to.Bulk != nil && to.KeyKind != ir.KeyString {
			sb.errorf(a.Pos, "%s: set on a bulk target needs a string key (the final write carries the record's key %q in its body)", what, to.Key.Text)
			sb.ok = false
			return nil
		}
		out := &ir.ExitAction{Kind: ir.ExitSet, Op: to.Update}
		for _, pr := range a.Set {
			p, f, ok := sb.path(to.Client, to.Update.BodyType, pr.Key, what+": target field")
			if !ok {
				sb.ok = false
				continue
			}
			if f.ReadOnly {
				sb.errorf(pr.Key.Pos, "%s: target field %q is read-only in %q", what, pr.Key.Text, to.Update.Op.ID)
				sb.ok = false
				continue
			}
			if p.HasMapKey() && !p.Steps[len(p.Steps)-1].MapKey {
				sb.errorf(pr.Key.Pos, "%s: a map key must be the last segment of target field %q", what, pr.Key.Text)
				sb.ok = false
				continue
			}
			lit := sb.literal(to.Client, p.Steps[len(p.Steps)-1].Type.Unwrapped(), pr.Value, fmt.Sprintf("%s: %q", what, pr.Key.Text))
			if lit == nil {
				sb.ok = false
				continue
			}
			out.Set = append(out.Set, ir.ExitField{Path: p, Value: lit})
		}
		// A required body field the exit write leaves out would be sent
		// as its zero value and wipe the target's: refuse rather than
		// lose data.
		if bt := sb.typeOf(to.Client, to.Update.BodyType); bt != nil && sb.ok {
			for _, f := range bt.Fields {
				if to.Bulk != nil && f.JSONName == to.Bulk.ItemKey.Text {
					continue // the bulk record's key is written from the target key
				}
				// A member set (properties.stripe_customer_id) sends the
				// field with that member: it is not sent empty.
				sets := func(pr config.Pair) bool {
					k := pr.Key.Text
					return k == f.JSONName || strings.HasPrefix(k, f.JSONName+".") || strings.HasPrefix(k, f.JSONName+"[")
				}
				if f.Required && !f.ReadOnly && !slices.ContainsFunc(a.Set, sets) {
					sb.errorf(a.Pos, "%s: update operation %q requires field %q, which the exit write does not set (it would be sent empty); add it to set", what, to.Update.Op.ID, f.JSONName)
					sb.ok = false
					return nil
				}
			}
		}
		return out
	}
	kind, v := ir.ExitArchive, a.Archive
	if a.Delete.IsSet() {
		kind, v = ir.ExitDelete, a.Delete
	}
	if to.Update == nil {
		sb.errorf(a.Pos, "%s: exit action on a read-only target: entity %q has no update operation, so its records cannot change after they are created", what, to.Name)
		sb.ok = false
		return nil
	}
	op := sb.opByID(to.Client, v, what)
	if op == nil {
		sb.ok = false
		return nil
	}
	if op.HTTPMethod == "GET" || op.HTTPMethod == "HEAD" {
		sb.errorf(v.Pos, "%s: operation %q is a %s: it reads, it cannot archive or delete", what, v.Text, op.HTTPMethod)
		sb.ok = false
		return nil
	}
	oc := &ir.OpCall{Client: to.Client, Op: op, Consts: to.Update.Consts}
	var consts []ir.ConstParam
	for _, c := range to.Update.Consts {
		for _, p := range op.Params {
			if p.Name == c.Param.Name {
				consts = append(consts, ir.ConstParam{Param: p, Value: c.Value})
			}
		}
	}
	oc.Consts = consts
	if op.Body != nil && op.Body.Required {
		sb.errorf(v.Pos, "%s: operation %q requires a request body; an archive or delete takes only the record key", what, v.Text)
		sb.ok = false
		return nil
	}
	free := freeParams(oc, ir.InPath)
	if len(free) != 1 {
		sb.errorf(v.Pos, "%s: operation %q must take the record key as its one path parameter not fixed under params (has %d)", what, v.Text, len(free))
		sb.ok = false
		return nil
	}
	k, ok := keyKind(free[0].Type.Unwrapped())
	if !ok || k != to.KeyKind {
		sb.errorf(v.Pos, "%s: path parameter %q of %q is %s, not the target key's type", what, free[0].Name, v.Text, free[0].Type.Unwrapped())
		sb.ok = false
		return nil
	}
	oc.KeyParam, oc.KeyKind = free[0], k
	return &ir.ExitAction{Kind: kind, Op: oc}
}

// echoSuppression checks echo_suppression and returns the name of the
// sync writing the other way ("" when there is none, an error). It only
// means something when another sync writes the other way between the
// same two entities.
func (sb *syncBinder) echoSuppression(cfg *config.Sync) string {
	v := cfg.EchoSuppression
	var back string
	for _, o := range sb.in.Config.Syncs {
		if o != cfg && o.From.Text == cfg.To.Text && o.To.Text == cfg.From.Text {
			back = o.Name
			break
		}
	}
	if back == "" {
		sb.errorf(v.Pos, "%s: echo-suppression config on a one-way sync: no sync writes %s back to %s", sb.what, cfg.To.Text, cfg.From.Text)
		sb.ok = false
		return back
	}
	kinds := sb.matchKinds()
	if len(kinds) == 0 {
		kinds = []string{"xref", "create"} // the default
	}
	if !slices.Contains(kinds, "create") && !slices.Contains(kinds, "key_from") && sb.from.Get == nil {
		// It writes only records the other direction linked; one read
		// before its link exists is read again when the link arrives
		// (engine, echo.go), which takes a fetch.
		sb.diags.Warnf(v.Pos, "%s: matches only records %s linked, and %q has no read.get: a record read before its link exists is not read again until it changes (declare read.get, or match by key_from)", sb.what, back, cfg.From.Text)
	}
	return back
}
