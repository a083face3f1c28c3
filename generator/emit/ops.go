package emit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dave/jennifer/jen"

	"github.com/connectorgen/connectorgen/generator/ir"
)

func (e *emitter) operationsFile(f *jen.File) {
	mergeErrorDecoders(e.pkg.Operations)
	decoders := map[string]bool{}
	for _, op := range e.pkg.Operations {
		e.opDescriptor(f, op)
		if op.ParamsType != "" {
			e.paramsStruct(f, op)
		}
		if op.Result.Kind == ir.ResultMulti {
			e.resultStruct(f, op)
		}
		if op.Pagination != nil && op.Pagination.PageMethod != "" {
			e.delegatingMethod(f, op)
			e.fetchMethod(f, op)
		} else {
			e.method(f, op)
		}
		if op.Pagination != nil {
			e.pagesIterator(f, op)
			e.itemsIterator(f, op)
		}
		if op.ErrorDecoder != "" && !decoders[op.ErrorDecoder] {
			decoders[op.ErrorDecoder] = true
			e.errorDecoder(f, op)
		}
	}
}

// style names the runtime constant of an OpenAPI parameter style.
func style(s string) jen.Code {
	name := "StyleSimple"
	switch s {
	case "label":
		name = "StyleLabel"
	case "matrix":
		name = "StyleMatrix"
	case "form":
		name = "StyleForm"
	case "spaceDelimited":
		name = "StyleSpaceDelimited"
	case "pipeDelimited":
		name = "StylePipeDelimited"
	case "deepObject":
		name = "StyleDeepObject"
	}
	return jen.Qual(ir.PkgRest, name)
}

// opDescriptor emits the read-only operation metadata the runtime reads.
func (e *emitter) opDescriptor(f *jen.File, op *ir.Operation) {
	d := jen.Dict{
		jen.Id("ID"):           jen.Lit(op.ID),
		jen.Id("Method"):       jen.Lit(op.HTTPMethod),
		jen.Id("PathTemplate"): jen.Lit(op.Path),
	}
	if op.Idempotent {
		d[jen.Id("Idempotent")] = jen.True()
	}
	if op.IdempotencyKeyHeader != "" {
		d[jen.Id("IdempotencyKeyHeader")] = jen.Lit(op.IdempotencyKeyHeader)
	}
	if op.Security != nil {
		var alts []jen.Code
		for _, alt := range op.Security {
			var names []jen.Code
			for _, n := range alt {
				names = append(names, jen.Lit(n))
			}
			alts = append(alts, jen.Values(names...))
		}
		d[jen.Id("Security")] = jen.Index().Qual(ir.PkgRest, "SecurityRequirement").Values(alts...)
	}
	f.Add(comment(op.VarName + " describes " + op.HTTPMethod + " " + op.Path + " to the runtime. It is never modified."))
	f.Var().Id(op.VarName).Op("=").Qual(ir.PkgRest, "Operation").Values(d)
}

func paramDoc(p *ir.Param) string {
	doc := fmt.Sprintf("%s is the %s parameter %q", p.FieldName, p.In, p.Name)
	if p.Required {
		doc += " (required)"
	}
	doc += "."
	if p.Doc != "" {
		doc += "\n" + docLines("", p.Doc, "")
	}
	if p.Deprecated != "" {
		doc += "\n\nDeprecated: " + p.Deprecated
	}
	return doc
}

// paramsStruct emits the operation's params struct.
func (e *emitter) paramsStruct(f *jen.File, op *ir.Operation) {
	var fields []jen.Code
	for _, p := range op.Params {
		fields = append(fields, jen.Comment(paramDoc(p)), jen.Id(p.FieldName).Add(typeCode(p.Type)))
	}
	f.Add(comment(op.ParamsType + " holds the parameters of " + op.MethodName + "."))
	f.Type().Id(op.ParamsType).Struct(fields...)
}

// resultStruct emits the multi-status result struct.
func (e *emitter) resultStruct(f *jen.File, op *ir.Operation) {
	fields := []jen.Code{jen.Comment("StatusCode is the response's HTTP status."), jen.Id("StatusCode").Int()}
	for _, r := range op.Result.Responses {
		doc := r.FieldName + " is set when the status is " + statusText(r)
		if r.Doc != "" {
			doc += ": " + oneLine(r.Doc)
		}
		if r.Content == ir.ContentNone {
			continue
		}
		fields = append(fields, jen.Comment(doc+"."), jen.Id(r.FieldName).Add(multiFieldType(r)))
	}
	f.Add(comment(op.Result.TypeName + " is the result of " + op.MethodName + ": one field per documented success status."))
	f.Type().Id(op.Result.TypeName).Struct(fields...)
}

func statusText(r *ir.Response) string {
	switch {
	case r.Status != 0:
		return fmt.Sprint(r.Status)
	case r.Class != 0:
		return fmt.Sprintf("%dXX", r.Class)
	}
	return "any other 2xx"
}

func multiFieldType(r *ir.Response) jen.Code {
	switch r.Content {
	case ir.ContentText:
		return jen.Op("*").String()
	case ir.ContentBinary:
		return jen.Index().Byte()
	}
	if r.Pointer {
		return jen.Op("*").Add(typeCode(r.Type))
	}
	return typeCode(r.Type)
}

// signature returns an operation method's parameters and results.
func (e *emitter) signature(op *ir.Operation) (params, results []jen.Code) {
	params = append(params, jen.Id("ctx").Qual("context", "Context"))
	if op.ParamsType != "" {
		params = append(params, jen.Id("p").Id(op.ParamsType))
	}
	if op.Body != nil {
		params = append(params, jen.Id("body").Add(typeCode(op.Body.Type)))
	}
	if rt := resultType(op); rt != nil {
		results = append(results, rt)
	}
	results = append(results, jen.Error())
	return params, results
}

func resultType(op *ir.Operation) jen.Code {
	switch op.Result.Kind {
	case ir.ResultSingle:
		r := op.Result.Single
		switch r.Content {
		case ir.ContentText:
			return jen.String()
		case ir.ContentBinary:
			return jen.Index().Byte()
		}
		if r.Pointer {
			return jen.Op("*").Add(typeCode(r.Type))
		}
		return typeCode(r.Type)
	case ir.ResultMulti:
		return jen.Op("*").Id(op.Result.TypeName)
	}
	return nil
}

// errValue is the first result returned alongside an error.
func errValue(op *ir.Operation) jen.Code {
	switch op.Result.Kind {
	case ir.ResultSingle:
		r := op.Result.Single
		switch {
		case r.Content == ir.ContentText:
			return jen.Lit("")
		case r.Content == ir.ContentBinary, r.Pointer:
			return jen.Nil()
		}
		return jen.Id("zero")
	case ir.ResultMulti:
		return jen.Nil()
	}
	return nil
}

// retFn builds the return statement of an error path.
type retFn func(err jen.Code) jen.Code

// ret builds a return statement with the error-path first result.
func ret(op *ir.Operation, err jen.Code) jen.Code {
	if v := errValue(op); v != nil {
		return jen.Return(v, err)
	}
	return jen.Return(err)
}

// methodRet is the retFn of an operation method.
func methodRet(op *ir.Operation) retFn { return func(err jen.Code) jen.Code { return ret(op, err) } }

func methodDoc(op *ir.Operation) string {
	text := op.Summary
	if op.Doc != "" && op.Doc != op.Summary {
		if text != "" {
			text += "\n\n"
		}
		text += op.Doc
	}
	if text != "" {
		text += "\n\n"
	}
	text += op.HTTPMethod + " " + op.Path
	if op.Pagination != nil {
		text += "\n\nThe results are paginated; " + op.Pagination.PagesMethod + " and " + op.Pagination.ItemsMethod + " iterate over every page."
	}
	return docLines(op.MethodName, text, op.Deprecated)
}

// method emits the operation's client method.
func (e *emitter) method(f *jen.File, op *ir.Operation) {
	params, results := e.signature(op)
	var body []jen.Code
	if errValue(op) != nil && op.Result.Kind == ir.ResultSingle && !op.Result.Single.Pointer && op.Result.Single.Content == ir.ContentJSON {
		body = append(body, jen.Var().Id("zero").Add(typeCode(op.Result.Single.Type)))
	}
	r := methodRet(op)
	body = append(body, e.buildRequest(op, false, r)...)
	if op.Result.Kind == ir.ResultMulti {
		body = append(body, e.callStatus(op)...)
	} else {
		body = append(body, e.call(op)...)
	}
	f.Add(comment(methodDoc(op)))
	f.Func().Params(jen.Id("c").Op("*").Id("Client")).Id(op.MethodName).Params(params...).Params(results...).Block(body...)
}

// buildRequest emits the statements creating req: path, query, headers,
// cookies and body. With next set, a non-empty next URL replaces the path
// and query.
func (e *emitter) buildRequest(op *ir.Operation, next bool, r retFn) []jen.Code {
	stmts := []jen.Code{
		jen.Id("req").Op(":=").Id("c").Dot("rc").Dot("NewRequest").Call(jen.Id("ctx"), jen.Op("&").Id(op.VarName)),
	}
	var pathAndQuery []jen.Code
	for _, part := range op.PathParts {
		if part.Param == nil {
			pathAndQuery = append(pathAndQuery, jen.Id("req").Dot("AppendPath").Call(jen.Lit(part.Literal)))
			continue
		}
		pathAndQuery = append(pathAndQuery, e.paramStmts(part.Param, r)...)
	}
	for _, p := range op.Params {
		if p.In == ir.InQuery {
			pathAndQuery = append(pathAndQuery, e.paramStmts(p, r)...)
		}
	}
	if next {
		stmts = append(stmts, jen.If(jen.Id("next").Op("!=").Lit("")).Block(
			jen.If(jen.Err().Op(":=").Id("req").Dot("SetURL").Call(jen.Id("next")), jen.Err().Op("!=").Nil()).Block(
				r(jen.Err()),
			),
		).Else().Block(pathAndQuery...))
	} else {
		stmts = append(stmts, pathAndQuery...)
	}
	for _, p := range op.Params {
		if p.In == ir.InHeader || p.In == ir.InCookie {
			stmts = append(stmts, e.paramStmts(p, r)...)
		}
	}
	if accept := acceptHeader(op); accept != "" {
		stmts = append(stmts, jen.Id("req").Dot("HeaderString").Call(jen.Lit("Accept"), jen.Lit(accept)))
	}
	if op.Body != nil {
		stmts = append(stmts, e.bodyStmts(op, r)...)
	} else if op.ContentType != "" {
		stmts = append(stmts, jen.Id("req").Dot("HeaderString").Call(jen.Lit("Content-Type"), jen.Lit(op.ContentType)))
	}
	return stmts
}

func acceptHeader(op *ir.Operation) string {
	if op.Accept != "" {
		return op.Accept
	}
	var cts []string
	for _, r := range op.Result.Responses {
		if r.ContentType != "" && !slices.Contains(cts, r.ContentType) {
			cts = append(cts, r.ContentType)
		}
	}
	return strings.Join(cts, ", ")
}

// paramStmts emits the statements adding one parameter to req.
func (e *emitter) paramStmts(p *ir.Param, r retFn) []jen.Code {
	field := jen.Id("p").Dot(p.FieldName)
	valueType := p.Type
	if p.Type.Kind == ir.Opt {
		valueType = p.Type.Elem
	}
	// addString adds a scalar through the runtime's String variants.
	addString := func(s jen.Code) jen.Code {
		switch p.In {
		case ir.InPath:
			return jen.Id("req").Dot("PathString").Call(jen.Lit(p.Name), style(p.Style), jen.Lit(p.Explode), s)
		case ir.InQuery:
			return jen.Id("req").Dot("QueryString").Call(jen.Lit(p.Name), style(p.Style), jen.Lit(p.Explode), s)
		case ir.InHeader:
			return jen.Id("req").Dot("HeaderString").Call(jen.Lit(p.Name), s)
		}
		return jen.Id("req").Dot("CookieString").Call(jen.Lit(p.Name), s)
	}
	add := func(v jen.Code) jen.Code {
		switch p.In {
		case ir.InPath:
			return jen.Id("req").Dot("AppendPathParam").Call(jen.Lit(p.Name), style(p.Style), jen.Lit(p.Explode), v)
		case ir.InQuery:
			return jen.Id("req").Dot("AddQuery").Call(jen.Lit(p.Name), style(p.Style), jen.Lit(p.Explode), v)
		case ir.InHeader:
			return jen.Id("req").Dot("SetHeader").Call(jen.Lit(p.Name), jen.Lit(p.Explode), v)
		}
		return jen.Id("req").Dot("AddCookie").Call(jen.Lit(p.Name), jen.Lit(p.Explode), v)
	}
	encode := func(v jen.Code) []jen.Code {
		switch {
		case p.Format.JSON:
			return []jen.Code{jen.Block(
				jen.List(jen.Id("b"), jen.Err()).Op(":=").Qual("encoding/json", "Marshal").Call(v),
				jen.If(jen.Err().Op("!=").Nil()).Block(r(jen.Err())),
				addString(jen.String().Call(jen.Id("b"))),
			)}
		case p.Format.Any:
			// The runtime converts the value (JSON null, as an absent
			// oas.Opt or a nil map encodes, leaves the parameter out) and
			// records a conversion error in req, which the send returns.
			switch p.In {
			case ir.InPath:
				return []jen.Code{jen.Id("req").Dot("PathAny").Call(jen.Lit(p.Name), style(p.Style), jen.Lit(p.Explode), v)}
			case ir.InQuery:
				return []jen.Code{jen.Id("req").Dot("QueryAny").Call(jen.Lit(p.Name), style(p.Style), jen.Lit(p.Explode), v)}
			case ir.InHeader:
				return []jen.Code{jen.Id("req").Dot("HeaderAny").Call(jen.Lit(p.Name), jen.Lit(p.Explode), v)}
			}
			return []jen.Code{jen.Id("req").Dot("CookieAny").Call(jen.Lit(p.Name), jen.Lit(p.Explode), v)}
		}
		if !p.Format.List {
			return []jen.Code{addString(formatScalar(p.Format, valueType, v))}
		}
		return []jen.Code{add(formatParam(p.Format, valueType, v))}
	}
	if p.Format.Any && !p.Format.JSON {
		// Absent values encode to JSON null: no presence check needed.
		return encode(field)
	}
	switch p.Presence {
	case ir.ViaGet:
		if code, ok := optHelper(p, valueType, field); ok {
			return []jen.Code{code}
		}
		return []jen.Code{jen.If(jen.List(jen.Id("v"), jen.Id("ok")).Op(":=").Add(field).Dot("Get").Call(), jen.Id("ok")).Block(encode(jen.Id("v"))...)}
	case ir.ViaNil:
		if p.Format.List && !p.Format.JSON && !p.Format.Any {
			// A nil list encodes to nothing: no check needed.
			return encode(field)
		}
		return []jen.Code{jen.If(field.Clone().Op("!=").Nil()).Block(encode(field)...)}
	case ir.ViaIsZero:
		return []jen.Code{jen.If(jen.Op("!").Add(field.Clone()).Dot("IsZero").Call()).Block(encode(field)...)}
	}
	return encode(field)
}

// optHelper emits the one-line runtime call adding an optional (oas.Opt)
// scalar query, header or cookie parameter when it is set:
// rest.QueryOpt(req, name, style, explode, p.F, format). It reports false
// when the parameter needs more (JSON or generic encoding, a list, a
// conversion no runtime formatter takes).
func optHelper(p *ir.Param, t *ir.TypeRef, field jen.Code) (jen.Code, bool) {
	if p.Format.JSON || p.Format.Any || p.Format.List {
		return nil, false
	}
	format, ok := formatFunc(p.Format, t)
	if !ok {
		return nil, false
	}
	switch p.In {
	case ir.InQuery:
		return jen.Qual(ir.PkgRest, "QueryOpt").Call(jen.Id("req"), jen.Lit(p.Name), style(p.Style), jen.Lit(p.Explode), field, format), true
	case ir.InHeader:
		return jen.Qual(ir.PkgRest, "HeaderOpt").Call(jen.Id("req"), jen.Lit(p.Name), field, format), true
	case ir.InCookie:
		return jen.Qual(ir.PkgRest, "CookieOpt").Call(jen.Id("req"), jen.Lit(p.Name), field, format), true
	}
	return nil, false
}

// formatFunc is the runtime function (or method expression) formatting a
// scalar of type t as formatScalar does inline.
func formatFunc(pf ir.ParamFormat, t *ir.TypeRef) (jen.Code, bool) {
	switch pf.Scalar {
	case ir.ScalarString:
		return jen.Qual(ir.PkgRest, "FormatString"), true
	case ir.ScalarInt:
		return jen.Qual(ir.PkgRest, "FormatInt"), true
	case ir.ScalarUint:
		return jen.Qual(ir.PkgRest, "FormatUint"), true
	case ir.ScalarFloat:
		return jen.Qual(ir.PkgRest, "FormatFloat"), true
	case ir.ScalarBool:
		return jen.Qual(ir.PkgRest, "FormatBool"), t.Kind == ir.Builtin
	case ir.ScalarTime:
		return jen.Qual(ir.PkgRest, "FormatTime"), t.Kind == ir.Named && t.Pkg == ir.PkgTime && t.Name == "Time"
	case ir.ScalarStringer:
		return jen.Add(typeCode(t)).Dot("String"), t.Kind == ir.Named
	}
	return nil, false
}

// formatParam converts a scalar or list value to a rest.Param.
func formatParam(pf ir.ParamFormat, t *ir.TypeRef, v jen.Code) jen.Code {
	rest := func(name string, args ...jen.Code) jen.Code { return jen.Qual(ir.PkgRest, name).Call(args...) }
	if pf.List {
		switch pf.Scalar {
		case ir.ScalarString:
			return rest("List", rest("FormatStrings", v))
		case ir.ScalarInt:
			return rest("List", rest("FormatInts", v))
		case ir.ScalarFloat:
			return rest("List", rest("FormatFloats", v))
		case ir.ScalarBool:
			return rest("List", rest("FormatBools", v))
		case ir.ScalarStringer:
			return rest("List", rest("FormatStringers", v))
		case ir.ScalarTime:
			return rest("List", rest("FormatTimes", v))
		}
	}
	return rest("Scalar", formatScalar(pf, t, v))
}

// formatScalar converts a scalar value to its string form.
func formatScalar(pf ir.ParamFormat, t *ir.TypeRef, v jen.Code) jen.Code {
	rest := func(name string, args ...jen.Code) jen.Code { return jen.Qual(ir.PkgRest, name).Call(args...) }
	plain := t.Kind == ir.Builtin
	switch pf.Scalar {
	case ir.ScalarString:
		if plain {
			return v
		}
		return jen.String().Call(v)
	case ir.ScalarInt:
		return rest("FormatInt", v)
	case ir.ScalarUint:
		return rest("FormatUint", v)
	case ir.ScalarFloat:
		return rest("FormatFloat", v)
	case ir.ScalarBool:
		if plain {
			return rest("FormatBool", v)
		}
		return rest("FormatBool", jen.Bool().Call(v))
	case ir.ScalarTime:
		return rest("FormatTime", v)
	}
	return jen.Add(v).Dot("String").Call()
}

// bodyStmts emits the statements setting the request body.
func (e *emitter) bodyStmts(op *ir.Operation, r retFn) []jen.Code {
	b := op.Body
	ct := jen.Lit(b.ContentType)
	var set []jen.Code
	switch b.Kind {
	case ir.BodyJSON:
		set = []jen.Code{jen.If(jen.Err().Op(":=").Id("req").Dot("SetJSONBody").Call(ct, jen.Id("body")), jen.Err().Op("!=").Nil()).Block(r(jen.Err()))}
	case ir.BodyForm:
		args := []jen.Code{jen.Id("body")}
		for _, enc := range b.Encodings {
			args = append(args, jen.Qual(ir.PkgRest, "FieldEncoding").Values(jen.Dict{
				jen.Id("Name"): jen.Lit(enc.Name), jen.Id("Style"): style(enc.Style), jen.Id("Explode"): jen.Lit(enc.Explode),
			}))
		}
		set = []jen.Code{jen.If(jen.Err().Op(":=").Id("req").Dot("SetFormBody").Call(args...), jen.Err().Op("!=").Nil()).Block(r(jen.Err()))}
	case ir.BodyMultipart:
		set = []jen.Code{jen.If(jen.Err().Op(":=").Id("req").Dot("SetMultipartBody").Call(jen.Id("body")), jen.Err().Op("!=").Nil()).Block(r(jen.Err()))}
	case ir.BodyText:
		return []jen.Code{jen.Id("req").Dot("SetBody").Call(ct, jen.Qual("strings", "NewReader").Call(jen.Id("body")))}
	case ir.BodyBinary:
		return []jen.Code{jen.If(jen.Id("body").Op("!=").Nil()).Block(jen.Id("req").Dot("SetBody").Call(ct, jen.Id("body")))}
	}
	switch b.Presence {
	case ir.ViaNil:
		return []jen.Code{jen.If(jen.Id("body").Op("!=").Nil()).Block(set...)}
	case ir.ViaIsZero:
		return []jen.Code{jen.If(jen.Op("!").Id("body").Dot("IsZero").Call()).Block(set...)}
	}
	return set
}

// call emits the statements sending req through the runtime's Call
// helpers and returning the result, for an operation with at most one
// success body (a multi-status result goes through callStatus).
func (e *emitter) call(op *ir.Operation) []jen.Code {
	decoder := jen.Nil()
	if op.ErrorDecoder != "" {
		decoder = jen.Id(op.ErrorDecoder)
	}
	if op.Result.Kind == ir.ResultNone {
		return []jen.Code{jen.Return(jen.Id("c").Dot("rc").Dot("Call").Call(jen.Id("req"), decoder))}
	}
	r := op.Result.Single
	args := []jen.Code{jen.Id("req")}
	var empty []jen.Code
	for _, other := range op.Result.Responses {
		if other.Content == ir.ContentNone && other.Status != 0 && other.Status != 204 {
			empty = append(empty, jen.Lit(other.Status))
		}
	}
	switch r.Content {
	case ir.ContentText:
		args = append(append(args, decoder), empty...)
		return []jen.Code{
			jen.List(jen.Id("b"), jen.Err()).Op(":=").Id("c").Dot("rc").Dot("CallBytes").Call(args...),
			jen.Return(jen.String().Call(jen.Id("b")), jen.Err()),
		}
	case ir.ContentBinary:
		args = append(append(args, decoder), empty...)
		return []jen.Code{jen.Return(jen.Id("c").Dot("rc").Dot("CallBytes").Call(args...))}
	}
	args = append(append(args, jen.Op("&").Id("out"), decoder), empty...)
	out := jen.Id("out")
	if r.Pointer {
		out = jen.Op("&").Id("out")
	}
	return []jen.Code{
		jen.Var().Id("out").Add(typeCode(r.Type)),
		jen.If(jen.List(jen.Id("ok"), jen.Err()).Op(":=").Id("c").Dot("rc").Dot("CallJSON").Call(args...), jen.Op("!").Id("ok")).Block(ret(op, jen.Err())),
		jen.Return(out, jen.Nil()),
	}
}

// callStatus emits the statements sending req through rest.CallStatus for
// a multi-status result: a func tells the runtime where each documented
// status's body goes.
func (e *emitter) callStatus(op *ir.Operation) []jen.Code {
	var cases []jen.Code
	for _, r := range op.Result.Responses {
		if r.Content == ir.ContentNone {
			continue
		}
		var cond jen.Code
		switch {
		case r.Status != 0:
			cond = jen.Id("status").Op("==").Lit(r.Status)
		case r.Class != 0:
			cond = jen.Id("status").Op("/").Lit(100).Op("==").Lit(r.Class)
		default:
			cond = jen.True()
		}
		field := jen.Id("out").Dot(r.FieldName)
		var stmts []jen.Code
		switch {
		case r.Content == ir.ContentText:
			stmts = []jen.Code{field.Clone().Op("=").New(jen.String()), jen.Return(jen.Qual(ir.PkgRest, "IntoText").Call(field.Clone()))}
		case r.Content == ir.ContentBinary:
			stmts = []jen.Code{jen.Return(jen.Qual(ir.PkgRest, "IntoBytes").Call(jen.Op("&").Add(field.Clone())))}
		case r.Pointer:
			stmts = []jen.Code{field.Clone().Op("=").New(typeCode(r.Type)), jen.Return(jen.Qual(ir.PkgRest, "IntoJSON").Call(field.Clone()))}
		default:
			stmts = []jen.Code{jen.Return(jen.Qual(ir.PkgRest, "IntoJSON").Call(jen.Op("&").Add(field.Clone())))}
		}
		cases = append(cases, jen.Case(cond).Block(stmts...))
	}
	into := jen.Nil()
	if len(cases) > 0 {
		into = jen.Func().Params(jen.Id("status").Int()).Qual(ir.PkgRest, "Into").Block(
			jen.Switch().Block(cases...),
			jen.Return(jen.Qual(ir.PkgRest, "Into").Values()),
		)
	}
	decoder := jen.Nil()
	if op.ErrorDecoder != "" {
		decoder = jen.Id(op.ErrorDecoder)
	}
	return []jen.Code{
		jen.Id("out").Op(":=").Op("&").Id(op.Result.TypeName).Values(),
		jen.List(jen.Id("status"), jen.Err()).Op(":=").Id("c").Dot("rc").Dot("CallStatus").Call(jen.Id("req"), into, decoder),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.Id("out").Dot("StatusCode").Op("=").Id("status"),
		jen.Return(jen.Id("out"), jen.Nil()),
	}
}

// mergeErrorDecoders makes operations whose error models are the same
// (statuses and Go types, as emitted: structural deduplication may have
// made types equal after lowering named the decoders) share one decoder,
// the first one by name.
func mergeErrorDecoders(ops []*ir.Operation) {
	byKey := map[string]string{}
	for _, op := range ops {
		if op.ErrorDecoder == "" {
			continue
		}
		key := errorDecoderKey(op.Errors)
		if name, ok := byKey[key]; ok && name < op.ErrorDecoder {
			op.ErrorDecoder = name
		} else {
			byKey[key] = op.ErrorDecoder
		}
	}
	for _, op := range ops {
		if op.ErrorDecoder != "" {
			op.ErrorDecoder = byKey[errorDecoderKey(op.Errors)]
		}
	}
}

func errorDecoderKey(errs []*ir.ErrorModel) string {
	var b strings.Builder
	for _, m := range errs {
		fmt.Fprintf(&b, "%d/%d/%v/%s;", m.Status, m.Class, m.Default, m.Type)
	}
	return b.String()
}

// errorDecoder emits the function decoding documented error models.
func (e *emitter) errorDecoder(f *jen.File, op *ir.Operation) {
	var cases []jen.Code
	var fallback []jen.Code
	decode := func(t *ir.TypeRef) []jen.Code {
		return []jen.Code{
			jen.Var().Id("m").Add(typeCode(t)),
			jen.If(jen.Qual("encoding/json", "Unmarshal").Call(jen.Id("body"), jen.Op("&").Id("m")).Op("==").Nil()).Block(jen.Return(jen.Op("&").Id("m"))),
		}
	}
	// Consecutive statuses decoding the same type share one case.
	var conds []jen.Code
	for i, m := range op.Errors {
		switch {
		case m.Status != 0:
			conds = append(conds, jen.Id("status").Op("==").Lit(m.Status))
		case m.Class != 0:
			conds = append(conds, jen.Id("status").Op("/").Lit(100).Op("==").Lit(m.Class))
		default:
			fallback = decode(m.Type)
			continue
		}
		if i+1 < len(op.Errors) {
			if next := op.Errors[i+1]; (next.Status != 0 || next.Class != 0) && next.Type.String() == m.Type.String() {
				continue
			}
		}
		cases = append(cases, jen.Case(conds...).Block(decode(m.Type)...))
		conds = nil
	}
	var body []jen.Code
	if len(cases) > 0 {
		body = append(body, jen.Switch().Block(cases...))
	}
	body = append(body, fallback...)
	body = append(body, jen.Return(jen.Nil()))
	f.Add(comment(op.ErrorDecoder + " decodes the error models documented for a status; the result becomes rest.Error.Model."))
	f.Func().Id(op.ErrorDecoder).Params(jen.Id("status").Int(), jen.Id("body").Index().Byte()).Any().Block(body...)
}
