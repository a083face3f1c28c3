package emit

import (
	"github.com/dave/jennifer/jen"

	"github.com/connectorgen/connectorgen/generator/ir"
)

// echoValue emits the engine.Echo of a sync declaring echo_suppression:
// the sync writing the other way, its xref table, and a function reading
// that sync's target fields (paths through this sync's source entity) as
// canonical JSON, the form of its field snapshot.
func (e *syncEmitter) echoValue(s *ir.Sync) jen.Code {
	back := s.Echo
	xref := back.Xref
	if xref == "" {
		xref = back.Name
	}
	body := []jen.Code{jen.Id("fields").Op(":=").Map(jen.String()).String().Values()}
	for _, w := range back.Fields {
		if len(w.Read.Steps) == 0 {
			// Not readable in the record: the reverse sync compares
			// nothing for it and writes it when it maps a value.
			continue
		}
		body = append(body, walk(func() jen.Code { return jen.Id("s") }, w.Read.Steps, func(v func() jen.Code) []jen.Code {
			return []jen.Code{jen.If(jen.List(jen.Id("j"), jen.Id("ok")).Op(":=").Qual(PkgSyncUtil, "FieldJSON").Call(jen.Qual(ir.PkgOAS, "Value").Call(v())), jen.Id("ok")).Block(
				jen.Id("fields").Index(jen.Lit(w.Path)).Op("=").Id("j"))}
		}, 0)...)
	}
	body = append(body, jen.Return(jen.Id("fields")))
	return jen.Op("&").Qual(PkgEngine, "Echo").Types(typeCode(s.From.Type)).Values(jen.Dict{
		jen.Id("Reverse"):     jen.Lit(back.Name),
		jen.Id("ReverseXref"): jen.Lit(xref),
		jen.Id("Fields"):      jen.Func().Params(jen.Id("s").Op("*").Add(typeCode(s.From.Type))).Map(jen.String()).String().Block(body...),
	})
}
