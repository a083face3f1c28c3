package emit

import (
	"slices"
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/connectorgen/connectorgen/generator/ir"
)

func (e *emitter) typesFile(f *jen.File) {
	hasUnion := false
	for _, t := range e.pkg.Types {
		switch t.Kind {
		case ir.Struct:
			e.structType(f, t)
			if t.Extra != nil || len(oddFields(t)) > 0 {
				e.structMarshal(f, t)
				e.structUnmarshal(f, t)
			}
		case ir.Enum:
			e.enumType(f, t)
			e.enumConsts(f, t)
			e.enumIsKnown(f, t)
		case ir.Union:
			hasUnion = true
			e.unionType(f, t)
			e.unionMethods(f, t)
		case ir.Alias:
			e.aliasType(f, t)
		case ir.Defined:
			e.definedType(f, t)
		}
	}
	if hasUnion {
		e.jsonKindHelper(f)
		e.fitsHelper(f)
	}
}

func typeDoc(t *ir.Type) string {
	doc := t.Doc
	if t.SchemaName != "" && doc == "" {
		doc = "the " + strconv.Quote(t.SchemaName) + " schema."
	}
	return docLines(t.Name, doc, t.Deprecated)
}

// oddFields returns the fields whose JSON names a struct tag cannot spell:
// the struct's own MarshalJSON and UnmarshalJSON carry them.
func oddFields(t *ir.Type) []*ir.Field {
	var out []*ir.Field
	for _, f := range t.Fields {
		if !ir.TagSpellable(f.JSONName) {
			out = append(out, f)
		}
	}
	return out
}

// jsonTag renders a field's json struct tag.
func jsonTag(f *ir.Field) map[string]string {
	if !ir.TagSpellable(f.JSONName) {
		return map[string]string{"json": "-"}
	}
	v := f.JSONName
	if f.OmitZero {
		v += ",omitzero"
	}
	tags := map[string]string{"json": v}
	// The runtime's request encoders leave readOnly properties out and
	// its response decoding ignores writeOnly ones (rest/oneway.go).
	switch {
	case f.ReadOnly && f.WriteOnly:
		tags["oas"] = "readOnly,writeOnly"
	case f.ReadOnly:
		tags["oas"] = "readOnly"
	case f.WriteOnly:
		tags["oas"] = "writeOnly"
	}
	return tags
}

func fieldDoc(f *ir.Field) string {
	doc := f.Doc
	var notes []string
	if f.ReadOnly {
		notes = append(notes, "Read-only: set by the server; request bodies leave it out.")
	}
	if f.WriteOnly {
		notes = append(notes, "Write-only: sent in requests; ignored in responses.")
	}
	if len(notes) > 0 {
		if doc != "" {
			doc += "\n\n"
		}
		doc += strings.Join(notes, " ")
	}
	return docLines("", doc, f.Deprecated)
}

// structType emits `type X struct { … }`.
func (e *emitter) structType(f *jen.File, t *ir.Type) {
	var fields []jen.Code
	for _, fl := range t.Fields {
		fields = append(fields, comment(fieldDoc(fl)), jen.Id(fl.Name).Add(typeCode(fl.Type)).Tag(jsonTag(fl)))
	}
	if t.Extra != nil {
		fields = append(fields,
			jen.Comment("Properties not declared by the schema, by name."),
			jen.Id(t.ExtraField).Map(jen.String()).Add(typeCode(t.Extra)).Tag(map[string]string{"json": "-"}))
	}
	f.Add(comment(typeDoc(t)))
	f.Type().Id(t.Name).Struct(fields...)
}

// structMarshal emits MarshalJSON for a struct with additional properties
// or with properties a struct tag cannot name.
func (e *emitter) structMarshal(f *jen.File, t *ir.Type) {
	body := []jen.Code{
		jen.Type().Id("plain").Id(t.Name),
		jen.List(jen.Id("b"), jen.Err()).Op(":=").Qual("encoding/json", "Marshal").Call(jen.Id("plain").Call(jen.Id("v"))),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
	}
	doc := "MarshalJSON encodes the declared fields"
	if odd := oddFields(t); len(odd) > 0 {
		doc += " (those a struct tag cannot name by hand)"
		body = append(body, jen.Id("named").Op(":=").Map(jen.String()).Any().Values())
		for _, fl := range odd {
			set := jen.Id("named").Index(jen.Lit(fl.JSONName)).Op("=").Id("v").Dot(fl.Name)
			if fl.OmitZero {
				set = jen.If(jen.Op("!").Qual(ir.PkgOAS, "IsZero").Call(jen.Id("v").Dot(fl.Name))).Block(set)
			}
			body = append(body, set)
		}
		ret := jen.Qual(ir.PkgOAS, "MarshalExtra").Call(jen.Id("b"), jen.Id("named"))
		if t.Extra == nil {
			body = append(body, jen.Return(ret))
		} else {
			body = append(body, jen.List(jen.Id("b"), jen.Err()).Op("=").Add(ret),
				jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())))
		}
	}
	if t.Extra != nil {
		doc += " and then the additional properties"
		body = append(body, jen.Return(jen.Qual(ir.PkgOAS, "MarshalExtra").Call(jen.Id("b"), jen.Id("v").Dot(t.ExtraField))))
	}
	f.Add(comment(doc + "."))
	f.Func().Params(jen.Id("v").Id(t.Name)).Id("MarshalJSON").Params().Params(jen.Index().Byte(), jen.Error()).Block(body...)
}

// structUnmarshal emits UnmarshalJSON for a struct with additional
// properties or with properties a struct tag cannot name.
func (e *emitter) structUnmarshal(f *jen.File, t *ir.Type) {
	body := []jen.Code{
		jen.Type().Id("plain").Id(t.Name),
		jen.If(jen.Err().Op(":=").Qual("encoding/json", "Unmarshal").Call(jen.Id("data"), jen.Parens(jen.Op("*").Id("plain")).Call(jen.Id("v"))), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
	}
	doc := "UnmarshalJSON decodes the declared fields"
	if odd := oddFields(t); len(odd) > 0 {
		doc += " (those a struct tag cannot name by hand)"
		var names []jen.Code
		for _, fl := range odd {
			names = append(names, jen.Lit(fl.JSONName))
		}
		body = append(body,
			jen.List(jen.Id("named"), jen.Err()).Op(":=").Qual(ir.PkgOAS, "UnmarshalExtra").Types(jen.Qual("encoding/json", "RawMessage")).Call(jen.Id("data"),
				jen.Func().Params(jen.Id("k").String()).Bool().Block(
					jen.Switch(jen.Id("k")).Block(jen.Case(names...).Block(jen.Return(jen.False()))),
					jen.Return(jen.True()),
				)),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
		)
		for _, fl := range odd {
			body = append(body, jen.If(jen.List(jen.Id("raw"), jen.Id("ok")).Op(":=").Id("named").Index(jen.Lit(fl.JSONName)), jen.Id("ok")).Block(
				jen.If(jen.Err().Op(":=").Qual("encoding/json", "Unmarshal").Call(jen.Id("raw"), jen.Op("&").Id("v").Dot(fl.Name)), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
			))
		}
	}
	if t.Extra != nil {
		var names []jen.Code
		for _, fl := range t.Fields {
			names = append(names, jen.Lit(fl.JSONName))
		}
		isKnown := jen.Func().Params(jen.Id("k").String()).Bool().Block(jen.Return(jen.False()))
		if len(names) > 0 {
			isKnown = jen.Func().Params(jen.Id("k").String()).Bool().Block(
				jen.Switch(jen.Id("k")).Block(jen.Case(names...).Block(jen.Return(jen.True()))),
				jen.Return(jen.False()),
			)
		}
		doc += " and keeps every other property in " + t.ExtraField
		body = append(body,
			jen.List(jen.Id("extra"), jen.Err()).Op(":=").Qual(ir.PkgOAS, "UnmarshalExtra").Types(typeCode(t.Extra)).Call(jen.Id("data"), isKnown),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
			jen.Id("v").Dot(t.ExtraField).Op("=").Id("extra"),
		)
	}
	body = append(body, jen.Return(jen.Nil()))
	f.Add(comment(doc + "."))
	f.Func().Params(jen.Id("v").Op("*").Id(t.Name)).Id("UnmarshalJSON").Params(jen.Id("data").Index().Byte()).Error().Block(body...)
}

// enumType emits `type X string` (or int64, float64).
func (e *emitter) enumType(f *jen.File, t *ir.Type) {
	doc := typeDoc(t) + "\n\nValues not listed by the spec decode without error; IsKnown tells them apart."
	f.Add(comment(doc))
	f.Type().Id(t.Name).Add(typeCode(t.EnumBase))
}

func enumLit(v any) jen.Code {
	switch x := v.(type) {
	case int64:
		return jen.Lit(int(x))
	case float64:
		return jen.Lit(x)
	}
	return jen.Lit(v)
}

// enumConsts emits the enum's constants.
func (e *emitter) enumConsts(f *jen.File, t *ir.Type) {
	var defs []jen.Code
	for _, v := range t.EnumValues {
		defs = append(defs, jen.Id(v.ConstName).Id(t.Name).Op("=").Add(enumLit(v.Value)))
	}
	f.Add(comment("Values of " + t.Name + " listed by the spec."))
	f.Const().Defs(defs...)
}

// enumIsKnown emits IsKnown.
func (e *emitter) enumIsKnown(f *jen.File, t *ir.Type) {
	var cases []jen.Code
	for _, v := range t.EnumValues {
		cases = append(cases, jen.Id(v.ConstName))
	}
	f.Add(comment("IsKnown reports whether v is one of the values the spec lists."))
	f.Func().Params(jen.Id("v").Id(t.Name)).Id("IsKnown").Params().Bool().Block(
		jen.Switch(jen.Id("v")).Block(jen.Case(cases...).Block(jen.Return(jen.True()))),
		jen.Return(jen.False()),
	)
}

// aliasType emits `type X = T`.
func (e *emitter) aliasType(f *jen.File, t *ir.Type) {
	f.Add(comment(typeDoc(t)))
	f.Type().Id(t.Name).Op("=").Add(typeCode(t.Target))
}

// definedType emits `type X []T` or `type X map[string]T`.
func (e *emitter) definedType(f *jen.File, t *ir.Type) {
	f.Add(comment(typeDoc(t)))
	f.Type().Id(t.Name).Add(typeCode(t.Target))
}

// unionType emits the union's struct: the raw JSON value.
func (e *emitter) unionType(f *jen.File, t *ir.Type) {
	var names []string
	for _, v := range t.Variants {
		names = append(names, v.Name)
	}
	doc := typeDoc(t) + "\n\nIt is one of: " + strings.Join(names, ", ") + ". The value is kept as raw JSON, so nothing is lost " +
		"whatever the server sends; " + t.UnionMethods.Which + " tells which variant it is and the As methods decode it."
	f.Add(comment(doc))
	f.Type().Id(t.Name).Struct(jen.Id("raw").Qual("encoding/json", "RawMessage"))
}

func (e *emitter) unionMethods(f *jen.File, t *ir.Type) {
	recv := jen.Id("u").Id(t.Name)
	precv := jen.Id("u").Op("*").Id(t.Name)
	m := t.UnionMethods
	f.Add(comment(m.Raw + " returns the value as received or set."))
	f.Func().Params(recv.Clone()).Id(m.Raw).Params().Qual("encoding/json", "RawMessage").Block(jen.Return(jen.Id("u").Dot("raw")))

	f.Add(comment("IsZero reports whether no value is set; omitzero uses it."))
	f.Func().Params(recv.Clone()).Id("IsZero").Params().Bool().Block(jen.Return(jen.Len(jen.Id("u").Dot("raw")).Op("==").Lit(0)))

	f.Add(comment("MarshalJSON returns the raw value, or null when none is set."))
	f.Func().Params(recv.Clone()).Id("MarshalJSON").Params().Params(jen.Index().Byte(), jen.Error()).Block(
		jen.If(jen.Len(jen.Id("u").Dot("raw")).Op("==").Lit(0)).Block(jen.Return(jen.Index().Byte().Call(jen.Lit("null")), jen.Nil())),
		jen.Return(jen.Id("u").Dot("raw"), jen.Nil()),
	)
	f.Add(comment("UnmarshalJSON keeps a copy of the raw value."))
	f.Func().Params(precv.Clone()).Id("UnmarshalJSON").Params(jen.Id("data").Index().Byte()).Error().Block(
		jen.Id("u").Dot("raw").Op("=").Append(jen.Qual("encoding/json", "RawMessage").Call(jen.Nil()), jen.Id("data").Op("...")),
		jen.Return(jen.Nil()),
	)
	if t.Discriminator != "" {
		f.Add(comment(m.DiscriminatorValue + " returns the " + strconv.Quote(t.Discriminator) + " property, which selects the variant."))
		f.Func().Params(recv.Clone()).Id(m.DiscriminatorValue).Params().String().Block(
			jen.List(jen.Id("s"), jen.Id("_")).Op(":=").Qual(ir.PkgOAS, "PeekString").Call(jen.Id("u").Dot("raw"), jen.Lit(t.Discriminator)),
			jen.Return(jen.Id("s")),
		)
	}
	e.unionWhich(f, t)
	for _, v := range t.Variants {
		e.unionAs(f, t, v)
		e.unionFrom(f, t, v)
	}
}

// unionWhich emits Which: by discriminator, then by JSON kind, then by
// strict decoding of object variants.
func (e *emitter) unionWhich(f *jen.File, t *ir.Type) {
	var body []jen.Code
	if t.Discriminator != "" {
		var cases []jen.Code
		for _, v := range t.Variants {
			if len(v.DiscriminatorValues) == 0 {
				continue
			}
			var vals []jen.Code
			for _, dv := range v.DiscriminatorValues {
				vals = append(vals, jen.Lit(dv))
			}
			cases = append(cases, jen.Case(vals...).Block(jen.Return(jen.Lit(v.Name))))
		}
		if len(cases) == len(t.Variants) && !hasEmptyValue(t.Variants) {
			// Every variant has its discriminator values: a value that
			// names none of them is a variant this code does not know,
			// however well its fields happen to fit a known one.
			cases = append(cases, jen.Case(jen.Lit("")).Block(), jen.Default().Block(jen.Return(jen.Lit(""))))
		}
		if len(cases) > 0 {
			body = append(body, jen.Switch(jen.Id("u").Dot(t.UnionMethods.DiscriminatorValue).Call()).Block(cases...))
		}
	}
	byKind := map[string][]*ir.Variant{}
	var kinds []string
	for _, v := range t.Variants {
		if _, seen := byKind[v.JSONKind]; !seen {
			kinds = append(kinds, v.JSONKind)
		}
		byKind[v.JSONKind] = append(byKind[v.JSONKind], v)
	}
	if len(kinds) > 1 || len(kinds) == 1 && kinds[0] != "" {
		body = append(body, jen.Id("kind").Op(":=").Id("jsonKind").Call(jen.Id("u").Dot("raw")))
	}
	for _, k := range kinds {
		vs := byKind[k]
		if k == "" {
			continue
		}
		if len(vs) == 1 {
			body = append(body, jen.If(jen.Id("kind").Op("==").Lit(k)).Block(jen.Return(jen.Lit(vs[0].Name))))
			continue
		}
		var tries []jen.Code
		for _, v := range vs {
			tries = append(tries, jen.If(jen.Id("fitsStrictly").Call(jen.Id("u").Dot("raw"), jen.New(typeCode(v.Type)))).Block(jen.Return(jen.Lit(v.Name))))
		}
		body = append(body, jen.If(jen.Id("kind").Op("==").Lit(k)).Block(tries...))
	}
	for _, v := range byKind[""] {
		body = append(body, jen.If(jen.Id("fitsStrictly").Call(jen.Id("u").Dot("raw"), jen.New(typeCode(v.Type)))).Block(jen.Return(jen.Lit(v.Name))))
	}
	body = append(body, jen.Return(jen.Lit("")))
	f.Add(comment(t.UnionMethods.Which + " returns the name of the variant the value holds (the X of AsX), or \"\" when it matches none."))
	f.Func().Params(jen.Id("u").Id(t.Name)).Id(t.UnionMethods.Which).Params().String().Block(body...)
}

// hasEmptyValue reports whether "" selects a variant.
func hasEmptyValue(vs []*ir.Variant) bool {
	for _, v := range vs {
		if slices.Contains(v.DiscriminatorValues, "") {
			return true
		}
	}
	return false
}

func (e *emitter) unionAs(f *jen.File, t *ir.Type, v *ir.Variant) {
	f.Add(comment(v.AsMethod + " decodes the value as " + v.Type.String() + "."))
	f.Func().Params(jen.Id("u").Id(t.Name)).Id(v.AsMethod).Params().Params(typeCode(v.Type), jen.Error()).Block(
		jen.Var().Id("v").Add(typeCode(v.Type)),
		jen.Err().Op(":=").Qual("encoding/json", "Unmarshal").Call(jen.Id("u").Dot("raw"), jen.Op("&").Id("v")),
		jen.Return(jen.Id("v"), jen.Err()),
	)
}

func (e *emitter) unionFrom(f *jen.File, t *ir.Type, v *ir.Variant) {
	f.Add(comment(v.FromMethod + " sets the value to v."))
	f.Func().Params(jen.Id("u").Op("*").Id(t.Name)).Id(v.FromMethod).Params(jen.Id("v").Add(typeCode(v.Type))).Error().Block(
		jen.List(jen.Id("b"), jen.Err()).Op(":=").Qual("encoding/json", "Marshal").Call(jen.Id("v")),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
		jen.Id("u").Dot("raw").Op("=").Id("b"),
		jen.Return(jen.Nil()),
	)
}

// jsonKindHelper emits the package's jsonKind helper used by Which.
func (e *emitter) jsonKindHelper(f *jen.File) {
	f.Add(comment("jsonKind names the kind of a JSON value from its first byte."))
	f.Func().Id("jsonKind").Params(jen.Id("raw").Index().Byte()).String().Block(
		jen.For(jen.List(jen.Id("_"), jen.Id("c")).Op(":=").Range().Id("raw")).Block(
			jen.Switch(jen.Id("c")).Block(
				jen.Case(jen.LitRune(' '), jen.LitRune('\t'), jen.LitRune('\n'), jen.LitRune('\r')).Block(jen.Continue()),
				jen.Case(jen.LitRune('{')).Block(jen.Return(jen.Lit("object"))),
				jen.Case(jen.LitRune('[')).Block(jen.Return(jen.Lit("array"))),
				jen.Case(jen.LitRune('"')).Block(jen.Return(jen.Lit("string"))),
				jen.Case(jen.LitRune('t'), jen.LitRune('f')).Block(jen.Return(jen.Lit("boolean"))),
				jen.Case(jen.LitRune('n')).Block(jen.Return(jen.Lit("null"))),
			),
			jen.Return(jen.Lit("number")),
		),
		jen.Return(jen.Lit("")),
	)
}

// fitsHelper emits fitsStrictly, which tries a decode that rejects unknown
// fields, to tell object variants apart.
func (e *emitter) fitsHelper(f *jen.File) {
	f.Add(comment("fitsStrictly reports whether raw decodes into v with no unknown fields."))
	f.Func().Id("fitsStrictly").Params(jen.Id("raw").Index().Byte(), jen.Id("v").Any()).Bool().Block(
		jen.Id("dec").Op(":=").Qual("encoding/json", "NewDecoder").Call(jen.Qual("bytes", "NewReader").Call(jen.Id("raw"))),
		jen.Id("dec").Dot("DisallowUnknownFields").Call(),
		jen.Return(jen.Id("dec").Dot("Decode").Call(jen.Id("v")).Op("==").Nil()),
	)
}
