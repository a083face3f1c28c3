package emit

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/connectorgen/connectorgen/generator/ir"
)

// This file emits the field rules that build a value from several parts:
// template (a string from source fields) and prepend (constants before a
// list source's items), and the find filter of a natural-key match step.

// templateAssign emits a template rule: each source field is read (all
// present, or the target is cleared like an absent from:), converted to
// its string form, and joined with the template's text.
func (e *syncEmitter) templateAssign(a *ir.Assign, lead jen.Code) []jen.Code {
	src := func() jen.Code { return jen.Id("s") }
	t := a.Template
	all := ir.Path{}
	for _, p := range a.Sources {
		all.Steps = append(all.Steps, p.Steps...)
	}
	var parts []jen.Code
	var nest func(i int) []jen.Code
	nest = func(i int) []jen.Code {
		if i == len(a.Sources) {
			var sum *jen.Statement
			add := func(c jen.Code) {
				if sum == nil {
					sum = jen.Add(c)
				} else {
					sum = sum.Op("+").Add(c)
				}
			}
			for j, p := range parts {
				if t.Text[j] != "" {
					add(jen.Lit(t.Text[j]))
				}
				add(p)
			}
			if last := t.Text[len(t.Text)-1]; last != "" {
				add(jen.Lit(last))
			}
			return markSeen(all, []jen.Code{set(a.Target, sum)})
		}
		return walk(src, a.Sources[i].Steps, func(v func() jen.Code) []jen.Code {
			id := fmt.Sprintf("t%d", i)
			parts = append(parts, jen.Id(id))
			return append([]jen.Code{jen.Id(id).Op(":=").Add(stringForm(t.Convs[i], v()))}, nest(i+1)...)
		}, 10*(i+1))
	}
	return append([]jen.Code{lead}, absentClears(all, []*ir.WField{a.Target}, nest(0))...)
}

// stringForm renders the string form of v for a template (the
// conversions bind allows there).
func stringForm(c ir.Conversion, v jen.Code) jen.Code {
	switch c {
	case ir.ConvGo:
		return jen.String().Call(v)
	case ir.ConvTimeToString:
		return jen.Add(v).Dot("Format").Call(jen.Qual("time", "RFC3339Nano"))
	case ir.ConvDateToString, ir.ConvStringerToString:
		return jen.Add(v).Dot("String").Call()
	case ir.ConvIntToString:
		return jen.Qual("strconv", "FormatInt").Call(jen.Int64().Call(v), jen.Lit(10))
	case ir.ConvFloatToString:
		return jen.Qual("strconv", "FormatFloat").Call(jen.Float64().Call(v), jen.LitRune('f'), jen.Lit(-1), jen.Lit(64))
	case ir.ConvBoolToString:
		return jen.Qual("strconv", "FormatBool").Call(v)
	}
	return v
}

// prependStmt puts a rule's prepend constants before the list x.
func prependStmt(a *ir.Assign) []jen.Code {
	if len(a.Prepend) == 0 {
		return nil
	}
	args := []jen.Code{jen.Id("x")}
	for _, l := range a.Prepend {
		args = append(args, literal(l))
	}
	return []jen.Code{jen.Id("x").Op("=").Qual(PkgSyncUtil, "Prepend").Call(args...)}
}

// prependAbsent gives the target the constants alone when the list
// source is absent.
func prependAbsent(a *ir.Assign) []jen.Code {
	if len(a.Prepend) == 0 || alwaysReturns(a.Source) {
		return nil
	}
	var lits []jen.Code
	for _, l := range a.Prepend {
		lits = append(lits, literal(l))
	}
	return []jen.Code{jen.If(jen.Id("w").Dot(a.Target.GoName).Dot("IsZero").Call()).Block(
		set(a.Target, jen.Add(typeCode(a.Target.Type)).Values(lits...)))}
}

// findValue is what Find sends: the natural key, or the mapping's filter
// built from it.
func findValue(s *ir.Sync) jen.Code {
	if s.FindFilter == "" {
		return jen.Id("naturalKey")
	}
	return jen.Qual(PkgSyncUtil, "FindFilter").Call(jen.Lit(s.FindFilter), jen.Id("naturalKey"))
}
