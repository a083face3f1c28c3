package sandbox

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"
)

// An entity read through an events feed (read.events in the connector
// config, Stripe's GET /v1/events) gets an event in that feed for every
// change, as the vendor would record it: type "<entity>.<created|updated|deleted>",
// created (unix seconds), and the record under data.object. The events
// live in the entity the feed's list operation serves.

// feedEntities gives every events list of read.events an entity to serve
// its events from when the spec declares none (no GET /events/{id}): the
// component schema of the list's items.
func (s *System) feedEntities() {
	for _, e := range s.entities {
		if e.feed == "" {
			continue
		}
		r := s.routeByID(e.feed)
		if r == nil || r.ent != nil {
			continue
		}
		for _, name := range sortedKeys(schemaProps(successSchema(r.op))) {
			p := schemaProps(successSchema(r.op))[name]
			if p == nil || p.Value == nil || p.Value.Items == nil || p.Value.Items.Value == nil {
				continue
			}
			item := p.Value.Items.Value
			cn := s.componentName(item)
			if cn == "" {
				continue
			}
			ent := newEntity(s.name+"."+cn, cn, item)
			s.applyHints(ent)
			s.completeEntity(ent)
			s.entities = append(s.entities, ent)
			r.ent, r.role = ent, roleList
			break
		}
	}
}

// feedChanged appends an event for a change of rec to e's events feed
// (called without e.mu): its type is the entity's name and the change,
// customer.created, customer.updated or customer.deleted (a deletion's
// data.object is the record as it was last), or the value of the event
// type's enum ending so when the spec lists the types.
func (s *System) feedChanged(e *entity, rec Record, kind string) {
	if e.feed == "" {
		return
	}
	r := s.routeByID(e.feed)
	if r == nil || r.ent == nil || r.ent == e {
		return
	}
	ev := r.ent
	m, _ := s.newGen().value(ev.schema, "", 0).(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	delete(m, ev.key)
	m["type"] = feedEventType(ev.schema, strings.ToLower(e.name), kind)
	m["data"] = map[string]any{"object": deepCopy(rec)}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	// created never goes back (events are ordered by it).
	now := time.Now().Unix()
	if now < ev.feedLast {
		now = ev.feedLast
	}
	ev.feedLast = now
	m["created"] = now
	_, _, _ = s.insertLocked(ev, normalize(m))
}

// feedEventType is the type of an event for a change (kind) of an entity
// (name, lower case): "name.kind", or when the event schema's type is an
// enum without it, the enum's value for the entity ending in ".kind".
func feedEventType(sch *openapi3.Schema, name, kind string) string {
	typ := name + "." + kind
	p := schemaProps(sch)["type"]
	if p == nil || p.Value == nil || len(p.Value.Enum) == 0 || slices.Contains(p.Value.Enum, any(typ)) {
		return typ
	}
	for _, v := range p.Value.Enum {
		if s, ok := v.(string); ok && strings.HasPrefix(s, name+".") && strings.HasSuffix(s, "."+kind) {
			return s
		}
	}
	return typ
}

// rangeParam splits a deepObject range parameter name such as
// created[gte] into its field and comparison.
func rangeParam(k string) (field, op string, ok bool) {
	open := strings.IndexByte(k, '[')
	if open <= 0 || !strings.HasSuffix(k, "]") {
		return "", "", false
	}
	field, op = k[:open], k[open+1:len(k)-1]
	switch op {
	case "gt", "gte", "lt", "lte":
	default:
		return "", "", false
	}
	for i, c := range field {
		if c != '_' && !unicode.IsLetter(c) && (i == 0 || !unicode.IsDigit(c)) {
			return "", "", false
		}
	}
	return field, op, true
}

// rangeFilter reads deepObject range parameters on integer fields
// (Stripe's created[gte]=…) into a predicate on records.
func rangeFilter(q map[string][]string, isField func(string) bool) func(Record) bool {
	type bound struct {
		field, op string
		v         float64
	}
	var bs []bound
	for k, vs := range q {
		field, op, ok := rangeParam(k)
		if !ok || len(vs) == 0 || !isField(field) {
			continue
		}
		v, err := strconv.ParseFloat(vs[0], 64)
		if err != nil {
			continue
		}
		bs = append(bs, bound{field, op, v})
	}
	return func(r Record) bool {
		for _, b := range bs {
			f, err := strconv.ParseFloat(keyString(r[b.field]), 64)
			if err != nil {
				return false
			}
			switch {
			case b.op == "gt" && !(f > b.v), b.op == "gte" && !(f >= b.v), b.op == "lt" && !(f < b.v), b.op == "lte" && !(f <= b.v):
				return false
			}
		}
		return true
	}
}

// pluralFilter reads the query's list parameters (lists: the operation's
// array parameters) named for a scalar field in the plural (Stripe's
// types[]=customer.created&types[]=… on GET /v1/events, whose events carry
// type) into a predicate: the record's field is one of the values. The
// forms are NAME[], NAME[i], NAME repeated and comma-separated values.
func pluralFilter(q map[string][]string, lists map[string]bool, isField func(string) bool) func(Record) bool {
	sets := map[string][]string{}
	for k, vs := range q {
		name := k
		if open := strings.IndexByte(k, '['); open > 0 && strings.HasSuffix(k, "]") {
			if idx := k[open+1 : len(k)-1]; idx != "" {
				if _, err := strconv.Atoi(idx); err != nil {
					continue
				}
			}
			name = k[:open]
		}
		field, ok := strings.CutSuffix(name, "s")
		if !ok || field == "" || !lists[name] || isField(name) || !isField(field) {
			continue
		}
		for _, v := range vs {
			for _, one := range strings.Split(v, ",") {
				if one != "" {
					sets[field] = append(sets[field], one)
				}
			}
		}
	}
	return func(r Record) bool {
		for field, vals := range sets {
			if !slices.Contains(vals, keyString(r[field])) {
				return false
			}
		}
		return true
	}
}

// listParams names op's query parameters whose schema is an array.
func listParams(op *openapi3.Operation) map[string]bool {
	out := map[string]bool{}
	if op == nil {
		return out
	}
	for _, p := range op.Parameters {
		if v := p.Value; v != nil && v.In == "query" && v.Schema != nil && v.Schema.Value != nil && v.Schema.Value.Type.Is("array") {
			out[v.Name] = true
		}
	}
	return out
}

// validatable returns op without the query parameters kin-openapi's
// request validator cannot decode (deepObject lists and deepObject
// unions, as Stripe's types[] and created[gte]): it answers every request
// naming them 400 "invalid serialization method", which would fail valid
// requests. The rest of the request is validated as usual.
func validatable(op *openapi3.Operation) *openapi3.Operation {
	keep := make(openapi3.Parameters, 0, len(op.Parameters))
	for _, p := range op.Parameters {
		if v := p.Value; v != nil && v.In == "query" && v.Style == "deepObject" && v.Schema != nil && v.Schema.Value != nil {
			sch := v.Schema.Value
			if sch.Type.Is("array") || len(sch.AnyOf) > 0 || len(sch.OneOf) > 0 || len(sch.AllOf) > 0 {
				continue
			}
		}
		keep = append(keep, p)
	}
	if len(keep) == len(op.Parameters) {
		return op
	}
	c := *op
	c.Parameters = keep
	return &c
}

// scalarField reports whether a record field can be matched by a query
// parameter's value: an object or a list cannot (HubSpot's properties=
// names the properties to answer with, it does not filter on them).
func scalarField(p *openapi3.SchemaRef) bool {
	if p == nil || p.Value == nil {
		return false
	}
	return !p.Value.Type.Is("object") && !p.Value.Type.Is("array") && len(p.Value.Properties) == 0
}

// absentMatches reports whether a record without the field matches a
// filter on it: the field's default, or false for a boolean (HubSpot's
// archived=false lists contacts created without archived).
func absentMatches(p *openapi3.SchemaRef, value string) bool {
	if p == nil || p.Value == nil {
		return false
	}
	if d := p.Value.Default; d != nil {
		return strings.EqualFold(keyString(d), value)
	}
	return p.Value.Type.Is("boolean") && value == "false"
}
