package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/connectorgen/connectorgen/generator/ir"
)

// gen builds JSON values from schemas: whole answers around stored
// records (shape), and values for required fields a record lacks
// (value). Generated values are deterministic so that answers are
// reproducible.
type gen struct {
	s *System
	// request leaves out read-only properties (bodies a client sends);
	// otherwise write-only ones are left out (answers).
	request bool
}

func (s *System) newGen() *gen { return &gen{s: s} }

// next draws from the system's seeded generator (ids).
func (s *System) next() uint64 {
	s.genMu.Lock()
	defer s.genMu.Unlock()
	return s.gen.Uint64()
}

// shapeCtx is what an answer carries: one record, or a page of records
// with its pagination state.
type shapeCtx struct {
	ent        *entity
	one        Record
	many       []Record
	total      int
	hasMore    bool
	nextCursor string
	nextURL    string
}

func typeIs(s *openapi3.Schema, t string) bool { return s.Type != nil && s.Type.Is(t) }

func isObject(s *openapi3.Schema) bool {
	return typeIs(s, "object") || ((s.Type == nil || len(*s.Type) == 0) && (len(s.Properties) > 0 || len(s.AllOf) > 0))
}

func nameIn(n string, set ...string) bool {
	n = strings.ToLower(n)
	for _, s := range set {
		if n == s {
			return true
		}
	}
	return false
}

// shape builds the answer for sch around the records of ctx.
func (g *gen) shape(sch *openapi3.Schema, ctx shapeCtx, depth int) any {
	if sch == nil || depth > 6 {
		return nil
	}
	ent := ctx.ent
	env := ""
	if ctx.one != nil && ent != nil {
		env = inlinedEntity(sch, ent)
	}
	if ctx.one != nil && ent != nil && (sch == ent.schema || extends(sch, ent.schema) ||
		sch.Items == nil && !refersTo(sch, ent.schema, 0) && env == "") {
		return g.complete(ctx.one, sch, 0)
	}
	if typeIs(sch, "array") {
		var items *openapi3.Schema
		if sch.Items != nil {
			items = sch.Items.Value
		}
		out := []any{}
		for _, rec := range ctx.many {
			out = append(out, g.complete(rec, items, 0))
		}
		return out
	}
	if len(sch.OneOf) > 0 || len(sch.AnyOf) > 0 {
		alts := append(append([]*openapi3.SchemaRef{}, sch.OneOf...), sch.AnyOf...)
		for _, a := range alts {
			if a.Value != nil && ent != nil && refersTo(a.Value, ent.schema, 0) {
				return g.shape(a.Value, ctx, depth+1)
			}
		}
	}
	if !isObject(sch) {
		return g.value(sch, "", 0)
	}
	props := schemaProps(sch)
	req := map[string]bool{}
	for _, r := range requiredOf(sch) {
		req[r] = true
	}
	out := map[string]any{}
	itemsPlaced := false
	for _, n := range sortedKeys(props) {
		p := props[n].Value
		if p == nil {
			continue
		}
		switch {
		case ctx.many != nil && !itemsPlaced && typeIs(p, "array") && p.Items != nil && p.Items.Value != nil &&
			(ent != nil && refersTo(p.Items.Value, ent.schema, 0) || nameIn(n, "data", "items", "results", "records", "members", "entries", "values")):
			out[n] = g.shape(p, ctx, depth+1)
			itemsPlaced = true
		case ctx.one != nil && ent != nil && (refersTo(p, ent.schema, 0) || n == env):
			out[n] = g.shape(p, ctx, depth+1)
		case ctx.many != nil && typeIs(p, "string") && nameIn(n, "next_cursor", "nextcursor", "next_page_token", "nextpagetoken", "next_token", "cursor", "after", "end_cursor", "next_marker", "marker", "next_page_cursor"):
			switch {
			case ctx.nextCursor != "":
				out[n] = ctx.nextCursor
			case p.Nullable || typeIs(p, "null"):
				out[n] = nil
			case req[n]:
				out[n] = ""
			}
		case ctx.many != nil && typeIs(p, "boolean") && nameIn(n, "has_more", "hasmore", "has_next", "hasnext", "has_next_page", "more"):
			out[n] = ctx.hasMore
		case ctx.many != nil && typeIs(p, "integer") && nameIn(n, "total", "total_items", "total_count", "totalcount", "count", "total_results"):
			out[n] = ctx.total
		case ctx.many != nil && typeIs(p, "string") && nameIn(n, "next", "next_url", "nexturl", "next_page_url", "next_link", "nextlink"):
			switch {
			case ctx.nextURL != "":
				out[n] = ctx.nextURL
			case p.Nullable || typeIs(p, "null"):
				out[n] = nil
			case req[n]:
				out[n] = ""
			}
		case req[n]:
			out[n] = g.value(p, n, depth+1)
		}
	}
	return out
}

// extends reports whether sch is the entity's schema with more: an allOf
// naming it, plus properties of the answer's own (Intercom's contact with
// enabled_push_messaging).
func extends(sch, target *openapi3.Schema) bool {
	for _, a := range sch.AllOf {
		if a.Value == target {
			return true
		}
	}
	return false
}

// inlinedEntity is the property of an envelope whose object schema is an
// inlined copy of the entity's (Pipedrive's {success, data: {…}} answers
// repeat PersonItem instead of referring to it): it holds the entity's key
// and at least half of the entity's properties. "" when there is none, or
// when sch refers to the entity itself.
func inlinedEntity(sch *openapi3.Schema, e *entity) string {
	if !isObject(sch) || refersTo(sch, e.schema, 0) || resembles(sch, e, false) {
		return ""
	}
	props := schemaProps(sch)
	for _, n := range sortedKeys(props) {
		if p := props[n].Value; p != nil && isObject(p) && resembles(p, e, true) {
			return n
		}
	}
	return ""
}

// resembles reports whether the object schema sch has at least half of
// the entity's properties (and its key, when withKey).
func resembles(sch *openapi3.Schema, e *entity, withKey bool) bool {
	want, have := schemaProps(e.schema), schemaProps(sch)
	if len(want) == 0 || withKey && (want[e.key] == nil || have[e.key] == nil) {
		return false
	}
	common := 0
	for k := range want {
		if have[k] != nil {
			common++
		}
	}
	return 2*common >= len(want)
}

// placePagination writes the next cursor or URL where the generator's
// pagination model reads it (paths through nested objects such as
// HubSpot's paging.next.after).
func (g *gen) placePagination(out any, pg *ir.Pagination, root *ir.TypeRef, ctx shapeCtx) {
	m, ok := out.(map[string]any)
	if !ok || pg == nil || !ctx.hasMore {
		return
	}
	pkg := g.s.pkg
	if p := jsonPath(pkg, root, pg.NextCursor); p != "" && ctx.nextCursor != "" {
		setPath(m, p, ctx.nextCursor)
	}
	if p := jsonPath(pkg, root, pg.NextURL); p != "" && ctx.nextURL != "" {
		setPath(m, p, ctx.nextURL)
	}
	if p := jsonPath(pkg, root, pg.HasMore); p != "" {
		setPath(m, p, true)
	}
}

// jsonPath turns the generator's Go-field steps into a dotted JSON path.
func jsonPath(pkg *ir.Package, t *ir.TypeRef, steps []ir.Step) string {
	if len(steps) == 0 {
		return ""
	}
	var parts []string
	for _, st := range steps {
		typ := namedStruct(pkg, t)
		if typ == nil {
			return ""
		}
		found := false
		for _, f := range typ.Fields {
			if f.Name == st.Field {
				parts = append(parts, f.JSONName)
				t = f.Type
				found = true
				break
			}
		}
		if !found {
			return ""
		}
	}
	return strings.Join(parts, ".")
}

func namedStruct(pkg *ir.Package, t *ir.TypeRef) *ir.Type {
	for i := 0; i < 16 && t != nil; i++ {
		t = t.Unwrapped()
		if t == nil || t.Kind != ir.Named || t.Pkg != "" {
			return nil
		}
		var nt *ir.Type
		for _, x := range pkg.Types {
			if x.Name == t.Name {
				nt = x
				break
			}
		}
		if nt == nil {
			return nil
		}
		if nt.Kind == ir.Struct {
			return nt
		}
		if nt.Kind != ir.Alias {
			return nil
		}
		t = nt.Target
	}
	return nil
}

func requiredOf(s *openapi3.Schema) []string {
	out := append([]string(nil), s.Required...)
	for _, a := range s.AllOf {
		if a.Value != nil {
			out = append(out, requiredOf(a.Value)...)
		}
	}
	return out
}

// complete returns rec as sch describes it: required fields it lacks are
// generated, fields whose stored value does not fit the schema (a write
// shape differing from the read shape) are regenerated or dropped, and
// write-only fields are dropped.
func (g *gen) complete(rec Record, sch *openapi3.Schema, depth int) any {
	if sch == nil || depth > 6 {
		return rec
	}
	if !isObject(sch) {
		if len(sch.OneOf) > 0 && sch.OneOf[0].Value != nil {
			return g.complete(rec, sch.OneOf[0].Value, depth+1)
		}
		if len(sch.AnyOf) > 0 && sch.AnyOf[0].Value != nil {
			return g.complete(rec, sch.AnyOf[0].Value, depth+1)
		}
		return rec
	}
	props := schemaProps(sch)
	out := make(map[string]any, len(rec))
	for k, v := range rec {
		p := props[k]
		if p == nil || p.Value == nil {
			if sch.AdditionalProperties.Has != nil && !*sch.AdditionalProperties.Has {
				continue
			}
			out[k] = v
			continue
		}
		if p.Value.WriteOnly {
			continue
		}
		if sub, ok := v.(map[string]any); ok && isObject(p.Value) {
			out[k] = g.complete(sub, p.Value, depth+1)
			continue
		}
		if p.Value.VisitJSON(jsonValue(v), openapi3.MultiErrors()) != nil {
			if vv := g.convert(v, p.Value); vv != nil {
				out[k] = vv
			}
			continue
		}
		out[k] = v
	}
	for _, n := range requiredOf(sch) {
		if _, ok := out[n]; ok {
			continue
		}
		if p := props[n]; p != nil && p.Value != nil {
			out[n] = g.value(p.Value, n, depth+1)
		}
	}
	return out
}

// convert adapts a stored value to a read schema that differs from the
// write schema: strings become objects with a name (tags), numbers and
// strings are converted; otherwise the value is regenerated.
func (g *gen) convert(v any, sch *openapi3.Schema) any {
	switch {
	case typeIs(sch, "array"):
		a, ok := v.([]any)
		if !ok || sch.Items == nil || sch.Items.Value == nil {
			return g.value(sch, "", 0)
		}
		out := []any{}
		for _, it := range a {
			if sub := g.convert(it, sch.Items.Value); sub != nil {
				out = append(out, sub)
			}
		}
		return out
	case isObject(sch):
		if str, ok := v.(string); ok {
			o, _ := g.value(sch, "", 0).(map[string]any)
			if o == nil {
				o = map[string]any{}
			}
			for _, n := range []string{"name", "value", "label"} {
				if p := schemaProps(sch)[n]; p != nil {
					o[n] = str
					break
				}
			}
			return o
		}
	case typeIs(sch, "string"):
		return keyString(v)
	case typeIs(sch, "integer"), typeIs(sch, "number"):
		if n, err := strconv.ParseFloat(keyString(v), 64); err == nil {
			return n
		}
	case typeIs(sch, "boolean"):
		if b, err := strconv.ParseBool(keyString(v)); err == nil {
			return b
		}
	}
	if v == nil && sch.Nullable {
		return nil
	}
	return g.value(sch, "", 0)
}

// keep says whether a property belongs in the value being generated.
func (g *gen) keep(p *openapi3.Schema) bool {
	if p == nil {
		return false
	}
	if g.request {
		return !p.ReadOnly
	}
	return !p.WriteOnly
}

// keepProp is keep for property n of sch, looking at every allOf member
// (one member may mark a property read-only that another requires).
func (g *gen) keepProp(sch *openapi3.Schema, n string) bool {
	if sch == nil {
		return true
	}
	if p := sch.Properties[n]; p != nil && !g.keep(p.Value) {
		return false
	}
	for _, a := range sch.AllOf {
		if !g.keepProp(a.Value, n) {
			return false
		}
	}
	return true
}

// jsonValue converts json.Number for kin-openapi's validator.
func jsonValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return float64(i)
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, vv := range x {
			m[k] = jsonValue(vv)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, vv := range x {
			a[i] = jsonValue(vv)
		}
		return a
	case int:
		return float64(x)
	case int64:
		return float64(x)
	}
	return v
}

// genTime is the fixed instant generated date-times carry.
func genTime() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC) }

// value generates a value that validates against sch.
func (g *gen) value(sch *openapi3.Schema, name string, depth int) any {
	if sch == nil || depth > 8 {
		return nil
	}
	if len(sch.Enum) > 0 {
		return sch.Enum[0]
	}
	if sch.Default != nil && sch.Default != "" {
		return sch.Default
	}
	if alts := append(append([]*openapi3.SchemaRef{}, sch.OneOf...), sch.AnyOf...); len(alts) > 0 && alts[0].Value != nil {
		v := g.value(alts[0].Value, name, depth+1)
		if len(schemaProps(sch)) == 0 {
			return v
		}
		// The parent declares the properties; a variant may only list
		// required names ({required: [email]}): fill them from the parent.
		m, ok := v.(map[string]any)
		if !ok {
			m = map[string]any{}
		}
		props := schemaProps(sch)
		for _, n := range append(requiredOf(alts[0].Value), requiredOf(sch)...) {
			if p := props[n]; p != nil && m[n] == nil && g.keepProp(sch, n) {
				m[n] = g.value(p.Value, n, depth+1)
			}
		}
		return m
	}
	switch {
	case typeIs(sch, "string"):
		return g.str(sch, name)
	case typeIs(sch, "integer"):
		return int64(bound(sch, 1))
	case typeIs(sch, "number"):
		return bound(sch, 1)
	case typeIs(sch, "boolean"):
		return false
	case typeIs(sch, "array"):
		out := []any{}
		if sch.Items != nil {
			for i := uint64(0); i < sch.MinItems; i++ {
				out = append(out, g.value(sch.Items.Value, name, depth+1))
			}
		}
		return out
	case isObject(sch):
		out := map[string]any{}
		props := schemaProps(sch)
		for _, n := range requiredOf(sch) {
			if p := props[n]; p != nil && g.keepProp(sch, n) {
				out[n] = g.value(p.Value, n, depth+1)
			}
		}
		if len(sch.AllOf) > 0 && len(props) == 0 {
			for _, a := range sch.AllOf {
				if m, ok := g.value(a.Value, name, depth+1).(map[string]any); ok {
					for k, v := range m {
						out[k] = v
					}
				}
			}
		}
		return out
	case typeIs(sch, "null") || sch.Nullable:
		return nil
	}
	return nil
}

func bound(sch *openapi3.Schema, v float64) float64 {
	if sch.Min != nil && v < *sch.Min {
		v = math.Ceil(*sch.Min)
		if sch.ExclusiveMin.IsTrue() || sch.ExclusiveMin.Value != nil {
			v++
		}
	}
	if sch.Max != nil && v > *sch.Max {
		v = math.Floor(*sch.Max)
	}
	return v
}

func (g *gen) str(sch *openapi3.Schema, name string) string {
	var v string
	switch sch.Format {
	case "date-time":
		v = genTime().Format(time.RFC3339)
	case "date":
		v = genTime().Format(time.DateOnly)
	case "time":
		v = "03:04:05"
	case "email":
		v = "user@example.com"
	case "uuid":
		v = "00000000-0000-4000-8000-000000000001"
	case "uri", "url", "uri-reference":
		v = "https://example.com/"
	case "byte":
		v = base64.StdEncoding.EncodeToString([]byte("sandbox"))
	case "ipv4":
		v = "192.0.2.1"
	case "ipv6":
		v = "2001:db8::1"
	case "hostname":
		v = "example.com"
	default:
		if ex, ok := sch.Example.(string); ok {
			v = ex
		} else {
			v = "sandbox"
			if name != "" {
				v = name
			}
		}
	}
	if sch.Pattern != "" {
		if re, err := regexp.Compile(sch.Pattern); err == nil && !re.MatchString(v) {
			if ex, ok := sch.Example.(string); ok && re.MatchString(ex) {
				v = ex
			} else if p, _ := regexp.MustCompile(strings.TrimPrefix(sch.Pattern, "^")).LiteralPrefix(); p != "" && re.MatchString(p) {
				v = p // ^/v1/customers: the literal the pattern starts with
			}
		}
	}
	for uint64(len(v)) < sch.MinLength {
		v += "x"
	}
	if sch.MaxLength != nil && uint64(len(v)) > *sch.MaxLength {
		v = v[:*sch.MaxLength]
	}
	return v
}

var _ = fmt.Sprint
