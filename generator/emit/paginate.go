package emit

import (
	"fmt"
	"slices"

	"github.com/dave/jennifer/jen"

	"github.com/connectorgen/connectorgen/generator/ir"
)

// fetchRet is the retFn of a fetch method, which also returns a next URL.
func fetchRet(op *ir.Operation) retFn {
	return func(err jen.Code) jen.Code {
		v := errValue(op)
		if v == nil {
			v = jen.Nil()
		}
		return jen.Return(v, jen.Lit(""), err)
	}
}

// delegatingMethod emits the exported method of an operation whose pages
// are followed by URL: it fetches the first page.
func (e *emitter) delegatingMethod(f *jen.File, op *ir.Operation) {
	params, results := e.signature(op)
	args := []jen.Code{jen.Id("ctx")}
	if op.ParamsType != "" {
		args = append(args, jen.Id("p"))
	}
	if op.Body != nil {
		args = append(args, jen.Id("body"))
	}
	args = append(args, jen.Lit(""))
	f.Add(comment(methodDoc(op)))
	f.Func().Params(jen.Id("c").Op("*").Id("Client")).Id(op.MethodName).Params(params...).Params(results...).Block(
		jen.List(jen.Id("out"), jen.Id("_"), jen.Err()).Op(":=").Id("c").Dot(op.Pagination.PageMethod).Call(args...),
		jen.Return(jen.Id("out"), jen.Err()),
	)
}

// fetchMethod emits the unexported single-page method that can follow a
// next URL and reports the one after it.
func (e *emitter) fetchMethod(f *jen.File, op *ir.Operation) {
	params, results := e.signature(op)
	params = append(params, jen.Id("next").String())
	results = append(results[:len(results)-1], jen.String(), jen.Error())
	r := fetchRet(op)
	var body []jen.Code
	if errValue(op) != nil && op.Result.Kind == ir.ResultSingle && !op.Result.Single.Pointer && op.Result.Single.Content == ir.ContentJSON {
		body = append(body, jen.Var().Id("zero").Add(typeCode(op.Result.Single.Type)))
	}
	body = append(body, e.buildRequest(op, true, r)...)
	body = append(body, e.fetchCall(op)...)
	f.Add(comment(op.Pagination.PageMethod + " fetches one page of " + op.MethodName + ": the first page p selects when next is \"\", else the page at the URL next,\n" +
		"and returns it with the URL of the page after it (\"\" after the last page). Save that URL to resume with " + op.Pagination.PagesFromMethod + " later.\n" +
		"A next URL on another origin than the client's base URL is fetched without credentials."))
	f.Func().Params(jen.Id("c").Op("*").Id("Client")).Id(op.Pagination.PageMethod).Params(params...).Params(results...).Block(body...)
}

// fetchCall emits the statements sending a fetch method's request through
// the runtime's CallJSON (a next URL in the body) or CallJSONLink (a Link
// header) and returning the page with the URL of the next one.
func (e *emitter) fetchCall(op *ir.Operation) []jen.Code {
	r := op.Result.Single
	decoder := jen.Nil()
	if op.ErrorDecoder != "" {
		decoder = jen.Id(op.ErrorDecoder)
	}
	args := []jen.Code{jen.Id("req"), jen.Op("&").Id("out"), decoder}
	for _, other := range op.Result.Responses {
		if other.Content == ir.ContentNone && other.Status != 0 && other.Status != 204 {
			args = append(args, jen.Lit(other.Status))
		}
	}
	zero := errValue(op)
	out := jen.Id("out")
	if r.Pointer {
		out = jen.Op("&").Id("out")
	}
	stmts := []jen.Code{jen.Var().Id("out").Add(typeCode(r.Type))}
	if op.Pagination.Kind == ir.PageLinkHeader {
		return append(stmts,
			jen.List(jen.Id("ok"), jen.Id("nextLink"), jen.Err()).Op(":=").Id("c").Dot("rc").Dot("CallJSONLink").Call(args...),
			jen.If(jen.Op("!").Id("ok")).Block(jen.Return(zero, jen.Id("nextLink"), jen.Err())),
			jen.Return(out, jen.Id("nextLink"), jen.Nil()),
		)
	}
	stmts = append(stmts,
		jen.If(jen.List(jen.Id("ok"), jen.Err()).Op(":=").Id("c").Dot("rc").Dot("CallJSON").Call(args...), jen.Op("!").Id("ok")).Block(jen.Return(zero, jen.Lit(""), jen.Err())),
		jen.Id("nextLink").Op(":=").Lit(""),
	)
	if op.Pagination.Kind == ir.PageNextURL {
		stmts = append(stmts, walk(func() jen.Code { return jen.Id("out") }, op.Pagination.NextURL, func(v func() jen.Code) []jen.Code {
			return []jen.Code{jen.Id("nextLink").Op("=").String().Call(v())}
		}, 0)...)
	}
	return append(stmts, jen.Return(out, jen.Id("nextLink"), jen.Nil()))
}

// walk emits code that follows steps from root and, when every step is
// present, runs leaf with the final value.
func walk(root func() jen.Code, steps []ir.Step, leaf func(v func() jen.Code) []jen.Code, depth int) []jen.Code {
	if len(steps) == 0 {
		return leaf(root)
	}
	s := steps[0]
	expr := func() jen.Code { return jen.Add(root()).Dot(s.Field) }
	last := len(steps) == 1
	next := func(v func() jen.Code) []jen.Code { return walk(v, steps[1:], leaf, depth+1) }
	if s.MapKey {
		return walkMapKey(root, s, last, next, depth)
	}
	t := s.Type
	switch t.Kind {
	case ir.Opt, ir.Nullable:
		id := fmt.Sprintf("v%d", depth)
		inner := func() jen.Code { return jen.Id(id) }
		body := next(inner)
		if t.Elem.Kind == ir.Pointer {
			if last {
				body = next(func() jen.Code { return jen.Op("*").Id(id) })
			}
			body = []jen.Code{jen.If(jen.Id(id).Op("!=").Nil()).Block(body...)}
		}
		return []jen.Code{jen.If(jen.List(jen.Id(id), jen.Id("ok")).Op(":=").Add(expr()).Dot("Get").Call(), jen.Id("ok")).Block(body...)}
	case ir.Pointer:
		v := expr
		if last {
			v = func() jen.Code { return jen.Op("*").Add(expr()) }
		}
		return []jen.Code{jen.If(jen.Add(expr()).Op("!=").Nil()).Block(next(v)...)}
	}
	return next(expr)
}

// walkMapKey emits the lookup of a map entry (an absent key is absent,
// like an unset field) and continues with its value, unwrapped.
func walkMapKey(root func() jen.Code, s ir.Step, last bool, next func(v func() jen.Code) []jen.Code, depth int) []jen.Code {
	id := fmt.Sprintf("k%d", depth)
	val := func() jen.Code { return jen.Id(id) }
	var body []jen.Code
	switch s.Type.Kind {
	case ir.Opt, ir.Nullable:
		u := fmt.Sprintf("u%d", depth)
		body = []jen.Code{jen.If(jen.List(jen.Id(u), jen.Id("ok")).Op(":=").Id(id).Dot("Get").Call(), jen.Id("ok")).Block(next(func() jen.Code { return jen.Id(u) })...)}
	case ir.Pointer:
		v := val
		if last {
			v = func() jen.Code { return jen.Op("*").Id(id) }
		}
		body = []jen.Code{jen.If(jen.Id(id).Op("!=").Nil()).Block(next(v)...)}
	default:
		body = next(val)
	}
	return []jen.Code{jen.If(jen.List(jen.Id(id), jen.Id("ok")).Op(":=").Add(root()).Index(jen.Lit(s.Key)), jen.Id("ok")).Block(body...)}
}

// pageType is the type the pages iterator yields.
func pageType(op *ir.Operation) jen.Code { return resultType(op) }

func pageZero(op *ir.Operation) jen.Code {
	if op.Result.Single.Pointer {
		return jen.Nil()
	}
	return jen.Id("zero")
}

// assignParam emits `p.F = value` for a params field, wrapping in oas.Some
// when the field is optional and converting to the field's type.
func assignParam(p *ir.Param, value jen.Code) jen.Code {
	if p.Type.Kind == ir.Opt {
		return jen.Id("p").Dot(p.FieldName).Op("=").Qual(ir.PkgOAS, "Some").Call(jen.Add(typeCode(p.Type.Elem)).Call(value))
	}
	return jen.Id("p").Dot(p.FieldName).Op("=").Add(typeCode(p.Type)).Call(value)
}

// currentParam is an expression for a params field's current value (or
// its fallback when unset).
func currentParam(p *ir.Param, fallback jen.Code) jen.Code {
	if p.Type.Kind == ir.Opt {
		return jen.Qual(ir.PkgOAS, "Or").Call(jen.Id("p").Dot(p.FieldName), fallback)
	}
	return jen.Id("p").Dot(p.FieldName)
}

// itemsOf emits `items := <page's item slice>`.
func itemsOf(op *ir.Operation, pg *ir.Pagination) []jen.Code {
	stmts := []jen.Code{jen.Var().Id("items").Index().Add(typeCode(pg.ItemType))}
	stmts = append(stmts, walk(func() jen.Code { return jen.Id("page") }, pg.Items, func(v func() jen.Code) []jen.Code {
		return []jen.Code{jen.Id("items").Op("=").Add(v())}
	}, 0)...)
	return stmts
}

// pagesIterator emits XPages, which yields every page in turn.
func (e *emitter) pagesIterator(f *jen.File, op *ir.Operation) {
	pg := op.Pagination
	params := []jen.Code{jen.Id("ctx").Qual("context", "Context")}
	args := []jen.Code{jen.Id("ctx")}
	if op.ParamsType != "" {
		params = append(params, jen.Id("p").Id(op.ParamsType))
		args = append(args, jen.Id("p"))
	}
	if op.Body != nil {
		params = append(params, jen.Id("body").Add(typeCode(op.Body.Type)))
		args = append(args, jen.Id("body"))
	}
	var loop []jen.Code
	var pre []jen.Code
	if !op.Result.Single.Pointer {
		pre = append(pre, jen.Var().Id("zero").Add(pageType(op)))
	}
	urlKinds := pg.Kind == ir.PageNextURL || pg.Kind == ir.PageLinkHeader
	if guarded(pg) {
		// One guard per iteration: a repeated cursor (a cycle) or more
		// pages announced without a cursor is an error, never a silent end.
		pre = append(pre, jen.Id("guard").Op(":=").Qual(ir.PkgRest, "NewPageGuard").Call(jen.Lit(op.ID)))
	}
	if urlKinds {
		e.pagesDelegate(f, op, params, args)
		params = append(params, jen.Id("start").String())
		pre = append(pre, jen.Id("next").Op(":=").Id("start"))
		loop = append(loop, jen.List(jen.Id("page"), jen.Id("link"), jen.Err()).Op(":=").Id("c").Dot(pg.PageMethod).Call(append(args, jen.Id("next"))...))
	} else {
		loop = append(loop, jen.List(jen.Id("page"), jen.Err()).Op(":=").Id("c").Dot(op.MethodName).Call(args...))
	}
	loop = append(loop,
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Id("yield").Call(pageZero(op), jen.Err()), jen.Return()),
		jen.If(jen.Op("!").Id("yield").Call(jen.Id("page"), jen.Nil())).Block(jen.Return()),
	)
	if op.Result.Single.Pointer {
		loop = append(loop, jen.If(jen.Id("page").Op("==").Nil()).Block(jen.Return()))
	}
	loop = append(loop, e.advance(op, pg)...)
	name := pg.PagesMethod
	doc := pg.PagesMethod + " calls " + op.MethodName + " for each page in turn (" + pg.Kind.String() + " pagination), starting from the page p selects, and yields each page. To resume later, save the cursor of the last page you processed and set it in p."
	if urlKinds {
		name = pg.PagesFromMethod
		doc = pg.PagesFromMethod + " yields every page of " + op.MethodName + " (" + pg.Kind.String() + " pagination), starting at the URL start (a next URL returned by " + pg.PageMethod + "),\n" +
			"or at the first page p selects when start is \"\"."
	}
	f.Add(comment(doc))
	f.Func().Params(jen.Id("c").Op("*").Id("Client")).Id(name).Params(params...).Qual("iter", "Seq2").Types(pageType(op), jen.Error()).Block(
		jen.Return(jen.Func().Params(jen.Id("yield").Func().Params(pageType(op), jen.Error()).Bool()).Block(
			append(pre, jen.For().Block(loop...))...,
		)),
	)
}

// pagesDelegate emits the pages iterator of a URL-following operation,
// which starts at the first page.
func (e *emitter) pagesDelegate(f *jen.File, op *ir.Operation, params, args []jen.Code) {
	pg := op.Pagination
	f.Add(comment(pg.PagesMethod + " calls " + op.MethodName + " for each page in turn (" + pg.Kind.String() + " pagination), starting from the page p selects, and yields each page.\n" +
		"To resume later, save the next URL " + pg.PageMethod + " returns and pass it to " + pg.PagesFromMethod + "."))
	f.Func().Params(jen.Id("c").Op("*").Id("Client")).Id(pg.PagesMethod).Params(params...).Qual("iter", "Seq2").Types(pageType(op), jen.Error()).Block(
		jen.Return(jen.Id("c").Dot(pg.PagesFromMethod).Call(append(slices.Clone(args), jen.Lit(""))...)),
	)
}

// guarded reports whether a pagination kind follows cursors or URLs the
// server hands out, which a rest.PageGuard checks.
func guarded(pg *ir.Pagination) bool {
	switch pg.Kind {
	case ir.PageCursor, ir.PageItemCursor, ir.PageNextURL, ir.PageLinkHeader:
		return true
	}
	return false
}

// advance emits the statements that move p (or next) to the following
// page, or return when there is none. A cursor or URL already followed in
// this iteration, or a page announcing more without a cursor, yields the
// guard's *rest.PaginationError: a listing that cannot be read to its end
// must not look complete.
func (e *emitter) advance(op *ir.Operation, pg *ir.Pagination) []jen.Code {
	page := func() jen.Code { return jen.Id("page") }
	fail := func(err jen.Code) jen.Code {
		return jen.Block(jen.Id("yield").Call(pageZero(op), err), jen.Return())
	}
	// follow emits `if err := guard.Next(v); err != nil { yield(zero, err); return }`.
	follow := func(v jen.Code) jen.Code {
		return jen.If(jen.Err().Op(":=").Id("guard").Dot("Next").Call(v), jen.Err().Op("!=").Nil()).Add(fail(jen.Err()))
	}
	// hasMore returns when the page says there is no more; more records
	// that it said there is.
	hasMore := func() []jen.Code {
		if pg.HasMore == nil {
			return nil
		}
		stmts := []jen.Code{jen.Id("more").Op(":=").False()}
		stmts = append(stmts, walk(page, pg.HasMore, func(v func() jen.Code) []jen.Code {
			return []jen.Code{jen.If(jen.Op("!").Bool().Call(v())).Block(jen.Return()), jen.Id("more").Op("=").True()}
		}, 0)...)
		return stmts
	}
	// noCursor is the end of the listing, unless the page said there is
	// more.
	noCursor := func() []jen.Code {
		if pg.HasMore == nil {
			return []jen.Code{jen.Return()}
		}
		return []jen.Code{jen.If(jen.Id("more")).Add(fail(jen.Id("guard").Dot("Missing").Call())), jen.Return()}
	}
	limitStop := func() []jen.Code {
		if pg.LimitParam == nil {
			return nil
		}
		lp := pg.LimitParam
		if lp.Type.Kind == ir.Opt {
			return []jen.Code{jen.If(jen.List(jen.Id("lim"), jen.Id("ok")).Op(":=").Id("p").Dot(lp.FieldName).Dot("Get").Call(),
				jen.Id("ok").Op("&&").Int64().Call(jen.Len(jen.Id("items"))).Op("<").Int64().Call(jen.Id("lim"))).Block(jen.Return())}
		}
		return []jen.Code{jen.If(jen.Int64().Call(jen.Len(jen.Id("items"))).Op("<").Int64().Call(jen.Id("p").Dot(lp.FieldName))).Block(jen.Return())}
	}
	switch pg.Kind {
	case ir.PageCursor:
		cp := pg.CursorParam
		ct := cp.Type
		if ct.Kind == ir.Opt {
			ct = ct.Elem
		}
		stmts := []jen.Code{jen.Var().Id("cursor").Add(typeCode(ct)), jen.Id("found").Op(":=").False()}
		stmts = append(stmts, walk(page, pg.NextCursor, func(v func() jen.Code) []jen.Code {
			return []jen.Code{jen.Id("cursor").Op("=").Add(typeCode(ct)).Call(v()), jen.Id("found").Op("=").True()}
		}, 0)...)
		stmts = append(stmts, hasMore()...)
		var zero jen.Code = jen.Lit("")
		if k := cp.Format.Scalar; k == ir.ScalarInt {
			zero = jen.Lit(0)
		}
		stmts = append(stmts, jen.If(jen.Op("!").Id("found").Op("||").Id("cursor").Op("==").Add(zero)).Block(noCursor()...))
		return append(stmts, follow(jen.Id("cursor")), assignParam(cp, jen.Id("cursor")))
	case ir.PageItemCursor:
		stmts := itemsOf(op, pg)
		stmts = append(stmts, jen.If(jen.Len(jen.Id("items")).Op("==").Lit(0)).Block(jen.Return()))
		stmts = append(stmts, hasMore()...)
		last := func() jen.Code { return jen.Id("items").Index(jen.Len(jen.Id("items")).Op("-").Lit(1)) }
		stmts = append(stmts, jen.Id("id").Op(":=").Lit(""))
		idSteps := pg.ItemID
		root := last
		if pg.ItemType.Kind == ir.Nullable || pg.ItemType.Kind == ir.Opt {
			idSteps = append([]ir.Step{}, idSteps...)
			stmts = append(stmts, jen.List(jen.Id("lastItem"), jen.Id("_")).Op(":=").Add(last()).Dot("Get").Call())
			root = func() jen.Code { return jen.Id("lastItem") }
		}
		stmts = append(stmts, walk(root, idSteps, func(v func() jen.Code) []jen.Code {
			return []jen.Code{jen.Id("id").Op("=").String().Call(v())}
		}, 0)...)
		stmts = append(stmts, jen.If(jen.Id("id").Op("==").Lit("")).Block(noCursor()...))
		return append(stmts, follow(jen.Id("id")), assignParam(pg.CursorParam, jen.Id("id")))
	case ir.PageOffset:
		stmts := itemsOf(op, pg)
		stmts = append(stmts, jen.If(jen.Len(jen.Id("items")).Op("==").Lit(0)).Block(jen.Return()))
		stmts = append(stmts, limitStop()...)
		op := pg.OffsetParam
		elem := op.Type
		if elem.Kind == ir.Opt {
			elem = elem.Elem
		}
		return append(stmts, assignParam(op, jen.Add(currentParam(op, jen.Lit(0))).Op("+").Add(typeCode(elem)).Call(jen.Len(jen.Id("items")))))
	case ir.PageNumber:
		stmts := itemsOf(op, pg)
		stmts = append(stmts, jen.If(jen.Len(jen.Id("items")).Op("==").Lit(0)).Block(jen.Return()))
		stmts = append(stmts, limitStop()...)
		return append(stmts, assignParam(pg.PageParam, jen.Add(currentParam(pg.PageParam, jen.Lit(int(pg.FirstPage)))).Op("+").Lit(1)))
	case ir.PageNextURL, ir.PageLinkHeader:
		return []jen.Code{
			jen.If(jen.Id("link").Op("==").Lit("")).Block(jen.Return()),
			follow(jen.Id("link")),
			jen.Id("next").Op("=").Id("link"),
		}
	}
	return nil
}

// itemsIterator emits XItems, which yields every item of every page.
func (e *emitter) itemsIterator(f *jen.File, op *ir.Operation) {
	pg := op.Pagination
	params := []jen.Code{jen.Id("ctx").Qual("context", "Context")}
	args := []jen.Code{jen.Id("ctx")}
	if op.ParamsType != "" {
		params = append(params, jen.Id("p").Id(op.ParamsType))
		args = append(args, jen.Id("p"))
	}
	if op.Body != nil {
		params = append(params, jen.Id("body").Add(typeCode(op.Body.Type)))
		args = append(args, jen.Id("body"))
	}
	item := typeCode(pg.ItemType)
	var body []jen.Code
	if op.Result.Single.Pointer {
		body = append(body, jen.If(jen.Id("page").Op("==").Nil()).Block(jen.Return(jen.Nil())))
	}
	body = append(body, itemsOf(op, pg)...)
	body = append(body, jen.Return(jen.Id("items")))
	f.Add(comment(pg.ItemsMethod + " yields every item of every page of " + op.MethodName + ", fetching pages as it goes."))
	f.Func().Params(jen.Id("c").Op("*").Id("Client")).Id(pg.ItemsMethod).Params(params...).Qual("iter", "Seq2").Types(item, jen.Error()).Block(
		jen.Return(jen.Qual(ir.PkgRest, "Items").Call(
			jen.Id("c").Dot(pg.PagesMethod).Call(args...),
			jen.Func().Params(jen.Id("page").Add(pageType(op))).Index().Add(item).Block(body...),
		)),
	)
}
