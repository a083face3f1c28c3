package sandbox

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/connectorgen/connectorgen/generator/config"
	"github.com/getkin/kin-openapi/openapi3"
)

// This file serves CRM search bodies (HubSpot's POST
// /crm/v3/objects/{type}/search): filterGroups (OR) of filters (AND) with
// EQ, NEQ, GT, GTE, LT, LTE, BETWEEN, IN, NOT_IN, HAS_PROPERTY and
// NOT_HAS_PROPERTY on a property (a field of the record, or a key of one
// of its string maps: HubSpot's properties), sorts ("prop", "-prop" or
// {propertyName, direction}), limit and after (the offset of the page, as
// HubSpot's after is), and properties: the keys of the string maps an
// answer carries (HubSpot answers only those it is asked for, plus
// hs_object_id, createdate and lastmodifieddate).

// searchFilter is one filter of a search body.
type searchFilter struct {
	PropertyName string   `json:"propertyName"`
	Operator     string   `json:"operator"`
	Value        *string  `json:"value"`
	HighValue    *string  `json:"highValue"`
	Values       []string `json:"values"`
}

// searchSort is a sort entry: a string ("prop", "-prop") or an object.
type searchSort struct {
	prop string
	desc bool
}

// searchBody is a decoded CRM search body.
type searchBody struct {
	groups     [][]searchFilter
	sorts      []searchSort
	limit      int
	after      int
	properties []string
}

// parseSearch decodes body as a CRM search body; ok is false when it is
// not one (no filterGroups, sorts or after), err when it is malformed.
func parseSearch(body []byte) (q *searchBody, ok bool, err error) {
	var raw struct {
		FilterGroups *[]struct {
			Filters []searchFilter `json:"filters"`
		} `json:"filterGroups"`
		Sorts      *[]json.RawMessage `json:"sorts"`
		Limit      *int               `json:"limit"`
		After      *string            `json:"after"`
		Properties []string           `json:"properties"`
	}
	if json.Unmarshal(body, &raw) != nil || (raw.FilterGroups == nil && raw.Sorts == nil && raw.After == nil) {
		return nil, false, nil
	}
	q = &searchBody{limit: 10, properties: raw.Properties}
	if raw.FilterGroups != nil {
		for _, g := range *raw.FilterGroups {
			q.groups = append(q.groups, g.Filters)
		}
	}
	if raw.Sorts != nil {
		for _, m := range *raw.Sorts {
			var s string
			var o struct {
				PropertyName string `json:"propertyName"`
				Direction    string `json:"direction"`
			}
			switch {
			case json.Unmarshal(m, &s) == nil:
				p, desc := strings.CutPrefix(s, "-")
				q.sorts = append(q.sorts, searchSort{prop: p, desc: desc})
			case json.Unmarshal(m, &o) == nil && o.PropertyName != "":
				q.sorts = append(q.sorts, searchSort{prop: o.PropertyName, desc: strings.EqualFold(o.Direction, "DESCENDING")})
			default:
				return nil, true, fmt.Errorf("a sort is a property name or {propertyName, direction}")
			}
		}
	}
	if raw.Limit != nil && *raw.Limit > 0 {
		q.limit = *raw.Limit
	}
	if raw.After != nil && *raw.After != "" {
		n, err := strconv.Atoi(*raw.After)
		if err != nil || n < 0 {
			return nil, true, fmt.Errorf("after %q is not a paging position this search returned", *raw.After)
		}
		q.after = n
	}
	for _, g := range q.groups {
		for _, f := range g {
			switch f.Operator {
			case "EQ", "NEQ", "GT", "GTE", "LT", "LTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN":
			default:
				return nil, true, fmt.Errorf("filter operator %q is not supported", f.Operator)
			}
			if f.PropertyName == "" {
				return nil, true, fmt.Errorf("a filter needs propertyName")
			}
		}
	}
	return q, true, nil
}

// searchProp returns a record's value of a search property: a field of
// the record, else the key of one of its string maps.
func searchProp(data Record, prop string) (any, bool) {
	if v, ok := getPath(data, prop); ok && v != nil {
		if _, isMap := v.(map[string]any); !isMap {
			return v, true
		}
	}
	for _, k := range sortedKeys(data) {
		if m, ok := data[k].(map[string]any); ok {
			if v, ok := m[prop]; ok && v != nil {
				return v, true
			}
		}
	}
	return nil, false
}

// searchTime reads a date-time value: RFC 3339 or epoch milliseconds.
func searchTime(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 1e11 {
		return time.UnixMilli(n), true
	}
	return time.Time{}, false
}

// compareSearch orders two values as times when both are date-times, as
// numbers when both are numbers, else as strings (case-insensitive).
func compareSearch(a, b string) int {
	if ta, ok := searchTime(a); ok {
		if tb, ok := searchTime(b); ok {
			return ta.Compare(tb)
		}
	}
	if fa, err := strconv.ParseFloat(a, 64); err == nil && !math.IsNaN(fa) {
		if fb, err := strconv.ParseFloat(b, 64); err == nil && !math.IsNaN(fb) {
			switch {
			case fa < fb:
				return -1
			case fa > fb:
				return 1
			}
			return 0
		}
	}
	return strings.Compare(strings.ToLower(a), strings.ToLower(b))
}

func (f searchFilter) match(data Record) bool {
	v, has := searchProp(data, f.PropertyName)
	s := keyString(v)
	switch f.Operator {
	case "HAS_PROPERTY":
		return has && s != ""
	case "NOT_HAS_PROPERTY":
		return !has || s == ""
	}
	if !has {
		return f.Operator == "NEQ" || f.Operator == "NOT_IN" || f.Operator == "NOT_CONTAINS_TOKEN"
	}
	val := ""
	if f.Value != nil {
		val = *f.Value
	}
	switch f.Operator {
	case "EQ":
		return compareSearch(s, val) == 0
	case "NEQ":
		return compareSearch(s, val) != 0
	case "GT":
		return compareSearch(s, val) > 0
	case "GTE":
		return compareSearch(s, val) >= 0
	case "LT":
		return compareSearch(s, val) < 0
	case "LTE":
		return compareSearch(s, val) <= 0
	case "BETWEEN":
		hi := ""
		if f.HighValue != nil {
			hi = *f.HighValue
		}
		return compareSearch(s, val) >= 0 && compareSearch(s, hi) <= 0
	case "IN", "NOT_IN":
		in := slices.ContainsFunc(f.Values, func(x string) bool { return compareSearch(s, x) == 0 })
		return in == (f.Operator == "IN")
	case "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN":
		c := strings.Contains(strings.ToLower(s), strings.ToLower(strings.Trim(val, "*")))
		return c == (f.Operator == "CONTAINS_TOKEN")
	}
	return false
}

func (q *searchBody) match(data Record) bool {
	if len(q.groups) == 0 {
		return true
	}
	for _, g := range q.groups {
		all := true
		for _, f := range g {
			if !f.match(data) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// alwaysProperties are the properties HubSpot returns whether asked or not.
func alwaysProperties() []string { return []string{"hs_object_id", "createdate", "lastmodifieddate"} }

// only keeps the asked keys of the record's string maps (a copy).
func (q *searchBody) only(data Record, sch *openapi3.Schema) Record {
	if len(q.properties) == 0 {
		return data
	}
	for n, p := range schemaProps(sch) {
		m, ok := data[n].(map[string]any)
		if !ok || p.Value == nil || p.Value.AdditionalProperties.Schema == nil {
			continue
		}
		for k := range m {
			if !slices.Contains(q.properties, k) && !slices.Contains(alwaysProperties(), k) {
				delete(m, k)
			}
		}
	}
	return data
}

// search serves a CRM search body on a find or list route.
func (s *System) search(w http.ResponseWriter, req *http.Request, r *route, q *searchBody) {
	e := r.ent
	e.mu.Lock()
	order := e.orderLocked()
	var hits []*record
	for _, rec := range order {
		if e.deleted != "" {
			if d, _ := rec.data[e.deleted].(bool); d {
				continue
			}
		}
		if q.match(rec.data) {
			hits = append(hits, rec)
		}
	}
	// Sorted by the asked properties (then by the change order, which
	// orderLocked gave); a stable sort keeps ties in that order.
	if len(q.sorts) > 0 {
		slices.SortStableFunc(hits, func(a, b *record) int {
			for _, so := range q.sorts {
				va, _ := searchProp(a.data, so.prop)
				vb, _ := searchProp(b.data, so.prop)
				c := compareSearch(keyString(va), keyString(vb))
				if so.desc {
					c = -c
				}
				if c != 0 {
					return c
				}
			}
			return 0
		})
	}
	ctx := shapeCtx{ent: e, total: len(hits), many: []Record{}}
	for i := q.after; i < len(hits) && i < q.after+q.limit; i++ {
		ctx.many = append(ctx.many, q.only(deepCopy(hits[i].data).(map[string]any), e.schema))
	}
	next := ""
	if q.after+q.limit < len(hits) {
		next = strconv.Itoa(q.after + q.limit)
	}
	e.mu.Unlock()
	status, mt, ok := s.successSchema(w, r)
	if !ok {
		return
	}
	g := s.newGen()
	out := g.shape(mt.Schema.Value, ctx, 0)
	if m, ok := out.(map[string]any); ok {
		if _, has := schemaProps(mt.Schema.Value)["paging"]; has {
			delete(m, "paging")
			if next != "" {
				m["paging"] = map[string]any{"next": map[string]any{"after": next, "link": "?after=" + next}}
			}
		}
		if _, has := schemaProps(mt.Schema.Value)["total"]; has {
			m["total"] = len(hits)
		}
	}
	writeJSON(w, status, s.successType(r), out)
}

// searchOp is the entity's search operation ("" when it has none).
func searchOp(e *config.Entity) string {
	if e.Search == nil {
		return ""
	}
	return e.Search.Op.Text
}

// searchChangeField returns where a record keeps the property a search
// read filters its lower bound on, which the mapping declares to be the
// change time (the server sets it on every change): the field itself, or
// its key in the record's string maps (HubSpot's
// properties.lastmodifieddate).
func searchChangeField(sch *openapi3.Schema, prop string) []string {
	props := schemaProps(sch)
	if _, ok := props[prop]; ok {
		return []string{prop}
	}
	var out []string
	for _, n := range sortedKeys(props) {
		p := props[n].Value
		if p != nil && p.AdditionalProperties.Schema != nil && p.AdditionalProperties.Schema.Value != nil && typeIs(p.AdditionalProperties.Schema.Value, "string") {
			out = append(out, n+"."+prop)
		}
	}
	return out
}
