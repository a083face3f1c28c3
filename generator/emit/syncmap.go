package emit

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/connectorgen/connectorgen/generator/ir"
)

// This file emits the mapping functions of a sync: Map, the trigger
// predicates, the field table and the request-body builders.

// literal renders a bound constant with its type (an enum constant, or a
// literal converted to its builtin type when inference would pick another).
func literal(l *ir.Literal) jen.Code {
	if l.Const != nil {
		return jen.Qual(l.Const.Pkg, l.Const.Name)
	}
	switch v := l.Value.(type) {
	case int64:
		return jen.Id(l.Type.Name).Call(jen.Lit(int(v)))
	case float64:
		return jen.Id(l.Type.Name).Call(jen.Lit(v))
	}
	return jen.Lit(l.Value)
}

func (e *syncEmitter) mapFunc(f *jen.File, s *ir.Sync) {
	var body []jen.Code
	body = append(body, jen.Var().Id("w").Id(s.WriteType))
	for _, a := range s.Assigns {
		stmts := e.assign(s, a)
		// Each mapping gets its own block so their temporaries do not
		// collide.
		if a.CreateOnly {
			body = append(body, jen.If(jen.Id("create")).Block(stmts...))
		} else {
			body = append(body, jen.Block(stmts...))
		}
	}
	body = append(body, jen.Return(jen.Id("w"), jen.Nil()))
	f.Add(comment(fmt.Sprintf("%s maps one %s to the fields sync %s writes to %s.", s.Funcs.Map, s.From.Name, s.Name, s.To.Name)))
	f.Func().Id(s.Funcs.Map).Params(
		jen.Id("ctx").Qual("context", "Context"),
		jen.Id("s").Op("*").Add(typeCode(s.From.Type)),
		jen.Id("l").Qual(PkgEngine, "Lookups"),
		jen.Id("create").Bool(),
	).Params(jen.Id(s.WriteType), jen.Error()).Block(body...)
}

// set assigns value to write field w.
func set(w *ir.WField, value jen.Code) jen.Code {
	return jen.Id("w").Dot(w.GoName).Op("=").Qual(ir.PkgOAS, "Value").Call(value)
}

// absentClears emits the statements that mark targets null when a source
// path had no value (seen stayed false), so updates clear them.
func absentClears(p ir.Path, targets []*ir.WField, stmts []jen.Code) []jen.Code {
	if alwaysReturns(p) {
		return stmts
	}
	var clears []jen.Code
	for _, w := range targets {
		if w != nil {
			clears = append(clears, jen.If(jen.Id("w").Dot(w.GoName).Dot("IsZero").Call()).Block(jen.Id("w").Dot(w.GoName).Op("=").Qual(ir.PkgOAS, "Null").Types(typeCode(w.Type)).Call()))
		}
	}
	out := []jen.Code{jen.Id("seen").Op(":=").False()}
	out = append(out, stmts...)
	return append(out, jen.If(jen.Op("!").Id("seen")).Block(clears...))
}

// markSeen prefixes a leaf body with seen = true when the path can be
// absent.
func markSeen(p ir.Path, body []jen.Code) []jen.Code {
	if alwaysReturns(p) {
		return body
	}
	return append([]jen.Code{jen.Id("seen").Op("=").True()}, body...)
}

// fail returns the permanent error of a mapping that cannot succeed.
func fail(format string, args ...jen.Code) jen.Code {
	return jen.Return(jen.Id("w"), jen.Qual(PkgEngine, "Permanent").Call(jen.Qual("fmt", "Errorf").Call(append([]jen.Code{jen.Lit(format)}, args...)...)))
}

func (e *syncEmitter) assign(s *ir.Sync, a *ir.Assign) []jen.Code {
	src := func() jen.Code { return jen.Id("s") }
	lead := jen.Comment(fmt.Sprintf("%s ← %s", targetName(a), sourceName(a)))
	switch a.Kind {
	case ir.AssignConst:
		return []jen.Code{lead, set(a.Target, literal(a.Const))}
	case ir.AssignFrom:
		body := walk(src, a.Source.Steps, func(v func() jen.Code) []jen.Code {
			if a.Map != nil {
				return markSeen(a.Source, e.enumSwitch(a, v()))
			}
			return markSeen(a.Source, e.convert(a, v()))
		}, 0)
		if a.Default != nil {
			body = append(body, jen.If(jen.Id("w").Dot(a.Target.GoName).Dot("IsZero").Call()).Block(set(a.Target, literal(a.Default))))
		}
		body = append(body, prependAbsent(a)...)
		return append([]jen.Code{lead}, absentClears(a.Source, []*ir.WField{a.Target}, body)...)
	case ir.AssignTemplate:
		return e.templateAssign(a, lead)
	case ir.AssignLookup:
		return append([]jen.Code{lead}, absentClears(a.Source, []*ir.WField{a.Target}, walk(src, a.Source.Steps, func(v func() jen.Code) []jen.Code {
			var missing jen.Code
			switch a.Missing {
			case ir.MissingDefer:
				missing = jen.Return(jen.Id("w"), jen.Qual("fmt", "Errorf").Call(jen.Lit(fmt.Sprintf("%s: no %s xref for %%q yet: %%w", a.Target.Path, a.Lookup)), jen.Id("key"), jen.Qual(PkgEngine, "ErrDeferred")))
			case ir.MissingFail:
				missing = fail(fmt.Sprintf("%s: no %s xref for %%q", a.Target.Path, a.Lookup), jen.Id("key"))
			default:
				missing = jen.Comment("missing: skip leaves the field unset")
			}
			return markSeen(a.Source, []jen.Code{
				jen.Id("key").Op(":=").String().Call(v()),
				jen.List(jen.Id("t"), jen.Id("found"), jen.Err()).Op(":=").Id("l").Dot("Lookup").Call(jen.Id("ctx"), jen.Lit(a.Lookup), jen.Id("key")),
				jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Id("w"), jen.Err())),
				jen.If(jen.Id("found")).Block(set(a.Target, jen.Id("t"))).Else().Block(missing),
			})
		}, 0))...)
	case ir.AssignSplit:
		return append([]jen.Code{lead}, absentClears(a.Source, a.Into, walk(src, a.Source.Steps, func(v func() jen.Code) []jen.Code {
			return markSeen(a.Source, e.callFunc(a, []jen.Code{v()}))
		}, 0))...)
	case ir.AssignMerge:
		var vals []jen.Code
		var nest func(i int) []jen.Code
		all := ir.Path{}
		for _, p := range a.Sources {
			all.Steps = append(all.Steps, p.Steps...)
		}
		nest = func(i int) []jen.Code {
			if i == len(a.Sources) {
				return markSeen(all, e.callFunc(a, vals))
			}
			if a.Optional[i] {
				// Passed as it is (absent included): read the field
				// itself, its parents only when present.
				id := fmt.Sprintf("m%d", i)
				vals = append(vals, jen.Id(id))
				steps := a.Sources[i].Steps
				last := steps[len(steps)-1]
				stmts := []jen.Code{jen.Var().Id(id).Add(typeCode(a.Func.Params[i]))}
				parents := steps[:len(steps)-1]
				deref := false
				if n := len(parents); n > 0 && !parents[n-1].MapKey {
					t := parents[n-1].Type
					deref = t.Kind == ir.Pointer || (t.Kind == ir.Opt || t.Kind == ir.Nullable) && t.Elem.Kind == ir.Pointer
				}
				stmts = append(stmts, walk(src, parents, func(v func() jen.Code) []jen.Code {
					// walk dereferences a pointer parent it ends on.
					parent := v()
					if deref {
						parent = jen.Parens(parent)
					}
					val := jen.Add(parent).Dot(last.Field)
					if a.AsPointer[i] {
						val = jen.Qual(ir.PkgOAS, "Ptr").Call(val)
					}
					return []jen.Code{jen.Id(id).Op("=").Add(val)}
				}, 10*(i+1))...)
				return append(stmts, nest(i+1)...)
			}
			return walk(src, a.Sources[i].Steps, func(v func() jen.Code) []jen.Code {
				id := fmt.Sprintf("m%d", i)
				vals = append(vals, jen.Id(id))
				return append([]jen.Code{jen.Id(id).Op(":=").Add(v())}, nest(i+1)...)
			}, 10*(i+1))
		}
		return append([]jen.Code{lead}, absentClears(all, a.Into, nest(0))...)
	}
	return nil
}

func targetName(a *ir.Assign) string {
	if a.Kind == ir.AssignSplit {
		var names []string
		for _, w := range a.Into {
			if w != nil {
				names = append(names, w.Path)
			}
		}
		return fmt.Sprint(names)
	}
	return a.Target.Path
}

func sourceName(a *ir.Assign) string {
	switch a.Kind {
	case ir.AssignConst:
		return fmt.Sprintf("constant %v", a.Const.Value)
	case ir.AssignLookup:
		return fmt.Sprintf("%s via xref %s", a.Source.Text, a.Lookup)
	case ir.AssignSplit, ir.AssignMerge:
		var srcs []string
		if a.Kind == ir.AssignSplit {
			srcs = []string{a.Source.Text}
		}
		for _, p := range a.Sources {
			srcs = append(srcs, p.Text)
		}
		return fmt.Sprintf("%s.%s%v", a.Func.ImportPath, a.Func.Name, srcs)
	}
	if a.Map != nil {
		return a.Source.Text + " (value map)"
	}
	if a.Kind == ir.AssignTemplate {
		return fmt.Sprintf("template %q", a.Template.Raw)
	}
	if len(a.Prepend) > 0 {
		return fmt.Sprintf("%s after %v", a.Source.Text, prependValues(a))
	}
	return a.Source.Text
}

func prependValues(a *ir.Assign) []any {
	var out []any
	for _, l := range a.Prepend {
		out = append(out, l.Value)
	}
	return out
}

// callFunc emits a split or merge function call and spreads its results.
func (e *syncEmitter) callFunc(a *ir.Assign, args []jen.Code) []jen.Code {
	var lhs []jen.Code
	for i := range a.Func.Results {
		lhs = append(lhs, jen.Id(fmt.Sprintf("r%d", i)))
	}
	if a.Func.HasError {
		lhs = append(lhs, jen.Err())
	}
	stmts := []jen.Code{jen.List(lhs...).Op(":=").Qual(a.Func.ImportPath, a.Func.Name).Call(args...)}
	if a.Func.HasError {
		stmts = append(stmts, jen.If(jen.Err().Op("!=").Nil()).Block(
			fail(fmt.Sprintf("%s.%s: %%w", a.Func.ImportPath, a.Func.Name), jen.Err())))
	}
	for i, w := range a.Into {
		if w == nil {
			stmts = append(stmts, jen.Id("_").Op("=").Id(fmt.Sprintf("r%d", i)))
			continue
		}
		stmts = append(stmts, set(w, jen.Id(fmt.Sprintf("r%d", i))))
	}
	return stmts
}

// enumSwitch maps enum values; unknown values (open enums) fall to else or
// fail the record.
func (e *syncEmitter) enumSwitch(a *ir.Assign, v jen.Code) []jen.Code {
	var cases []jen.Code
	for _, m := range a.Map {
		cases = append(cases, jen.Case(literal(m.From)).Block(set(a.Target, literal(m.To))))
	}
	if a.Else != nil {
		cases = append(cases, jen.Default().Block(set(a.Target, literal(a.Else))))
	} else {
		cases = append(cases, jen.Default().Block(fail(a.Target.Path+": no mapping for %s value %v", jen.Lit(a.Source.Text), jen.Id("v"))))
	}
	return []jen.Code{jen.Id("v").Op(":=").Add(v), jen.Switch(jen.Id("v")).Block(cases...)}
}

// convert emits the conversion and transforms of a from mapping.
func (e *syncEmitter) convert(a *ir.Assign, v jen.Code) []jen.Code {
	t := a.Target.Type
	stmts := []jen.Code{}
	x := jen.Id("x")
	switch a.Conv {
	case ir.ConvNone:
		stmts = append(stmts, jen.Id("x").Op(":=").Add(v))
	case ir.ConvGo:
		stmts = append(stmts, jen.Id("x").Op(":=").Add(typeCode(t)).Call(v))
	case ir.ConvTimeToDate:
		stmts = append(stmts, jen.Id("x").Op(":=").Qual(ir.PkgOAS, "DateOf").Call(v))
	case ir.ConvDateToTime:
		stmts = append(stmts, jen.Id("x").Op(":=").Add(v).Dot("Time").Call())
	case ir.ConvTimeToString:
		stmts = append(stmts, jen.Id("x").Op(":=").Add(v).Dot("Format").Call(jen.Qual("time", "RFC3339Nano")))
	case ir.ConvDateToString, ir.ConvStringerToString:
		stmts = append(stmts, jen.Id("x").Op(":=").Add(v).Dot("String").Call())
	case ir.ConvIntToString:
		stmts = append(stmts, jen.Id("x").Op(":=").Qual("strconv", "FormatInt").Call(jen.Int64().Call(v), jen.Lit(10)))
	case ir.ConvFloatToString:
		stmts = append(stmts, jen.Id("x").Op(":=").Qual("strconv", "FormatFloat").Call(jen.Float64().Call(v), jen.LitRune('f'), jen.Lit(-1), jen.Lit(64)))
	case ir.ConvBoolToString:
		stmts = append(stmts, jen.Id("x").Op(":=").Qual("strconv", "FormatBool").Call(v))
	case ir.ConvStringToInt:
		stmts = append(stmts,
			jen.List(jen.Id("n"), jen.Err()).Op(":=").Qual("strconv", "ParseInt").Call(jen.String().Call(v), jen.Lit(10), jen.Lit(64)),
			jen.If(jen.Err().Op("!=").Nil()).Block(fail(a.Target.Path+": %w", jen.Err())),
			jen.Id("x").Op(":=").Add(typeCode(t)).Call(jen.Id("n")))
	case ir.ConvStringToFloat:
		stmts = append(stmts,
			jen.List(jen.Id("n"), jen.Err()).Op(":=").Qual("strconv", "ParseFloat").Call(jen.String().Call(v), jen.Lit(64)),
			jen.If(jen.Err().Op("!=").Nil()).Block(fail(a.Target.Path+": %w", jen.Err())),
			jen.Id("x").Op(":=").Add(typeCode(t)).Call(jen.Id("n")))
	case ir.ConvToRawJSON:
		stmts = append(stmts,
			jen.List(jen.Id("j"), jen.Err()).Op(":=").Qual("encoding/json", "Marshal").Call(v),
			jen.If(jen.Err().Op("!=").Nil()).Block(fail(a.Target.Path+": %w", jen.Err())),
			jen.Id("x").Op(":=").Qual("encoding/json", "RawMessage").Call(jen.Id("j")))
	case ir.ConvStringToTime:
		stmts = append(stmts,
			jen.List(jen.Id("x"), jen.Err()).Op(":=").Qual("time", "Parse").Call(jen.Qual("time", "RFC3339Nano"), jen.String().Call(v)),
			jen.If(jen.Err().Op("!=").Nil()).Block(fail(a.Target.Path+": %w", jen.Err())))
	}
	for _, tr := range a.Transforms {
		switch tr {
		case ir.TransformTrim:
			stmts = append(stmts, jen.Id("x").Op("=").Qual("strings", "TrimSpace").Call(x))
		case ir.TransformLower:
			stmts = append(stmts, jen.Id("x").Op("=").Qual("strings", "ToLower").Call(x))
		case ir.TransformUpper:
			stmts = append(stmts, jen.Id("x").Op("=").Qual("strings", "ToUpper").Call(x))
		case ir.TransformSquash:
			stmts = append(stmts, jen.Id("x").Op("=").Qual(PkgSyncUtil, "Squash").Call(x))
		}
	}
	stmts = append(stmts, prependStmt(a)...)
	return append(stmts, set(a.Target, x))
}

func (e *syncEmitter) predFunc(f *jen.File, s *ir.Sync, name, which string, p *ir.Pred) {
	f.Add(comment(fmt.Sprintf("%s is %s of sync %s.", name, which, s.Name)))
	f.Func().Id(name).Params(jen.Id("s").Op("*").Add(typeCode(s.From.Type))).Bool().Block(jen.Return(predExpr(p)))
}

// predExpr renders a predicate as a boolean expression; each field test
// is a function literal so absent values have a defined result (eq, in
// and present are false, ne is true).
func predExpr(p *ir.Pred) jen.Code {
	join := func(ps []*ir.Pred, op string) jen.Code {
		var out *jen.Statement
		for _, q := range ps {
			if out == nil {
				out = jen.Parens(predExpr(q))
				continue
			}
			out = out.Op(op).Parens(predExpr(q))
		}
		if out == nil {
			return jen.Lit(op == "&&")
		}
		return out
	}
	switch {
	case p.All != nil:
		return join(p.All, "&&")
	case p.Any != nil:
		return join(p.Any, "||")
	case p.Not != nil:
		return jen.Op("!").Parens(predExpr(p.Not))
	}
	absent := jen.False()
	if p.Op == ir.OpNe || (p.Op == ir.OpPresent && !p.Present) {
		absent = jen.True()
	}
	body := walk(func() jen.Code { return jen.Id("s") }, p.Field.Steps, func(v func() jen.Code) []jen.Code {
		switch p.Op {
		case ir.OpEq:
			return []jen.Code{jen.Return(jen.Add(v()).Op("==").Add(literal(p.Operands[0])))}
		case ir.OpNe:
			return []jen.Code{jen.Return(jen.Add(v()).Op("!=").Add(literal(p.Operands[0])))}
		case ir.OpContains:
			return []jen.Code{jen.Return(jen.Qual("slices", "Contains").Call(v(), literal(p.Operands[0])))}
		case ir.OpIn:
			var cases []jen.Code
			for _, o := range p.Operands {
				cases = append(cases, literal(o))
			}
			return []jen.Code{jen.Switch(v()).Block(jen.Case(cases...).Block(jen.Return(jen.True()))), jen.Return(jen.False())}
		}
		present := presentExpr(p.Field.Leaf().Unwrapped(), v())
		if !p.Present {
			present = jen.Op("!").Parens(present)
		}
		return []jen.Code{jen.Return(present)}
	}, 0)
	if !alwaysReturns(p.Field) {
		body = append(body, jen.Return(absent))
	}
	return jen.Func().Params().Bool().Block(body...).Call()
}

// presentExpr tests that a value is not empty.
func presentExpr(t *ir.TypeRef, v jen.Code) jen.Code {
	switch t.Kind {
	case ir.Slice, ir.Map:
		return jen.Len(v).Op(">").Lit(0)
	case ir.Named:
		if t.Pkg == "time" && t.Name == "Time" {
			return jen.Op("!").Add(v).Dot("IsZero").Call()
		}
	}
	return jen.Qual(PkgSyncUtil, "NonZero").Call(v)
}

func policyConst(p ir.Policy) jen.Code {
	switch p {
	case ir.TargetWins:
		return jen.Qual(PkgEngine, "TargetWins")
	case ir.LastWriterWins:
		return jen.Qual(PkgEngine, "LastWriterWins")
	case ir.Queue:
		return jen.Qual(PkgEngine, "Queue")
	}
	return jen.Qual(PkgEngine, "SourceWins")
}

func (e *syncEmitter) fieldsFunc(f *jen.File, s *ir.Sync) {
	wt := jen.Op("*").Id(s.WriteType)
	var items []jen.Code
	for _, w := range s.Fields {
		d := jen.Dict{
			jen.Id("Path"):   jen.Lit(w.Path),
			jen.Id("Policy"): policyConst(w.Policy),
			jen.Id("Value"): jen.Func().Params(jen.Id("w").Add(wt)).Params(jen.String(), jen.Bool()).Block(
				jen.Return(jen.Qual(PkgSyncUtil, "FieldJSON").Call(jen.Id("w").Dot(w.GoName)))),
			jen.Id("Clear"): jen.Func().Params(jen.Id("w").Add(wt)).Block(jen.Id("w").Dot(w.GoName).Op("=").Qual(ir.PkgOAS, "Nullable").Types(typeCode(w.Type)).Values()),
		}
		if w.CreateOnly {
			d[jen.Id("CreateOnly")] = jen.True()
		}
		items = append(items, jen.Values(d))
	}
	f.Add(comment(fmt.Sprintf("%s describes the target fields of sync %s for snapshots and conflict policies.", s.Funcs.Fields, s.Name)))
	f.Func().Id(s.Funcs.Fields).Params().Index().Qual(PkgEngine, "Field").Types(jen.Id(s.WriteType)).Block(
		jen.Return(jen.Index().Qual(PkgEngine, "Field").Types(jen.Id(s.WriteType)).Values(items...)))
}

// bodyFunc emits the builder of a write operation's request body from the
// write struct.
func (e *syncEmitter) bodyFunc(f *jen.File, s *ir.Sync, name string, update bool, oc *ir.OpCall, pathOf func(*ir.WField) ir.Path) {
	bt := oc.BodyType
	body := []jen.Code{jen.Var().Id("b").Add(typeCode(bt))}
	for _, w := range s.Fields {
		p := pathOf(w)
		if len(p.Steps) == 0 {
			continue
		}
		stmt := jen.If(jen.List(jen.Id("v"), jen.Id("ok")).Op(":=").Id("w").Dot(w.GoName).Dot("Get").Call(), jen.Id("ok")).Block(
			setPath(jen.Id("b"), p.Steps, 1, storeValue)...)
		if update && w.Clear != ir.ClearNone {
			stmt = stmt.Else().If(jen.Id("w").Dot(w.GoName).Dot("IsNull").Call()).Block(clearPath(jen.Id("b"), p.Steps, w.Clear)...)
		}
		body = append(body, stmt)
	}
	body = append(body, jen.Return(jen.Id("b")))
	f.Add(comment(fmt.Sprintf("%s builds the request body of %s from a write.", name, oc.Op.ID)))
	f.Func().Id(name).Params(jen.Id("w").Op("*").Id(s.WriteType)).Add(typeCode(bt)).Block(body...)
}

// storeValue assigns v to a field, wrapped as the field's type needs.
func storeValue(field *jen.Statement, t *ir.TypeRef) jen.Code {
	return storeExpr(jen.Id("v"))(field, t)
}

// storeExpr is storeValue for the value x (a pointer field takes its
// address, so x must then be addressable).
func storeExpr(x jen.Code) func(field *jen.Statement, t *ir.TypeRef) jen.Code {
	return func(field *jen.Statement, t *ir.TypeRef) jen.Code {
		switch t.Kind {
		case ir.Opt:
			return jen.Add(field).Op("=").Qual(ir.PkgOAS, "Some").Call(x)
		case ir.Nullable:
			return jen.Add(field).Op("=").Qual(ir.PkgOAS, "Value").Call(x)
		case ir.Pointer:
			return jen.Add(field).Op("=").Op("&").Add(x)
		}
		return jen.Add(field).Op("=").Add(x)
	}
}

// storeNull sets a nullable field to null.
func storeNull(field *jen.Statement, t *ir.TypeRef) jen.Code {
	return jen.Add(field).Op("=").Qual(ir.PkgOAS, "Null").Types(typeCode(t.Elem)).Call()
}

// setPath emits statements that store into the field at steps below base
// (store writes the leaf), creating optional parents as needed.
func setPath(base *jen.Statement, steps []ir.Step, depth int, store func(field *jen.Statement, t *ir.TypeRef) jen.Code) []jen.Code {
	s := steps[0]
	if s.MapKey {
		// Bind allows map keys only as the last step of a target path.
		// The map is created on first use.
		return []jen.Code{store(jen.Qual(PkgSyncUtil, "Map").Call(jen.Op("&").Add(base)).Index(jen.Lit(s.Key)), s.Type)}
	}
	field := jen.Add(base).Dot(s.Field)
	if len(steps) == 1 {
		return []jen.Code{store(field, s.Type)}
	}
	id := fmt.Sprintf("p%d", depth)
	switch s.Type.Kind {
	case ir.Opt, ir.Nullable:
		wrap := "Some"
		if s.Type.Kind == ir.Nullable {
			wrap = "Value"
		}
		inner := append([]jen.Code{jen.List(jen.Id(id), jen.Id("_")).Op(":=").Add(field).Dot("Get").Call()}, setPath(jen.Id(id), steps[1:], depth+1, store)...)
		inner = append(inner, jen.Add(jen.Add(base).Dot(s.Field)).Op("=").Qual(ir.PkgOAS, wrap).Call(jen.Id(id)))
		return []jen.Code{jen.Block(inner...)}
	case ir.Pointer:
		return append([]jen.Code{jen.If(jen.Add(field).Op("==").Nil()).Block(jen.Add(jen.Add(base).Dot(s.Field)).Op("=").New(typeCode(s.Type.Elem)))},
			setPath(jen.Add(base).Dot(s.Field), steps[1:], depth+1, store)...)
	}
	return setPath(jen.Add(base).Dot(s.Field), steps[1:], depth+1, store)
}

// clearPath emits statements that clear the field at steps below base:
// null for a nullable field, the empty value of a string field.
func clearPath(base *jen.Statement, steps []ir.Step, how ir.ClearKind) []jen.Code {
	if how == ir.ClearNull {
		return setPath(base, steps, 1, storeNull)
	}
	leaf := steps[len(steps)-1].Type
	zero := jen.Add(typeCode(leaf.Unwrapped())).Call(jen.Lit(""))
	if leaf.Kind != ir.Pointer {
		return setPath(base, steps, 1, storeExpr(zero))
	}
	// A pointer takes the address of a variable.
	return []jen.Code{jen.Block(append([]jen.Code{jen.Id("v").Op(":=").Add(zero)}, setPath(base, steps, 1, storeValue)...)...)}
}
