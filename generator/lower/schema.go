package lower

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/connectorgen/connectorgen/generator/ir"
	"github.com/connectorgen/connectorgen/generator/load"
	"github.com/connectorgen/connectorgen/generator/naming"
)

// shape is what Go construct a schema becomes.
type shape int

const (
	shapeRaw    shape = iota // json.RawMessage
	shapeScalar              // a builtin or qualified scalar
	shapeArray               // []T
	shapeMap                 // map[string]T
	shapeStruct              // a struct type
	shapeEnum                // an enum type
	shapeUnion               // a union type
	shapeAllOf               // merged struct, or the single meaningful member
	shapeSingle              // a oneOf/anyOf with one real variant: that variant
)

const unresolvedExt = "x-connectorgen-unresolved"

func rawJSON() *ir.TypeRef { return ir.QualRef(ir.PkgJSON, "RawMessage") }

// types returns the schema's declared types without "null".
func types(s *openapi3.Schema) []string {
	if s.Type == nil {
		return nil
	}
	var out []string
	for _, t := range *s.Type {
		if t != "null" {
			out = append(out, t)
		}
	}
	return out
}

func isNullType(s *openapi3.Schema) bool {
	return s != nil && s.Type != nil && len(*s.Type) == 1 && (*s.Type)[0] == "null"
}

// isConstraintOnly reports whether s only constrains (required,
// description, …) and declares no structure of its own.
func isConstraintOnly(s *openapi3.Schema) bool {
	return s != nil && len(types(s)) == 0 && len(s.Properties) == 0 && s.Items == nil &&
		len(s.AllOf) == 0 && len(s.OneOf) == 0 && len(s.AnyOf) == 0 && len(s.Enum) == 0 &&
		s.Const == nil && s.AdditionalProperties.Schema == nil && s.Extensions[unresolvedExt] == nil &&
		!(s.Type != nil && len(*s.Type) > 0)
}

// variants returns the oneOf (else anyOf) members that are real
// alternatives: not the null type and not constraint-only.
func variants(s *openapi3.Schema) openapi3.SchemaRefs {
	src := s.OneOf
	if len(src) == 0 {
		src = s.AnyOf
	}
	var out openapi3.SchemaRefs
	for _, v := range src {
		if v == nil || v.Value == nil {
			out = append(out, v)
			continue
		}
		if isNullType(v.Value) || isConstraintOnly(v.Value) {
			continue
		}
		out = append(out, v)
	}
	return out
}

// nullable reports whether null is a valid value of s.
func nullable(s *openapi3.Schema) bool { return nullableAt(s, 0) }

// nullableAt is nullable with a bound on allOf nesting: the loader cuts
// composition cycles, and the bound keeps any it could not see finite.
func nullableAt(s *openapi3.Schema, depth int) bool {
	if s == nil || depth > 64 {
		return false
	}
	if s.Nullable || (s.Type != nil && slices.Contains(*s.Type, "null")) {
		return true
	}
	for _, v := range append(slices.Clone(s.OneOf), s.AnyOf...) {
		if v != nil && isNullType(v.Value) {
			return true
		}
	}
	if slices.Contains(s.Enum, nil) {
		return true
	}
	if len(s.AllOf) > 0 {
		for _, p := range s.AllOf {
			if p == nil || p.Value == nil || !nullableAt(p.Value, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}

func (l *lowerer) shapeOf(s *openapi3.Schema) shape {
	if s == nil || s.Extensions[unresolvedExt] != nil || s.Not != nil && isConstraintOnly(s) && s.Not.Value != nil {
		return shapeRaw
	}
	if len(s.AllOf) > 0 {
		return shapeAllOf
	}
	if len(s.OneOf) > 0 || len(s.AnyOf) > 0 {
		vs := variants(s)
		switch {
		case len(vs) >= 2 && len(s.Properties) == 0:
			return shapeUnion
		case len(vs) == 1 && len(s.Properties) == 0:
			return shapeSingle
		}
	}
	if len(s.Enum) > 0 || s.Const != nil {
		if enumBase(s) != nil {
			return shapeEnum
		}
		if len(s.Enum) > 0 && !slices.ContainsFunc(s.Enum, func(v any) bool { return v != nil }) {
			return shapeRaw // only null
		}
	}
	ts := types(s)
	if len(ts) > 1 {
		return shapeUnion
	}
	t := ""
	if len(ts) == 1 {
		t = ts[0]
	}
	switch t {
	case "object":
		return objectShape(s)
	case "array":
		return shapeArray
	case "string", "integer", "number", "boolean":
		return shapeScalar
	case "":
		switch {
		case len(s.Properties) > 0:
			return shapeStruct
		case s.Items != nil:
			return shapeArray
		case s.AdditionalProperties.Schema != nil:
			return shapeMap
		}
	}
	return shapeRaw
}

func objectShape(s *openapi3.Schema) shape {
	if len(s.Properties) > 0 {
		return shapeStruct
	}
	if s.AdditionalProperties.Has != nil && !*s.AdditionalProperties.Has && len(s.PatternProperties) == 0 {
		return shapeStruct // an object that allows no properties at all
	}
	return shapeMap
}

// enumBase returns the enum's Go base type, or nil when its values are of
// mixed or unsupported types.
func enumBase(s *openapi3.Schema) *ir.TypeRef {
	vals := enumValues(s)
	if len(vals) == 0 {
		return nil
	}
	kind := ""
	for _, v := range vals {
		k := ""
		switch x := v.(type) {
		case string:
			k = "string"
		case bool:
			k = "bool"
		case float64:
			if x == math.Trunc(x) && !slices.Contains(types(s), "number") && math.Abs(x) < 1<<53 {
				k = "int64"
			} else {
				k = "float64"
			}
		default:
			return nil
		}
		switch {
		case kind == "":
			kind = k
		case kind == k:
		case kind == "int64" && k == "float64", kind == "float64" && k == "int64":
			kind = "float64"
		default:
			return nil
		}
	}
	if kind == "bool" {
		return nil // a boolean enum is just a bool
	}
	if ts := types(s); len(ts) == 1 && ts[0] == "string" && kind != "string" {
		return nil
	}
	return ir.BuiltinRef(kind)
}

// enumValues returns the non-null enum values (or the const), deduplicated,
// in spec order.
func enumValues(s *openapi3.Schema) []any {
	src := s.Enum
	if len(src) == 0 && s.Const != nil {
		src = []any{s.Const}
	}
	var out []any
	seen := map[string]bool{}
	for _, v := range src {
		if v == nil {
			continue
		}
		key := fmt.Sprintf("%T:%v", v, v)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, v)
	}
	return out
}

// checkFormat warns, once per format, about a format that is spelled like
// one that changes the Go type (date-time, date, uuid, byte, int32 …) but is
// not it: `format: datetime` would otherwise silently be a plain string.
// Other unknown formats are documentation and pass quietly.
func (l *lowerer) checkFormat(s *openapi3.Schema, loc load.Loc) {
	f := s.Format
	if f == "" || l.formatsSeen[f] {
		return
	}
	l.formatsSeen[f] = true
	norm := strings.Map(func(r rune) rune {
		switch r {
		case '-', '_', ' ', '.':
			return -1
		}
		return unicode.ToLower(r)
	}, f)
	for _, known := range []string{"date-time", "date", "uuid", "byte", "binary", "int32", "int64", "uint32", "uint64", "float", "double", "decimal"} {
		if f != known && norm == strings.ReplaceAll(known, "-", "") {
			l.diags.Warnf(l.pos(loc.Child("format")), "unknown format %q (did you mean %q?): values are kept as the plain type (warned once per format)", f, known)
			return
		}
	}
}

// scalarType maps a scalar schema to its Go type.
func scalarType(s *openapi3.Schema) *ir.TypeRef {
	ts := types(s)
	t := ""
	if len(ts) > 0 {
		t = ts[0]
	}
	switch t {
	case "string":
		switch s.Format {
		case "date-time":
			return ir.QualRef(ir.PkgTime, "Time")
		case "date":
			return ir.QualRef(ir.PkgOAS, "Date")
		case "uuid":
			return ir.QualRef(ir.PkgOAS, "UUID")
		case "byte":
			return ir.Wrap(ir.Slice, ir.BuiltinRef("byte"))
		}
		return ir.BuiltinRef("string")
	case "integer":
		switch s.Format {
		case "int32":
			return ir.BuiltinRef("int32")
		case "uint32":
			return ir.BuiltinRef("uint32")
		case "uint64", "uint":
			return ir.BuiltinRef("uint64")
		}
		return ir.BuiltinRef("int64")
	case "number":
		switch s.Format {
		case "float":
			return ir.BuiltinRef("float32")
		case "decimal", "decimal128":
			return ir.QualRef(ir.PkgJSON, "Number")
		}
		return ir.BuiltinRef("float64")
	case "boolean":
		return ir.BuiltinRef("bool")
	}
	return rawJSON()
}

// typeFor returns the Go type of the schema sr found at loc, creating a
// named type (called hint, or a name derived from the $ref) when the schema
// needs one, and whether null is a valid value.
func (l *lowerer) typeFor(sr *openapi3.SchemaRef, loc load.Loc, hint string) (*ir.TypeRef, bool) {
	if sr == nil || sr.Value == nil {
		return rawJSON(), false
	}
	if sr.Ref != "" {
		loc = l.spec.RefLoc(loc, sr.Ref)
		if name := refName(sr.Ref); name != "" {
			hint = name
		}
	}
	s := sr.Value
	if t, ok := l.byValue[s]; ok {
		return ir.NamedRef(t.Name), nullable(s)
	}
	if sr.Ref != "" {
		// A $ref with siblings (OpenAPI 3.1 allows them; 3.0 specs use them
		// anyway) reaches us as a copy of the target with the siblings
		// merged in. The siblings (description, nullable, examples …) do
		// not make a new type: it is still the component's.
		if t := l.componentAt(loc); t != nil {
			return ir.NamedRef(t.Name), nullable(s)
		}
		// A schema in another file is loaded once per file that refers
		// to it; its location, not its pointer, identifies it.
		if t := l.byLoc[loc]; t != nil {
			return ir.NamedRef(t.Name), nullable(s)
		}
	}
	return l.inline(s, loc, hint), nullable(s)
}

// componentAt returns the named type of the component schema at loc (a
// $ref target), or nil when loc is not a component schema of the root
// document.
func (l *lowerer) componentAt(loc load.Loc) *ir.Type {
	const prefix = "#/components/schemas/"
	if loc.File != "" || !strings.HasPrefix(loc.Pointer, prefix) {
		return nil
	}
	key := loc.Pointer[len(prefix):]
	if strings.Contains(key, "/") {
		return nil
	}
	key = strings.ReplaceAll(strings.ReplaceAll(key, "~1", "/"), "~0", "~")
	for _, c := range l.components {
		if c.key == key {
			return c.t
		}
	}
	return nil
}

// refName derives a type name from the last segment of a $ref, when that
// segment is a name rather than an index or keyword.
func refName(ref string) string {
	_, ptr, _ := strings.Cut(ref, "#")
	if ptr == "" {
		base := ref[strings.LastIndex(ref, "/")+1:]
		base = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(base, ".yaml"), ".yml"), ".json")
		return naming.Exported(base)
	}
	last := ptr[strings.LastIndex(ptr, "/")+1:]
	switch last {
	case "schema", "items", "additionalProperties", "not":
		return ""
	}
	name := naming.Exported(strings.ReplaceAll(strings.ReplaceAll(last, "~1", "/"), "~0", "~"))
	if name == "" || strings.HasPrefix(name, "X") && len(name) > 1 && name[1] >= '0' && name[1] <= '9' {
		return ""
	}
	return name
}

// inline lowers a schema that has no named type yet.
func (l *lowerer) inline(s *openapi3.Schema, loc load.Loc, hint string) *ir.TypeRef {
	switch l.shapeOf(s) {
	case shapeScalar:
		l.checkFormat(s, loc)
		return scalarType(s)
	case shapeArray:
		elem, null := l.typeFor(s.Items, loc.Child("items"), hint+"Item")
		if null && !elem.IsRawJSON() && !l.isRawLike(elem) {
			elem = ir.Wrap(ir.Nullable, elem)
		}
		return ir.Wrap(ir.Slice, elem)
	case shapeMap:
		return ir.Wrap(ir.Map, l.mapValue(s, loc, hint))
	case shapeSingle:
		v := variants(s)[0]
		t, _ := l.typeFor(v, l.variantLoc(s, loc, 0), hint)
		return t
	case shapeAllOf:
		if t := l.allOfPassThrough(s, loc, hint); t != nil {
			return t
		}
	case shapeRaw:
		return rawJSON()
	}
	t := l.newType(s, loc, hint, "inline schema at "+loc.Pointer)
	l.fill(t, s, loc)
	return ir.NamedRef(t.Name)
}

func (l *lowerer) variantLoc(s *openapi3.Schema, loc load.Loc, i int) load.Loc {
	if len(s.OneOf) > 0 {
		return loc.Child("oneOf", itoa(i))
	}
	return loc.Child("anyOf", itoa(i))
}

func itoa(i int) string { return fmt.Sprint(i) }

// mapValue is the value type of an object used as a map.
func (l *lowerer) mapValue(s *openapi3.Schema, loc load.Loc, hint string) *ir.TypeRef {
	ap := s.AdditionalProperties.Schema
	apLoc := loc.Child("additionalProperties")
	if ap == nil && len(s.PatternProperties) > 0 {
		key := sortedKeys(s.PatternProperties)[0]
		ap, apLoc = s.PatternProperties[key], loc.Child("patternProperties", key)
	}
	if ap == nil {
		return rawJSON()
	}
	t, null := l.typeFor(ap, apLoc, hint+"Value")
	if null && !l.isRawLike(t) {
		t = ir.Wrap(ir.Nullable, t)
	}
	return t
}

// newType claims a name and registers an empty named type for s.
func (l *lowerer) newType(s *openapi3.Schema, loc load.Loc, hint, owner string) *ir.Type {
	if hint == "" {
		hint = "Object"
	}
	name := ""
	if pinned, ok := pinnedName(s.Extensions); ok {
		if !l.pkgNS.Reserve(pinned, owner) {
			o, _ := l.pkgNS.Owner(pinned)
			l.diags.Errorf(l.pos(loc), "x-connectorgen-name %q collides with %s", pinned, o)
		}
		name = pinned
	} else {
		name = l.pkgNS.Claim(owner, hintedName(s.Extensions), hint)
	}
	t := &ir.Type{Name: name, Pos: l.pos(loc), Doc: docText(s), Deprecated: deprecation(s.Deprecated, "type")}
	if _, pinned := pinnedName(s.Extensions); pinned || hintedName(s.Extensions) != "" {
		l.specNamed[t] = true
	}
	l.byValue[s] = t
	if _, taken := l.byLoc[loc]; !taken {
		l.byLoc[loc] = t
	}
	l.addType(t)
	return t
}

// isRawLike reports whether t already carries null and absence itself
// (json.RawMessage and unions), so it needs no Opt or Nullable wrapper.
func (l *lowerer) isRawLike(t *ir.TypeRef) bool {
	// A bounded walk down alias chains: aliases can form cycles until
	// breakAliasCycles runs.
	for range 64 {
		if t.IsRawJSON() {
			return true
		}
		if t.Kind != ir.Named || t.Pkg != "" {
			return false
		}
		nt := l.namedType(t.Name)
		switch {
		case nt == nil:
			return false
		case nt.Kind == ir.Union:
			return true
		case nt.Kind == ir.Alias && nt.Target != nil:
			t = nt.Target
		default:
			return false
		}
	}
	return false
}

// isSliceOrMap reports whether t's zero value is nil, which omitzero can
// tell apart from an empty collection.
func (l *lowerer) isSliceOrMap(t *ir.TypeRef) bool {
	for range 64 { // bounded: alias chains may still be cyclic here
		switch t.Kind {
		case ir.Slice, ir.Map:
			return true
		case ir.Named:
			if t.Pkg == "" {
				if nt := l.namedType(t.Name); nt != nil && (nt.Kind == ir.Defined || nt.Kind == ir.Alias) && nt.Target != nil {
					t = nt.Target
					continue
				}
			}
		}
		return false
	}
	return false
}

func (l *lowerer) namedType(name string) *ir.Type { return l.byName[name] }

// fill decides a named type's kind and contents from its schema.
func (l *lowerer) fill(t *ir.Type, s *openapi3.Schema, loc load.Loc) {
	switch l.shapeOf(s) {
	case shapeStruct:
		l.fillStruct(t, s, loc, []structPart{{s, loc}})
	case shapeEnum:
		l.fillEnum(t, s)
	case shapeUnion:
		l.fillUnion(t, s, loc)
	case shapeAllOf:
		parts, passthrough := l.allOfParts(s, loc)
		if passthrough != nil {
			target, _ := l.typeFor(passthrough.sr, passthrough.loc, t.Name+"Value")
			t.Kind, t.Target = ir.Alias, target
			return
		}
		l.fillStruct(t, s, loc, parts)
	case shapeArray:
		elem, null := l.typeFor(s.Items, loc.Child("items"), t.Name+"Item")
		if null && !l.isRawLike(elem) {
			elem = ir.Wrap(ir.Nullable, elem)
		}
		t.Kind, t.Target = ir.Defined, ir.Wrap(ir.Slice, elem)
	case shapeMap:
		t.Kind, t.Target = ir.Defined, ir.Wrap(ir.Map, l.mapValue(s, loc, t.Name))
	case shapeSingle:
		target, _ := l.typeFor(variants(s)[0], l.variantLoc(s, loc, 0), t.Name+"Value")
		t.Kind, t.Target = ir.Alias, target
	case shapeScalar:
		l.checkFormat(s, loc)
		t.Kind, t.Target = ir.Alias, scalarType(s)
	default:
		t.Kind, t.Target = ir.Alias, rawJSON()
	}
	if t.Kind == ir.Alias && t.Target != nil && t.Target.Kind == ir.Named && t.Target.Pkg == "" && t.Target.Name == t.Name {
		t.Target = rawJSON() // a schema that is only a reference to itself
	}
}

// structPart is one schema contributing properties to a struct.
type structPart struct {
	s   *openapi3.Schema
	loc load.Loc
}

type refPart struct {
	sr  *openapi3.SchemaRef
	loc load.Loc
}

// allOfParts flattens an allOf into the schemas contributing properties.
// When exactly one member has structure and the others (and s itself) only
// add constraints, that member is returned as passthrough instead: the
// result is that member's type (allOf: [$ref: X] with a description is X).
func (l *lowerer) allOfParts(s *openapi3.Schema, loc load.Loc) (parts []structPart, passthrough *refPart) {
	var structural []refPart
	var required []string // required names from s and its constraint-only members
	required = append(required, s.Required...)
	for i, m := range s.AllOf {
		if m == nil || m.Value == nil {
			continue
		}
		mloc := l.memberLoc(s, loc, i)
		if m.Ref != "" {
			mloc = l.spec.RefLoc(mloc, m.Ref)
		}
		if isConstraintOnly(m.Value) {
			required = append(required, m.Value.Required...)
			continue
		}
		structural = append(structural, refPart{m, mloc})
	}
	if len(s.Properties) == 0 && len(structural) == 1 && !l.addsRequired(structural[0].sr.Value, required) {
		return nil, &structural[0]
	}
	var scalar *refPart
	for i := range structural {
		p := structural[i]
		switch l.shapeOf(p.sr.Value) {
		case shapeStruct, shapeMap:
			parts = append(parts, structPart{p.sr.Value, p.loc})
		case shapeAllOf:
			sub, pt := l.allOfParts(p.sr.Value, p.loc)
			if pt != nil {
				if sh := l.shapeOf(pt.sr.Value); sh == shapeStruct || sh == shapeAllOf || sh == shapeMap {
					parts = append(parts, structPart{pt.sr.Value, pt.loc})
				}
				continue
			}
			parts = append(parts, sub...)
		case shapeUnion, shapeSingle:
			// Members of the union may add properties; keep the ones
			// every variant agrees on by merging the object variants'
			// properties as optional fields.
			for j, v := range variants(p.sr.Value) {
				if v == nil || v.Value == nil {
					continue
				}
				if sh := l.shapeOf(v.Value); sh == shapeStruct || sh == shapeAllOf {
					vloc := l.variantLoc(p.sr.Value, p.loc, j)
					if v.Ref != "" {
						vloc = l.spec.RefLoc(vloc, v.Ref)
					}
					if sh == shapeAllOf {
						sub, _ := l.allOfParts(v.Value, vloc)
						parts = append(parts, markOptional(sub)...)
						continue
					}
					parts = append(parts, structPart{optionalView(v.Value), vloc})
				}
			}
		default:
			if scalar == nil {
				scalar = &structural[i]
			} else if a, b := types(scalar.sr.Value), types(p.sr.Value); len(a) > 0 && len(b) > 0 && !typesOverlap(a, b) {
				l.diags.Warnf(l.pos(p.loc), "allOf member of type %s contradicts the member of type %s at %s: no value satisfies both; the first member's type is used",
					strings.Join(b, "|"), strings.Join(a, "|"), l.pos(scalar.loc))
			}
		}
	}
	if scalar != nil && len(parts) > 0 && len(types(scalar.sr.Value)) > 0 && !slices.Contains(types(scalar.sr.Value), "object") {
		l.diags.Warnf(l.pos(scalar.loc), "allOf member of type %s contradicts the object members beside it: no value satisfies both; the object is used",
			strings.Join(types(scalar.sr.Value), "|"))
	}
	if len(parts) == 0 && len(s.Properties) == 0 && scalar != nil {
		return nil, scalar
	}
	if len(s.Properties) > 0 || s.AdditionalProperties.Schema != nil {
		parts = append(parts, structPart{s, loc})
	}
	if len(required) > 0 && len(parts) > 0 {
		// Required names from beside the allOf or from members that only
		// constrain apply to the merged object.
		parts = append(parts, structPart{&openapi3.Schema{Required: required}, loc})
	}
	return parts, nil
}

// memberLoc is the location of allOf member i of s.
func (l *lowerer) memberLoc(s *openapi3.Schema, loc load.Loc, i int) load.Loc {
	if locs, ok := l.memberLocs[s]; ok && i < len(locs) {
		return locs[i]
	}
	return loc.Child("allOf", itoa(i))
}

// addsRequired reports whether requiring names makes a property of the
// object m required that m itself leaves optional: then the allOf is not
// just m.
func (l *lowerer) addsRequired(m *openapi3.Schema, names []string) bool {
	if len(names) == 0 {
		return false
	}
	switch l.shapeOf(m) {
	case shapeStruct, shapeAllOf:
	default:
		return false
	}
	req := map[string]bool{}
	if l.shapeOf(m) == shapeAllOf {
		parts, pt := l.allOfParts(m, load.Loc{})
		if pt != nil {
			return l.addsRequired(pt.sr.Value, names)
		}
		for _, p := range parts {
			for _, r := range p.s.Required {
				req[r] = true
			}
		}
	} else {
		for _, r := range m.Required {
			req[r] = true
		}
	}
	for _, n := range names {
		if !req[n] {
			return true
		}
	}
	return false
}

// typesOverlap reports whether two JSON type lists admit a common value
// (integer is a number).
func typesOverlap(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y || x == "integer" && y == "number" || x == "number" && y == "integer" {
				return true
			}
		}
	}
	return false
}

// optionalView returns a copy of s whose properties are all optional: the
// properties of one union variant are not present in the others.
func optionalView(s *openapi3.Schema) *openapi3.Schema {
	cp := *s
	cp.Required = nil
	return &cp
}

func markOptional(parts []structPart) []structPart {
	for i := range parts {
		parts[i].s = optionalView(parts[i].s)
	}
	return parts
}

// allOfPassThrough returns the type of an allOf that stands for a single
// member, or nil when the allOf needs a merged struct.
func (l *lowerer) allOfPassThrough(s *openapi3.Schema, loc load.Loc, hint string) *ir.TypeRef {
	_, pt := l.allOfParts(s, loc)
	if pt == nil {
		return nil
	}
	t, _ := l.typeFor(pt.sr, pt.loc, hint)
	return t
}

// mergeProperty returns the schema of a property declared again (in another
// allOf member, or beside the allOf) at loc: the allOf of the earlier and
// the new declaration, so that types, required lists and nested
// properties of both apply. Declarations whose types contradict get a
// warning; the earlier one is kept.
func (l *lowerer) mergeProperty(name string, earlier *prop, sr *openapi3.SchemaRef, loc load.Loc) *openapi3.SchemaRef {
	if sr == nil || sr.Value == nil {
		return earlier.sr
	}
	if earlier.sr == nil || earlier.sr.Value == nil || earlier.sr.Value == sr.Value {
		return sr
	}
	a, b := earlier.sr.Value, sr.Value
	if ta, tb := types(a), types(b); len(ta) > 0 && len(tb) > 0 && !typesOverlap(ta, tb) {
		l.diags.Warnf(l.pos(loc), "property %q is declared as %s here and as %s at %s: no value satisfies both; the first declaration is used",
			name, strings.Join(tb, "|"), strings.Join(ta, "|"), l.pos(earlier.loc))
		return earlier.sr
	}
	if isConstraintOnly(b) && len(b.Required) == 0 {
		return earlier.sr // a description or example adds no structure
	}
	merged := &openapi3.Schema{AllOf: openapi3.SchemaRefs{earlier.sr, sr}}
	if a.Description != "" {
		merged.Description = a.Description
	} else {
		merged.Description = b.Description
	}
	merged.ReadOnly, merged.WriteOnly = a.ReadOnly || b.ReadOnly, a.WriteOnly || b.WriteOnly
	merged.Deprecated = a.Deprecated || b.Deprecated
	// Where each declaration was found; allOfParts follows their $refs.
	l.memberLocs[merged] = []load.Loc{earlier.loc, loc}
	return &openapi3.SchemaRef{Value: merged}
}

// prop is one property being turned into a field.
type prop struct {
	name     string
	sr       *openapi3.SchemaRef
	loc      load.Loc
	required bool
}

// collectProps merges the properties of parts in document order; a later
// definition of a property replaces an earlier one in place.
func (l *lowerer) collectProps(parts []structPart) (props []*prop, extra *openapi3.SchemaRef, extraLoc load.Loc, extraAny bool) {
	index := map[string]*prop{}
	required := map[string]bool{}
	for _, p := range parts {
		for _, r := range p.s.Required {
			required[r] = true
		}
		order := l.spec.Keys(p.loc.Child("properties"))
		seen := map[string]bool{}
		var names []string
		for _, k := range order {
			if _, ok := p.s.Properties[k]; ok && !seen[k] {
				names = append(names, k)
				seen[k] = true
			}
		}
		for _, k := range sortedKeys(p.s.Properties) {
			if !seen[k] {
				names = append(names, k)
			}
		}
		for _, name := range names {
			sr := p.s.Properties[name]
			if existing, ok := index[name]; ok {
				// allOf means every declaration applies: the property's
				// schema is the allOf of both, merged recursively.
				existing.sr = l.mergeProperty(name, existing, sr, p.loc.Child("properties", name))
				existing.loc = p.loc.Child("properties", name)
				continue
			}
			np := &prop{name: name, sr: sr, loc: p.loc.Child("properties", name)}
			index[name] = np
			props = append(props, np)
		}
		if p.s.AdditionalProperties.Schema != nil {
			extra, extraLoc = p.s.AdditionalProperties.Schema, p.loc.Child("additionalProperties")
		} else if p.s.AdditionalProperties.Has != nil && *p.s.AdditionalProperties.Has && len(p.s.Properties) > 0 {
			extraAny = true
		}
	}
	for _, p := range props {
		p.required = required[p.name]
	}
	return props, extra, extraLoc, extraAny
}

func (l *lowerer) fillStruct(t *ir.Type, s *openapi3.Schema, loc load.Loc, parts []structPart) {
	t.Kind = ir.Struct
	props, extra, extraLoc, extraAny := l.collectProps(parts)
	fields := naming.NewScope()
	hasExtra := extra != nil || extraAny
	if hasExtra || slices.ContainsFunc(props, func(p *prop) bool { return !ir.TagSpellable(p.name) }) {
		fields.Reserve("MarshalJSON", "method")
		fields.Reserve("UnmarshalJSON", "method")
	}
	for _, p := range props {
		f := l.field(t.Name, p, fields)
		t.Fields = append(t.Fields, f)
	}
	if hasExtra {
		if extra != nil {
			et, null := l.typeFor(extra, extraLoc, t.Name+"Value")
			if null && !l.isRawLike(et) {
				et = ir.Wrap(ir.Nullable, et)
			}
			t.Extra = et
		} else {
			t.Extra = rawJSON()
		}
		t.ExtraField = fields.Claim("additional properties", "AdditionalProperties", "Extra")
	}
}

// field lowers one property into a struct field named within scope.
func (l *lowerer) field(owner string, p *prop, scope *naming.Scope) *ir.Field {
	ps := (*openapi3.Schema)(nil)
	if p.sr != nil {
		ps = p.sr.Value
	}
	f := &ir.Field{JSONName: p.name, Required: p.required, Pos: l.pos(p.loc)}
	if pinned, ok := pinnedNameOf(ps); ok {
		if !scope.Reserve(pinned, "property "+p.name) {
			l.diags.Errorf(l.pos(p.loc), "x-connectorgen-name %q of property %q collides with another field of %s", pinned, p.name, owner)
		}
		f.Name = pinned
	} else {
		base := naming.Exported(p.name)
		if base == "" {
			base = "Field"
		}
		hint := ""
		if ps != nil {
			hint = hintedName(ps.Extensions)
		}
		f.Name = scope.Claim("property "+p.name, hint, base, naming.ExportedSpelled(p.name))
	}
	hint := naming.Join(owner, f.Name)
	t, null := l.typeFor(p.sr, p.loc, hint)
	if ps != nil {
		f.ReadOnly, f.WriteOnly = ps.ReadOnly, ps.WriteOnly
		if ps.MaxItems != nil && *ps.MaxItems > 0 && *ps.MaxItems <= 1<<31 {
			f.MaxItems = int(*ps.MaxItems)
		}
		f.Doc = docText(ps)
		f.Deprecated = deprecation(ps.Deprecated, "field")
	}
	f.Nullable = null
	f.Type, f.OmitZero = l.fieldType(t, null, p.required, f.ReadOnly || f.WriteOnly)
	return f
}

func pinnedNameOf(s *openapi3.Schema) (string, bool) {
	if s == nil {
		return "", false
	}
	return pinnedName(s.Extensions)
}

// fieldType wraps t for a field: the rules that keep absent, null and a
// value distinct on the wire.
//
//	required, not null           T
//	required, null               oas.Nullable[T]
//	optional, not null           oas.Opt[T]   (slices and maps: T; nil is absent)
//	optional, null               oas.Nullable[T]
//	json.RawMessage and unions   T            (they hold null and absence)
//
// Optional fields get omitzero; so do required readOnly and writeOnly
// fields, which only travel in one direction.
func (l *lowerer) fieldType(t *ir.TypeRef, null, required, oneWay bool) (*ir.TypeRef, bool) {
	switch {
	case l.isRawLike(t):
		return t, !required || oneWay
	case null:
		return ir.Wrap(ir.Nullable, t), !required || oneWay
	case required:
		return t, oneWay
	case l.isSliceOrMap(t):
		return t, true
	}
	return ir.Wrap(ir.Opt, t), true
}

func (l *lowerer) fillEnum(t *ir.Type, s *openapi3.Schema) {
	t.Kind = ir.Enum
	t.EnumBase = enumBase(s)
	for _, v := range enumValues(s) {
		ev := &ir.EnumValue{}
		switch t.EnumBase.Name {
		case "string":
			ev.Value = v.(string)
		case "int64":
			ev.Value = int64(v.(float64))
		case "float64":
			ev.Value = v.(float64)
		}
		t.EnumValues = append(t.EnumValues, ev)
	}
}

func (l *lowerer) fillUnion(t *ir.Type, s *openapi3.Schema, loc load.Loc) {
	t.Kind = ir.Union
	methods := naming.NewScope()
	for _, m := range []string{"MarshalJSON", "UnmarshalJSON", "IsZero"} {
		methods.Reserve(m, "method")
	}
	t.UnionMethods.Raw = methods.Claim("raw accessor", "Raw")
	t.UnionMethods.Which = methods.Claim("variant accessor", "Which")
	if s.Discriminator != nil && s.Discriminator.PropertyName != "" {
		t.Discriminator = s.Discriminator.PropertyName
		t.UnionMethods.DiscriminatorValue = methods.Claim("discriminator accessor", "DiscriminatorValue")
	}
	vs := variants(s)
	if len(vs) == 0 {
		// A type array: one variant per JSON type.
		for _, ty := range types(s) {
			cp := *s
			cp.Type = &openapi3.Types{ty}
			cp.Enum, cp.Const = nil, nil
			vs = append(vs, &openapi3.SchemaRef{Value: &cp})
		}
	}
	names := naming.NewScope()
	claimedValues := map[string]bool{}
	for i, v := range vs {
		vloc := l.variantLoc(s, loc, i)
		hint := variantHint(v, i)
		vt, _ := l.typeFor(v, vloc, t.Name+hint)
		cands := []string{l.variantName(vt)}
		if v != nil && v.Ref == "" && vt.Kind == ir.Named && vt.Pkg == "" && !strings.HasPrefix(hint, "Variant") {
			// An inline variant's type is named after the union; its
			// accessors need only the distinguishing part (AsUser, not
			// AsCommitAuthorUser).
			cands = append([]string{hint}, cands...)
		}
		name := names.Claim(fmt.Sprintf("variant %d", i), cands...)
		variant := &ir.Variant{
			Name:       name,
			Type:       vt,
			AsMethod:   methods.Claim("variant "+name, "As"+name),
			FromMethod: methods.Claim("variant "+name, "From"+name),
			JSONKind:   l.jsonKind(v),
		}
		if t.Discriminator != "" {
			// A value selects the first variant it names: two cases with
			// one value would not compile.
			for _, dv := range discriminatorValues(s.Discriminator, v) {
				if !claimedValues[dv] {
					claimedValues[dv] = true
					variant.DiscriminatorValues = append(variant.DiscriminatorValues, dv)
				}
			}
		}
		t.Variants = append(t.Variants, variant)
	}
}

// variantHint names an inline union variant by what tells it apart: its
// title, the single value of a property that holds a constant (a "type" tag,
// say), or its only (required) property; positional VariantN only when
// nothing does.
func variantHint(v *openapi3.SchemaRef, i int) string {
	if v == nil || v.Value == nil {
		return fmt.Sprintf("Variant%d", i+1)
	}
	s := v.Value
	if s.Title != "" {
		if n := naming.Exported(s.Title); n != "" {
			return n
		}
	}
	for _, name := range sortedKeys(s.Properties) {
		p := s.Properties[name]
		if p == nil || p.Value == nil {
			continue
		}
		vals := enumValues(p.Value)
		if len(vals) == 1 && slices.Contains(s.Required, name) {
			if str, ok := vals[0].(string); ok {
				if n := naming.Exported(str); n != "" {
					return n
				}
			}
		}
	}
	switch {
	case len(s.Required) == 1 && s.Properties[s.Required[0]] != nil:
		if n := naming.Exported(s.Required[0]); n != "" {
			return n
		}
	case len(s.Properties) == 1:
		if n := naming.Exported(sortedKeys(s.Properties)[0]); n != "" {
			return n
		}
	}
	return fmt.Sprintf("Variant%d", i+1)
}

// variantName is the word used in a variant's accessor names.
func (l *lowerer) variantName(t *ir.TypeRef) string {
	switch t.Kind {
	case ir.Builtin:
		return naming.Exported(t.Name)
	case ir.Named:
		if t.IsRawJSON() {
			return "Raw"
		}
		return t.Name
	case ir.Slice:
		if t.Elem.Kind == ir.Builtin && t.Elem.Name == "byte" {
			return "Bytes"
		}
		return l.variantName(t.Elem) + "List"
	case ir.Map:
		return l.variantName(t.Elem) + "Map"
	case ir.Opt, ir.Nullable, ir.Pointer:
		return l.variantName(t.Elem)
	}
	return "Value"
}

// jsonKind says which JSON value kind a variant accepts, "" when unsure.
func (l *lowerer) jsonKind(v *openapi3.SchemaRef) string {
	if v == nil || v.Value == nil {
		return ""
	}
	s := v.Value
	switch l.shapeOf(s) {
	case shapeStruct, shapeMap:
		return "object"
	case shapeArray:
		return "array"
	case shapeAllOf:
		if _, pt := l.allOfParts(s, load.Loc{}); pt != nil {
			return l.jsonKind(pt.sr)
		}
		return "object"
	case shapeEnum:
		if b := enumBase(s); b != nil && b.Name == "string" {
			return "string"
		}
		return "number"
	case shapeScalar:
		switch types(s)[0] {
		case "string":
			return "string"
		case "integer", "number":
			return "number"
		case "boolean":
			return "boolean"
		}
	}
	return ""
}

// discriminatorValues lists the discriminator values that select variant v:
// the explicit mapping entries pointing at it, else the schema's name.
func discriminatorValues(d *openapi3.Discriminator, v *openapi3.SchemaRef) []string {
	var out []string
	for _, key := range sortedKeys(d.Mapping) {
		m := d.Mapping[key]
		if m.Ref != "" && v.Ref != "" && (m.Ref == v.Ref || strings.HasSuffix(v.Ref, "/"+lastSegment(m.Ref)) && lastSegment(m.Ref) == lastSegment(v.Ref)) {
			out = append(out, key)
		} else if m.Ref == "" && m.Value != nil && m.Value == v.Value {
			out = append(out, key)
		} else if m.Ref != "" && !strings.Contains(m.Ref, "/") && m.Ref == lastSegment(v.Ref) {
			out = append(out, key) // mapping value given as a bare schema name
		}
	}
	if len(out) == 0 && v.Ref != "" {
		out = append(out, lastSegment(v.Ref))
	}
	return out
}

func lastSegment(ref string) string { return ref[strings.LastIndex(ref, "/")+1:] }
