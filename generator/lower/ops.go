package lower

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/connectorgen/connectorgen/generator/ir"
	"github.com/connectorgen/connectorgen/generator/load"
	"github.com/connectorgen/connectorgen/generator/naming"
)

// methodOrder is the order operations of one path are visited in.
func methodOrder() []string {
	return []string{"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"}
}

// opSource is one spec operation on its way to the IR.
type opSource struct {
	path   string
	method string // upper case
	op     *openapi3.Operation
	item   *openapi3.PathItem
	loc    load.Loc
	ir     *ir.Operation
}

// collectOperations lists the spec's operations in path order, then method
// order, and gives those without an operationId one made from method and
// path.
func (l *lowerer) collectOperations() []*opSource {
	if l.doc.Paths == nil {
		return nil
	}
	var out []*opSource
	pathMap := l.doc.Paths.Map()
	for _, path := range sortedKeys(pathMap) {
		item := pathMap[path]
		if item == nil {
			continue
		}
		ops := item.Operations()
		for _, m := range methodOrder() {
			op := ops[m]
			if op == nil {
				continue
			}
			src := &opSource{path: path, method: m, op: op, item: item,
				loc: l.spec.Root().Child("paths", path, strings.ToLower(m))}
			if len(out) == 0 || out[len(out)-1].path != path {
				l.checkPathTemplate(path, l.spec.Root().Child("paths", path))
			}
			out = append(out, src)
		}
	}
	l.pkg.SpecOperations = len(out) + l.unsupportedOperations(pathMap)
	return out
}

// unsupportedOperations counts, and warns about, the operations OpenAPI
// 3.2 adds to path items (the query method and additionalOperations with
// custom methods), which kin-openapi does not load and so are not
// generated. Counting them keeps "N operations in the spec, M methods
// generated" honest.
func (l *lowerer) unsupportedOperations(pathMap map[string]*openapi3.PathItem) int {
	n := 0
	for _, path := range sortedKeys(pathMap) {
		loc := l.spec.Root().Child("paths", path)
		for _, key := range l.spec.Keys(loc) {
			switch key {
			case "query":
				n++
				l.diags.Warnf(l.pos(loc.Child(key)), "the OpenAPI 3.2 QUERY operation of %q is not supported; no method is generated for it", path)
			case "additionalOperations":
				methods := l.spec.Keys(loc.Child(key))
				n += len(methods)
				if len(methods) > 0 {
					l.diags.Warnf(l.pos(loc.Child(key)), "OpenAPI 3.2 additionalOperations of %q (%s) are not supported; no methods are generated for them", path, strings.Join(methods, ", "))
				}
			}
		}
	}
	return n
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// checkMediaTypes warns about media type keys holding control characters
// (a newline would let the key inject a header); pickContent skips them.
func (l *lowerer) checkMediaTypes(src *opSource) {
	check := func(content openapi3.Content, loc load.Loc) {
		for _, ct := range sortedKeys(content) {
			if hasControl(ct) {
				l.diags.Warnf(l.pos(loc.Child(ct)), "operation %q: media type %q contains a control character (a newline?); it is ignored", src.ir.ID, ct)
			}
		}
	}
	if rb := src.op.RequestBody; rb != nil && rb.Value != nil && rb.Ref == "" {
		check(rb.Value.Content, src.loc.Child("requestBody", "content"))
	}
	if src.op.Responses != nil {
		for code, r := range src.op.Responses.Map() {
			if r != nil && r.Value != nil && r.Ref == "" {
				check(r.Value.Content, src.loc.Child("responses", code, "content"))
			}
		}
	}
}

// checkPathTemplate warns about path templates the client cannot follow
// faithfully: unbalanced braces are sent literally, and control characters
// (a newline, say) cannot be part of a request path.
func (l *lowerer) checkPathTemplate(path string, loc load.Loc) {
	depth := 0
	for _, c := range path {
		switch c {
		case '{':
			depth++
		case '}':
			depth--
		}
		if depth < 0 || depth > 1 {
			break
		}
	}
	if depth != 0 {
		l.diags.Warnf(l.pos(loc), "path %q has unbalanced braces: the unmatched part is sent literally", path)
	}
	if hasControl(path) {
		l.diags.Warnf(l.pos(loc), "path %q contains a control character (a newline?): a URL cannot hold one, so requests to it fail", path)
	}
}

// nameMethods is naming phase 2: one client method per operation.
func (l *lowerer) nameMethods(ops []*opSource) {
	l.methodNS = naming.NewScope()
	l.methodNS.Reserve("BaseURL", "the client")
	ids := map[string]*opSource{}
	for _, src := range ops {
		id := src.op.OperationID
		if id == "" {
			id = strings.ToLower(src.method) + " " + src.path
		}
		op := &ir.Operation{ID: id, HTTPMethod: src.method, Path: src.path, Pos: l.pos(src.loc)}
		src.ir = op
		if prev, dup := ids[id]; dup && src.op.OperationID != "" {
			l.diags.Warnf(l.pos(src.loc.Child("operationId")), "duplicate operationId %q (first used by %s %s); the method name is disambiguated", id, prev.method, prev.path)
		} else {
			ids[id] = src
		}
		if pinned, ok := pinnedName(src.op.Extensions); ok {
			if !l.methodNS.Reserve(pinned, "operation "+id) {
				o, _ := l.methodNS.Owner(pinned)
				l.diags.Errorf(l.pos(src.loc), "x-connectorgen-name %q collides with %s", pinned, o)
			}
			op.MethodName = pinned
			continue
		}
	}
	for _, src := range ops {
		op := src.ir
		if op.MethodName != "" {
			continue
		}
		base := naming.Exported(op.ID)
		if base == "" {
			base = naming.Exported(strings.ToLower(src.method) + " " + src.path)
		}
		if base == "" {
			base = "Call"
		}
		alt := naming.Exported(op.ID + " " + strings.ToLower(src.method) + " " + src.path)
		op.MethodName = l.methodNS.Claim("operation "+op.ID, hintedName(src.op.Extensions), base, alt)
	}
	for _, src := range ops {
		src.ir.VarName = "op" + src.ir.MethodName
	}
}

// lowerOperation fills in one operation's IR.
func (l *lowerer) lowerOperation(src *opSource) {
	op := src.ir
	o := src.op
	op.Summary = strings.TrimSpace(o.Summary)
	op.Doc = strings.TrimSpace(o.Description)
	op.Deprecated = deprecation(o.Deprecated, "operation")
	op.Tags = slices.Clone(o.Tags)
	l.checkMediaTypes(src)
	l.lowerParams(src)
	if o.RequestBody != nil {
		op.Body = l.lowerBody(src, o.RequestBody, src.loc.Child("requestBody"))
	}
	l.lowerResponses(src)
	op.Security = l.security(src)
	op.Scopes = l.scopes(src)
	op.Idempotent = isIdempotentMethod(src.method)
	if v, ok := o.Extensions["x-idempotent"].(bool); ok {
		op.Idempotent = v
	}
	for _, p := range op.Params {
		if p.In == ir.InHeader && (strings.EqualFold(p.Name, "Idempotency-Key") || strings.EqualFold(p.Name, "X-Idempotency-Key")) {
			op.IdempotencyKeyHeader = p.Name
		}
	}
	l.lowerPagination(src)
	l.pkg.Operations = append(l.pkg.Operations, op)
}

func isIdempotentMethod(m string) bool {
	switch m {
	case "GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE":
		return true
	}
	return false
}

// pathTemplateParams splits a path template into literal and parameter
// parts.
func pathTemplateParts(path string) (parts []string, params []string) {
	for path != "" {
		i := strings.IndexByte(path, '{')
		if i < 0 {
			parts = append(parts, path)
			break
		}
		j := strings.IndexByte(path[i:], '}')
		if j < 0 {
			parts = append(parts, path)
			break
		}
		if i > 0 {
			parts = append(parts, path[:i])
		}
		name := path[i+1 : i+j]
		parts = append(parts, "{"+name+"}")
		params = append(params, name)
		path = path[i+j+1:]
	}
	return parts, params
}

// caseNote explains why two header names that differ in case are one.
func caseNote(in string) string {
	if in == "header" {
		return "; header names are case-insensitive"
	}
	return ""
}

type paramSource struct {
	p   *openapi3.Parameter
	loc load.Loc
}

func (l *lowerer) lowerParams(src *opSource) {
	op := src.ir
	// Path-item parameters first, overridden by operation parameters with
	// the same location and name.
	var list []paramSource
	index := map[string]int{}
	add := func(refs openapi3.Parameters, loc load.Loc) {
		seen := map[string]load.Loc{} // within this one list
		for i, pr := range refs {
			if pr == nil || pr.Value == nil {
				continue
			}
			p := pr.Value
			key := p.In + "\x00" + strings.ToLower(p.Name)
			if p.In != "header" {
				key = p.In + "\x00" + p.Name
			}
			ploc := loc.Child(itoa(i))
			if pr.Ref != "" {
				ploc = l.spec.RefLoc(ploc, pr.Ref)
			}
			if first, dup := seen[key]; dup {
				l.diags.Warnf(l.pos(ploc), "operation %q: %s parameter %q is declared twice in one list (first at %s%s); the later declaration is used",
					src.ir.ID, p.In, p.Name, l.pos(first), caseNote(p.In))
			}
			seen[key] = ploc
			if j, ok := index[key]; ok {
				list[j] = paramSource{p, ploc}
				continue
			}
			index[key] = len(list)
			list = append(list, paramSource{p, ploc})
		}
	}
	itemLoc := l.spec.Root().Child("paths", src.path)
	add(src.item.Parameters, itemLoc.Child("parameters"))
	add(src.op.Parameters, src.loc.Child("parameters"))

	parts, templateParams := pathTemplateParts(src.path)
	inTemplate := map[string]bool{}
	for _, n := range templateParams {
		inTemplate[n] = true
		if _, ok := index["path\x00"+n]; !ok {
			l.diags.Warnf(l.pos(src.loc), "operation %q: path parameter %q is not declared; it is generated as a required string", op.ID, n)
			p := &openapi3.Parameter{Name: n, In: "path", Required: true,
				Schema: &openapi3.SchemaRef{Value: &openapi3.Schema{Type: &openapi3.Types{"string"}}}}
			index["path\x00"+n] = len(list)
			list = append(list, paramSource{p, src.loc})
		}
	}
	var ordered []paramSource
	for _, n := range templateParams {
		ordered = append(ordered, list[index["path\x00"+n]])
	}
	for _, in := range []string{"query", "header", "cookie"} {
		for _, ps := range list {
			if ps.p.In == in {
				ordered = append(ordered, ps)
			}
		}
	}
	for _, ps := range list {
		switch ps.p.In {
		case "path":
			if !inTemplate[ps.p.Name] {
				l.diags.Warnf(l.pos(ps.loc), "operation %q: path parameter %q does not appear in the path %q; ignored", op.ID, ps.p.Name, src.path)
			}
		case "query", "header", "cookie":
		default:
			l.diags.Warnf(l.pos(ps.loc), "operation %q: parameter %q has unknown location %q; ignored", op.ID, ps.p.Name, ps.p.In)
		}
	}

	fields := naming.NewScope()
	byName := map[string]*ir.Param{}
	for _, ps := range ordered {
		p := ps.p
		if p.In == "header" && (strings.EqualFold(p.Name, "Accept") || strings.EqualFold(p.Name, "Content-Type")) {
			// OpenAPI ignores these header parameters as parameters; a
			// required one with a fixed value is sent as that value.
			if v, ok := fixedHeaderValue(p); ok {
				if strings.EqualFold(p.Name, "Accept") {
					op.Accept = v
				} else {
					op.ContentType = v
				}
			}
			continue
		}
		if op.ParamsType == "" {
			op.ParamsType = l.pkgNS.Claim("params of "+op.ID, op.MethodName+"Params")
		}
		ip := l.lowerParam(op, ps, fields)
		op.Params = append(op.Params, ip)
		if ip.In == ir.InPath {
			byName[ip.Name] = ip
		}
	}
	for _, part := range parts {
		if strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}") {
			op.PathParts = append(op.PathParts, ir.PathPart{Param: byName[part[1:len(part)-1]]})
			continue
		}
		op.PathParts = append(op.PathParts, ir.PathPart{Literal: part})
	}
}

// fixedHeaderValue is the value of a required header parameter whose
// schema has a string default or a single string enum value.
func fixedHeaderValue(p *openapi3.Parameter) (string, bool) {
	if !p.Required || p.Schema == nil || p.Schema.Value == nil {
		return "", false
	}
	s := p.Schema.Value
	if v, ok := s.Default.(string); ok && v != "" {
		return v, true
	}
	if len(s.Enum) == 1 {
		if v, ok := s.Enum[0].(string); ok && v != "" {
			return v, true
		}
	}
	return "", false
}

func (l *lowerer) lowerParam(op *ir.Operation, ps paramSource, fields *naming.Scope) *ir.Param {
	p := ps.p
	ip := &ir.Param{Name: p.Name, In: ir.ParamIn(p.In), Required: p.Required || p.In == "path",
		Doc: strings.TrimSpace(p.Description), Deprecated: deprecation(p.Deprecated, "parameter")}
	base := naming.Exported(p.Name)
	if base == "" {
		base = "Param"
	}
	ip.FieldName = fields.Claim(p.In+" parameter "+p.Name, base, naming.Exported(p.In+" "+p.Name), naming.ExportedSpelled(p.Name))
	schema, sloc := p.Schema, ps.loc.Child("schema")
	if schema == nil && len(p.Content) > 0 {
		ct := sortedKeys(p.Content)[0]
		schema, sloc = p.Content[ct].Schema, ps.loc.Child("content", ct, "schema")
		ip.Format.JSON = true
	}
	t, _ := l.typeFor(schema, sloc, op.ParamsType+ip.FieldName)
	if schema != nil && schema.Value != nil && schema.Value.Default != nil {
		l.paramDefault[ip] = schema.Value.Default
	}
	if schema != nil && schema.Value != nil && schema.Value.Max != nil {
		l.paramMax[ip] = *schema.Value.Max
	}
	ip.Style = p.Style
	if ip.Style == "" {
		switch p.In {
		case "query", "cookie":
			ip.Style = "form"
		default:
			ip.Style = "simple"
		}
	}
	ip.Explode = ip.Style == "form"
	if p.Explode != nil {
		ip.Explode = *p.Explode
	}
	if !ip.Format.JSON {
		ip.Format = l.paramFormat(t)
	} else {
		ip.Format.Any = true
	}
	ip.Type, ip.Presence = l.optionalArg(t, ip.Required, true)
	return ip
}

// underlying follows local aliases, enums and defined types to the type
// the value really is.
func (l *lowerer) underlying(t *ir.TypeRef) *ir.TypeRef {
	for i := 0; i < 64 && t != nil && t.Kind == ir.Named && t.Pkg == ""; i++ {
		nt := l.namedType(t.Name)
		switch {
		case nt == nil:
			return t
		case nt.Kind == ir.Enum:
			return nt.EnumBase
		case (nt.Kind == ir.Alias || nt.Kind == ir.Defined) && nt.Target != nil:
			t = nt.Target
		default:
			return t
		}
	}
	return t
}

func scalarKind(t *ir.TypeRef) (ir.ScalarKind, bool) {
	switch t.Kind {
	case ir.Builtin:
		switch t.Name {
		case "string":
			return ir.ScalarString, true
		case "int", "int8", "int16", "int32", "int64":
			return ir.ScalarInt, true
		case "uint", "uint8", "uint16", "uint32", "uint64":
			return ir.ScalarUint, true
		case "float32", "float64":
			return ir.ScalarFloat, true
		case "bool":
			return ir.ScalarBool, true
		}
	case ir.Named:
		switch {
		case t.Pkg == ir.PkgTime && t.Name == "Time":
			return ir.ScalarTime, true
		case t.Pkg == ir.PkgOAS && (t.Name == "Date" || t.Name == "UUID"):
			return ir.ScalarStringer, true
		case t.Pkg == ir.PkgJSON && t.Name == "Number":
			return ir.ScalarString, true
		}
	}
	return 0, false
}

func (l *lowerer) paramFormat(t *ir.TypeRef) ir.ParamFormat {
	u := l.underlying(t)
	if k, ok := scalarKind(u); ok {
		return ir.ParamFormat{Scalar: k}
	}
	if u.Kind == ir.Slice {
		if k, ok := scalarKind(l.underlying(u.Elem)); ok && k != ir.ScalarUint {
			// A list of a named scalar type needs its own element kind;
			// only builtin or enum-of-builtin elements format directly.
			if u.Elem.Kind == ir.Builtin || l.namedType(u.Elem.Name) != nil && l.namedType(u.Elem.Name).Kind == ir.Enum || k == ir.ScalarStringer || k == ir.ScalarTime {
				return ir.ParamFormat{List: true, Scalar: k}
			}
		}
	}
	return ir.ParamFormat{Any: true}
}

// contentRank orders media types by preference: JSON first, then form,
// multipart, binary and text.
func contentRank(ct string) (rank int, kind string) {
	base := strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
	switch {
	case base == "application/json":
		return 0, "json"
	case strings.HasSuffix(base, "+json") || strings.Contains(base, "/json") || strings.HasSuffix(base, "-json"):
		return 1, "json"
	case base == "application/x-www-form-urlencoded":
		return 2, "form"
	case base == "multipart/form-data" || strings.HasPrefix(base, "multipart/"):
		return 3, "multipart"
	case base == "application/octet-stream" || strings.HasPrefix(base, "image/") || strings.HasPrefix(base, "audio/") ||
		strings.HasPrefix(base, "video/") || base == "application/pdf" || base == "application/zip" || strings.HasPrefix(base, "font/"):
		return 4, "binary"
	case strings.HasPrefix(base, "text/") || strings.HasSuffix(base, "/xml") || strings.HasSuffix(base, "+xml") ||
		base == "application/javascript" || base == "application/x-ndjson" || base == "application/yaml":
		return 5, "text"
	case base == "*/*" || base == "application/*":
		return 6, "any"
	}
	return 7, "other"
}

// pickContent chooses the media type to generate for, deterministically.
func pickContent(content openapi3.Content) (string, *openapi3.MediaType) {
	best, bestRank := "", 1<<30
	for _, ct := range sortedKeys(content) {
		if hasControl(ct) {
			continue // never sent or matched; checkMediaTypes warns
		}
		if r, _ := contentRank(ct); r < bestRank {
			best, bestRank = ct, r
		}
	}
	if best == "" {
		return "", nil
	}
	return best, content[best]
}

// mediaKind settles what a media type's payload is in Go.
func (l *lowerer) mediaKind(ct string, mt *openapi3.MediaType) string {
	_, kind := contentRank(ct)
	var s *openapi3.Schema
	if mt != nil && mt.Schema != nil {
		s = mt.Schema.Value
	}
	isBinaryString := s != nil && len(types(s)) == 1 && types(s)[0] == "string" && (s.Format == "binary" || s.Format == "byte")
	switch kind {
	case "json", "form", "multipart":
		if isBinaryString && kind != "json" {
			return "binary"
		}
		return kind
	case "any", "other":
		// A media type that is not JSON, with no schema or a schema that
		// says nothing about the value, can carry any bytes: only a byte
		// stream round-trips it.
		if s == nil || isBinaryString || isConstraintOnly(s) {
			return "binary"
		}
		if sh := l.shapeOf(s); sh == shapeScalar && types(s)[0] == "string" {
			return "text"
		}
		return "json"
	case "text":
		return "text"
	}
	return "binary"
}

func (l *lowerer) lowerBody(src *opSource, rb *openapi3.RequestBodyRef, loc load.Loc) *ir.Body {
	op := src.ir
	if rb.Ref != "" {
		loc = l.spec.RefLoc(loc, rb.Ref)
	}
	if rb.Value == nil {
		return nil
	}
	ct, mt := pickContent(rb.Value.Content)
	if mt == nil {
		if len(rb.Value.Content) == 0 {
			l.diags.Warnf(l.pos(loc), "operation %q: request body has no content types; none is sent", op.ID)
		}
		return nil
	}
	b := &ir.Body{ContentType: ct, Required: rb.Value.Required, Doc: strings.TrimSpace(rb.Value.Description)}
	mloc := loc.Child("content", ct, "schema")
	hint := op.MethodName + "Request"
	kind := l.mediaKind(ct, mt)
	if l.spec.Swagger && (kind == "form" || kind == "multipart") && mt.Schema != nil && mt.Schema.Value != nil && len(mt.Schema.Value.Required) > 0 {
		// Swagger 2.0 formData parameters become one request body whose
		// required list holds the required parameters; the conversion
		// leaves the body itself optional, which it is not when any of
		// its parameters is required.
		b.Required = true
	}
	if strings.Contains(ct, "*") {
		// A range such as */* or image/* says what the server accepts; a
		// request must name one concrete media type.
		b.ContentType = concreteMediaType(kind)
	}
	switch kind {
	case "json":
		b.Kind = ir.BodyJSON
		t, _ := l.typeFor(mt.Schema, mloc, hint)
		b.Type, b.Presence = l.optionalArg(t, b.Required, false)
	case "form":
		b.Kind = ir.BodyForm
		t, _ := l.typeFor(mt.Schema, mloc, hint)
		b.Type, b.Presence = l.optionalArg(t, b.Required, false)
		for _, name := range sortedKeys(mt.Encoding) {
			e := mt.Encoding[name]
			if e == nil {
				continue
			}
			enc := ir.Encoding{Name: name, Style: e.Style}
			if enc.Style == "" {
				enc.Style = "form"
			}
			enc.Explode = enc.Style == "form"
			if e.Explode != nil {
				enc.Explode = *e.Explode
			}
			if e.Style == "" && e.Explode == nil {
				continue // the default needs no entry
			}
			b.Encodings = append(b.Encodings, enc)
		}
	case "multipart":
		b.Kind = ir.BodyMultipart
		t := l.multipartType(mt.Schema, mloc, hint)
		b.Type, b.Presence = l.optionalArg(t, b.Required, false)
	case "text":
		b.Kind = ir.BodyText
		b.Type = ir.BuiltinRef("string")
	default:
		b.Kind = ir.BodyBinary
		b.Type, b.Presence = ir.QualRef(ir.PkgIO, "Reader"), ir.ViaNil
	}
	return b
}

// concreteMediaType is the media type sent for a body whose declared type
// is a range (*/*, application/*, image/*).
func concreteMediaType(kind string) string {
	switch kind {
	case "json":
		return "application/json"
	case "text":
		return "text/plain; charset=utf-8"
	case "form":
		return "application/x-www-form-urlencoded"
	case "multipart":
		return "multipart/form-data"
	}
	return "application/octet-stream"
}

// optionalArg is the type of an argument (a parameter field or a body)
// and how its presence is told: the value itself when required; when
// optional, the value when it can already be absent (nil slices, maps and
// raw JSON; zero unions), else oas.Opt for parameters or a pointer for
// bodies.
func (l *lowerer) optionalArg(t *ir.TypeRef, required, param bool) (*ir.TypeRef, ir.Presence) {
	switch {
	case required:
		return t, ir.Always
	case l.isSliceOrMap(t) || t.IsRawJSON():
		return t, ir.ViaNil
	case l.isRawLike(t):
		return t, ir.ViaIsZero
	case param:
		return ir.Wrap(ir.Opt, t), ir.ViaGet
	}
	return ir.Wrap(ir.Pointer, t), ir.ViaNil
}

// multipartType builds a dedicated struct for a multipart body, in which
// binary properties become oas.File parts.
func (l *lowerer) multipartType(sr *openapi3.SchemaRef, loc load.Loc, hint string) *ir.TypeRef {
	if sr == nil || sr.Value == nil {
		return rawJSON()
	}
	if sr.Ref != "" {
		loc = l.spec.RefLoc(loc, sr.Ref)
	}
	s := sr.Value
	if l.shapeOf(s) != shapeStruct && l.shapeOf(s) != shapeAllOf {
		t, _ := l.typeFor(sr, loc, hint)
		return t
	}
	name := l.pkgNS.Claim("multipart body at "+loc.Pointer, hint)
	t := &ir.Type{Name: name, Kind: ir.Struct, Pos: l.pos(loc), Doc: docText(s)}
	l.addType(t)
	parts := []structPart{{s, loc}}
	if len(s.AllOf) > 0 {
		parts, _ = l.allOfParts(s, loc)
	}
	props, _, _, _ := l.collectProps(parts)
	fields := naming.NewScope()
	for _, p := range props {
		if p.sr != nil && p.sr.Value != nil && isFileSchema(p.sr.Value) {
			fname := fields.Claim("property "+p.name, naming.Exported(p.name), naming.ExportedSpelled(p.name), "File")
			ft := ir.QualRef(ir.PkgOAS, "File")
			if len(types(p.sr.Value)) == 1 && types(p.sr.Value)[0] == "array" {
				ft = ir.Wrap(ir.Slice, ft)
			}
			t.Fields = append(t.Fields, &ir.Field{Name: fname, JSONName: p.name, Type: ft, Required: p.required,
				OmitZero: true, Doc: docText(p.sr.Value), Pos: l.pos(p.loc)})
			continue
		}
		t.Fields = append(t.Fields, l.field(name, p, fields))
	}
	return ir.NamedRef(name)
}

// isFileSchema reports whether a multipart property is a file: a binary
// string, or an array of them.
func isFileSchema(s *openapi3.Schema) bool {
	ts := types(s)
	if len(ts) == 1 && ts[0] == "array" && s.Items != nil && s.Items.Value != nil {
		return isFileSchema(s.Items.Value)
	}
	return len(ts) == 1 && ts[0] == "string" && (s.Format == "binary" || s.Format == "base64")
}

// statusKey parses a responses key: a code, a class ("2XX") or default.
func statusKey(k string) (status, class int, isDefault, ok bool) {
	if k == "default" {
		return 0, 0, true, true
	}
	if len(k) == 3 && (k[1] == 'X' || k[1] == 'x') && (k[2] == 'X' || k[2] == 'x') && k[0] >= '1' && k[0] <= '5' {
		return 0, int(k[0] - '0'), false, true
	}
	n, err := strconv.Atoi(k)
	if err != nil || n < 100 || n > 599 {
		return 0, 0, false, false
	}
	return n, 0, false, true
}

type respSource struct {
	key           string
	status, class int
	isDefault     bool
	resp          *openapi3.Response
	loc           load.Loc
}

func (l *lowerer) lowerResponses(src *opSource) {
	op := src.ir
	var all []respSource
	if src.op.Responses != nil {
		m := src.op.Responses.Map()
		for _, k := range sortedKeys(m) {
			rr := m[k]
			rloc := src.loc.Child("responses", k)
			status, class, def, ok := statusKey(k)
			if !ok {
				l.diags.Warnf(l.pos(rloc), "operation %q: response key %q is not a status code; ignored", op.ID, k)
				continue
			}
			if rr == nil || rr.Value == nil {
				continue
			}
			if rr.Ref != "" {
				rloc = l.spec.RefLoc(rloc, rr.Ref)
			}
			all = append(all, respSource{k, status, class, def, rr.Value, rloc})
		}
	}
	slices.SortStableFunc(all, func(a, b respSource) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a.status, b.status), cmp.Compare(a.class, b.class))
	})
	var success, failure []respSource
	has2xx := false
	for _, r := range all {
		if r.status/100 == 2 || r.class == 2 {
			has2xx = true
		}
	}
	for _, r := range all {
		switch {
		case r.status/100 == 2 || r.class == 2:
			success = append(success, r)
		case r.isDefault && !has2xx:
			success = append(success, r)
		case r.status >= 400 || r.class >= 4 || r.isDefault:
			failure = append(failure, r)
		}
	}
	res := &ir.Result{}
	op.Result = res
	withContent := 0
	for _, r := range success {
		if _, mt := pickContent(r.resp.Content); mt != nil {
			withContent++
		}
	}
	distinct := map[string]bool{}
	for _, r := range success {
		for h := range r.resp.Headers {
			if strings.EqualFold(h, "Link") {
				l.linkHeader[op] = true
			}
		}
		resp := &ir.Response{Status: r.status, Class: r.class, Doc: strings.TrimSpace(derefStr(r.resp.Description))}
		ct, mt := pickContent(r.resp.Content)
		if mt != nil {
			resp.ContentType = ct
			hint := op.MethodName + "Response"
			if withContent > 1 {
				hint += statusSuffix(r)
			}
			switch l.mediaKind(ct, mt) {
			case "json", "form", "multipart":
				resp.Content = ir.ContentJSON
				t, _ := l.typeFor(mt.Schema, r.loc.Child("content", ct, "schema"), hint)
				resp.Type = t
				resp.Pointer = !l.isSliceOrMap(t) && !l.isRawLike(t) && l.underlying(t).Kind != ir.Builtin
			case "text":
				resp.Content, resp.Type = ir.ContentText, ir.BuiltinRef("string")
			default:
				resp.Content, resp.Type = ir.ContentBinary, ir.Wrap(ir.Slice, ir.BuiltinRef("byte"))
			}
			distinct[fmt.Sprint(resp.Content, resp.Type)] = true
		}
		res.Responses = append(res.Responses, resp)
	}
	switch len(distinct) {
	case 0:
		res.Kind = ir.ResultNone
	case 1:
		res.Kind = ir.ResultSingle
		for _, r := range res.Responses {
			if r.Content != ir.ContentNone {
				res.Single = r
				break
			}
		}
	default:
		res.Kind = ir.ResultMulti
		res.TypeName = l.pkgNS.Claim("result of "+op.ID, op.MethodName+"Result")
		fields := naming.NewScope()
		fields.Reserve("StatusCode", "status code")
		for i, r := range res.Responses {
			r.FieldName = fields.Claim("response "+success[i].key, "Status"+strings.ToUpper(success[i].key), naming.Exported(success[i].key))
			if success[i].isDefault {
				r.FieldName = fields.Claim("default response", "Default")
			}
		}
	}
	for _, r := range failure {
		ct, mt := pickContent(r.resp.Content)
		if mt == nil || l.mediaKind(ct, mt) != "json" {
			continue
		}
		t, _ := l.typeFor(mt.Schema, r.loc.Child("content", ct, "schema"), op.MethodName+"Error"+statusSuffix(r))
		op.Errors = append(op.Errors, &ir.ErrorModel{Status: r.status, Class: r.class, Default: r.isDefault, Type: t})
	}
	if len(op.Errors) > 0 {
		key := errorSetKey(op.Errors)
		if name, ok := l.errorDecoders[key]; ok {
			op.ErrorDecoder = name
		} else {
			op.ErrorDecoder = l.errorDecoderName(op.Errors)
			l.errorDecoders[key] = op.ErrorDecoder
		}
	}
}

// errorDecoderName names a decoder after the error models it decodes, not
// after the first operation using it (errorModelsPost3dSecure was shared by
// credit notes): errorsAPIError, or errorsAPIErrorProblem for two models,
// numbered when that name is taken by another set.
func (l *lowerer) errorDecoderName(errs []*ir.ErrorModel) string {
	var names []string
	for _, e := range errs {
		n := l.variantName(e.Type)
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	base := "errors"
	if len(names) <= 2 {
		base += strings.Join(names, "")
	} else {
		base += names[0] + "Etc"
	}
	taken := map[string]bool{}
	for _, n := range l.errorDecoders {
		taken[n] = true
	}
	name := base
	for i := 2; taken[name]; i++ {
		name = fmt.Sprintf("%s%d", base, i)
	}
	return name
}

func errorSetKey(errs []*ir.ErrorModel) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "%d/%d/%v/%s;", e.Status, e.Class, e.Default, e.Type)
	}
	return b.String()
}

func derefStr(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// rank orders responses: exact codes, then classes, then default.
func rank(r respSource) int {
	switch {
	case r.isDefault:
		return 2
	case r.class != 0:
		return 1
	}
	return 0
}

func statusSuffix(r respSource) string {
	switch {
	case r.isDefault:
		return "Default"
	case r.class != 0:
		return fmt.Sprintf("%dXX", r.class)
	}
	return strconv.Itoa(r.status)
}

// scopes collects the OAuth scopes of the operation's effective security
// requirements, per scheme (least privilege: the runbook lists them).
func (l *lowerer) scopes(src *opSource) map[string][]string {
	reqs := l.doc.Security
	if src.op.Security != nil {
		reqs = *src.op.Security
	}
	var out map[string][]string
	for _, req := range reqs {
		for name, sc := range req {
			for _, s := range sc {
				if out == nil {
					out = map[string][]string{}
				}
				if !slices.Contains(out[name], s) {
					out[name] = append(out[name], s)
				}
			}
		}
	}
	for _, v := range out {
		slices.Sort(v)
	}
	return out
}

// security resolves the operation's effective security requirements.
func (l *lowerer) security(src *opSource) [][]string {
	reqs := l.doc.Security
	if src.op.Security != nil {
		reqs = *src.op.Security
	}
	if len(reqs) == 0 {
		return nil
	}
	known := map[string]bool{}
	if l.doc.Components != nil {
		for k := range l.doc.Components.SecuritySchemes {
			known[k] = true
		}
	}
	var out [][]string
	for _, req := range reqs {
		alt := []string{}
		for _, name := range sortedKeys(req) {
			if !known[name] {
				l.diags.Warnf(l.pos(src.loc), "operation %q: security requirement names unknown scheme %q; ignored", src.ir.ID, name)
				continue
			}
			alt = append(alt, name)
		}
		out = append(out, alt)
	}
	return out
}
