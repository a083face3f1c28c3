package emit

import (
	"github.com/connectorgen/connectorgen/generator/ir"
	"github.com/dave/jennifer/jen"
)

// batchFunc emits WriteBatch for a bulk upsert: every write of the batch
// becomes one record of the request body's list (built as Create or Update
// would build it), sent in one call. The target keys are the records'
// natural keys as written; the answer's job id, when the spec declares
// one, goes to the audit log.
func (e *syncEmitter) batchFunc(s *ir.Sync) jen.Code {
	oc, bk := s.To.Create, s.To.Bulk
	item := typeCode(bk.ItemType)
	pick := jen.If(jen.Id("x").Dot("Create")).Block(
		jen.Id("v").Index(jen.Id("i")).Op("=").Id(s.Funcs.CreateBody).Call(jen.Id("x").Dot("W")),
	).Else().Block(
		jen.Id("v").Index(jen.Id("i")).Op("=").Id(s.Funcs.UpdateBody).Call(jen.Id("x").Dot("W")),
	)
	if s.OnExit != nil && s.OnExit.Kind == ir.ExitSet {
		// The exit action's final write (Sync.BatchExit).
		pick = jen.If(jen.Id("x").Dot("Exit")).Block(
			jen.Id("v").Index(jen.Id("i")).Op("=").Id(s.Funcs.ExitBody).Call(jen.Id("x").Dot("TargetKey")),
		).Else().Add(pick)
	}
	keyOf := jen.Func().Params(jen.Id("item").Op("*").Add(item)).String().Block(
		returnAt("item", bk.ItemKey,
			func(v jen.Code) jen.Code { return jen.Return(keyString(s.To.KeyKind, v)) },
			jen.Return(jen.Lit("")))...)
	body := []jen.Code{
		jen.Id("res").Op(":=").Qual(PkgEngine, "BatchResult").Values(jen.Dict{jen.Id("Keys"): jen.Make(jen.Index().String(), jen.Len(jen.Id("ws")))}),
		jen.Id("v").Op(":=").Make(jen.Index().Add(item), jen.Len(jen.Id("ws"))),
		jen.For(jen.List(jen.Id("i"), jen.Id("x")).Op(":=").Range().Id("ws")).Block(
			pick,
			jen.Id("res").Dot("Keys").Index(jen.Id("i")).Op("=").Id("keyOf").Call(jen.Op("&").Id("v").Index(jen.Id("i"))),
		),
		jen.Var().Id("bb").Add(typeCode(bk.BodyType)),
	}
	body = append(body, bodyConsts(bk.Consts, "bb")...)
	body = append([]jen.Code{jen.Id("keyOf").Op(":=").Add(keyOf)}, body...)
	body = append(body, setPath(jen.Id("bb"), bk.List.Steps, 1, storeValue)...)
	// The batch sets absolute values by natural key: repeating it is safe.
	body = append(body, jen.Id("ctx").Op("=").Qual(ir.PkgTransport, "WithIdempotent").Call(jen.Id("ctx")))
	call := clientCall(oc, oc.Op.MethodName).Call(callArgs(oc, map[*ir.Param]jen.Code{}, bodyRef(oc, jen.Id("bb")))...)
	fail := jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Id("res"), jen.Qual(PkgSyncUtil, "Rejected").Call(jen.Err())))
	switch {
	case resultType(oc.Op) == nil:
		body = append(body, jen.Err().Op(":=").Add(call), fail)
	case len(bk.Job.Steps) == 0:
		body = append(body, jen.List(jen.Id("_"), jen.Err()).Op(":=").Add(call), fail)
	default:
		body = append(body, jen.List(jen.Id("r"), jen.Err()).Op(":=").Add(call), fail)
		job := returnAt("r", bk.Job,
			func(v jen.Code) jen.Code { return jen.Return(jen.String().Call(v)) },
			jen.Return(jen.Lit("")))
		getJob := jen.Id("res").Dot("Job").Op("=").Func().Params().String().Block(job...).Call()
		if oc.Op.Result.Single.Pointer {
			body = append(body, jen.If(jen.Id("r").Op("!=").Nil()).Block(getJob))
		} else {
			body = append(body, getJob)
		}
	}
	body = append(body, jen.Return(jen.Id("res"), jen.Nil()))
	return jen.Func().Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("ws").Index().Qual(PkgEngine, "BatchWrite").Types(jen.Id(s.WriteType))).
		Params(jen.Qual(PkgEngine, "BatchResult"), jen.Error()).Block(body...)
}

// bodyConsts emits the statements that set the request body fields the
// mapping fixes (params naming body fields) on the body variable base.
func bodyConsts(consts []ir.BodyConst, base string) []jen.Code {
	var out []jen.Code
	for _, c := range consts {
		val := func(v string) jen.Code {
			if c.UUID {
				return jen.Qual(ir.PkgOAS, "MustParseUUID").Call(jen.Lit(v))
			}
			return jen.Lit(v)
		}
		var v jen.Code
		if c.List {
			var items []jen.Code
			for _, x := range c.Values {
				items = append(items, val(x))
			}
			v = jen.Add(typeCode(leafType(c.Path))).Values(items...)
		} else {
			v = val(c.Values[0])
		}
		out = append(out, setConst(base, c.Path, v))
	}
	return out
}
