package sandbox

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/connectorgen/connectorgen/generator/config"
)

// role is what an operation does to an entity's records.
type role int

const (
	roleNone role = iota
	roleList
	roleGet
	roleCreate
	roleUpdate
	roleUpsert
	roleFind
	roleDelete
)

func (r role) String() string {
	return [...]string{"none", "list", "get", "create", "update", "upsert", "find", "delete"}[r]
}

// Record is one stored record: the JSON object the API returns for it.
type Record = map[string]any

// entity is a declared (or derived) entity with its record store.
type entity struct {
	name       string // "Lead"
	full       string // "crm.Lead"
	schemaName string
	schema     *openapi3.Schema
	key        string
	keyInt     bool
	keyUUID    bool
	keyHex     int
	keyDigits  bool // a string key the paths take as an integer
	version    string
	deleted    string
	updated    []string // fields set to the change time on every change
	created    []string // fields set to the creation time
	since      string   // query parameter filtering on the change time
	params     map[string]string
	unique     []string
	hint       Hint
	webhook    *config.Webhook
	declared   bool // by the mapping (else derived from the spec)
	// feed is the events list operation of read.events (events.go);
	// feedLast the last event time of an events entity.
	feed     string
	feedLast int64

	mu    sync.Mutex
	recs  map[string]*record
	order []*record                     // by (tick, key): the change order; see orderLocked
	stale int                           // superseded or removed entries in order
	uniq  map[string]map[string]*record // unique field → normalized value → record
	seq   int64
	lastT time.Time
}

type record struct {
	key    string
	data   Record
	tick   time.Time
	listed bool // has an entry in order
	gone   bool // removed
}

// orderLocked returns the live records in change order. A change appends
// the record again rather than searching the order for it; the superseded
// entries are dropped here, in one pass, when a reader needs the order.
func (e *entity) orderLocked() []*record {
	if e.stale == 0 {
		return e.order
	}
	out := make([]*record, 0, len(e.recs))
	seen := make(map[*record]bool, len(e.recs))
	for i := len(e.order) - 1; i >= 0; i-- {
		r := e.order[i]
		if r.gone || seen[r] {
			continue
		}
		seen[r] = true
		out = append(out, r)
	}
	slices.Reverse(out)
	e.order, e.stale = out, 0
	return out
}

func normUnique(v any) string { return strings.ToLower(strings.TrimSpace(keyString(v))) }

// indexLocked and unindexLocked maintain the unique-field index.
func (e *entity) indexLocked(r *record) {
	for _, f := range e.unique {
		if v, ok := getPath(r.data, f); ok {
			if e.uniq == nil {
				e.uniq = map[string]map[string]*record{}
			}
			if e.uniq[f] == nil {
				e.uniq[f] = map[string]*record{}
			}
			e.uniq[f][normUnique(v)] = r
		}
	}
}

func (e *entity) unindexLocked(r *record) {
	for _, f := range e.unique {
		if v, ok := getPath(r.data, f); ok && e.uniq[f][normUnique(v)] == r {
			delete(e.uniq[f], normUnique(v))
		}
	}
}

func newEntity(full, schemaName string, schema *openapi3.Schema) *entity {
	name := full
	if i := strings.IndexByte(full, '.'); i >= 0 {
		name = full[i+1:]
	}
	return &entity{name: name, full: full, schemaName: schemaName, schema: schema, recs: map[string]*record{}, params: map[string]string{}}
}

func (s *System) schemaByName(name string) *openapi3.Schema {
	if s.doc.Components == nil {
		return nil
	}
	if ref := s.doc.Components.Schemas[name]; ref != nil {
		return ref.Value
	}
	return nil
}

func (s *System) declareEntity(cfg *config.File, e *config.Entity) error {
	// Without schema:, the schema is named like the entity (as bind
	// reads it: "freshdesk.Ticket" is schema Ticket).
	schemaName := e.Schema.Text
	if schemaName == "" {
		_, schemaName, _ = strings.Cut(e.Name, ".")
	}
	sch := s.schemaByName(schemaName)
	if sch == nil {
		return fmt.Errorf("%s: sandbox: entity %s: schema %q not in the spec", e.Pos, e.Name, schemaName)
	}
	ent := newEntity(e.Name, schemaName, sch)
	ent.declared = true
	ent.key = e.Key.Text
	ent.version = e.Version.Text
	ent.deleted = e.Deleted.Text
	ent.since = e.Since.Text
	ent.webhook = e.Webhook
	if e.Events != nil {
		ent.feed = e.Events.List.Text
	}
	for _, p := range e.Params {
		ent.params[p.Name] = p.Value.Text
	}
	if c := e.Cursor.Text; c != "" {
		ent.updated = append(ent.updated, c)
	}
	if sr := e.Search; sr != nil {
		ent.updated = append(ent.updated, searchChangeField(sch, sr.Property.Text)...)
	}
	for _, sy := range cfg.Syncs {
		if sy.To.Text != e.Name {
			continue
		}
		for _, m := range sy.Match {
			if m.Kind.Text == "natural_key" && m.NaturalKey.Text != "" && !slices.Contains(ent.unique, m.NaturalKey.Text) {
				ent.unique = append(ent.unique, m.NaturalKey.Text)
			}
		}
	}
	s.applyHints(ent)
	s.completeEntity(ent)
	s.entities = append(s.entities, ent)
	for _, d := range []struct {
		id string
		r  role
	}{{e.List.Text, roleList}, {e.Get.Text, roleGet}, {e.Create.Text, roleCreate}, {e.Update.Text, roleUpdate}, {e.Find.Text, roleFind},
		{e.Upsert.Text, roleUpsert}, {searchOp(e), roleFind}} {
		if d.id == "" {
			continue
		}
		r := s.routeByID(d.id)
		if r == nil {
			return fmt.Errorf("%s: sandbox: entity %s: operation %q not in the spec", e.Pos, e.Name, d.id)
		}
		r.ent, r.role, r.declared = ent, d.r, true
		if d.r == roleCreate && r.method == "PUT" {
			r.role = roleUpsert // a collection PUT: bulk create-or-update
		}
		if d.r == roleUpsert && e.Bulk != nil {
			r.list = e.Bulk.List.Text
		}
	}
	return nil
}

func (s *System) routeByID(id string) *route {
	for _, r := range s.routes {
		if r.id == id {
			return r
		}
	}
	return nil
}

// applyHints reads Options.Hints and the schema's x-connectorgen-sandbox.
func (s *System) applyHints(ent *entity) {
	h, ok := s.opts.Hints[ent.full]
	if !ok && ent.schema != nil {
		if raw, ok2 := ent.schema.Extensions["x-connectorgen-sandbox"]; ok2 {
			b, _ := json.Marshal(raw)
			var w struct {
				KeyFrom      string   `json:"key_from"`
				Unique       []string `json:"unique"`
				ClearOnEmpty []string `json:"clear_on_empty"`
				MergeOnPut   bool     `json:"merge_on_put"`
				NotUnique    bool     `json:"natural_keys_not_unique"`
			}
			if json.Unmarshal(b, &w) == nil {
				h = Hint{KeyFrom: w.KeyFrom, Unique: w.Unique, ClearOnEmpty: w.ClearOnEmpty, MergeOnPut: w.MergeOnPut, NaturalKeysNotUnique: w.NotUnique}
			}
		}
	}
	ent.hint = h
	if h.NaturalKeysNotUnique {
		ent.unique = nil
	}
	for _, u := range h.Unique {
		if !slices.Contains(ent.unique, u) {
			ent.unique = append(ent.unique, u)
		}
	}
}

// completeEntity fills what the declaration left out from the schema: the
// key (id), its type, and the server-set time and version fields.
func (s *System) completeEntity(ent *entity) {
	props := schemaProps(ent.schema)
	if ent.key == "" {
		for _, k := range []string{"id", "key", "uuid", "ID", "Id"} {
			if _, ok := props[k]; ok {
				ent.key = k
				break
			}
		}
		if ent.key == "" {
			ent.key = "id"
		}
	}
	if p := props[ent.key]; p != nil && p.Value != nil {
		ent.keyInt = p.Value.Type.Is("integer") || p.Value.Type.Is("number")
		ent.keyUUID = p.Value.Format == "uuid"
		ent.keyHex = hexKeyLen(p.Value)
	}
	names := sortedKeys(props)
	for _, n := range names {
		p := props[n].Value
		if p == nil || !p.Type.Is("string") || (p.Format != "date-time" && p.Format != "") {
			continue
		}
		l := strings.ToLower(n)
		isTime := p.Format == "date-time"
		switch {
		case isTime && (strings.Contains(l, "updat") || strings.Contains(l, "modif") || strings.Contains(l, "changed")):
			if !slices.Contains(ent.updated, n) {
				ent.updated = append(ent.updated, n)
			}
		case isTime && strings.Contains(l, "creat"):
			ent.created = append(ent.created, n)
		}
	}
	if ent.version == "" {
		if p := props["version"]; p != nil && p.Value != nil && p.Value.Type.Is("integer") {
			ent.version = "version"
		}
	}
}

// deriveEntities adds an entity for every component schema that a
// get-by-id operation (GET …/{param}) answers and no entity has yet.
func (s *System) deriveEntities() {
	for _, r := range s.routes {
		if r.method != "GET" || !strings.HasPrefix(r.segs[len(r.segs)-1], "{") {
			continue
		}
		sch, name := s.resourceSchema(successSchema(r.op))
		if sch == nil || name == "" || s.entityFor(sch) != nil {
			continue
		}
		ent := newEntity(s.name+"."+name, name, sch)
		s.applyHints(ent)
		s.completeEntity(ent)
		s.entities = append(s.entities, ent)
	}
}

// resourceSchema returns the component schema a response carries: the
// schema itself, or the one under a single data/result-like property.
func (s *System) resourceSchema(sch *openapi3.Schema) (*openapi3.Schema, string) {
	if sch == nil {
		return nil, ""
	}
	if n := s.componentName(sch); n != "" && len(schemaProps(sch)) > 0 {
		if d := schemaProps(sch)["data"]; d != nil && d.Value != nil && len(schemaProps(sch)) <= 3 {
			if dn := s.componentName(d.Value); dn != "" && len(schemaProps(d.Value)) > 0 {
				return d.Value, dn
			}
		}
		return sch, n
	}
	return nil, ""
}

func (s *System) componentName(sch *openapi3.Schema) string {
	if s.doc.Components == nil {
		return ""
	}
	for _, n := range sortedKeys(s.doc.Components.Schemas) {
		if ref := s.doc.Components.Schemas[n]; ref != nil && ref.Value == sch {
			return n
		}
	}
	return ""
}

func (s *System) entityFor(sch *openapi3.Schema) *entity {
	for _, e := range s.entities {
		if e.schema == sch {
			return e
		}
	}
	return nil
}

// refersTo reports whether sch is, or carries (array items, a property,
// an allOf member, one level of envelope), the entity's schema.
func refersTo(sch, target *openapi3.Schema, depth int) bool {
	if sch == nil || target == nil || depth > 3 {
		return false
	}
	if sch == target {
		return true
	}
	if sch.Items != nil && refersTo(sch.Items.Value, target, depth+1) {
		return true
	}
	for _, a := range sch.AllOf {
		if a.Value == target {
			return true
		}
	}
	for _, n := range sortedKeys(sch.Properties) {
		if p := sch.Properties[n]; p != nil && refersTo(p.Value, target, depth+1) {
			return true
		}
	}
	return false
}

// classify gives every operation the mapping did not declare a role from
// its shape.
func (s *System) classify() {
	for _, r := range s.routes {
		last := r.segs[len(r.segs)-1]
		open, cl := strings.IndexByte(last, '{'), strings.LastIndexByte(last, '}')
		trailing := open >= 0 && cl > open // {id}, or {id}.json
		if trailing {
			r.keyParam = last[open+1 : cl]
		}
		if r.role == roleUpdate {
			r.merge = r.method != "PUT"
		}
		if r.ent != nil {
			continue
		}
		resp := successSchema(r.op)
		for _, e := range s.entities {
			if refersTo(resp, e.schema, 0) {
				r.ent = e
				break
			}
		}
		if r.ent == nil {
			continue
		}
		switch {
		case r.method == "GET" && trailing:
			r.role = roleGet
		case r.method == "GET":
			r.role = roleList
		case r.method == "POST" && !trailing && listShaped(resp, r.ent.schema):
			r.role = roleFind // a search: POST …/search answering a page
		case r.method == "POST" && !trailing:
			r.role = roleCreate
		case (r.method == "PATCH" || r.method == "POST") && trailing:
			r.role, r.merge = roleUpdate, true
		case r.method == "PUT" && trailing:
			r.role = roleUpdate
		case r.method == "PUT":
			r.role = roleUpsert
		case r.method == "DELETE" && trailing:
			r.role = roleDelete
		}
	}
	for _, r := range s.routes {
		if r.ent != nil && r.role == roleNone {
			r.ent = nil
		}
		if r.ent != nil && r.keyParam != "" && (r.role == roleGet || r.role == roleUpdate) {
			for _, p := range append(append(openapi3.Parameters{}, r.item.Parameters...), r.op.Parameters...) {
				if p.Value != nil && p.Value.Name == r.keyParam && p.Value.In == "path" && p.Value.Schema != nil &&
					p.Value.Schema.Value != nil && typeIs(p.Value.Schema.Value, "integer") {
					r.ent.keyDigits = true
				}
			}
		}
	}
}

// successSchema is the JSON schema of the operation's first 2xx answer.
func successSchema(op *openapi3.Operation) *openapi3.Schema {
	_, mt := successResponse(op)
	if mt == nil || mt.Schema == nil {
		return nil
	}
	return mt.Schema.Value
}

// successResponse is the first documented 2xx status and its JSON media
// type (nil when it has no body).
func successResponse(op *openapi3.Operation) (int, *openapi3.MediaType) {
	if op.Responses == nil {
		return 200, nil
	}
	codes := sortedKeys(op.Responses.Map())
	for _, c := range codes {
		if len(c) == 3 && c[0] == '2' {
			st, _ := strconv.Atoi(c)
			if c == "2XX" || c == "2xx" {
				st = 200
			}
			return st, jsonMedia(op.Responses.Value(c).Value)
		}
	}
	if d := op.Responses.Default(); d != nil {
		return 200, jsonMedia(d.Value)
	}
	return 200, nil
}

func jsonMedia(r *openapi3.Response) *openapi3.MediaType {
	if r == nil {
		return nil
	}
	for _, ct := range sortedKeys(r.Content) {
		if isJSON(ct) {
			return r.Content[ct]
		}
	}
	return nil
}

func isJSON(ct string) bool {
	ct = strings.ToLower(ct)
	return strings.Contains(ct, "json") || ct == "*/*"
}

func schemaProps(s *openapi3.Schema) openapi3.Schemas {
	if s == nil {
		return nil
	}
	if len(s.AllOf) == 0 {
		return s.Properties
	}
	out := openapi3.Schemas{}
	for k, v := range s.Properties {
		out[k] = v
	}
	for _, a := range s.AllOf {
		if a.Value != nil {
			for k, v := range schemaProps(a.Value) {
				out[k] = v
			}
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// tickLocked returns a fresh, strictly increasing change time.
func (e *entity) tickLocked() time.Time {
	t := time.Now().UTC().Truncate(time.Microsecond)
	if !t.After(e.lastT) {
		t = e.lastT.Add(time.Microsecond)
	}
	e.lastT = t
	return t
}

func keyString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

// newKeyLocked returns a fresh key of the key's type.
func (e *entity) newKeyLocked(data Record, gen func() uint64) (any, error) {
	if f, ok := strings.CutPrefix(e.hint.KeyFrom, "md5_lower:"); ok {
		v, _ := data[f].(string)
		if v == "" {
			return nil, fmt.Errorf("%s is required", f)
		}
		sum := md5.Sum([]byte(strings.ToLower(v)))
		return hex.EncodeToString(sum[:]), nil
	}
	e.seq++
	switch {
	case e.keyInt:
		return json.Number(strconv.FormatInt(e.seq+1000, 10)), nil
	case e.keyDigits:
		return strconv.FormatInt(e.seq+1000, 10), nil
	case e.keyHex > 0:
		sum := md5.Sum([]byte(fmt.Sprintf("%s/%d/%d", e.full, e.seq, gen())))
		h := strings.Repeat(hex.EncodeToString(sum[:]), e.keyHex/32+1)
		return h[:e.keyHex], nil
	case e.keyUUID:
		a, b := gen(), gen()
		return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(a), uint16(a>>32), uint16(a>>48)&0xfff, uint16(b)&0xfff, b>>16&0xffffffffffff), nil
	}
	p := strings.ToLower(e.name)
	if len(p) > 3 {
		p = p[:3]
	}
	return fmt.Sprintf("%s_%06d", p, e.seq), nil
}

// touchLocked records a change: the change time and version move and the
// record goes to the end of the change order.
func (e *entity) touchLocked(r *record, created bool) {
	t := e.tickLocked()
	r.tick = t
	ts := t.Format(time.RFC3339Nano)
	for _, f := range e.updated {
		setPath(r.data, f, ts)
	}
	if created {
		for _, f := range e.created {
			if _, ok := r.data[f]; !ok {
				r.data[f] = ts
			}
		}
	}
	if e.version != "" {
		n, _ := strconv.ParseInt(keyString(r.data[e.version]), 10, 64)
		r.data[e.version] = json.Number(strconv.FormatInt(n+1, 10))
	}
	if r.listed {
		e.stale++
	}
	r.listed = true
	e.order = append(e.order, r)
}

func setPath(m Record, path string, v any) {
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		sub, ok := m[p].(map[string]any)
		if !ok {
			sub = map[string]any{}
			m[p] = sub
		}
		m = sub
	}
	m[parts[len(parts)-1]] = v
}

func getPath(m Record, path string) (any, bool) {
	parts := strings.Split(path, ".")
	var cur any = m
	for _, p := range parts {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = mm[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// uniqueClashLocked returns the unique field a record with data would
// duplicate (skipping the record self), or "".
func (e *entity) uniqueClashLocked(data Record, self *record) string {
	for _, f := range e.unique {
		v, ok := getPath(data, f)
		if !ok {
			continue
		}
		if r := e.uniq[f][normUnique(v)]; r != nil && r != self {
			return f
		}
	}
	return ""
}

// byUniqueLocked finds the record sharing a unique field with data.
func (e *entity) byUniqueLocked(data Record) *record {
	for _, f := range e.unique {
		if v, ok := getPath(data, f); ok {
			if r := e.uniq[f][normUnique(v)]; r != nil {
				return r
			}
		}
	}
	return nil
}

// deepCopy copies a JSON value.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, vv := range x {
			m[k] = deepCopy(vv)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, vv := range x {
			a[i] = deepCopy(vv)
		}
		return a
	}
	return v
}

// mergeInto applies a PATCH body: objects merge, everything else replaces;
// in clearOnEmpty objects an empty string removes the member.
func mergeInto(dst, src Record, clearOnEmpty []string, prefix string) {
	for k, v := range src {
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				mergeInto(dm, sm, clearOnEmpty, path)
				continue
			}
			v = deepCopy(sm)
			if slices.Contains(clearOnEmpty, path) {
				m := v.(map[string]any)
				for kk, vv := range m {
					if vv == "" {
						delete(m, kk)
					}
				}
			}
			dst[k] = v
			continue
		}
		if v == "" && slices.Contains(clearOnEmpty, prefix) {
			delete(dst, k)
			continue
		}
		dst[k] = deepCopy(v)
	}
}

// listShaped reports whether a response carries many records of target
// (an array of them, or an object with such an array).
func listShaped(sch, target *openapi3.Schema) bool {
	if sch == nil {
		return false
	}
	if sch.Items != nil && sch.Items.Value != nil && refersTo(sch.Items.Value, target, 1) {
		return true
	}
	for _, p := range schemaProps(sch) {
		if p.Value != nil && p.Value.Items != nil && p.Value.Items.Value != nil && refersTo(p.Value.Items.Value, target, 1) {
			return true
		}
	}
	return false
}

// hexKeyLen is N when the key's schema pattern is ^[0-9a-f]{N}$ (ids that
// are hashes), else 0.
func hexKeyLen(sch *openapi3.Schema) int {
	if sch == nil {
		return 0
	}
	m := regexp.MustCompile(`^\^\[(?:0-9a-f|a-f0-9|0-9a-fA-F|0-9A-Fa-f)\]\{(\d+)\}\$$`).FindStringSubmatch(sch.Pattern)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
