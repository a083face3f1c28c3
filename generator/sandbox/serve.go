package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/connectorgen/connectorgen/generator/ir"
)

const adminPrefix = "/_sandbox"

// ServeHTTP serves the API, the token endpoint and the admin API.
func (s *System) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if strings.HasPrefix(req.URL.Path, adminPrefix+"/") || req.URL.Path == adminPrefix {
		s.admin(w, req)
		return
	}
	if s.tokenURL != "" && req.URL.Path == s.tokenURL {
		s.in.count("POST token")
		s.token(w, req)
		return
	}
	r, params, pathFound := s.find(req.Method, req.URL.Path)
	if r == nil {
		s.in.count(req.Method + " ?")
		status, msg := http.StatusNotFound, "no operation of the spec matches "+req.Method+" "+req.URL.Path
		if pathFound {
			status, msg = http.StatusMethodNotAllowed, "the spec has no "+req.Method+" operation on "+req.URL.Path
		}
		s.violate(nil, req, "request", msg)
		writeJSON(w, status, "application/json", map[string]any{"message": msg})
		return
	}
	s.in.count(req.Method + " " + r.id)
	body, err := io.ReadAll(req.Body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, "application/json", map[string]any{"message": "unreadable body"})
		return
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	in := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route:      &routers.Route{Spec: s.doc, Path: r.path, PathItem: r.item, Method: r.method, Operation: r.valOp},
		Options:    &openapi3filter.Options{AuthenticationFunc: s.authenticate, SchemaValidationOptions: formatOptions(false)},
	}
	if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
		var se *openapi3filter.SecurityRequirementsError
		if errors.As(err, &se) {
			s.in.countUnauthorized()
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			s.errorAnswer(w, req, r, http.StatusUnauthorized, "unauthorized", "credentials are missing, wrong, expired or revoked")
			return
		}
		msg := violationText(err)
		s.violate(r, req, "request", msg)
		s.errorAnswer(w, req, r, http.StatusBadRequest, "invalid_request", msg)
		return
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	write := req.Method != http.MethodGet && req.Method != http.MethodHead
	serve := s.in.serve
	if s.takeLost(r.id) {
		serve = s.in.loseAnswer
	}
	serve(w, req, write, func(w http.ResponseWriter, req *http.Request) {
		s.idempotent(r, func(w http.ResponseWriter, req *http.Request) {
			bw := &bufferedWriter{header: http.Header{}}
			s.handle(bw, req, r, params, body)
			if bw.status/100 == 2 && r.ent != nil && r.role != roleGet && r.role != roleList && r.role != roleFind {
				s.vmu.Lock()
				s.applied[r.id]++
				s.vmu.Unlock()
			}
			s.checkResponse(r, in, bw)
			bw.flush(w)
		})(w, req)
	}, func(w http.ResponseWriter, req *http.Request, status int, code, msg string) {
		s.errorAnswer(w, req, r, status, code, msg)
	})
}

// violationText shortens kin-openapi's error to its first line.
func violationText(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "\nSchema:"); i >= 0 {
		msg = msg[:i]
	}
	return strings.TrimSpace(strings.ReplaceAll(msg, "\n", " "))
}

// checkResponse validates an answer the sandbox produced.
func (s *System) checkResponse(r *route, in *openapi3filter.RequestValidationInput, bw *bufferedWriter) {
	if s.opts.SkipResponseValidation {
		return
	}
	status := bw.status
	if status == 0 {
		status = http.StatusOK
	}
	rin := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: bw.header,
		Options: &openapi3filter.Options{IncludeResponseStatus: false, SchemaValidationOptions: formatOptions(true)}}
	rin.SetBodyBytes(bw.body.Bytes())
	if err := openapi3filter.ValidateResponse(context.Background(), rin); err != nil {
		s.violate(r, in.Request, "response", violationText(err))
	}
}

// idempotent implements an Idempotency-Key header the operation declares:
// a repeated key with the same request replays the first answer; with a
// different request it is rejected with 422. Only answers the handler gave
// are remembered, as a real server that lost the answer on the way would
// still have stored it.
func (s *System) idempotent(r *route, h http.HandlerFunc) http.HandlerFunc {
	hdr := ""
	if r.ir != nil {
		hdr = r.ir.IdempotencyKeyHeader
	}
	if hdr == "" {
		return h
	}
	return func(w http.ResponseWriter, req *http.Request) {
		key := req.Header.Get(hdr)
		if key == "" {
			h(w, req)
			return
		}
		body, _ := io.ReadAll(req.Body)
		sum := sha256.Sum256(append([]byte(req.Method+" "+req.URL.Path+"\n"), body...))
		hash := hex.EncodeToString(sum[:])
		s.auth.idemMu.Lock() // a key is never in flight twice
		defer s.auth.idemMu.Unlock()
		if prev, ok := s.auth.idem[r.id+" "+key]; ok {
			if prev.hash != hash {
				s.errorAnswer(w, req, r, http.StatusUnprocessableEntity, "idempotency_key_reused", hdr+" was already used with a different request")
				return
			}
			for k, v := range prev.header {
				w.Header()[k] = v
			}
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(prev.status)
			_, _ = w.Write(prev.body)
			return
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		rec := &bufferedWriter{header: http.Header{}}
		h(rec, req)
		if rec.status < 500 {
			s.auth.idem[r.id+" "+key] = idemEntry{hash: hash, status: rec.status, header: rec.header.Clone(), body: rec.body.Bytes()}
		}
		rec.flush(w)
	}
}

func writeJSON(w http.ResponseWriter, status int, ctype string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// errorAnswer writes an error body shaped by the schema the operation
// documents for status (or its default response), with the message in
// whatever message-like fields it has.
func (s *System) errorAnswer(w http.ResponseWriter, req *http.Request, r *route, status int, code, msg string) {
	var resp *openapi3.Response
	ctype := "application/json"
	if r != nil && r.op.Responses != nil {
		if rr := r.op.Responses.Status(status); rr != nil {
			resp = rr.Value
		} else if rr := r.op.Responses.Value(strconv.Itoa(status/100) + "XX"); rr != nil {
			resp = rr.Value
		} else if rr := r.op.Responses.Default(); rr != nil {
			resp = rr.Value
		}
	}
	var body any = map[string]any{"message": msg, "code": code}
	if resp != nil {
		for _, ct := range sortedKeys(resp.Content) {
			if isJSON(ct) {
				ctype = ct
				if mt := resp.Content[ct]; mt.Schema != nil && mt.Schema.Value != nil {
					g := s.newGen()
					v := g.value(mt.Schema.Value, "", 0)
					if m, ok := v.(map[string]any); ok {
						fillMessage(m, mt.Schema.Value, status, code, msg, req.URL.Path)
					}
					body = v
				}
				break
			}
		}
	}
	writeJSON(w, status, ctype, body)
}

func fillMessage(m map[string]any, sch *openapi3.Schema, status int, code, msg, path string) {
	for name, p := range schemaProps(sch) {
		if p.Value == nil {
			continue
		}
		isStr := p.Value.Type.Is("string") && len(p.Value.Enum) == 0
		switch strings.ToLower(name) {
		case "message", "detail", "error_description", "description", "title":
			if isStr {
				m[name] = msg
			}
		case "code", "error", "type":
			if isStr && p.Value.Format == "" {
				m[name] = code
			}
		case "status":
			if p.Value.Type.Is("integer") {
				m[name] = status
			}
		case "instance":
			if isStr {
				m[name] = path
			}
		}
		if _, present := m[name]; !present && p.Value.Type.Is("object") && strings.Contains(strings.ToLower(name), "error") {
			sub := map[string]any{}
			fillMessage(sub, p.Value, status, code, msg, path)
			if len(sub) > 0 {
				m[name] = sub
			}
		}
	}
}

// handle serves one validated request.
func (s *System) handle(w http.ResponseWriter, req *http.Request, r *route, params map[string]string, body []byte) {
	if r.ent == nil || s.opts.SpecOnly {
		s.generic(w, req, r)
		return
	}
	switch r.role {
	case roleList, roleFind:
		if q, ok, err := parseSearch(body); ok {
			if err != nil {
				s.errorAnswer(w, req, r, http.StatusBadRequest, "invalid_search", err.Error())
				return
			}
			s.search(w, req, r, q)
			return
		}
		s.list(w, req, r, params, body)
	case roleGet:
		s.get(w, req, r, params)
	case roleCreate:
		s.create(w, req, r, params, body)
	case roleUpdate:
		s.update(w, req, r, params, body)
	case roleUpsert:
		s.upsert(w, req, r, params, body)
	case roleDelete:
		s.remove(w, req, r, params)
	default:
		s.generic(w, req, r)
	}
}

// generic answers an operation on no entity with a value generated from
// its success schema.
func (s *System) generic(w http.ResponseWriter, req *http.Request, r *route) {
	status, mt, ok := s.successSchema(w, r)
	if !ok {
		return
	}
	if s.opts.SpecOnly && req.Header.Get(ExampleHeader) == "1" {
		if ex, ok := mediaExample(mt); ok {
			w.Header().Set(ExampleHeader, "served")
			writeJSON(w, status, s.successType(r), ex)
			return
		}
	}
	g := s.newGen()
	v := g.value(mt.Schema.Value, "", 0)
	if sch := mt.Schema.Value; v == nil && !sch.Nullable && (sch.Type == nil || typeIs(sch, "object")) {
		v = map[string]any{} // a free-form object, never null
	}
	writeJSON(w, status, s.successType(r), v)
}

func (s *System) successType(r *route) string {
	_, mt := successResponse(r.op)
	if r.op.Responses != nil {
		for _, c := range sortedKeys(r.op.Responses.Map()) {
			if c[0] != '2' {
				continue
			}
			if rr := r.op.Responses.Value(c).Value; rr != nil {
				for _, ct := range sortedKeys(rr.Content) {
					if rr.Content[ct] == mt {
						return ct
					}
				}
			}
		}
	}
	return "application/json"
}

// decodeBody reads a JSON or form body into a record.
func decodeBody(req *http.Request, body []byte) (any, error) {
	ct := strings.ToLower(req.Header.Get("Content-Type"))
	if strings.Contains(ct, "application/x-www-form-urlencoded") {
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, err
		}
		return formRecord(vals), nil
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return Record{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// formRecord turns a[b][c]=v form fields into nested objects.
func formRecord(vals url.Values) Record {
	out := Record{}
	for _, k := range sortedKeys(vals) {
		parts := strings.FieldsFunc(k, func(r rune) bool { return r == '[' || r == ']' })
		if len(parts) == 0 {
			continue
		}
		setPath(out, strings.Join(parts, "."), vals.Get(k))
	}
	return out
}

// recordFrom extracts the record from a request body: the body itself, the
// object under the envelope member the request schema puts the entity in
// (PagerDuty's {"service": {…}}), or the object under a JSON:API-style data
// member.
func (s *System) recordFrom(r *route, v any) (Record, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	props := schemaProps(r.ent.schema)
	if n := requestEnvelope(r); n != "" && props[n] == nil {
		if d, ok := m[n].(map[string]any); ok {
			return deepCopy(d).(map[string]any), true
		}
	}
	if d, ok := m["data"].(map[string]any); ok && props["data"] == nil {
		m = d
	}
	return deepCopy(m).(map[string]any), true
}

// requestEnvelope is the property of the operation's JSON request schema
// that holds the entity ("" when the body is the entity itself).
func requestEnvelope(r *route) string {
	rb := r.op.RequestBody
	if rb == nil || rb.Value == nil {
		return ""
	}
	var sch *openapi3.Schema
	for _, ct := range sortedKeys(rb.Value.Content) {
		if mt := rb.Value.Content[ct]; isJSON(ct) && mt != nil && mt.Schema != nil {
			sch = mt.Schema.Value
			break
		}
	}
	if sch == nil || sch == r.ent.schema || extends(sch, r.ent.schema) || !isObject(sch) {
		return ""
	}
	props := schemaProps(sch)
	for _, n := range sortedKeys(props) {
		if p := props[n].Value; p != nil && (p == r.ent.schema || extends(p, r.ent.schema)) {
			return n
		}
	}
	return inlinedEntity(sch, r.ent)
}

func (s *System) get(w http.ResponseWriter, req *http.Request, r *route, params map[string]string) {
	e := r.ent
	e.mu.Lock()
	rec := e.recs[params[r.keyParam]]
	var data Record
	if rec != nil {
		data = deepCopy(rec.data).(map[string]any)
	}
	e.mu.Unlock()
	if rec == nil {
		s.errorAnswer(w, req, r, http.StatusNotFound, "not_found", e.name+" "+params[r.keyParam]+" was not found")
		return
	}
	s.answerOne(w, r, data)
}

func (s *System) answerOne(w http.ResponseWriter, r *route, data Record) {
	status, mt, ok := s.successSchema(w, r)
	if !ok {
		return
	}
	g := s.newGen()
	writeJSON(w, status, s.successType(r), g.shape(mt.Schema.Value, shapeCtx{ent: r.ent, one: data}, 0))
}

func (s *System) create(w http.ResponseWriter, req *http.Request, r *route, params map[string]string, body []byte) {
	v, err := decodeBody(req, body)
	if err != nil {
		s.errorAnswer(w, req, r, http.StatusBadRequest, "invalid_json", err.Error())
		return
	}
	data, ok := s.recordFrom(r, v)
	if !ok {
		s.errorAnswer(w, req, r, http.StatusBadRequest, "invalid_body", "the body is not an object")
		return
	}
	s.scope(r, params, data)
	e := r.ent
	e.mu.Lock()
	out, status, msg := s.insertLocked(e, data)
	e.mu.Unlock()
	if status != 0 {
		s.errorAnswer(w, req, r, status, "conflict", msg)
		return
	}
	s.hooks.changed(s, e, out, "created")
	s.answerOne(w, r, out)
}

// scope copies path parameters that name fields of the entity (a member's
// list_id) into the record, and the entity's constant params.
func (s *System) scope(r *route, params map[string]string, data Record) {
	props := schemaProps(r.ent.schema)
	for k, v := range params {
		if k == r.keyParam && (r.role == roleGet || r.role == roleUpdate || r.role == roleDelete) {
			continue
		}
		if p := props[k]; p != nil {
			if _, set := data[k]; !set {
				data[k] = v
			}
		}
	}
}

// insertLocked stores a new record: key, times and version set by the
// server; a duplicate key or unique field is a 409.
func (s *System) insertLocked(e *entity, data Record) (Record, int, string) {
	if f := e.uniqueClashLocked(data, nil); f != "" {
		return nil, http.StatusConflict, "a " + e.name + " with this " + f + " already exists"
	}
	key, err := e.newKeyLocked(data, s.next)
	if err != nil {
		return nil, http.StatusUnprocessableEntity, err.Error()
	}
	if e.hint.KeyFrom == "" {
		if v, ok := getPath(data, e.key); ok && keyString(v) != "" {
			key = v // a client-chosen key (PUT-style creates)
		}
	}
	ks := keyString(key)
	if _, dup := e.recs[ks]; dup {
		return nil, http.StatusConflict, "a " + e.name + " with " + e.key + " " + ks + " already exists"
	}
	setPath(data, e.key, key) // a path for keys inside an envelope (JSON:API data.id)
	rec := &record{key: ks, data: data}
	e.recs[ks] = rec
	e.indexLocked(rec)
	e.touchLocked(rec, true)
	return deepCopy(rec.data).(map[string]any), 0, ""
}

func (s *System) update(w http.ResponseWriter, req *http.Request, r *route, params map[string]string, body []byte) {
	v, err := decodeBody(req, body)
	if err != nil {
		s.errorAnswer(w, req, r, http.StatusBadRequest, "invalid_json", err.Error())
		return
	}
	jsonPatch := isJSONPatch(req.Header.Get("Content-Type"))
	patch, ok := s.recordFrom(r, v)
	if !ok && !jsonPatch {
		s.errorAnswer(w, req, r, http.StatusBadRequest, "invalid_body", "the body is not an object")
		return
	}
	e := r.ent
	id := params[r.keyParam]
	e.mu.Lock()
	rec := e.recs[id]
	if rec == nil {
		e.mu.Unlock()
		s.errorAnswer(w, req, r, http.StatusNotFound, "not_found", e.name+" "+id+" was not found")
		return
	}
	merge := r.merge || e.hint.MergeOnPut
	if jsonPatch {
		// A JSON Patch (RFC 6902) applies to the stored record; the
		// result replaces it (the key, creation time and version stay
		// the server's), all operations or none.
		doc, err := applyJSONPatch(deepCopy(rec.data), v)
		next, isObj := doc.(map[string]any)
		if err != nil || !isObj {
			e.mu.Unlock()
			status, code := http.StatusUnprocessableEntity, "invalid_patch"
			if errors.Is(err, errPatchTest) {
				status, code = http.StatusConflict, "patch_test_failed"
			}
			if err == nil {
				err = errors.New("the patched record is not an object")
			}
			s.errorAnswer(w, req, r, status, code, "JSON Patch: "+err.Error())
			return
		}
		patch, merge = next, false
	}
	out, status, msg := s.applyLocked(e, rec, patch, merge)
	e.mu.Unlock()
	if status != 0 {
		s.errorAnswer(w, req, r, status, "conflict", msg)
		return
	}
	s.hooks.changed(s, e, out, "updated")
	s.answerOne(w, r, out)
}

// applyLocked merges (PATCH) or replaces (PUT) a record's fields; the
// key, creation time and version stay the server's.
func (s *System) applyLocked(e *entity, rec *record, patch Record, merge bool) (Record, int, string) {
	next := deepCopy(rec.data).(map[string]any)
	if merge {
		mergeInto(next, patch, e.hint.ClearOnEmpty, "")
	} else {
		keep := map[string]any{}
		for _, f := range append(append([]string{e.key, e.version}, e.created...), e.updated...) {
			if v, ok := next[f]; ok && f != "" {
				keep[f] = v
			}
		}
		next = patch
		for k, v := range keep {
			next[k] = v
		}
	}
	if k, ok := getPath(rec.data, e.key); ok {
		setPath(next, e.key, k)
	}
	if f := e.uniqueClashLocked(next, rec); f != "" {
		return nil, http.StatusConflict, "a " + e.name + " with this " + f + " already exists"
	}
	e.unindexLocked(rec)
	defer e.indexLocked(rec)
	if e.hint.KeyFrom != "" {
		k, err := e.newKeyLocked(next, s.next)
		if err != nil {
			return nil, http.StatusUnprocessableEntity, err.Error()
		}
		if ks := keyString(k); ks != rec.key {
			delete(e.recs, rec.key)
			rec.key = ks
			e.recs[ks] = rec
			setPath(next, e.key, k)
		}
	}
	rec.data = next
	e.touchLocked(rec, false)
	return deepCopy(rec.data).(map[string]any), 0, ""
}

// upsert serves a collection PUT: every record in the body (the body, or
// its record list: the mapping's write.bulk.list, else the first array in
// it) is matched on the entity's unique fields and updated or created. The
// answer is generated from the schema (bulk APIs answer with a job id).
//
// An array beside the record list in the body applies to every record of
// the request: its members are added to the record's field of the same
// name, as a set (SendGrid's list_ids, "the lists these contacts will be
// added to": a repeated write adds nothing, lists joined before are kept).
// A record carrying that field itself keeps its own value.
func (s *System) upsert(w http.ResponseWriter, req *http.Request, r *route, params map[string]string, body []byte) {
	v, err := decodeBody(req, body)
	if err != nil {
		s.errorAnswer(w, req, r, http.StatusBadRequest, "invalid_json", err.Error())
		return
	}
	var items []any
	joins := map[string][]any{}
	switch x := v.(type) {
	case []any:
		items = x
	case map[string]any:
		list := ""
		if r.list != "" {
			if a, ok := getPath(x, r.list); ok {
				items, _ = a.([]any)
				list = r.list
			}
		}
		for _, k := range sortedKeys(x) {
			if list != "" {
				break
			}
			if a, ok := x[k].([]any); ok {
				items, list = a, k
			}
		}
		if list == "" {
			items = []any{x}
			break
		}
		for k, sv := range x {
			if a, ok := sv.([]any); ok && k != list && !strings.HasPrefix(list, k+".") {
				joins[k] = a
			}
		}
	}
	e := r.ent
	var changed []Record
	e.mu.Lock()
	for _, it := range items {
		data, ok := it.(map[string]any)
		if !ok {
			continue
		}
		data = deepCopy(data).(map[string]any)
		s.scope(r, params, data)
		existing := e.byUniqueLocked(data)
		if existing == nil {
			if k, ok := getPath(data, e.key); ok {
				existing = e.recs[keyString(k)]
			}
		}
		for k, a := range joins {
			if _, own := data[k]; own {
				continue
			}
			var had []any
			if existing != nil {
				had, _ = existing.data[k].([]any)
			}
			data[k] = joinSet(had, a)
		}
		if existing != nil {
			if out, st, _ := s.applyLocked(e, existing, data, true); st == 0 {
				changed = append(changed, out)
			}
			continue
		}
		if out, st, _ := s.insertLocked(e, data); st == 0 {
			changed = append(changed, out)
		}
	}
	e.mu.Unlock()
	for _, c := range changed {
		s.hooks.changed(s, e, c, "updated")
	}
	status, mt, ok := s.successSchema(w, r)
	if !ok {
		return
	}
	g := s.newGen()
	sctx := shapeCtx{ent: e, many: changed, total: len(changed)}
	if len(changed) == 1 && mt.Schema.Value == e.schema {
		// A single-record upsert answered with the record itself
		// (Klaviyo's profile import).
		sctx = shapeCtx{ent: e, one: changed[0]}
	}
	out := g.shape(mt.Schema.Value, sctx, 0)
	// Bulk APIs answer with the id of the job doing the writes.
	if m, ok := out.(map[string]any); ok {
		for n, p := range schemaProps(mt.Schema.Value) {
			if _, set := m[n]; !set && p.Value != nil && typeIs(p.Value, "string") && nameIn(n, "job_id", "jobid", "id", "batch_id") {
				m[n] = "job_" + randomHex(8)
			}
		}
	}
	writeJSON(w, status, s.successType(r), out)
}

// joinSet is had with the members of add it lacks appended (compared as
// JSON values), a new slice.
func joinSet(had, add []any) []any {
	out := deepCopy(had).([]any)
	if out == nil {
		out = []any{}
	}
	for _, v := range add {
		if !slices.ContainsFunc(out, func(x any) bool { return reflect.DeepEqual(x, v) }) {
			out = append(out, deepCopy(v))
		}
	}
	return out
}

func (s *System) remove(w http.ResponseWriter, req *http.Request, r *route, params map[string]string) {
	e := r.ent
	id := params[r.keyParam]
	out, ok := s.deleteRecord(e, id)
	if !ok {
		s.errorAnswer(w, req, r, http.StatusNotFound, "not_found", e.name+" "+id+" was not found")
		return
	}
	s.hooks.changed(s, e, out, "deleted")
	s.answerOne(w, r, out)
}

// deleteRecord deletes (or, for a soft-deleting entity, marks) the record
// and returns it as it was last; false when there is none.
func (s *System) deleteRecord(e *entity, id string) (Record, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	rec := e.recs[id]
	if rec == nil {
		return nil, false
	}
	if e.deleted != "" {
		rec.data[e.deleted] = true
		e.touchLocked(rec, false)
	} else {
		delete(e.recs, id)
		e.unindexLocked(rec)
		rec.gone = true
		e.stale++
	}
	return deepCopy(rec.data).(map[string]any), true
}

func indexOf(rs []*record, r *record) int {
	for i, x := range rs {
		if x == r {
			return i
		}
	}
	return -1
}

// listCursor is the opaque cursor of cursor pagination: the change time
// and key of the last record of the page.
type listCursor struct {
	T int64  `json:"t"`
	K string `json:"k"`
}

// list serves list and find operations: filters from the path, the query
// (parameters naming record fields, the since parameter) and pagination
// in the style the generator detects for the operation.
func (s *System) list(w http.ResponseWriter, req *http.Request, r *route, params map[string]string, body []byte) {
	e := r.ent
	q := req.URL.Query()
	var pg *ir.Pagination
	if r.ir != nil {
		pg = r.ir.Pagination
	}
	control := map[string]bool{}
	limit := 0
	if pg != nil {
		for _, p := range []*ir.Param{pg.CursorParam, pg.OffsetParam, pg.PageParam, pg.LimitParam} {
			if p != nil {
				control[p.Name] = true
			}
		}
		if pg.LimitParam != nil {
			limit = s.limitOf(r, pg.LimitParam.Name, q)
		}
	} else {
		for _, n := range []string{"limit", "count", "per_page", "page_size", "max_results"} {
			if q.Get(n) != "" {
				control[n] = true
				limit = s.limitOf(r, n, q)
			}
		}
	}
	if limit <= 0 {
		limit = 50
	}
	var since time.Time
	sinceName := e.since
	if v := q.Get(sinceName); sinceName != "" && v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			s.errorAnswer(w, req, r, http.StatusBadRequest, "invalid_parameter", sinceName+" must be an RFC 3339 date-time")
			return
		}
		since = t
	}
	props := schemaProps(e.schema)
	type filter struct{ field, value string }
	var filters []filter
	for k, v := range params {
		if k != r.keyParam || r.role == roleList || r.role == roleFind {
			if props[k] != nil && scalarField(props[k]) {
				filters = append(filters, filter{k, v})
			}
		}
	}
	for _, k := range sortedKeys(q) {
		if control[k] || k == sinceName || q.Get(k) == "" {
			continue
		}
		if props[k] != nil && scalarField(props[k]) {
			filters = append(filters, filter{k, q.Get(k)})
		}
	}
	includeDeleted := q.Get("include_deleted") == "true"
	jql, err := s.jqlOf(r, q)
	if err != nil {
		s.errorAnswer(w, req, r, http.StatusBadRequest, "invalid_jql", err.Error())
		return
	}
	inRange := rangeFilter(q, func(f string) bool { return props[f] != nil })
	ofType := pluralFilter(q, listParams(r.op), func(f string) bool { return props[f] != nil && scalarField(props[f]) })
	match := func(rec *record) bool {
		if jql != nil && !jqlMatch(rec.data, jql) {
			return false
		}
		if !inRange(rec.data) || !ofType(rec.data) {
			return false
		}
		if e.deleted != "" && !includeDeleted {
			if d, _ := rec.data[e.deleted].(bool); d {
				return false
			}
		}
		if !since.IsZero() && rec.tick.Before(since) {
			return false // the change time is what the updated fields carry
		}
		for _, f := range filters {
			v, ok := rec.data[f.field]
			if !ok && absentMatches(props[f.field], f.value) {
				continue
			}
			if !ok || !strings.EqualFold(keyString(v), f.value) {
				return false
			}
		}
		return true
	}

	ctx := shapeCtx{ent: e}
	e.mu.Lock()
	order := e.orderLocked()
	start := 0
	if !since.IsZero() {
		start = sort.Search(len(order), func(i int) bool { return !order[i].tick.Before(since) })
	}
	kind := ir.PaginationKind(-1)
	if pg != nil {
		kind = pg.Kind
	}
	offsetMode := false
	switch kind {
	case ir.PageCursor, ir.PageNextURL, ir.PageLinkHeader:
		cp := sandboxCursorParam
		if pg.CursorParam != nil {
			cp = pg.CursorParam.Name
		}
		if v := q.Get(cp); v != "" {
			b, err := base64.RawURLEncoding.DecodeString(v)
			var cur listCursor
			if err != nil || json.Unmarshal(b, &cur) != nil {
				e.mu.Unlock()
				s.errorAnswer(w, req, r, http.StatusBadRequest, "invalid_cursor", "the cursor is malformed")
				return
			}
			pivot := time.Unix(0, cur.T)
			start = sort.Search(len(order), func(i int) bool {
				o := order[i]
				return o.tick.After(pivot) || (o.tick.Equal(pivot) && o.key > cur.K)
			})
		}
	case ir.PageItemCursor:
		if pg.CursorParam != nil {
			if v := q.Get(pg.CursorParam.Name); v != "" {
				if rec := e.recs[v]; rec != nil {
					start = indexOf(order, rec) + 1
				}
			}
		}
	case ir.PageOffset, ir.PageNumber:
		offsetMode = true
	}
	var all []*record
	if offsetMode {
		for _, rec := range order {
			if match(rec) {
				all = append(all, rec)
			}
		}
		off := 0
		if kind == ir.PageOffset && pg.OffsetParam != nil {
			off, _ = strconv.Atoi(q.Get(pg.OffsetParam.Name))
		} else if kind == ir.PageNumber && pg.PageParam != nil {
			p := int(pg.FirstPage)
			if v := q.Get(pg.PageParam.Name); v != "" {
				p, _ = strconv.Atoi(v)
			}
			off = (p - int(pg.FirstPage)) * limit
		}
		if off < 0 {
			off = 0
		}
		for i := off; i < len(all) && i < off+limit; i++ {
			ctx.many = append(ctx.many, deepCopy(all[i].data).(map[string]any))
		}
		ctx.total = len(all)
		ctx.hasMore = off+limit < len(all)
	} else {
		i := start
		var last *record
		for ; i < len(order) && len(ctx.many) < limit; i++ {
			if rec := order[i]; match(rec) {
				ctx.many = append(ctx.many, deepCopy(rec.data).(map[string]any))
				last = rec
			}
		}
		for ; i < len(order); i++ {
			if match(order[i]) {
				ctx.hasMore = true
				break
			}
		}
		if wantsTotal(r) {
			for _, rec := range order {
				if match(rec) {
					ctx.total++
				}
			}
		}
		if ctx.hasMore && last != nil {
			b, _ := json.Marshal(listCursor{T: last.tick.UnixNano(), K: last.key})
			ctx.nextCursor = base64.RawURLEncoding.EncodeToString(b)
		}
	}
	e.mu.Unlock()
	if ctx.many == nil {
		ctx.many = []Record{}
	}
	if ctx.hasMore && (kind == ir.PageNextURL || kind == ir.PageLinkHeader) {
		cp := sandboxCursorParam
		if pg.CursorParam != nil {
			cp = pg.CursorParam.Name
		}
		nq := req.URL.Query()
		nq.Set(cp, ctx.nextCursor)
		ctx.nextURL = s.url + req.URL.Path + "?" + nq.Encode()
		if kind == ir.PageLinkHeader {
			w.Header().Set("Link", "<"+ctx.nextURL+`>; rel="next"`)
		}
	}
	status, mt, ok := s.successSchema(w, r)
	if !ok {
		return
	}
	g := s.newGen()
	out := g.shape(mt.Schema.Value, ctx, 0)
	if r.ir != nil && r.ir.Result != nil && r.ir.Result.Single != nil {
		g.placePagination(out, pg, r.ir.Result.Single.Type, ctx)
	}
	writeJSON(w, status, s.successType(r), out)
}

// sandboxCursorParam carries the position in next URLs of operations
// whose spec declares no cursor parameter.
const sandboxCursorParam = "sandbox_cursor"

// limitOf reads the page size parameter, capped by the schema's maximum.
func (s *System) limitOf(r *route, name string, q url.Values) int {
	var sch *openapi3.Schema
	for _, p := range append(r.item.Parameters, r.op.Parameters...) {
		if p.Value != nil && p.Value.Name == name && p.Value.In == "query" && p.Value.Schema != nil {
			sch = p.Value.Schema.Value
		}
	}
	n := 0
	if v := q.Get(name); v != "" {
		n, _ = strconv.Atoi(v)
	} else if sch != nil && sch.Default != nil {
		n, _ = strconv.Atoi(keyString(sch.Default))
	}
	if sch != nil && sch.Max != nil && n > int(*sch.Max) {
		n = int(*sch.Max)
	}
	return n
}

// formatOptions turn on format validation, with a strict email check (no
// blanks, one @, a dot in the domain) as mail APIs apply it to what they
// are sent. Answers are checked leniently (surrounding blanks allowed):
// systems return what their users typed, and a connector must cope.
func formatOptions(answer bool) []openapi3.SchemaValidationOption {
	return []openapi3.SchemaValidationOption{
		openapi3.EnableFormatValidation(),
		openapi3.WithStringFormatValidator("email", emailFormat{lenient: answer}),
	}
}

type emailFormat struct{ lenient bool }

func (f emailFormat) Validate(v string) error {
	if f.lenient {
		v = strings.TrimSpace(v)
	}
	at := strings.IndexByte(v, '@')
	if at > 0 && at == strings.LastIndexByte(v, '@') && at < len(v)-1 &&
		!strings.ContainsAny(v, " \t\r\n") && strings.Contains(v[at:], ".") {
		return nil
	}
	return errors.New("not a valid email address")
}

// wantsTotal reports whether the list answer has a total-count field
// (counting every match costs a pass over the store).
func wantsTotal(r *route) bool {
	_, mt := successResponse(r.op)
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return false
	}
	for n, p := range schemaProps(mt.Schema.Value) {
		if p.Value != nil && typeIs(p.Value, "integer") && nameIn(n, "total", "total_items", "total_count", "totalcount", "count", "total_results") {
			return true
		}
	}
	return false
}

// ExampleHeader asks a SpecOnly sandbox for the spec's example answer
// (request value "1"); the answer carries it with value "served" when
// the example was sent.
const ExampleHeader = "X-Sandbox-Example"

// mediaExample is the example of a media type: its example, else its
// first named example (by name), else the schema's example.
func mediaExample(mt *openapi3.MediaType) (any, bool) {
	if mt.Example != nil {
		return mt.Example, true
	}
	for _, n := range sortedKeys(mt.Examples) {
		if e := mt.Examples[n]; e != nil && e.Value != nil && e.Value.Value != nil {
			return e.Value.Value, true
		}
	}
	if mt.Schema != nil && mt.Schema.Value != nil && mt.Schema.Value.Example != nil {
		return mt.Schema.Value.Example, true
	}
	return nil, false
}

// nonJSONType is the first media type of the first 2xx response when that
// response declares no JSON media type ("" otherwise).
func nonJSONType(op *openapi3.Operation) string {
	if op.Responses == nil {
		return ""
	}
	for _, c := range sortedKeys(op.Responses.Map()) {
		if c[0] != '2' {
			continue
		}
		rr := op.Responses.Value(c).Value
		if rr == nil || len(rr.Content) == 0 || jsonMedia(rr) != nil {
			return ""
		}
		return sortedKeys(rr.Content)[0]
	}
	return ""
}

// successSchema returns the operation's success status and JSON media
// type. When the success answer has no JSON schema it answers the request
// itself (in spec-only mode a text or binary answer gets its declared
// media type and a token body, so the answer's Content-Type validates)
// and returns false.
func (s *System) successSchema(w http.ResponseWriter, r *route) (int, *openapi3.MediaType, bool) {
	status, mt := successResponse(r.op)
	if mt != nil && mt.Schema != nil && mt.Schema.Value != nil {
		return status, mt, true
	}
	if ct := nonJSONType(r.op); ct != "" && s.opts.SpecOnly {
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(status)
		if strings.HasPrefix(ct, "text/") {
			io.WriteString(w, "OK")
		}
		return 0, nil, false
	}
	w.WriteHeader(status)
	return 0, nil, false
}
