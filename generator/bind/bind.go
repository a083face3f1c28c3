// Package bind resolves a connector config's mapping (entities, xrefs,
// syncs) against the lowered client packages of its systems and reports
// every problem as a positioned diagnostic with "did you mean" hints.
//
// Stage: bind. It runs after each system's spec has been lowered, because a
// mapping names fields and operations of the generated clients: it checks
// names, types, readOnly fields, required create fields, enum maps and user
// function signatures, and produces an ir.Connector for emit. It decides no
// client names (lower did) and writes nothing; it must not import emit.
package bind

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/connectorgen/connectorgen/generator/config"
	"github.com/connectorgen/connectorgen/generator/diag"
	"github.com/connectorgen/connectorgen/generator/fieldpath"
	"github.com/connectorgen/connectorgen/generator/ir"
	"github.com/connectorgen/connectorgen/generator/naming"
)

// FuncResolver loads the Go function importPath.name and describes its
// signature in IR terms; an error explains why it cannot be used.
type FuncResolver func(importPath, name string) (*ir.Func, error)

// Input is what Bind works on.
type Input struct {
	Config  *config.File
	Clients []*ir.Client
	// Funcs resolves with: functions; nil disables splits and merges.
	Funcs FuncResolver
}

// Bind resolves the mapping. It returns nil and error diagnostics when the
// mapping cannot be generated; a config without syncs yields an empty
// connector.
func Bind(in Input) (*ir.Connector, diag.List) {
	b := &binder{in: in, failedPkgs: map[string]bool{}, echoes: map[*ir.Sync]string{}, clients: map[string]*ir.Client{}, entities: map[string]*ir.Entity{}, types: map[*ir.Package]map[string]*ir.Type{}}
	// Bind records used operations and auth on the clients: work on copies
	// so the caller's values stay as they were.
	clients := make([]*ir.Client, len(in.Clients))
	for i, c := range in.Clients {
		cc := *c
		cc.Auth, cc.Operations, cc.Limits = nil, nil, nil
		clients[i] = &cc
	}
	in.Clients = clients
	b.in = in
	for _, c := range in.Clients {
		b.clients[c.System] = c
		idx := map[string]*ir.Type{}
		for _, t := range c.Pkg.Types {
			idx[t.Name] = t
		}
		b.types[c.Pkg] = idx
	}
	conn := &ir.Connector{Package: in.Config.Package}
	for _, c := range in.Clients {
		conn.Clients = append(conn.Clients, c)
		for _, sys := range in.Config.Systems {
			if sys.Name == c.System {
				for _, l := range sys.Limits {
					c.Limits = append(c.Limits, ir.RateWindow{Requests: l.Requests, Per: l.Per, Burst: l.Burst})
				}
				for _, a := range sys.Auth {
					for _, p := range a.Parts {
						c.Auth = append(c.Auth, ir.AuthDoc{Scheme: a.Scheme.Text, Part: p.Key.Text, Source: p.Value.Text})
					}
					if cred := b.credential(c, a); cred != nil {
						c.Creds = append(c.Creds, cred)
					}
				}
			}
		}
	}
	for _, e := range in.Config.Entities {
		if ent := b.entity(e); ent != nil {
			b.entities[e.Name] = ent
		}
	}
	b.entityNames = make([]string, 0, len(in.Config.Entities))
	for _, e := range in.Config.Entities {
		b.entityNames = append(b.entityNames, e.Name)
	}
	for _, x := range in.Config.Xrefs {
		b.xref(x, conn)
	}
	scope := packageScope(in.Clients)
	for _, s := range in.Config.Syncs {
		if bs := b.sync(s, scope); bs != nil {
			conn.Syncs = append(conn.Syncs, bs)
		}
	}
	linkEchoes(conn, b.echoes)
	for _, c := range conn.Clients {
		slices.Sort(c.Operations)
		c.Operations = slices.Compact(c.Operations)
	}
	if b.diags.HasErrors() {
		return nil, b.diags.Sort()
	}
	return conn, b.diags.Sort()
}

type binder struct {
	in          Input
	diags       diag.List
	clients     map[string]*ir.Client
	types       map[*ir.Package]map[string]*ir.Type
	entities    map[string]*ir.Entity
	entityNames []string
	xrefs       map[string]*ir.Xref
	// failedPkgs are with: packages that did not load, already reported.
	failedPkgs map[string]bool
	// echoes are the syncs declaring echo_suppression → the name of the
	// sync writing the other way (linked once every sync is bound).
	echoes map[*ir.Sync]string
}

func (b *binder) errorf(pos diag.Pos, format string, args ...any) {
	b.diags.Errorf(pos, format, args...)
}

// suggest appends a did-you-mean hint, or the list of known names when it
// is short.
func suggest(msg, name string, known []string) string {
	return msg + diag.Hint(name, known, 8)
}

// typeOf returns the struct/enum type a (qualified or not) named ref
// points to in client c.
func (b *binder) typeOf(c *ir.Client, t *ir.TypeRef) *ir.Type {
	t = t.Unwrapped()
	if t == nil || t.Kind != ir.Named || (t.Pkg != "" && t.Pkg != c.ImportPath) {
		return nil
	}
	return b.types[c.Pkg][t.Name]
}

// qualify returns a copy of t with the client's unqualified named types
// qualified by its import path.
func qualify(t *ir.TypeRef, importPath string) *ir.TypeRef {
	if t == nil {
		return nil
	}
	c := *t
	if c.Kind == ir.Named && c.Pkg == "" {
		c.Pkg = importPath
	}
	c.Elem = qualify(t.Elem, importPath)
	return &c
}

// path resolves a written field path (dotted, with map keys) through the
// types of client c starting at root, with the shared resolver. what names
// the side for messages.
func (b *binder) path(c *ir.Client, root *ir.TypeRef, v config.Value, what string) (ir.Path, *ir.Field, bool) {
	p := ir.Path{Text: v.Text}
	res, err := fieldpath.Resolve(clientTypes{b, c}, root, v.Text)
	if err != nil {
		switch err.Kind {
		case fieldpath.NoField:
			b.errorf(v.Pos, "%s", suggest(fmt.Sprintf("%s %q: no such property on %s", what, v.Text, err.Type.Name), err.Segment, err.Known))
		default:
			b.errorf(v.Pos, "%s %q: %s", what, v.Text, err.Error())
		}
		return p, nil, false
	}
	for _, st := range res.Steps {
		st.Type = qualify(st.Type, c.ImportPath)
		p.Steps = append(p.Steps, st)
	}
	p.Untyped, p.NearMiss = res.Untyped, res.NearMiss
	return p, res.Leaf, true
}

// clientTypes lets the path resolver see one client's declarations.
type clientTypes struct {
	b *binder
	c *ir.Client
}

func (ct clientTypes) Struct(t *ir.TypeRef) *ir.Type {
	if nt := ct.b.typeOf(ct.c, t); nt != nil && nt.Kind == ir.Struct {
		return nt
	}
	return nil
}

func (ct clientTypes) Map(t *ir.TypeRef) *ir.TypeRef {
	u := t.Unwrapped()
	for range 8 {
		if u == nil {
			return nil
		}
		if u.Kind == ir.Map {
			return u.Elem
		}
		nt := ct.b.typeOf(ct.c, u)
		if nt == nil || (nt.Kind != ir.Alias && nt.Kind != ir.Defined) {
			return nil
		}
		u = nt.Target.Unwrapped()
	}
	return nil
}

// alwaysPresent reports whether every step of p is a plain (required,
// non-nullable) value.
func alwaysPresent(p ir.Path) bool {
	for _, s := range p.Steps {
		if s.MapKey {
			return false // a key may be absent
		}
		switch s.Type.Kind {
		case ir.Opt, ir.Nullable, ir.Pointer:
			return false
		}
	}
	return true
}

func (b *binder) opByID(c *ir.Client, v config.Value, what string) *ir.Operation {
	var ids []string
	for _, op := range c.Pkg.Operations {
		if op.ID == v.Text {
			c.Operations = append(c.Operations, op.ID)
			return op
		}
		ids = append(ids, op.ID)
	}
	b.errorf(v.Pos, "%s", suggest(fmt.Sprintf("%s: no operation %q in system %q", what, v.Text, c.System), v.Text, ids))
	return nil
}

// call binds an operation and the entity's constant params to it.
func (b *binder) call(e *config.Entity, c *ir.Client, v config.Value, what string) *ir.OpCall {
	if !v.IsSet() {
		return nil
	}
	op := b.opByID(c, v, fmt.Sprintf("entity %q: %s", e.Name, what))
	if op == nil {
		return nil
	}
	oc := &ir.OpCall{Client: c, Op: op}
	for _, cp := range e.Params {
		for _, p := range op.Params {
			if p.Name == cp.Name {
				if u := p.Type.Unwrapped(); !isString(u) && !(u.Kind == ir.Slice && isString(u.Elem)) {
					b.errorf(cp.Pos, "entity %q: param %q of %s is %s; only string and string-list params can be fixed in the mapping (a list as comma-separated values)", e.Name, cp.Name, op.ID, u)
				}
				oc.Consts = append(oc.Consts, ir.ConstParam{Param: p, Value: cp.Value.Text})
			}
		}
	}
	if op.Body != nil {
		oc.BodyType = qualify(op.Body.Type.Unwrapped(), c.ImportPath)
	}
	return oc
}

// freeParams are the operation's required params not fixed by the entity.
func freeParams(oc *ir.OpCall, in ir.ParamIn) []*ir.Param {
	var out []*ir.Param
	for _, p := range oc.Op.Params {
		if in != "" && p.In != in {
			continue
		}
		fixed := slices.ContainsFunc(oc.Consts, func(c ir.ConstParam) bool { return c.Param == p })
		if !fixed && p.Required {
			out = append(out, p)
		}
	}
	return out
}

func (b *binder) entity(e *config.Entity) *ir.Entity {
	c, ok := b.clients[e.System]
	if !ok {
		var names []string
		for n := range b.clients {
			names = append(names, n)
		}
		slices.Sort(names)
		b.errorf(e.Pos, "%s", suggest(fmt.Sprintf("entity %q: no system %q", e.Name, e.System), e.System, names))
		return nil
	}
	schema := e.Schema
	if !schema.IsSet() {
		_, name, _ := strings.Cut(e.Name, ".")
		schema = config.Value{Text: name, Pos: e.Pos}
	}
	var t *ir.Type
	var typeNames []string
	for _, cand := range c.Pkg.Types {
		if cand.SchemaName == schema.Text || (cand.SchemaName == "" && cand.Name == schema.Text) {
			t = cand
		}
		if cand.Kind == ir.Struct && cand.SchemaName != "" {
			typeNames = append(typeNames, cand.SchemaName)
		}
	}
	if t == nil {
		b.errorf(schema.Pos, "%s", suggest(fmt.Sprintf("entity %q: no schema %q in system %q", e.Name, schema.Text, e.System), schema.Text, typeNames))
		return nil
	}
	ent := &ir.Entity{Name: e.Name, Client: c, Type: qualify(ir.NamedRef(t.Name), c.ImportPath), Lookback: e.LookbackDur}
	root := ir.NamedRef(t.Name)
	if !e.Key.IsSet() {
		b.errorf(e.Pos, "entity %q: missing key (the field that identifies a record, e.g. id)", e.Name)
		return nil
	}
	okAll := true
	var f *ir.Field
	if ent.Key, f, ok = b.path(c, root, e.Key, "key"); ok {
		u := f.Type.Unwrapped()
		if ent.KeyKind, ok = keyKind(u); !ok {
			b.errorf(e.Key.Pos, "entity %q: key %q is %s; keys must be strings, integers or UUIDs", e.Name, e.Key.Text, u)
			okAll = false
		}
	} else {
		okAll = false
	}
	if e.Version.IsSet() {
		if ent.Version, f, ok = b.path(c, root, e.Version, "version"); ok {
			if !isInt(f.Type.Unwrapped()) {
				b.errorf(e.Version.Pos, "entity %q: version %q is %s; it must be an integer", e.Name, e.Version.Text, f.Type.Unwrapped())
				okAll = false
			}
		} else {
			okAll = false
		}
	}
	if e.Deleted.IsSet() {
		if ent.Deleted, f, ok = b.path(c, root, e.Deleted, "deleted"); ok {
			if u := f.Type.Unwrapped(); u.Kind != ir.Builtin || u.Name != "bool" {
				b.errorf(e.Deleted.Pos, "entity %q: deleted %q is %s; it must be a boolean", e.Name, e.Deleted.Text, u)
				okAll = false
			}
		} else {
			okAll = false
		}
	}
	cursorOK := false
	if e.Cursor.IsSet() {
		if ent.Cursor, f, ok = b.path(c, root, e.Cursor, "cursor"); ok {
			u := f.Type.Unwrapped()
			switch {
			case isTime(u):
				ent.CursorKind, cursorOK = ir.CursorTime, true
			case isInt(u):
				ent.CursorKind, cursorOK = ir.CursorInt, true
			default:
				b.errorf(e.Cursor.Pos, "entity %q: cursor %q is %s; a cursor must be a date-time or an integer", e.Name, e.Cursor.Text, u)
				okAll = false
			}
		} else {
			okAll = false
		}
	}
	if e.Changed.IsSet() {
		if ent.Changed, f, ok = b.path(c, root, e.Changed, "changed"); ok {
			if !isTime(qualify(f.Type.Unwrapped(), c.ImportPath)) {
				b.errorf(e.Changed.Pos, "entity %q: changed %q is %s; it must be a date-time", e.Name, e.Changed.Text, f.Type.Unwrapped())
				okAll = false
			}
		} else {
			okAll = false
		}
	} else if ent.CursorKind == ir.CursorTime {
		ent.Changed = ent.Cursor
	}
	// The version orders a record's changes: the version field, else the
	// cursor (a time in nanoseconds, or an integer that grows with every
	// change), else none (unchanged writes are skipped by snapshot).
	switch {
	case len(ent.Version.Steps) > 0:
		ent.VersionFrom = ir.VersionField
	case ent.CursorKind == ir.CursorTime:
		ent.VersionFrom = ir.VersionTimeCursor
	case ent.CursorKind == ir.CursorInt:
		ent.VersionFrom = ir.VersionIntCursor
	}
	if e.Search != nil {
		if e.List.IsSet() {
			b.errorf(e.Search.Pos, "entity %q: read has both list and search; keep one", e.Name)
			okAll = false
		} else if !b.search(e, c, ent) {
			okAll = false
		}
	}
	ent.List = b.call(e, c, e.List, "read list")
	if ent.List != nil && ent.List.Op.Pagination == nil {
		b.errorf(e.List.Pos, "entity %q: list operation %q has no pagination connectorgen knows; declare it with x-connectorgen-pagination in the spec", e.Name, e.List.Text)
		okAll = false
	}
	if ent.List != nil && ent.List.Op.Pagination != nil && !sameType(qualify(ent.List.Op.Pagination.ItemType, c.ImportPath), ent.Type) {
		b.errorf(e.List.Pos, "entity %q: list operation %q returns %s items, not %s", e.Name, e.List.Text, ent.List.Op.Pagination.ItemType, t.Name)
		okAll = false
	}
	if e.Since.IsSet() {
		switch {
		case ent.List == nil:
			b.errorf(e.Since.Pos, "entity %q: since needs a list operation", e.Name)
		case !e.Cursor.IsSet():
			b.errorf(e.Since.Pos, "entity %q: since needs a cursor field", e.Name)
		default:
			var names []string
			for _, p := range ent.List.Op.Params {
				names = append(names, p.Name)
				if p.Name == e.Since.Text {
					ent.List.SinceParam = p
				}
			}
			if ent.List.SinceParam == nil {
				b.errorf(e.Since.Pos, "%s", suggest(fmt.Sprintf("entity %q: list operation %q has no parameter %q", e.Name, ent.List.Op.ID, e.Since.Text), e.Since.Text, names))
				okAll = false
			} else if cursorOK && !sameType(ent.List.SinceParam.Type.Unwrapped(), ent.Cursor.Leaf().Unwrapped()) {
				b.errorf(e.Since.Pos, "entity %q: parameter %q is %s but cursor %q is %s", e.Name, e.Since.Text, ent.List.SinceParam.Type.Unwrapped(), e.Cursor.Text, ent.Cursor.Leaf().Unwrapped())
				okAll = false
			}
		}
	}
	ent.Get = b.call(e, c, e.Get, "read get")
	if ent.Get != nil {
		if ent.Get.KeyParam = b.keyParam(e, ent.Get, e.Get); ent.Get.KeyParam == nil {
			okAll = false
		} else if !b.returns(ent.Get, ent.Type) && !b.envelope(ent.Get, ent.Type) {
			b.errorf(e.Get.Pos, "entity %q: get operation %q returns neither %s nor an object whose only field is one", e.Name, e.Get.Text, t.Name)
			okAll = false
		}
	}
	ent.Create = b.call(e, c, e.Create, "write create")
	if ent.Create != nil {
		for _, p := range ent.Create.Op.Params {
			if p.In == ir.InHeader && strings.EqualFold(p.Name, ent.Create.Op.IdempotencyKeyHeader) {
				ent.Create.IdemParam = p
			}
		}
		if ent.Create.BodyType == nil || b.typeOf(c, ent.Create.BodyType) == nil {
			b.errorf(e.Create.Pos, "entity %q: create operation %q has no JSON object body", e.Name, e.Create.Text)
			okAll = false
		}
		if len(ent.Key.Steps) > 0 && !b.resultKey(e, ent, ent.Create, e.Create) {
			okAll = false
		}
		if len(freeParams(ent.Create, ir.InPath)) > 0 {
			b.errorf(e.Create.Pos, "entity %q: create operation %q needs path parameter %q; fix it under params", e.Name, e.Create.Text, freeParams(ent.Create, ir.InPath)[0].Name)
			okAll = false
		}
	}
	ent.Update = b.call(e, c, e.Update, "write update")
	if e.Upsert.IsSet() {
		if !b.upsert(e, c, ent) {
			okAll = false
		}
	} else if ent.Update != nil {
		if ent.Update.KeyParam = b.keyParam(e, ent.Update, e.Update); ent.Update.KeyParam == nil {
			okAll = false
		}
		if ent.Update.BodyType == nil || b.typeOf(c, ent.Update.BodyType) == nil {
			b.errorf(e.Update.Pos, "entity %q: update operation %q has no JSON object body", e.Name, e.Update.Text)
			okAll = false
		}
	}
	ent.Find = b.call(e, c, e.Find, "write find")
	for _, pair := range []struct {
		v  config.Value
		oc *ir.OpCall
	}{{e.List, ent.List}, {e.Get, ent.Get}, {e.Create, ent.Create}, {e.Update, ent.Update}, {e.Find, ent.Find}} {
		if pair.v.IsSet() && pair.oc == nil {
			okAll = false
		}
	}
	if e.Events != nil && !b.events(e, c, ent) {
		okAll = false
	}
	if ent.Find != nil {
		if !b.findResult(ent, e) {
			okAll = false
		}
	}
	if e.Webhook != nil {
		if ent.Webhook = b.webhook(e, c, ent.Type); ent.Webhook == nil {
			okAll = false
		}
	}
	if !okAll {
		return nil
	}
	return ent
}

// resultKey finds the record key in a create (or upsert) response: the
// entity's key path resolved against the response type.
func (b *binder) resultKey(e *config.Entity, ent *ir.Entity, oc *ir.OpCall, v config.Value) bool {
	r := oc.Op.Result
	if r != nil && r.Kind == ir.ResultSingle && r.Single != nil && r.Single.Type != nil {
		res, err := fieldpath.Resolve(clientTypes{b, oc.Client}, r.Single.Type, e.Key.Text)
		if err == nil {
			if k, ok := keyKind(res.Leaf.Type.Unwrapped()); ok && k == ent.KeyKind {
				oc.ResultKey = ir.Path{Text: e.Key.Text}
				for _, st := range res.Steps {
					st.Type = qualify(st.Type, oc.Client.ImportPath)
					oc.ResultKey.Steps = append(oc.ResultKey.Steps, st)
				}
				return true
			}
		}
	}
	b.errorf(v.Pos, "entity %q: operation %q does not answer with the new record's key %q (of the key's type)", e.Name, oc.Op.ID, e.Key.Text)
	return false
}

// upsert binds a create-or-update operation as both the entity's create
// and its update: it takes the record in its body (found by a natural key
// there), never a key in its path.
func (b *binder) upsert(e *config.Entity, c *ir.Client, ent *ir.Entity) bool {
	if e.Create.IsSet() || e.Update.IsSet() {
		b.errorf(e.Upsert.Pos, "entity %q: upsert is both create and update; drop write.create and write.update", e.Name)
		return false
	}
	oc := b.call(e, c, e.Upsert, "write upsert")
	if oc == nil {
		return false
	}
	if oc.BodyType == nil || b.typeOf(c, oc.BodyType) == nil {
		b.errorf(e.Upsert.Pos, "entity %q: upsert operation %q has no JSON object body", e.Name, e.Upsert.Text)
		return false
	}
	if free := freeParams(oc, ir.InPath); len(free) > 0 {
		b.errorf(e.Upsert.Pos, "entity %q: upsert operation %q takes path parameter %q; an upsert finds the record by its body, so fix other path parameters under params", e.Name, e.Upsert.Text, free[0].Name)
		return false
	}
	for _, p := range oc.Op.Params {
		if p.In == ir.InHeader && strings.EqualFold(p.Name, oc.Op.IdempotencyKeyHeader) {
			oc.IdemParam = p
		}
	}
	if e.Bulk != nil {
		if !b.bulk(e, c, ent, oc) {
			return false
		}
	} else if len(ent.Key.Steps) > 0 && !b.resultKey(e, ent, oc, e.Upsert) {
		return false
	}
	upd := *oc
	ent.Create, ent.Update, ent.Upsert = oc, &upd, true
	return true
}

// defaultBatch is the records per bulk request when the mapping does not
// say (SendGrid takes up to 30,000 contacts per request; 500 keeps one
// failed request cheap to retry).
const defaultBatch = 500

// bulk binds write.bulk: the upsert body's list of records. The fields of
// the sync then map into one element of that list.
func (b *binder) bulk(e *config.Entity, c *ir.Client, ent *ir.Entity, oc *ir.OpCall) bool {
	bk := e.Bulk
	if !bk.List.IsSet() {
		return false // the decoder reported it
	}
	res, perr := fieldpath.Resolve(clientTypes{b, c}, oc.BodyType, bk.List.Text)
	if perr != nil {
		b.errorf(bk.List.Pos, "entity %q: bulk target without a list: upsert operation %q body: %s", e.Name, oc.Op.ID, perr.Error())
		return false
	}
	lt := res.Leaf.Type.Unwrapped()
	if res.Leaf.Type.Kind == ir.Nullable || lt.Kind != ir.Slice || b.typeOf(c, lt.Elem) == nil {
		b.errorf(bk.List.Pos, "entity %q: bulk target without a list: %q in the body of upsert operation %q is %s, not a list of objects", e.Name, bk.List.Text, oc.Op.ID, res.Leaf.Type)
		return false
	}
	for _, st := range res.Steps {
		if st.MapKey {
			b.errorf(bk.List.Pos, "entity %q: bulk list %q goes through a map entry; it must name fields", e.Name, bk.List.Text)
			return false
		}
	}
	batch := defaultBatch
	if max := res.Leaf.MaxItems; max > 0 && max < batch {
		batch = max
	}
	if bk.Batch.IsSet() {
		if max := res.Leaf.MaxItems; max > 0 && bk.BatchN > max {
			b.errorf(bk.Batch.Pos, "entity %q: batch size over maxItems: batch %d but %q of %q takes at most %d records", e.Name, bk.BatchN, bk.List.Text, oc.Op.ID, max)
			return false
		}
		batch = bk.BatchN
	}
	out := &ir.Bulk{BodyType: oc.BodyType, ItemType: qualify(lt.Elem, c.ImportPath), Batch: batch, List: ir.Path{Text: bk.List.Text}}
	for _, st := range res.Steps {
		st.Type = qualify(st.Type, c.ImportPath)
		out.List.Steps = append(out.List.Steps, st)
	}
	kr, kerr := fieldpath.Resolve(clientTypes{b, c}, lt.Elem, e.Key.Text)
	if kerr != nil {
		b.errorf(e.Key.Pos, "entity %q: the records of bulk list %q have no key %q (%s); a bulk upsert's target key is the record's natural key as written", e.Name, bk.List.Text, e.Key.Text, kerr.Error())
		return false
	}
	if k, ok := keyKind(kr.Leaf.Type.Unwrapped()); !ok || k != ent.KeyKind {
		b.errorf(e.Key.Pos, "entity %q: key %q of the bulk list's records is %s, not the entity key's type", e.Name, e.Key.Text, kr.Leaf.Type.Unwrapped())
		return false
	}
	out.ItemKey = ir.Path{Text: e.Key.Text}
	for _, st := range kr.Steps {
		st.Type = qualify(st.Type, c.ImportPath)
		out.ItemKey.Steps = append(out.ItemKey.Steps, st)
	}
	out.Job = b.bulkJob(oc)
	consts, ok := b.bodyConsts(e, c, oc.BodyType, oc.Op.ID)
	if !ok {
		return false
	}
	out.Consts = consts
	ent.Bulk = out
	// Fields map into one record of the list.
	oc.BodyType = out.ItemType
	return true
}

// keyParam finds the one free path parameter that takes the record key.
func (b *binder) keyParam(e *config.Entity, oc *ir.OpCall, v config.Value) *ir.Param {
	free := freeParams(oc, ir.InPath)
	if len(free) != 1 {
		var names []string
		for _, p := range free {
			names = append(names, p.Name)
		}
		b.errorf(v.Pos, "entity %q: operation %q must take the record key as its one path parameter not fixed under params (has %d: %s)", e.Name, v.Text, len(free), strings.Join(names, ", "))
		return nil
	}
	kind, ok := keyKind(free[0].Type.Unwrapped())
	if !ok {
		b.errorf(v.Pos, "entity %q: parameter %q of %q is %s; a key parameter must be a string, an integer or a UUID", e.Name, free[0].Name, v.Text, free[0].Type.Unwrapped())
		return nil
	}
	oc.KeyKind = kind
	return free[0]
}

// keyKind says whether t can hold a record key, and as what.
func keyKind(t *ir.TypeRef) (ir.KeyKind, bool) {
	switch {
	case isString(t):
		return ir.KeyString, true
	case isInt(t):
		return ir.KeyInt, true
	case t != nil && t.Kind == ir.Named && t.Pkg == ir.PkgOAS && t.Name == "UUID":
		return ir.KeyUUID, true
	}
	return 0, false
}

// returns reports whether the call's success result is t.
func (b *binder) returns(oc *ir.OpCall, t *ir.TypeRef) bool {
	r := oc.Op.Result
	if r == nil || r.Kind != ir.ResultSingle || r.Single == nil || r.Single.Type == nil {
		return false
	}
	got := qualify(r.Single.Type, oc.Client.ImportPath)
	if sameType(got, t) {
		return true
	}
	// A vendor spec may repeat the schema inline under another name: the
	// same fields with the same types convert in Go (tags aside).
	if b.sameStruct(oc.Client, got, t) {
		oc.ConvertResult = true
		return true
	}
	return false
}

// envelope reports whether oc answers with an object whose only field
// holds a record of type t (Shopify's get answers {"customer": {…}}), and
// records the field as oc.Envelope.
func (b *binder) envelope(oc *ir.OpCall, t *ir.TypeRef) bool {
	r := oc.Op.Result
	if r == nil || r.Kind != ir.ResultSingle || r.Single == nil || r.Single.Type == nil {
		return false
	}
	et := b.typeOf(oc.Client, qualify(r.Single.Type, oc.Client.ImportPath))
	if et == nil || et.Kind != ir.Struct || len(et.Fields) != 1 || et.Extra != nil {
		return false
	}
	f := et.Fields[0]
	ft := qualify(f.Type, oc.Client.ImportPath)
	inner := ft
	if ft.Kind == ir.Pointer {
		inner = ft.Elem
	}
	if !sameType(inner, t) {
		return false
	}
	oc.Envelope = []ir.Step{{Field: f.Name, Type: ft}}
	return true
}

// sameStruct reports whether a and b are struct types of client c with the
// same fields (Go names, JSON names and identical types, in order), so a
// value of one converts to the other.
func (b *binder) sameStruct(c *ir.Client, a, bt *ir.TypeRef) bool {
	ta, tb := b.typeOf(c, a), b.typeOf(c, bt)
	if ta == nil || tb == nil || ta.Kind != ir.Struct || tb.Kind != ir.Struct || len(ta.Fields) != len(tb.Fields) || ta.Extra != nil || tb.Extra != nil {
		return false
	}
	for i, f := range ta.Fields {
		g := tb.Fields[i]
		if f.Name != g.Name || f.JSONName != g.JSONName || !sameType(qualify(f.Type, c.ImportPath), qualify(g.Type, c.ImportPath)) {
			return false
		}
	}
	return true
}

// findResult works out how a find operation's result leads to matches:
// the record itself, or a struct with one slice of records.
func (b *binder) findResult(ent *ir.Entity, e *config.Entity) bool {
	oc := ent.Find
	if b.returns(oc, ent.Type) {
		return true
	}
	r := oc.Op.Result
	if r != nil && r.Kind == ir.ResultSingle && r.Single != nil && r.Single.Type != nil {
		if t := b.typeOf(oc.Client, r.Single.Type); t != nil && t.Kind == ir.Struct {
			for _, f := range t.Fields {
				if f.Type.Kind == ir.Slice && sameType(qualify(f.Type.Elem, oc.Client.ImportPath), ent.Type) {
					oc.Items = []ir.Step{{Field: f.Name, Type: qualify(f.Type, oc.Client.ImportPath)}}
					return true
				}
			}
		}
	}
	b.errorf(e.Find.Pos, "entity %q: find operation %q returns neither %s nor an object with a list of them", e.Name, e.Find.Text, ent.Type.Name)
	return false
}

func (b *binder) webhook(e *config.Entity, c *ir.Client, record *ir.TypeRef) *ir.Webhook {
	w := e.Webhook
	if !w.Event.IsSet() || !w.Key.IsSet() {
		b.errorf(w.Pos, "entity %q: webhook needs event (its schema) and key (the record's key in it)", e.Name)
		return nil
	}
	var t *ir.Type
	for _, cand := range c.Pkg.Types {
		if cand.SchemaName == w.Event.Text {
			t = cand
		}
	}
	if t == nil || t.Kind != ir.Struct {
		b.errorf(w.Event.Pos, "entity %q: webhook event: no object schema %q in system %q", e.Name, w.Event.Text, e.System)
		return nil
	}
	out := &ir.Webhook{Event: qualify(ir.NamedRef(t.Name), c.ImportPath), SignatureHeader: w.SignatureHeader.Text, SecretSource: w.Secret.Text,
		Scheme: map[string]string{"stripe": "SchemeStripe", "shopify": "SchemeShopify"}[w.SignatureScheme.Text]}
	if out.Scheme == "" {
		out.Scheme = "SchemeTimestamped"
	}
	// The body may be the changed record itself (Shopify posts the
	// customer): it names no event, so the ID comes from a header.
	out.RecordBody = sameType(out.Event, record)
	id := w.ID
	switch name, isHeader := strings.CutPrefix(id.Text, "header."); {
	case !id.IsSet():
		if out.Scheme != "SchemeShopify" {
			b.errorf(w.Pos, "entity %q: webhook needs id: a field of event %s naming the delivery, or header.NAME when the sender names it in a header (signature scheme shopify does: X-Shopify-Webhook-Id)", e.Name, w.Event.Text)
			return nil
		}
		out.IDHeader = "X-Shopify-Webhook-Id"
	case isHeader:
		if !headerToken(name) {
			b.errorf(id.Pos, "entity %q: webhook id %q: %q is not an HTTP header name", e.Name, id.Text, name)
			return nil
		}
		out.IDHeader = name
		id = config.Value{}
	case out.RecordBody:
		hint := "id: header.NAME"
		if out.Scheme == "SchemeShopify" {
			hint += ", or leave id out: scheme shopify uses X-Shopify-Webhook-Id"
		}
		b.errorf(id.Pos, "entity %q: webhook id %q is a field of the record itself (event %s is the entity's schema): every change of one record would carry the same id and be dropped as a duplicate; name the header that identifies each delivery (%s)", e.Name, id.Text, w.Event.Text, hint)
		return nil
	}
	root := ir.NamedRef(t.Name)
	ok := true
	var f *ir.Field
	var fine bool
	for _, pair := range []struct {
		v   config.Value
		dst *ir.Path
		typ string
	}{{id, &out.ID, "string"}, {w.Key, &out.Key, "key"}, {w.Version, &out.Version, "int"}} {
		if !pair.v.IsSet() {
			continue
		}
		if *pair.dst, f, fine = b.path(c, root, pair.v, "webhook field"); !fine {
			ok = false
			continue
		}
		u := f.Type.Unwrapped()
		if pair.typ == "key" {
			var isKey bool
			if out.KeyKind, isKey = keyKind(u); !isKey {
				b.errorf(pair.v.Pos, "entity %q: webhook field %q is %s; want a string, integer or UUID key", e.Name, pair.v.Text, u)
				ok = false
			}
			continue
		}
		if (pair.typ == "string" && (u.Kind != ir.Builtin || u.Name != "string")) || (pair.typ == "int" && !isInt(u)) {
			b.errorf(pair.v.Pos, "entity %q: webhook field %q is %s; want %s", e.Name, pair.v.Text, u, pair.typ)
			ok = false
		}
	}
	if w.Secret.IsSet() && !strings.HasPrefix(w.Secret.Text, "env://") && !strings.HasPrefix(w.Secret.Text, "file://") {
		b.errorf(w.Secret.Pos, "entity %q: webhook secret must be a reference (env://NAME or file://PATH), never a value", e.Name)
		ok = false
	}
	if !ok {
		return nil
	}
	return out
}

// headerToken reports whether name is an HTTP header field name (an RFC
// 9110 token).
func headerToken(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return true
}

func (b *binder) xref(x *config.Xref, conn *ir.Connector) {
	if b.xrefs == nil {
		b.xrefs = map[string]*ir.Xref{}
	}
	ok := true
	for _, v := range []config.Value{x.From, x.To} {
		if !v.IsSet() {
			b.errorf(x.Pos, "xref %q: needs from and to entities", x.Name)
			return
		}
		if b.lookupEntityName(v, "xref "+strconv.Quote(x.Name)) == nil {
			ok = false
		}
	}
	if !ok {
		return
	}
	xr := &ir.Xref{Name: x.Name, From: x.From.Text, To: x.To.Text}
	b.xrefs[x.Name] = xr
	conn.Xrefs = append(conn.Xrefs, xr)
}

// lookupEntityName resolves an entity reference; declared entities that
// failed to bind are not reported again.
func (b *binder) lookupEntityName(v config.Value, what string) *ir.Entity {
	if e, ok := b.entities[v.Text]; ok {
		return e
	}
	if slices.Contains(b.entityNames, v.Text) {
		return nil
	}
	b.errorf(v.Pos, "%s", suggest(fmt.Sprintf("%s: no entity %q (declare it under entities)", what, v.Text), v.Text, b.entityNames))
	return nil
}

func isInt(t *ir.TypeRef) bool {
	if t == nil || t.Kind != ir.Builtin {
		return false
	}
	switch t.Name {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return true
	}
	return false
}

func isFloat(t *ir.TypeRef) bool {
	return t != nil && t.Kind == ir.Builtin && (t.Name == "float32" || t.Name == "float64")
}

func isString(t *ir.TypeRef) bool {
	return t != nil && t.Kind == ir.Builtin && t.Name == "string"
}

func isTime(t *ir.TypeRef) bool {
	return t != nil && t.Kind == ir.Named && t.Pkg == "time" && t.Name == "Time"
}

func isDate(t *ir.TypeRef) bool {
	return t != nil && t.Kind == ir.Named && t.Pkg == ir.PkgOAS && t.Name == "Date"
}

func sameType(a, b *ir.TypeRef) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Kind == b.Kind && a.Name == b.Name && a.Pkg == b.Pkg && sameType(a.Elem, b.Elem)
}

// credentialParts lists the parts a scheme's credential has, required ones
// first; ok is false for schemes the mapping cannot configure.
func credentialParts(s *ir.SecurityScheme) (required, optional []string, ok bool) {
	switch {
	case s.Type == "apiKey":
		return []string{"key"}, nil, true
	case s.Type == "http" && s.Scheme == "basic":
		return []string{"username", "password"}, nil, true
	case s.Type == "oauth2":
		return []string{"client_id", "client_secret"}, []string{"refresh_token", "scopes"}, s.TokenURLConst != ""
	case s.Type == "http", s.Type == "openIdConnect":
		return []string{"token"}, nil, true
	}
	return nil, nil, false
}

// credential binds one auth entry of a system to its security scheme.
func (b *binder) credential(c *ir.Client, a config.AuthSource) *ir.Credential {
	var scheme *ir.SecurityScheme
	var keys []string
	for _, s := range c.Pkg.SecuritySchemes {
		keys = append(keys, s.Key)
		if s.Key == a.Scheme.Text {
			scheme = s
		}
	}
	what := fmt.Sprintf("system %q: auth", c.System)
	if scheme == nil {
		b.errorf(a.Scheme.Pos, "%s", suggest(fmt.Sprintf("%s: the spec has no security scheme %q", what, a.Scheme.Text), a.Scheme.Text, keys))
		return nil
	}
	required, optional, ok := credentialParts(scheme)
	if !ok {
		b.errorf(a.Scheme.Pos, "%s: scheme %q (%s) cannot be configured in the mapping file (an OAuth scheme needs a flow with a token URL; mutual TLS is set on the http.Client)", what, scheme.Key, scheme.Type)
		return nil
	}
	cred := &ir.Credential{Scheme: scheme, Parts: map[string]string{}}
	known := append(append([]string{}, required...), optional...)
	if a.Short && len(a.Parts) == 1 {
		// One reference for the whole credential: unambiguous when the
		// scheme's credential has one required part (an API key, a bearer
		// token); a scheme with several (basic, OAuth) names them.
		if len(required) != 1 {
			b.errorf(a.Scheme.Pos, "%s %s: one reference cannot fill a credential of several parts; name them (%s)", what, scheme.Key, strings.Join(known, ", "))
			return nil
		}
		a.Parts = []config.Pair{{Key: config.Value{Text: required[0], Pos: a.Parts[0].Key.Pos}, Value: a.Parts[0].Value}}
	}
	for _, p := range a.Parts {
		if !slices.Contains(known, p.Key.Text) {
			b.errorf(p.Key.Pos, "%s", suggest(fmt.Sprintf("%s %s: %q is not a part of its credential (%s)", what, scheme.Key, p.Key.Text, strings.Join(known, ", ")), p.Key.Text, known))
			continue
		}
		cred.Parts[p.Key.Text] = p.Value.Text
	}
	for _, r := range required {
		if _, ok := cred.Parts[r]; !ok {
			b.errorf(a.Scheme.Pos, "%s %s: missing %s", what, scheme.Key, r)
			return nil
		}
	}
	return cred
}

// packageScope is the top-level namespace of the generated sync package
// with the names every connector has (and each client's constructor)
// reserved; syncs claim theirs in it, so a sync whose names collide is
// reported here instead of producing code that does not compile.
func packageScope(clients []*ir.Client) *naming.Scope {
	scope := naming.NewScope()
	for _, n := range []string{"Clients", "Endpoints", "NewClients", "Register", "credential"} {
		scope.Reserve(n, "used by the connector itself")
	}
	for _, c := range clients {
		c.NewFunc = scope.Claim("used by the constructor of the "+c.System+" client", "new"+naming.Exported(c.System)+"Client")
	}
	return scope
}

// xrefNames lists the declared xref tables, sorted, for hints.
func (b *binder) xrefNames() []string {
	names := make([]string, 0, len(b.xrefs))
	for n := range b.xrefs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
