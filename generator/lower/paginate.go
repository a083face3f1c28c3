package lower

import (
	"slices"
	"strconv"
	"strings"

	"github.com/connectorgen/connectorgen/generator/fieldpath"
	"github.com/connectorgen/connectorgen/generator/ir"
	"github.com/connectorgen/connectorgen/generator/load"
)

// Pagination is declared with the x-connectorgen-pagination extension on
// an operation, or detected from conventional parameter and field names.
// Detection only fires when every piece it needs is present and
// type-compatible; anything less generates no iterator.

const paginationExt = "x-connectorgen-pagination"

// The conventional names pagination detection looks for. They are
// functions so that no caller can change them.
func cursorParams() []string {
	return []string{"cursor", "after", "page_token", "pagetoken", "next_token", "nexttoken", "continuation_token", "continuationtoken", "continuation", "next_page_token", "page_cursor", "marker", "start_cursor", "next_cursor"}
}

func itemCursorParams() []string {
	return []string{"starting_after"}
}

func offsetParams() []string {
	return []string{"offset", "skip"}
}

func pageParams() []string {
	return []string{"page", "page_number", "pagenumber"}
}

func limitParams() []string {
	return []string{"limit", "count", "per_page", "perpage", "page_size", "pagesize", "max_results", "maxresults", "size", "top"}
}

func nextCursorFields() []string {
	return []string{"next_cursor", "nextcursor", "next_page_token", "nextpagetoken", "next_token", "nexttoken", "cursor", "after", "end_cursor", "endcursor", "continuation_token", "continuationtoken", "next_marker", "nextmarker", "marker", "next_page_cursor", "next"}
}

func hasMoreFields() []string {
	return []string{"has_more", "hasmore", "has_next", "hasnext", "has_next_page", "hasnextpage", "more"}
}

func nextURLFields() []string {
	return []string{"next", "next_url", "nexturl", "next_page_url", "nextpageurl", "next_link", "nextlink", "@odata.nextlink", "href"}
}

func itemsFields() []string {
	return []string{"data", "items", "results", "records", "entries", "values", "value", "nodes", "list", "elements", "objects", "content", "rows", "hits"}
}

func matchName(name string, set []string) bool {
	return slices.Contains(set, strings.ToLower(name))
}

// structOf returns the struct type t refers to, through aliases, pointers
// and wrappers, or nil.
func (l *lowerer) structOf(t *ir.TypeRef) *ir.Type {
	for i := 0; i < 64 && t != nil; i++ {
		switch t.Kind {
		case ir.Opt, ir.Nullable, ir.Pointer:
			t = t.Elem
			continue
		case ir.Named:
			if t.Pkg != "" {
				return nil
			}
			nt := l.namedType(t.Name)
			if nt == nil {
				return nil
			}
			if nt.Kind == ir.Struct {
				return nt
			}
			if nt.Kind == ir.Alias {
				t = nt.Target
				continue
			}
		}
		return nil
	}
	return nil
}

// sliceElem returns the element type when t is (an alias of) a slice.
func (l *lowerer) sliceElem(t *ir.TypeRef) *ir.TypeRef {
	u := t
	for i := 0; i < 64 && u != nil; i++ {
		if u.Kind == ir.Slice {
			return u.Elem
		}
		if u.Kind != ir.Named || u.Pkg != "" {
			return nil
		}
		nt := l.namedType(u.Name)
		if nt == nil || (nt.Kind != ir.Alias && nt.Kind != ir.Defined) {
			return nil
		}
		u = nt.Target
	}
	return nil
}

// findPath searches st (to depth 3) for a field whose JSON name is in
// names and whose value satisfies ok, preferring shallow matches and the
// order of names.
func (l *lowerer) findPath(st *ir.Type, names []string, ok func(*ir.TypeRef) bool) []ir.Step {
	type cand struct {
		path []ir.Step
	}
	level := []cand{{}}
	for depth := 0; depth < 3; depth++ {
		var nextLevel []cand
		for _, name := range names {
			for _, c := range level {
				cur := st
				if len(c.path) > 0 {
					cur = l.structOf(c.path[len(c.path)-1].Type)
				}
				if cur == nil {
					continue
				}
				for _, f := range cur.Fields {
					if strings.EqualFold(f.JSONName, name) && ok(f.Type) {
						return append(slices.Clone(c.path), ir.Step{Field: f.Name, Type: f.Type})
					}
				}
			}
		}
		for _, c := range level {
			cur := st
			if len(c.path) > 0 {
				cur = l.structOf(c.path[len(c.path)-1].Type)
			}
			if cur == nil {
				continue
			}
			for _, f := range cur.Fields {
				if l.structOf(f.Type) != nil {
					nextLevel = append(nextLevel, cand{append(slices.Clone(c.path), ir.Step{Field: f.Name, Type: f.Type})})
				}
			}
		}
		level = nextLevel
	}
	return nil
}

// scalarOf returns the scalar kind of a possibly wrapped type.
func (l *lowerer) scalarOf(t *ir.TypeRef) (ir.ScalarKind, bool) {
	return scalarKind(l.underlying(t.Unwrapped()))
}

func (l *lowerer) isKind(k ir.ScalarKind) func(*ir.TypeRef) bool {
	return func(t *ir.TypeRef) bool {
		got, ok := l.scalarOf(t)
		return ok && got == k
	}
}

func (l *lowerer) queryParam(op *ir.Operation, names []string, kind ir.ScalarKind) *ir.Param {
	for _, name := range names {
		for _, p := range op.Params {
			if p.In == ir.InQuery && strings.EqualFold(p.Name, name) && !p.Format.List && !p.Format.Any && p.Format.Scalar == kind {
				return p
			}
		}
	}
	return nil
}

func (l *lowerer) lowerPagination(src *opSource) {
	op := src.ir
	if raw, ok := src.op.Extensions[paginationExt]; ok {
		op.Pagination = l.declaredPagination(src, raw)
	} else if src.method == "GET" {
		op.Pagination = l.detectPagination(op)
	}
	if pg := op.Pagination; pg != nil {
		pg.FirstPage = 1
		if pg.LimitParam != nil {
			if m, ok := l.paramMax[pg.LimitParam]; ok && m >= 1 {
				pg.LimitMax = int64(m)
			}
		}
		if pg.PageParam != nil {
			if d, ok := l.paramDefault[pg.PageParam].(float64); ok {
				pg.FirstPage = int64(d)
			}
		}
		pg.PagesMethod = l.methodNS.Claim("pages of "+op.ID, op.MethodName+"Pages")
		pg.ItemsMethod = l.methodNS.Claim("items of "+op.ID, op.MethodName+"Items")
		if pg.Kind == ir.PageNextURL || pg.Kind == ir.PageLinkHeader {
			pg.PageMethod = l.methodNS.Claim("page of "+op.ID, op.MethodName+"Page")
			pg.PagesFromMethod = l.methodNS.Claim("pages from a URL of "+op.ID, op.MethodName+"PagesFrom")
		}
	}
}

// pageShape returns the items path and item type of a list response.
func (l *lowerer) pageShape(op *ir.Operation) (items []ir.Step, item *ir.TypeRef, page *ir.Type, ok bool) {
	res := op.Result
	if res == nil || res.Kind != ir.ResultSingle || res.Single.Content != ir.ContentJSON {
		return nil, nil, nil, false
	}
	if elem := l.sliceElem(res.Single.Type); elem != nil {
		return nil, elem, nil, true // the page is the list itself
	}
	st := l.structOf(res.Single.Type)
	if st == nil {
		return nil, nil, nil, false
	}
	var arrays []*ir.Field
	for _, f := range st.Fields {
		if l.sliceElem(f.Type.Unwrapped()) != nil && f.Type.Kind != ir.Nullable {
			arrays = append(arrays, f)
		}
	}
	pick := func(f *ir.Field) ([]ir.Step, *ir.TypeRef, *ir.Type, bool) {
		return []ir.Step{{Field: f.Name, Type: f.Type}}, l.sliceElem(f.Type.Unwrapped()), st, true
	}
	if len(arrays) == 1 {
		return pick(arrays[0])
	}
	for _, name := range itemsFields() {
		for _, f := range arrays {
			if strings.EqualFold(f.JSONName, name) {
				return pick(f)
			}
		}
	}
	// A field named after the resource: /lists/{id}/members → "members".
	segs := strings.Split(strings.Trim(op.Path, "/"), "/")
	for i := len(segs) - 1; i >= 0; i-- {
		if strings.HasPrefix(segs[i], "{") {
			continue
		}
		for _, f := range arrays {
			if strings.EqualFold(f.JSONName, segs[i]) {
				return pick(f)
			}
		}
		break
	}
	return nil, nil, nil, false
}

func (l *lowerer) detectPagination(op *ir.Operation) *ir.Pagination {
	items, item, page, ok := l.pageShape(op)
	if !ok {
		return nil
	}
	pg := &ir.Pagination{Items: items, ItemType: item}
	pg.LimitParam = l.queryParam(op, limitParams(), ir.ScalarInt)
	isString := l.isKind(ir.ScalarString)
	if page != nil {
		if p := l.queryParam(op, itemCursorParams(), ir.ScalarString); p != nil {
			hasMore := l.findPath(page, hasMoreFields(), l.isKind(ir.ScalarBool))
			if st := l.structOf(item); st != nil && hasMore != nil {
				if id := l.findPath(st, []string{"id"}, isString); len(id) == 1 {
					pg.Kind, pg.CursorParam, pg.HasMore, pg.ItemID = ir.PageItemCursor, p, hasMore, id
					return pg
				}
			}
		}
		for _, kind := range []ir.ScalarKind{ir.ScalarString, ir.ScalarInt} {
			if p := l.queryParam(op, cursorParams(), kind); p != nil {
				if next := l.findPath(page, nextCursorFields(), l.isKind(kind)); next != nil {
					pg.Kind, pg.CursorParam, pg.NextCursor = ir.PageCursor, p, next
					pg.HasMore = l.findPath(page, hasMoreFields(), l.isKind(ir.ScalarBool))
					return pg
				}
			}
		}
		if next := l.findPath(page, nextURLFields(), isString); next != nil && l.queryParam(op, cursorParams(), ir.ScalarString) == nil &&
			l.queryParam(op, offsetParams(), ir.ScalarInt) == nil && l.queryParam(op, pageParams(), ir.ScalarInt) == nil {
			pg.Kind, pg.NextURL = ir.PageNextURL, next
			return pg
		}
	}
	if l.linkHeader[op] {
		pg.Kind = ir.PageLinkHeader
		return pg
	}
	if p := l.queryParam(op, offsetParams(), ir.ScalarInt); p != nil {
		pg.Kind, pg.OffsetParam = ir.PageOffset, p
		return pg
	}
	if p := l.queryParam(op, pageParams(), ir.ScalarInt); p != nil {
		pg.Kind, pg.PageParam = ir.PageNumber, p
		return pg
	}
	return nil
}

// declaredPagination reads x-connectorgen-pagination.
func (l *lowerer) declaredPagination(src *opSource, raw any) *ir.Pagination {
	op := src.ir
	loc := src.loc.Child(paginationExt)
	m, ok := raw.(map[string]any)
	if !ok {
		l.diags.Errorf(l.pos(loc), "operation %q: %s must be a mapping", op.ID, paginationExt)
		return nil
	}
	str := func(k string) string { s, _ := m[k].(string); return s }
	items, item, page, ok := l.pageShapeDeclared(op, str("items"), loc)
	if !ok {
		return nil
	}
	pg := &ir.Pagination{Items: items, ItemType: item, Declared: true}
	param := func(key string, kinds ...ir.ScalarKind) *ir.Param {
		name := str(key)
		if name == "" {
			return nil
		}
		for _, p := range op.Params {
			if p.In == ir.InQuery && p.Name == name && !p.Format.List && !p.Format.Any && slices.Contains(kinds, p.Format.Scalar) {
				return p
			}
		}
		l.diags.Errorf(l.pos(loc.Child(key)), "operation %q: %s: no scalar query parameter %q", op.ID, key, name)
		return nil
	}
	path := func(key string, from *ir.Type, kinds ...ir.ScalarKind) []ir.Step {
		p := str(key)
		if p == "" {
			return nil
		}
		steps, msg := l.resolvePath(from, p, kinds)
		if msg != "" {
			l.diags.Errorf(l.pos(loc.Child(key)), "operation %q: %s: %s", op.ID, key, msg)
		}
		return steps
	}
	pg.LimitParam = param("limit_param", ir.ScalarInt)
	switch style := str("style"); style {
	case "cursor":
		pg.Kind = ir.PageCursor
		pg.CursorParam = param("cursor_param", ir.ScalarString, ir.ScalarInt)
		if pg.CursorParam != nil {
			pg.NextCursor = path("next_cursor", page, pg.CursorParam.Format.Scalar)
		}
		pg.HasMore = path("has_more", page, ir.ScalarBool)
		if pg.CursorParam == nil || pg.NextCursor == nil {
			l.diags.Errorf(l.pos(loc), "operation %q: cursor pagination needs cursor_param and next_cursor", op.ID)
			return nil
		}
	case "item_cursor":
		pg.Kind = ir.PageItemCursor
		pg.CursorParam = param("cursor_param", ir.ScalarString)
		pg.HasMore = path("has_more", page, ir.ScalarBool)
		if st := l.structOf(item); st != nil {
			pg.ItemID = path("item_id", st, ir.ScalarString)
			if pg.ItemID == nil {
				pg.ItemID = l.findPath(st, []string{"id"}, l.isKind(ir.ScalarString))
			}
		}
		if pg.CursorParam == nil || pg.ItemID == nil {
			l.diags.Errorf(l.pos(loc), "operation %q: item_cursor pagination needs cursor_param and items with a string id", op.ID)
			return nil
		}
	case "offset":
		pg.Kind = ir.PageOffset
		if pg.OffsetParam = param("offset_param", ir.ScalarInt); pg.OffsetParam == nil {
			return nil
		}
	case "page":
		pg.Kind = ir.PageNumber
		if pg.PageParam = param("page_param", ir.ScalarInt); pg.PageParam == nil {
			return nil
		}
	case "next_url":
		pg.Kind = ir.PageNextURL
		if pg.NextURL = path("next_url", page, ir.ScalarString); pg.NextURL == nil {
			l.diags.Errorf(l.pos(loc), "operation %q: next_url pagination needs next_url", op.ID)
			return nil
		}
	case "link_header":
		pg.Kind = ir.PageLinkHeader
	default:
		l.diags.Errorf(l.pos(loc.Child("style")), "operation %q: unknown pagination style %q (want cursor, item_cursor, offset, page, next_url or link_header)", op.ID, style)
		return nil
	}
	return pg
}

func (l *lowerer) pageShapeDeclared(op *ir.Operation, itemsPath string, loc load.Loc) ([]ir.Step, *ir.TypeRef, *ir.Type, bool) {
	res := op.Result
	if res == nil || res.Kind != ir.ResultSingle || res.Single.Content != ir.ContentJSON {
		l.diags.Errorf(l.pos(loc), "operation %q: pagination needs a single JSON success response", op.ID)
		return nil, nil, nil, false
	}
	if itemsPath == "" {
		if elem := l.sliceElem(res.Single.Type); elem != nil {
			return nil, elem, nil, true
		}
		items, item, page, ok := l.pageShape(op)
		if !ok {
			l.diags.Errorf(l.pos(loc), "operation %q: pagination: cannot tell which field holds the items; set items", op.ID)
		}
		return items, item, page, ok
	}
	st := l.structOf(res.Single.Type)
	if st == nil {
		l.diags.Errorf(l.pos(loc.Child("items")), "operation %q: items: the response is not an object", op.ID)
		return nil, nil, nil, false
	}
	steps, msg := l.resolvePath(st, itemsPath, nil)
	if msg != "" {
		l.diags.Errorf(l.pos(loc.Child("items")), "operation %q: items: %s", op.ID, msg)
		return nil, nil, nil, false
	}
	elem := l.sliceElem(steps[len(steps)-1].Type.Unwrapped())
	if elem == nil {
		l.diags.Errorf(l.pos(loc.Child("items")), "operation %q: items: %q is not an array", op.ID, itemsPath)
		return nil, nil, nil, false
	}
	return steps, elem, st, true
}

// resolvePath follows a dotted JSON path through struct fields with the
// shared resolver (generator/fieldpath). kinds, when given, constrains the
// final field's scalar kind.
func (l *lowerer) resolvePath(st *ir.Type, path string, kinds []ir.ScalarKind) ([]ir.Step, string) {
	if st == nil {
		return nil, "the response is not an object"
	}
	res, err := fieldpath.Resolve(lowerTypes{l}, ir.NamedRef(st.Name), path)
	if err != nil {
		if err.Kind == fieldpath.NotObject {
			return nil, strconv.Quote(err.Prefix) + " is not an object"
		}
		return nil, err.Error()
	}
	steps := res.Steps
	if len(kinds) > 0 {
		k, ok := l.scalarOf(steps[len(steps)-1].Type)
		if !ok || !slices.Contains(kinds, k) {
			return nil, "\"" + path + "\" has type " + steps[len(steps)-1].Type.String() + ", which does not fit"
		}
	}
	return steps, ""
}

// lowerTypes lets the path resolver see the package being lowered.
// Pagination paths name response fields only, never map entries.
type lowerTypes struct{ l *lowerer }

func (lt lowerTypes) Struct(t *ir.TypeRef) *ir.Type { return lt.l.structOf(t) }

func (lowerTypes) Map(*ir.TypeRef) *ir.TypeRef { return nil }
