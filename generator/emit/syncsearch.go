package emit

import (
	"github.com/connectorgen/connectorgen/generator/ir"
	"github.com/dave/jennifer/jen"
)

// leafType is the unwrapped type of a path's last step.
func leafType(p ir.Path) *ir.TypeRef { return p.Steps[len(p.Steps)-1].Type.Unwrapped() }

// setConst emits a block that stores the value v into path p below base.
func setConst(base string, p ir.Path, v jen.Code) jen.Code {
	return jen.Block(append([]jen.Code{jen.Var().Id("v").Add(typeCode(leafType(p))).Op("=").Add(v)},
		setPath(jen.Id(base), p.Steps, 1, storeValue)...)...)
}

// searchPollFunc emits Poll for a search read (read.search): the lower
// bound goes in the body as a filter on the search property, results come
// sorted on it, page by page through the body's after position; a
// position seen twice is an error, never a silent end of the list.
func (e *syncEmitter) searchPollFunc(ent *ir.Entity) jen.Code {
	s := ent.Search
	oc := s.Call
	rec := typeCode(ent.Type)
	body := []jen.Code{jen.Var().Id("body").Add(typeCode(oc.BodyType))}
	for _, c := range s.Consts {
		var v jen.Code = jen.Lit(c.Values[0])
		if c.List {
			var items []jen.Code
			for _, x := range c.Values {
				items = append(items, jen.Lit(x))
			}
			v = jen.Index().String().Values(items...)
		}
		body = append(body, setConst("body", c.Path, v))
	}
	body = append(body,
		setConst("body", s.Limit, jen.Lit(s.PageSize)),
		setConst("body", s.Sorts, jen.Index().String().Values(jen.Lit(s.Sort))),
		// An empty list, not null: the body's filterGroups is required.
		setConst("body", s.Groups, jen.Index().Add(typeCode(s.GroupType)).Values()),
	)
	var bound, isSet, later jen.Code
	if ent.CursorKind == ir.CursorTime {
		isSet = jen.Op("!").Id("since").Dot("Time").Dot("IsZero").Call()
		// RFC 3339 in UTC, to the millisecond, rounded down: the bound
		// stays inclusive.
		bound = jen.Id("since").Dot("Time").Dot("UTC").Call().Dot("Truncate").Call(jen.Qual("time", "Millisecond")).Dot("Format").Call(jen.Lit("2006-01-02T15:04:05.000Z07:00"))
		later = jen.Id("last").Dot("Time").Dot("Truncate").Call(jen.Qual("time", "Millisecond")).Dot("After").Call(jen.Id("bound").Dot("Time").Dot("Truncate").Call(jen.Qual("time", "Millisecond")))
	} else {
		isSet = jen.Id("since").Dot("Int").Op("!=").Lit(0)
		bound = jen.Qual("strconv", "FormatInt").Call(jen.Id("since").Dot("Int"), jen.Lit(10))
		later = jen.Id("last").Dot("Int").Op(">").Id("bound").Dot("Int")
	}
	filter := []jen.Code{
		jen.Var().Id("f").Add(typeCode(s.FilterType)),
		setConst("f", s.Prop, jen.Lit(s.Property)),
		setConst("f", s.Op, jen.Lit(s.Operator)),
		setConst("f", s.Value, bound),
		jen.Var().Id("g").Add(typeCode(s.GroupType)),
		setConst("g", s.Filters, jen.Index().Add(typeCode(s.FilterType)).Values(jen.Id("f"))),
		setConst("body", s.Groups, jen.Index().Add(typeCode(s.GroupType)).Values(jen.Id("g"))),
	}
	// lowerBound puts the lower bound in the body and starts at its first
	// page.
	body = append(body,
		jen.Id("lowerBound").Op(":=").Func().Params(jen.Id("since").Qual(PkgEngine, "Cursor")).Block(
			setConst("body", s.After, jen.Lit("")),
			jen.If(isSet).Block(filter...)),
		jen.Id("bound").Op(":=").Id("since"),
		jen.Id("lowerBound").Call(jen.Id("bound")),
		jen.Id("cursorOf").Op(":=").Add(e.cursorFunc(ent)),
	)
	call := clientCall(oc, oc.Op.MethodName).Call(callArgs(oc, map[*ir.Param]jen.Code{}, bodyRef(oc, jen.Id("body")))...)
	yieldErr := func(err jen.Code) jen.Code {
		return jen.Block(jen.Var().Id("zero").Add(rec), jen.Id("yield").Call(jen.Id("zero"), err), jen.Return())
	}
	results := returnAt("r", s.Results, func(v jen.Code) jen.Code {
		return jen.For(jen.List(jen.Id("_"), jen.Id("x")).Op(":=").Range().Add(v)).Block(
			jen.Id("n").Op("++"),
			jen.Id("last").Op("=").Id("cursorOf").Call(jen.Op("&").Id("x")),
			jen.If(jen.Op("!").Id("yield").Call(jen.Id("x"), jen.Nil())).Block(jen.Return()))
	}, jen.Null())
	next := returnAt("r", s.Next, func(v jen.Code) jen.Code { return jen.Return(jen.String().Call(v)) }, jen.Return(jen.Lit("")))
	loop := []jen.Code{
		jen.List(jen.Id("r"), jen.Err()).Op(":=").Add(call),
		jen.If(jen.Err().Op("!=").Nil()).Add(yieldErr(jen.Err())),
	}
	if oc.Op.Result.Single.Pointer {
		loop = append(loop, jen.If(jen.Id("r").Op("==").Nil()).Block(jen.Return()))
	}
	loop = append(loop, jen.Id("n").Op(":=").Lit(0), jen.Var().Id("last").Qual(PkgEngine, "Cursor"))
	loop = append(loop, results...)
	loop = append(loop,
		jen.Id("next").Op(":=").Func().Params().String().Block(next...).Call(),
		jen.If(jen.Id("next").Op("==").Lit("")).Block(jen.Return()),
		jen.Comment("Keyset paging: the next query starts at the last record's cursor (records"),
		jen.Comment("changed meanwhile moved to the end of the order, and an offset would skip"),
		jen.Comment("one); the page position serves only while the cursor does not move."),
		jen.If(jen.Id("n").Op(">").Lit(0).Op("&&").Add(later)).Block(
			jen.Id("bound").Op("=").Id("last"),
			jen.Id("lowerBound").Call(jen.Id("bound")),
			jen.Id("seen").Op("=").Map(jen.String()).Bool().Values(),
			jen.Continue(),
		),
		jen.If(jen.Id("seen").Index(jen.Id("next"))).Add(yieldErr(jen.Qual("fmt", "Errorf").Call(jen.Lit(oc.Op.ID+": page position %q repeated; the listing cannot be read to its end"), jen.Id("next")))),
		jen.Id("seen").Index(jen.Id("next")).Op("=").True(),
		setConst("body", s.After, jen.Id("next")),
	)
	body = append(body,
		jen.Id("seen").Op(":=").Map(jen.String()).Bool().Values(),
		jen.For().Block(loop...),
	)
	return jen.Func().Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("since").Qual(PkgEngine, "Cursor")).
		Qual("iter", "Seq2").Types(rec, jen.Error()).Block(
		jen.Return(jen.Func().Params(jen.Id("yield").Func().Params(rec, jen.Error()).Bool()).Block(body...)))
}

// searchFindFunc emits Find for a match through the target's search read
// (by: search.PROPERTY): one filter, PROPERTY EQ the key, and the first
// record of the answer.
func (e *syncEmitter) searchFindFunc(s *ir.Sync) jen.Code {
	ent := s.To
	se := ent.Search
	oc := se.Call
	body := []jen.Code{jen.Var().Id("body").Add(typeCode(oc.BodyType))}
	for _, c := range se.Consts {
		var v jen.Code = jen.Lit(c.Values[0])
		if c.List {
			var items []jen.Code
			for _, x := range c.Values {
				items = append(items, jen.Lit(x))
			}
			v = jen.Index().String().Values(items...)
		}
		body = append(body, setConst("body", c.Path, v))
	}
	body = append(body,
		setConst("body", se.Limit, jen.Lit(1)),
		// An empty list, not null: the body's sorts is required.
		setConst("body", se.Sorts, jen.Index().String().Values()),
		jen.Var().Id("f").Add(typeCode(se.FilterType)),
		setConst("f", se.Prop, jen.Lit(s.FindSearch)),
		setConst("f", se.Op, jen.Lit("EQ")),
		setConst("f", se.Value, jen.Id("naturalKey")),
		jen.Var().Id("g").Add(typeCode(se.GroupType)),
		setConst("g", se.Filters, jen.Index().Add(typeCode(se.FilterType)).Values(jen.Id("f"))),
		setConst("body", se.Groups, jen.Index().Add(typeCode(se.GroupType)).Values(jen.Id("g"))),
		jen.List(jen.Id("r"), jen.Err()).Op(":=").Add(clientCall(oc, oc.Op.MethodName)).Call(callArgs(oc, map[*ir.Param]jen.Code{}, bodyRef(oc, jen.Id("body")))...),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Lit(""), jen.False(), jen.Err())),
	)
	if oc.Op.Result.Single.Pointer {
		body = append(body, jen.If(jen.Id("r").Op("==").Nil()).Block(jen.Return(jen.Lit(""), jen.False(), jen.Nil())))
	}
	body = append(body, returnAt("r", se.Results, func(v jen.Code) jen.Code {
		return jen.For(jen.List(jen.Id("_"), jen.Id("x")).Op(":=").Range().Add(v)).Block(
			append([]jen.Code{jen.Id("rec").Op(":=").Op("&").Id("x")}, returnAt("rec", ent.Key,
				func(k jen.Code) jen.Code { return jen.Return(keyString(ent.KeyKind, k), jen.True(), jen.Nil()) },
				jen.Null())...)...)
	}, jen.Null())...)
	body = append(body, jen.Return(jen.Lit(""), jen.False(), jen.Nil()))
	return jen.Func().Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("naturalKey").String()).Params(jen.String(), jen.Bool(), jen.Error()).Block(body...)
}
