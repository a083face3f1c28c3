package emit

import (
	"slices"

	"github.com/dave/jennifer/jen"

	"github.com/connectorgen/connectorgen/generator/ir"
)

// feedFunc emits the engine's Feed of an entity read through an events
// feed (read.events): it pages through the events at or after since (of
// the declared types), re-reads each event's record with the entity's get
// (a record gone since its event is skipped: deletes are never inferred),
// and yields it with the event's cursor. An event of a deletion type
// (events.deleted) yields its key as gone (engine.Change.Gone), not
// re-read.
func (e *syncEmitter) feedFunc(ent *ir.Entity) jen.Code {
	feed := ent.Events
	oc := feed.List
	rec := typeCode(ent.Type)
	change := jen.Qual(PkgEngine, "Change").Types(rec)
	fail := func(err jen.Code) jen.Code {
		return jen.Block(jen.Id("yield").Call(jen.Add(change).Values(), err), jen.Return())
	}
	var body []jen.Code
	args := []jen.Code{jen.Id("ctx")}
	if oc.Op.ParamsType != "" {
		body = append(body, jen.Id("p").Op(":=").Add(params(oc, map[*ir.Param]jen.Code{})))
		if tp := feed.TypesParam; tp != nil && len(feed.Types)+len(feed.Deleted) > 0 {
			var items []jen.Code
			for _, t := range append(slices.Clone(feed.Types), feed.Deleted...) {
				items = append(items, jen.Lit(t))
			}
			body = append(body, jen.Id("p").Dot(tp.FieldName).Op("=").Add(paramValue(tp, jen.Index().String().Values(items...))))
		}
		if sp := feed.Since; sp != nil {
			body = append(body, jen.If(sinceGiven(feed.CursorKind)).Block(e.setSince(feed, change)...))
		} else {
			body = append(body, jen.Id("_").Op("=").Id("since").Comment("the events list takes no lower bound: every poll reads the whole feed"))
		}
		args = append(args, jen.Id("p"))
	}
	if b := oc.Op.Body; b != nil && !b.Required {
		args = append(args, jen.Nil())
	}
	body = append(body, jen.Id("fetch").Op(":=").Add(e.fetchFunc(ent)))
	loop := []jen.Code{
		jen.If(jen.Err().Op("!=").Nil()).Add(fail(jen.Err())),
		jen.Var().Id("key").String(),
	}
	loop = append(loop, walk(func() jen.Code { return jen.Id("ev") }, feed.Key.Steps, func(v func() jen.Code) []jen.Code {
		return []jen.Code{jen.Id("key").Op("=").Add(keyString(feed.KeyKind, v()))}
	}, 0)...)
	loop = append(loop,
		jen.If(jen.Id("key").Op("==").Lit("")).Block(
			jen.Continue().Comment("an event naming no record of this entity")),
		jen.Var().Id("cur").Qual(PkgEngine, "Cursor"))
	loop = append(loop, walk(func() jen.Code { return jen.Id("ev") }, feed.Cursor.Steps, func(v func() jen.Code) []jen.Code {
		if feed.CursorKind == ir.CursorTime {
			return []jen.Code{jen.Id("cur").Dot("Time").Op("=").Add(v())}
		}
		return []jen.Code{jen.Id("cur").Dot("Int").Op("=").Int64().Call(v())}
	}, 0)...)
	if len(feed.Deleted) > 0 {
		loop = append(loop, jen.Var().Id("typ").String())
		loop = append(loop, walk(func() jen.Code { return jen.Id("ev") }, feed.TypeField.Steps, func(v func() jen.Code) []jen.Code {
			return []jen.Code{jen.Id("typ").Op("=").String().Call(v())}
		}, 0)...)
		var types []jen.Code
		for _, t := range feed.Deleted {
			types = append(types, jen.Lit(t))
		}
		loop = append(loop, jen.Switch(jen.Id("typ")).Block(jen.Case(types...).Block(
			jen.Comment("a deletion: the record cannot be read; it leaves the scope"),
			jen.If(jen.Op("!").Id("yield").Call(jen.Add(change).Values(jen.Dict{jen.Id("Gone"): jen.Id("key"), jen.Id("Cursor"): jen.Id("cur")}), jen.Nil())).Block(jen.Return()),
			jen.Continue())))
	}
	loop = append(loop,
		jen.List(jen.Id("r"), jen.Err()).Op(":=").Id("fetch").Call(jen.Id("ctx"), jen.Id("key")),
		jen.If(jen.Qual("errors", "Is").Call(jen.Err(), jen.Qual(PkgEngine, "ErrNotFound"))).Block(
			jen.Continue().Comment("gone since the event: deletes are never inferred")),
		jen.If(jen.Err().Op("!=").Nil()).Add(fail(jen.Err())),
		jen.If(jen.Op("!").Id("yield").Call(jen.Add(change).Values(jen.Dict{jen.Id("Record"): jen.Id("r"), jen.Id("Cursor"): jen.Id("cur")}), jen.Nil())).Block(jen.Return()),
	)
	body = append(body, jen.For(jen.List(jen.Id("ev"), jen.Err()).Op(":=").Range().Add(clientCall(oc, oc.Op.Pagination.ItemsMethod)).Call(args...)).Block(loop...))
	return jen.Func().Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("since").Qual(PkgEngine, "Cursor")).
		Qual("iter", "Seq2").Types(change, jen.Error()).Block(
		jen.Return(jen.Func().Params(jen.Id("yield").Func().Params(change, jen.Error()).Bool()).Block(body...)))
}

func sinceGiven(k ir.CursorKind) jen.Code {
	if k == ir.CursorTime {
		return jen.Op("!").Id("since").Dot("Time").Dot("IsZero").Call()
	}
	return jen.Id("since").Dot("Int").Op("!=").Lit(0)
}

// setSince sets the lower bound: the parameter itself, or a member of its
// object type (of one variant of its union type).
func (e *syncEmitter) setSince(feed *ir.EventsFeed, change jen.Code) []jen.Code {
	sp := feed.Since
	val := func(t *ir.TypeRef) jen.Code {
		if feed.CursorKind == ir.CursorTime {
			return jen.Id("since").Dot("Time")
		}
		return jen.Add(typeCode(t)).Call(jen.Id("since").Dot("Int"))
	}
	if feed.SinceField == nil {
		return []jen.Code{jen.Id("p").Dot(sp.FieldName).Op("=").Add(paramValue(sp, val(sp.Type.Unwrapped())))}
	}
	f := feed.SinceField
	var member jen.Code = val(f.Type.Unwrapped())
	if f.Type.Kind == ir.Opt {
		member = jen.Qual(ir.PkgOAS, "Some").Call(member)
	}
	stmts := []jen.Code{
		jen.Var().Id("lower").Add(typeCode(feed.SinceType)),
		jen.Id("lower").Dot(f.Name).Op("=").Add(member),
	}
	if v := feed.SinceVariant; v != nil {
		stmts = append(stmts,
			jen.Var().Id("bound").Add(typeCode(feed.SinceUnion)),
			jen.If(jen.Err().Op(":=").Id("bound").Dot(v.FromMethod).Call(jen.Id("lower")), jen.Err().Op("!=").Nil()).Block(
				jen.Id("yield").Call(jen.Add(change).Values(), jen.Err()), jen.Return()),
			jen.Id("p").Dot(sp.FieldName).Op("=").Add(paramValue(sp, jen.Id("bound"))))
	} else {
		stmts = append(stmts, jen.Id("p").Dot(sp.FieldName).Op("=").Add(paramValue(sp, jen.Id("lower"))))
	}
	return stmts
}

// feedCursorKind is the engine cursor kind of an entity without a cursor
// field: its events feed's, else an (unused) integer.
func feedCursorKind(ent *ir.Entity) string {
	if ent.Events != nil && ent.Events.CursorKind == ir.CursorTime {
		return "CursorTime"
	}
	return "CursorInt"
}
