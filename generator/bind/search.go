package bind

import (
	"fmt"
	"strings"

	"github.com/connectorgen/connectorgen/generator/config"
	"github.com/connectorgen/connectorgen/generator/fieldpath"
	"github.com/connectorgen/connectorgen/generator/ir"
)

// defaultPageSize is the records per search page when the mapping does
// not say (HubSpot's own default is 10, its maximum 200).
const defaultPageSize = 100

// searchPath resolves text below root (a type of client c) and qualifies
// its steps; the error names what was looked for.
func (b *binder) searchPath(c *ir.Client, root *ir.TypeRef, text string) (ir.Path, *ir.Field, error) {
	res, err := fieldpath.Resolve(clientTypes{b, c}, root, text)
	if err != nil {
		return ir.Path{}, nil, fmt.Errorf("%s", err.Error())
	}
	for _, st := range res.Steps {
		if st.MapKey {
			return ir.Path{}, nil, fmt.Errorf("%q goes through a map entry", text)
		}
	}
	p := ir.Path{Text: text}
	for _, st := range res.Steps {
		st.Type = qualify(st.Type, c.ImportPath)
		p.Steps = append(p.Steps, st)
	}
	return p, res.Leaf, nil
}

// search binds read.search: the operation's body must follow the CRM
// search convention (filterGroups[].filters[] with propertyName, operator
// and value; sorts; limit; after) and its answer must carry the records
// (results) and the next page's position (paging.next.after).
func (b *binder) search(e *config.Entity, c *ir.Client, ent *ir.Entity) bool {
	cs := e.Search
	if !cs.Op.IsSet() || !cs.Property.IsSet() {
		return false // the decoder reported it
	}
	oc := b.call(e, c, cs.Op, "read search")
	if oc == nil {
		return false
	}
	what := fmt.Sprintf("entity %q: search operation %q", e.Name, oc.Op.ID)
	if oc.BodyType == nil || b.typeOf(c, oc.BodyType) == nil {
		b.errorf(cs.Op.Pos, "%s has no JSON object body", what)
		return false
	}
	if free := freeParams(oc, ""); len(free) > 0 {
		b.errorf(cs.Op.Pos, "%s needs parameter %q; fix it under params", what, free[0].Name)
		return false
	}
	if !e.Cursor.IsSet() {
		b.errorf(cs.Pos, "entity %q: a search read needs a cursor (the field whose lower bound the filter on %q takes)", e.Name, cs.Property.Text)
		return false
	}
	convention := "a search body has filterGroups[].filters[] with propertyName, operator and value, sorts (a list of strings), limit and after"
	s := &ir.Search{Call: oc, Property: cs.Property.Text, Operator: "GTE", Sort: cs.Property.Text, PageSize: defaultPageSize}
	if cs.Operator.IsSet() {
		s.Operator = cs.Operator.Text
	}
	if cs.Sort.IsSet() {
		if strings.HasPrefix(cs.Sort.Text, "-") {
			b.errorf(cs.Sort.Pos, "entity %q: search sort %q is descending; a search read pages ascending on its cursor", e.Name, cs.Sort.Text)
			return false
		}
		s.Sort = cs.Sort.Text
	}
	if cs.PageSize.IsSet() {
		s.PageSize = cs.PageSizeN
	}
	bodyErr := func(err error) bool {
		b.errorf(cs.Op.Pos, "%s: its body does not follow the search convention (%s): %s", what, convention, err.Error())
		return false
	}
	list := func(root *ir.TypeRef, text string) (ir.Path, *ir.TypeRef, bool) {
		p, leaf, err := b.searchPath(c, root, text)
		if err != nil {
			return p, nil, bodyErr(err)
		}
		lt := leaf.Type.Unwrapped()
		if lt.Kind != ir.Slice || b.typeOf(c, lt.Elem) == nil {
			return p, nil, bodyErr(fmt.Errorf("%q is %s, not a list of objects", text, leaf.Type))
		}
		return p, qualify(lt.Elem, c.ImportPath), true
	}
	var ok bool
	if s.Groups, s.GroupType, ok = list(oc.BodyType, "filterGroups"); !ok {
		return false
	}
	if s.Filters, s.FilterType, ok = list(s.GroupType, "filters"); !ok {
		return false
	}
	for _, f := range []struct {
		p    *ir.Path
		name string
	}{{&s.Prop, "propertyName"}, {&s.Op, "operator"}, {&s.Value, "value"}} {
		p, leaf, err := b.searchPath(c, s.FilterType, f.name)
		if err != nil {
			return bodyErr(err)
		}
		u := leaf.Type.Unwrapped()
		et := b.typeOf(c, u)
		if !isString(u) && (et == nil || et.Kind != ir.Enum || !isString(et.EnumBase)) {
			return bodyErr(fmt.Errorf("filter field %q is %s, not a string", f.name, leaf.Type))
		}
		if f.name == "operator" && et != nil && et.Kind == ir.Enum {
			var vals []string
			found := false
			for _, ev := range et.EnumValues {
				v := fmt.Sprint(ev.Value)
				vals = append(vals, v)
				found = found || v == s.Operator
			}
			if !found {
				pos := cs.Operator.Pos
				if !pos.IsValid() {
					pos = cs.Pos
				}
				b.errorf(pos, "entity %q: search filter op %q is not an operator of %q (%s)", e.Name, s.Operator, oc.Op.ID, strings.Join(vals, ", "))
				return false
			}
		}
		*f.p = p
	}
	for _, f := range []struct {
		p    *ir.Path
		name string
		ok   func(*ir.TypeRef) bool
		want string
	}{
		{&s.Sorts, "sorts", func(t *ir.TypeRef) bool { return t.Kind == ir.Slice && isString(t.Elem) }, "a list of strings"},
		{&s.Limit, "limit", isInt, "an integer"},
		{&s.After, "after", isString, "a string"},
	} {
		p, leaf, err := b.searchPath(c, oc.BodyType, f.name)
		if err != nil {
			return bodyErr(err)
		}
		if !f.ok(leaf.Type.Unwrapped()) {
			return bodyErr(fmt.Errorf("%q is %s, not %s", f.name, leaf.Type, f.want))
		}
		*f.p = p
	}
	// The answer: the records and the next page's position.
	r := oc.Op.Result
	if r == nil || r.Kind != ir.ResultSingle || r.Single == nil || r.Single.Type == nil {
		b.errorf(cs.Op.Pos, "%s answers with no JSON object (a search answers with results and paging.next.after)", what)
		return false
	}
	p, leaf, err := b.searchPath(c, r.Single.Type, "results")
	if err != nil {
		b.errorf(cs.Op.Pos, "%s: its answer has no results: %s", what, err.Error())
		return false
	}
	if lt := leaf.Type.Unwrapped(); lt.Kind != ir.Slice || !sameType(qualify(lt.Elem, c.ImportPath), ent.Type) {
		b.errorf(cs.Op.Pos, "%s returns results of %s, not a list of %s (the entity's schema)", what, leaf.Type, ent.Type.Name)
		return false
	}
	s.Results = p
	if p, leaf, err = b.searchPath(c, r.Single.Type, "paging.next.after"); err != nil || !isString(leaf.Type.Unwrapped()) {
		b.errorf(cs.Op.Pos, "%s: its answer has no string paging.next.after (the next page's position)", what)
		return false
	}
	s.Next = p
	// params naming a body field fix it (HubSpot's properties: the fields
	// the answer carries).
	for _, cp := range e.Params {
		p, leaf, err := b.searchPath(c, oc.BodyType, cp.Name)
		if err != nil {
			continue
		}
		u := leaf.Type.Unwrapped()
		switch {
		case isString(u):
			s.Consts = append(s.Consts, ir.BodyConst{Path: p, Values: []string{cp.Value.Text}})
		case u.Kind == ir.Slice && isString(u.Elem):
			var vals []string
			for _, v := range strings.Split(cp.Value.Text, ",") {
				vals = append(vals, strings.TrimSpace(v))
			}
			s.Consts = append(s.Consts, ir.BodyConst{Path: p, List: true, Values: vals})
		default:
			b.errorf(cp.Pos, "entity %q: param %q fixes body field %q of %s, which is %s; only string and string-list fields can be fixed", e.Name, cp.Name, cp.Name, oc.Op.ID, leaf.Type)
			return false
		}
	}
	ent.Search = s
	return true
}
