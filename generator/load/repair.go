package load

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/connectorgen/connectorgen/generator/diag"
)

// refSite is one {$ref: …} mapping found in a document.
type refSite struct {
	obj    *yaml.Node // the mapping holding $ref
	value  *yaml.Node // the $ref value node
	ref    string
	segs   []string   // pointer segments of obj
	parent *yaml.Node // mapping or sequence holding obj
	index  int        // position of obj in parent.Content
}

// walkNodes calls fn for every mapping and sequence node reachable from n
// without following aliases, with the pointer segments leading to it.
func walkNodes(n *yaml.Node, segs []string, fn func(n, parent *yaml.Node, index int, segs []string)) {
	var rec func(n, parent *yaml.Node, index int, segs []string, depth int)
	rec = func(n, parent *yaml.Node, index int, segs []string, depth int) {
		if n == nil || depth > 400 {
			return
		}
		switch n.Kind {
		case yaml.DocumentNode:
			for i, c := range n.Content {
				rec(c, n, i, segs, depth+1)
			}
		case yaml.MappingNode:
			fn(n, parent, index, segs)
			for i := 0; i+1 < len(n.Content); i += 2 {
				rec(n.Content[i+1], n, i+1, append(segs[:len(segs):len(segs)], n.Content[i].Value), depth+1)
			}
		case yaml.SequenceNode:
			fn(n, parent, index, segs)
			for i, c := range n.Content {
				rec(c, n, i, append(segs[:len(segs):len(segs)], itoa(i)), depth+1)
			}
		}
	}
	rec(n, nil, 0, segs, 0)
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// collectRefs finds every $ref in d that is a reference (not a property
// called "$ref", not inside an example value).
func collectRefs(d *document) []refSite {
	var out []refSite
	walkNodes(d.root, nil, func(n, parent *yaml.Node, index int, segs []string) {
		if n.Kind != yaml.MappingNode {
			return
		}
		k, v := mapGet(n, "$ref")
		if k == nil || v == nil || v.Kind != yaml.ScalarNode {
			return
		}
		if len(segs) > 0 && (segs[len(segs)-1] == "properties" || segs[len(segs)-1] == "patternProperties") {
			return
		}
		if classify(segs) == kindValue || inExtension(segs) {
			return
		}
		out = append(out, refSite{obj: n, value: v, ref: v.Value, segs: segs, parent: parent, index: index})
	})
	return out
}

// inExtension reports whether segs pass through a specification extension
// ("x-…" key), whose content is opaque to OpenAPI. A property or component
// that happens to be named "x-…" is not an extension.
func inExtension(segs []string) bool {
	for i, s := range segs {
		if !strings.HasPrefix(s, "x-") {
			continue
		}
		if i > 0 {
			switch segs[i-1] {
			case "properties", "patternProperties", "schemas", "definitions", "$defs", "paths":
				continue
			}
		}
		return true
	}
	return false
}

// repairDocument fixes defects that do not involve references.
func (l *loader) repairDocument(d *document) {
	top := d.top()
	if _, info := mapGet(top, "info"); info != nil {
		if _, v := mapGet(info, "version"); v != nil && v.Kind == yaml.ScalarNode && v.ShortTag() != "!!str" {
			l.diags.Warnf(d.pos(v), "info.version %s is not a string; read as %q", v.Value, v.Value)
			v.Tag = "!!str"
		}
	}
	walkNodes(d.root, nil, func(n, parent *yaml.Node, index int, segs []string) {
		l.checkNulls(d, n, segs)
		if n.Kind != yaml.MappingNode {
			return
		}
		l.repairSchemaRequired(d, n, segs)
		l.repairTupleItems(d, n, segs)
		l.repairValues(d, n, segs)
	})
}

// checkNulls reports a null where the OpenAPI object model needs an object
// (a schema, parameter, response …), positioned at the null: kin-openapi
// rejects it too, but without saying where.
func (l *loader) checkNulls(d *document, n *yaml.Node, segs []string) {
	if inExtension(segs) || classify(segs) == kindValue {
		return
	}
	check := func(v *yaml.Node, childSegs []string, label string) {
		if v == nil || v.Kind != yaml.ScalarNode || v.ShortTag() != "!!null" {
			return
		}
		switch k := classify(childSegs); k {
		case kindSchema, kindParameter, kindRequestBody, kindResponse, kindHeader, kindPathItem,
			kindOperation, kindMediaType, kindSecurityScheme, kindLink, kindCallback, kindExample:
			article := "a"
			if strings.ContainsRune("aeiou", rune(k.String()[0])) {
				article = "an"
			}
			l.diags.Errorf(d.pos(v), "%s is null; %s %s must be an object", label, article, k)
		}
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			check(n.Content[i+1], append(segs[:len(segs):len(segs)], key), strconv.Quote(key))
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			label := "item " + itoa(i)
			if len(segs) > 0 {
				label += " of " + segs[len(segs)-1]
			}
			check(c, append(segs[:len(segs):len(segs)], itoa(i)), label)
		}
	}
}

// repairValues checks a schema's (or a Swagger 2.0 parameter's) default
// and example against its type and enum. A default that does not fit is
// dropped, since generated code may rely on it; an example is only
// documentation and is dropped too, so that nothing downstream trusts it.
// A number or boolean given for a string is read as its text.
func (l *loader) repairValues(d *document, n *yaml.Node, segs []string) {
	switch classify(segs) {
	case kindSchema, kindParameter, kindHeader:
	default:
		return
	}
	_, tv := mapGet(n, "type")
	if tv == nil {
		return
	}
	var types []string
	switch tv.Kind {
	case yaml.ScalarNode:
		types = []string{tv.Value}
	case yaml.SequenceNode:
		for _, c := range tv.Content {
			if c.Kind == yaml.ScalarNode {
				types = append(types, c.Value)
			}
		}
	}
	if len(types) == 0 {
		return
	}
	_, nv := mapGet(n, "nullable")
	nullOK := nv != nil && nv.Value == "true"
	_, xnv := mapGet(n, "x-nullable")
	nullOK = nullOK || xnv != nil && xnv.Value == "true"
	_, enum := mapGet(n, "enum")
	for _, key := range []string{"default", "example"} {
		k, v := mapGet(n, key)
		if k == nil {
			continue
		}
		v = deref(v)
		if v == nil {
			continue
		}
		if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
			if !nullOK && !slices.Contains(types, "null") {
				l.diags.Warnf(d.pos(v), "%s null does not fit the schema (type %s, not nullable); ignored", key, strings.Join(types, ", "))
				removeKey(n, key)
			}
			continue
		}
		fits, asText := false, false
		for _, t := range types {
			switch ok, text := valueFits(t, v); {
			case ok:
				fits = true
			case text:
				asText = true
			}
		}
		switch {
		case fits:
			if enum != nil && enum.Kind == yaml.SequenceNode && v.Kind == yaml.ScalarNode && !enumHas(enum, v) {
				l.diags.Warnf(d.pos(v), "%s %s is not one of the enum values; ignored", key, describe(v))
				removeKey(n, key)
			}
		case asText:
			l.diags.Warnf(d.pos(v), "%s %s is not a string; read as %q", key, describe(v), v.Value)
			v.Tag, v.Style = "!!str", 0
		default:
			l.diags.Warnf(d.pos(v), "%s %s does not fit the schema (type %s); ignored", key, describe(v), strings.Join(types, ", "))
			removeKey(n, key)
		}
	}
}

// valueFits reports whether the YAML value v is a valid instance of the
// JSON type t, and, when it is not, whether it is a number or boolean
// written where a string belongs.
func valueFits(t string, v *yaml.Node) (fits, asText bool) {
	tag := v.ShortTag()
	switch t {
	case "string":
		if v.Kind == yaml.ScalarNode && (tag == "!!int" || tag == "!!float" || tag == "!!bool") {
			return false, true
		}
		return v.Kind == yaml.ScalarNode && tag == "!!str" || tag == "!!timestamp" || tag == "!!binary", false
	case "integer":
		if tag == "!!int" {
			return true, false
		}
		if tag == "!!float" {
			f, err := strconv.ParseFloat(v.Value, 64)
			return err == nil && f == math.Trunc(f), false
		}
	case "number":
		return tag == "!!int" || tag == "!!float", false
	case "boolean":
		return tag == "!!bool", false
	case "array":
		return v.Kind == yaml.SequenceNode, false
	case "object":
		return v.Kind == yaml.MappingNode, false
	case "null":
		return tag == "!!null", false
	case "file":
		return true, false
	}
	return false, false
}

func enumHas(enum, v *yaml.Node) bool {
	for _, e := range enum.Content {
		if e = deref(e); e != nil && e.Kind == yaml.ScalarNode && e.Value == v.Value {
			return true
		}
	}
	return false
}

// describe renders a value for a diagnostic.
func describe(v *yaml.Node) string {
	switch v.Kind {
	case yaml.MappingNode:
		return "(an object)"
	case yaml.SequenceNode:
		return "(an array)"
	}
	if v.ShortTag() == "!!str" {
		return strconv.Quote(v.Value)
	}
	return v.Value
}

// repairSchemaRequired handles a boolean "required" on a schema: on a
// property it moves to the parent's required list; elsewhere it is dropped.
func (l *loader) repairSchemaRequired(d *document, n *yaml.Node, segs []string) {
	k, v := mapGet(n, "required")
	if k == nil || v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" || classify(segs) != kindSchema {
		return
	}
	removeKey(n, "required")
	isProperty := len(segs) >= 2 && segs[len(segs)-2] == "properties"
	if !isProperty {
		l.diags.Warnf(d.pos(k), "\"required: %s\" on a schema that is not a property has no meaning; ignored", v.Value)
		return
	}
	prop := segs[len(segs)-1]
	owner, _, depth := walkPointer(d.top(), segs[:len(segs)-2])
	if depth != len(segs)-2 || owner == nil || owner.Kind != yaml.MappingNode {
		return
	}
	if strings.EqualFold(v.Value, "true") {
		l.diags.Warnf(d.pos(k), "property %q: \"required: true\" belongs in the parent schema's required list; moved there", prop)
		addRequired(owner, prop)
	} else {
		l.diags.Warnf(d.pos(k), "property %q: \"required: false\" is not valid on a property; ignored", prop)
	}
}

// repairTupleItems reads the draft-4 tuple form "items: [A, B]", which
// vendors use to mean "each item is A or B", as "items: {anyOf: [A, B]}".
func (l *loader) repairTupleItems(d *document, n *yaml.Node, segs []string) {
	k, v := mapGet(n, "items")
	if k == nil || v == nil || v.Kind != yaml.SequenceNode || classify(segs) != kindSchema {
		return
	}
	if len(v.Content) == 1 {
		l.diags.Warnf(d.pos(k), "\"items\" is a list of one schema; read as that schema")
		setValue(n, "items", v.Content[0])
		return
	}
	l.diags.Warnf(d.pos(k), "\"items\" is a list of %d schemas (tuple form); read as anyOf", len(v.Content))
	setValue(n, "items", &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: v.Line, Column: v.Column,
		Content: []*yaml.Node{scalar("anyOf"), v}})
}

// setValue replaces the value of key in mapping m.
func setValue(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
}

func removeKey(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i:i], m.Content[i+2:]...)
			return
		}
	}
}

func addRequired(owner *yaml.Node, prop string) {
	_, req := mapGet(owner, "required")
	if req == nil || req.Kind != yaml.SequenceNode {
		if req != nil {
			removeKey(owner, "required")
		}
		req = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		owner.Content = append(owner.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "required"}, req)
	}
	for _, c := range req.Content {
		if c.Value == prop {
			return
		}
	}
	req.Content = append(req.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: prop})
}

// repairRefs checks every $ref of d and repairs the ones that resolve to
// nothing or to the wrong kind of object.
func (l *loader) repairRefs(d *document) {
	removed := map[*yaml.Node]bool{}
	for _, r := range collectRefs(d) {
		file, ptr, _ := strings.Cut(r.ref, "#")
		ctx := classify(r.segs)
		if isRemote(file) {
			if !l.opts.AllowRemoteRefs {
				l.dangling(d, r, ctx, "remote references are not fetched; pass -allow-remote-refs to fetch them", removed)
			}
			continue
		}
		target := d
		if file != "" {
			target = l.docs[filepath.Join(filepath.Dir(d.abs), filepath.FromSlash(unescapeFile(file)))]
		}
		if target == nil {
			l.dangling(d, r, ctx, "file not found", removed)
			continue
		}
		tsegs := splitPointer(ptr)
		node, _, depth := walkPointer(target.top(), tsegs)
		if depth != len(tsegs) || node == nil {
			l.dangling(d, r, ctx, "no such target"+refHint(target, file, tsegs, ctx), removed)
			continue
		}
		if ctx == kindSchema && l.refCycle(target, node) {
			l.diags.Warnf(d.pos(r.value), "$ref %q is part of a cycle of references that never reaches a schema: the value is kept as raw JSON", r.ref)
			setMapping(r.obj, "x-connectorgen-unresolved", r.ref)
			continue
		}
		if ctx != kindSchema && ctx != kindOther && l.refCycle(target, node) {
			// A parameter, body or response that is only a $ref to
			// itself (directly or through others) has no content.
			l.dangling(d, r, ctx, "its chain of $refs leads back to itself", removed)
			continue
		}
		if ctx == kindSchema && l.compositionCycle(d, r, target, node) {
			continue
		}
		tk := classify(tsegs)
		if ctx == kindOther || tk == kindOther || tk == ctx || file != "" {
			continue
		}
		if (ctx == kindResponse || ctx == kindRequestBody) && (tk == kindResponse || tk == kindRequestBody) {
			l.diags.Warnf(d.pos(r.value), "$ref %q refers to a %s where a %s is expected; its content is used", r.ref, tk, ctx)
			inlineCopy(r.obj, node, ctx)
			continue
		}
		if ctx == kindSchema && tk == kindMediaType {
			continue
		}
		l.dangling(d, r, ctx, "it is a "+tk.String()+", not a "+ctx.String(), removed)
	}
	if len(removed) > 0 {
		prune(d.root, removed)
	}
}

// refCycle reports whether node (in d) is a $ref whose chain of $refs,
// each target being nothing but another $ref, comes back to itself.
func (l *loader) refCycle(d *document, node *yaml.Node) bool {
	seen := map[*yaml.Node]bool{}
	for i := 0; i < 256; i++ {
		_, v := mapGet(node, "$ref")
		if v == nil || v.Kind != yaml.ScalarNode {
			return false
		}
		if seen[node] {
			return true
		}
		seen[node] = true
		file, ptr, _ := strings.Cut(v.Value, "#")
		if isRemote(file) {
			return false
		}
		if file != "" {
			d = l.docs[filepath.Join(filepath.Dir(d.abs), filepath.FromSlash(unescapeFile(file)))]
			if d == nil {
				return false
			}
		}
		segs := splitPointer(ptr)
		next, _, depth := walkPointer(d.top(), segs)
		if depth != len(segs) || next == nil {
			return false
		}
		node = next
	}
	return true
}

// refHint suggests the reference probably meant when a $ref names no
// target: the same name in the standard place for its kind
// ("#/schemas/Contact" → "#/components/schemas/Contact"), or a close
// spelling of a name there.
func refHint(d *document, file string, segs []string, ctx objKind) string {
	if len(segs) == 0 {
		return ""
	}
	container := map[objKind]string{kindSchema: "schemas", kindParameter: "parameters", kindResponse: "responses",
		kindRequestBody: "requestBodies", kindHeader: "headers", kindExample: "examples", kindLink: "links"}[ctx]
	if container == "" {
		return ""
	}
	place := []string{"components", container}
	if _, sw := mapGet(d.top(), "swagger"); sw != nil {
		switch ctx {
		case kindSchema:
			place = []string{"definitions"}
		case kindParameter, kindResponse:
			place = []string{container}
		default:
			return ""
		}
	}
	m, _, depth := walkPointer(d.top(), place)
	if depth != len(place) || m == nil || m.Kind != yaml.MappingNode {
		return ""
	}
	name := segs[len(segs)-1]
	var known []string
	for i := 0; i+1 < len(m.Content); i += 2 {
		known = append(known, m.Content[i].Value)
	}
	if !slices.Contains(known, name) {
		name = diag.Suggest(name, known)
	}
	if name == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", file+JoinPointer("#", append(place, name)...))
}

// compositionCycle reports (and cuts) a $ref that is a member of an
// allOf, anyOf or oneOf and whose target leads back, through composition
// members only, to the schema holding that member: `A: {allOf: [$ref: A]}`
// or A anyOf B, B oneOf A. Such a schema has no Go type (its definition
// never reaches a structure), and following it would not terminate, so the
// member that closes the cycle is kept as raw JSON with a warning. Cutting
// the member loses nothing for a self-cycle (S and S is S) and is reported
// as a positioned warning for the rest.
func (l *loader) compositionCycle(d *document, r refSite, target *document, node *yaml.Node) bool {
	n := len(r.segs)
	if n < 2 {
		return false
	}
	switch r.segs[n-2] {
	case "allOf", "anyOf", "oneOf":
	default:
		return false
	}
	owner, _, depth := walkPointer(d.top(), r.segs[:n-2])
	if depth != n-2 || owner == nil {
		return false
	}
	seen := map[*yaml.Node]bool{}
	var reaches func(doc *document, n *yaml.Node, budget int) bool
	reaches = func(doc *document, n *yaml.Node, budget int) bool {
		n = deref(n)
		if n == nil || n.Kind != yaml.MappingNode || budget == 0 {
			return false
		}
		if n == owner {
			return true
		}
		if seen[n] {
			return false
		}
		seen[n] = true
		if _, v := mapGet(n, "$ref"); v != nil && v.Kind == yaml.ScalarNode {
			if td, tn := l.resolveRef(doc, v.Value); tn != nil && reaches(td, tn, budget-1) {
				return true
			}
		}
		for _, key := range []string{"allOf", "anyOf", "oneOf"} {
			_, seq := mapGet(n, key)
			if seq = deref(seq); seq == nil || seq.Kind != yaml.SequenceNode {
				continue
			}
			for _, m := range seq.Content {
				if reaches(doc, m, budget-1) {
					return true
				}
			}
		}
		return false
	}
	if !reaches(target, node, 4096) {
		return false
	}
	l.diags.Warnf(d.pos(r.value), "$ref %q in %s leads back to the schema holding it through allOf/anyOf/oneOf only: such a cycle has no Go type, so this member is kept as raw JSON", r.ref, r.segs[n-2])
	setMapping(r.obj, "x-connectorgen-unresolved", r.ref)
	return true
}

// resolveRef returns the document and node a local or relative $ref names,
// or nil.
func (l *loader) resolveRef(d *document, ref string) (*document, *yaml.Node) {
	file, ptr, _ := strings.Cut(ref, "#")
	if isRemote(file) {
		return nil, nil
	}
	if file != "" {
		d = l.docs[filepath.Join(filepath.Dir(d.abs), filepath.FromSlash(unescapeFile(file)))]
		if d == nil {
			return nil, nil
		}
	}
	segs := splitPointer(ptr)
	next, _, depth := walkPointer(d.top(), segs)
	if depth != len(segs) || next == nil {
		return nil, nil
	}
	return d, next
}

// dangling replaces an unusable reference with the most faithful stand-in
// for its context, or marks it for removal, and warns.
func (l *loader) dangling(d *document, r refSite, ctx objKind, why string, removed map[*yaml.Node]bool) {
	pos := d.pos(r.value)
	switch ctx {
	case kindSchema:
		l.diags.Warnf(pos, "unresolved $ref %q (%s): the value is kept as raw JSON", r.ref, why)
		setMapping(r.obj, "x-connectorgen-unresolved", r.ref)
	case kindResponse:
		l.diags.Warnf(pos, "unresolved $ref %q (%s): the response body is kept as raw JSON", r.ref, why)
		r.obj.Content = nil
		appendScalar2(r.obj, "description", "unresolved reference "+r.ref)
		content := mappingOf("application/json", mappingOf("schema", mappingOf("x-connectorgen-unresolved", scalar(r.ref))))
		r.obj.Content = append(r.obj.Content, scalar("content"), content)
	case kindRequestBody:
		l.diags.Warnf(pos, "unresolved $ref %q (%s): the request body is sent as raw JSON", r.ref, why)
		r.obj.Content = nil
		content := mappingOf("application/json", mappingOf("schema", mappingOf("x-connectorgen-unresolved", scalar(r.ref))))
		r.obj.Content = append(r.obj.Content, scalar("content"), content)
	case kindParameter:
		l.diags.Warnf(pos, "unresolved $ref %q (%s): the parameter is dropped", r.ref, why)
		removed[r.obj] = true
	case kindPathItem:
		l.diags.Warnf(pos, "unresolved $ref %q (%s): this path and its operations are skipped", r.ref, why)
		removed[r.obj] = true
	default:
		l.diags.Warnf(pos, "unresolved $ref %q (%s): ignored", r.ref, why)
		removed[r.obj] = true
	}
}

func scalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func mappingOf(key string, v *yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{scalar(key), v}}
}

func appendScalar2(m *yaml.Node, key, value string) {
	m.Content = append(m.Content, scalar(key), scalar(value))
}

// setMapping replaces m's $ref by key: value, keeping its other members
// (a description next to a $ref, say).
func setMapping(m *yaml.Node, key, value string) {
	removeKey(m, "$ref")
	m.Content = append(m.Content, scalar(key), scalar(value))
}

// inlineCopy replaces the reference mapping with a copy of target, keeping
// a description the reference carried, and adding the one a response needs.
func inlineCopy(obj, target *yaml.Node, ctx objKind) {
	_, desc := mapGet(obj, "description")
	cp := *deref(target)
	obj.Content = append([]*yaml.Node(nil), cp.Content...)
	if desc != nil {
		removeKey(obj, "description")
		obj.Content = append(obj.Content, scalar("description"), desc)
	}
	if ctx == kindResponse {
		if k, _ := mapGet(obj, "description"); k == nil {
			appendScalar2(obj, "description", "")
		}
	}
	if ctx == kindRequestBody {
		removeKey(obj, "headers")
		removeKey(obj, "links")
	}
}

// prune deletes removed nodes from their parents: sequence items, or the
// key/value pairs of mappings.
func prune(n *yaml.Node, removed map[*yaml.Node]bool) {
	walkNodes(n, nil, func(n, _ *yaml.Node, _ int, _ []string) {
		switch n.Kind {
		case yaml.SequenceNode:
			out := n.Content[:0]
			for _, c := range n.Content {
				if !removed[c] {
					out = append(out, c)
				}
			}
			n.Content = out
		case yaml.MappingNode:
			out := n.Content[:0]
			for i := 0; i+1 < len(n.Content); i += 2 {
				if !removed[n.Content[i+1]] {
					out = append(out, n.Content[i], n.Content[i+1])
				}
			}
			n.Content = out
		}
	})
}
