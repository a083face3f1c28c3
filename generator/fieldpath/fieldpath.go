// Package fieldpath resolves the dotted field paths users write (in
// mapping files and in x-connectorgen-pagination) through the IR's struct
// types: one resolver for bind and lower, so both read paths the same way.
//
// Stage: shared by lower and bind. It only reads IR types; it reports
// problems as values for the caller to position and word, and never
// decides names or emits code.
package fieldpath

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/connectorgen/connectorgen/generator/diag"
	"github.com/connectorgen/connectorgen/generator/ir"
)

// Segment is one segment of a written path: a property name, or the key
// of a map entry. `a.b` is two segments; a segment that lands on a map is
// a key whether written `m.k` or `m["k"]`.
type Segment struct {
	Name string
	// Bracketed says the segment was written ["…"], which only a map
	// can take.
	Bracketed bool
}

// Parse splits a written path into segments: names separated by dots, and
// ["key"] selectors (double-quoted, Go string syntax) for map keys that
// contain dots or other characters.
func Parse(text string) ([]Segment, error) {
	var out []Segment
	rest := text
	expectName := true
	for rest != "" {
		switch {
		case rest[0] == '[':
			end := strings.Index(rest, "]")
			if end < 0 {
				return nil, fmt.Errorf("unclosed [ in %q", text)
			}
			key, err := strconv.Unquote(rest[1:end])
			if err != nil {
				return nil, fmt.Errorf("map key %s in %q must be a double-quoted string", rest[1:end], text)
			}
			if len(out) == 0 {
				return nil, fmt.Errorf("%q starts with a map key; name the map first", text)
			}
			out = append(out, Segment{Name: key, Bracketed: true})
			rest = rest[end+1:]
			expectName = false
		case rest[0] == '.':
			if expectName {
				return nil, fmt.Errorf("empty segment in %q", text)
			}
			rest = rest[1:]
			expectName = true
			if rest == "" {
				return nil, fmt.Errorf("%q ends with a dot", text)
			}
		default:
			if !expectName {
				return nil, fmt.Errorf("missing dot after ] in %q", text)
			}
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			out = append(out, Segment{Name: rest[:end]})
			rest = rest[end:]
			expectName = false
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty path")
	}
	return out, nil
}

// Types gives the resolver the declarations a path walks through.
type Types interface {
	// Struct returns the struct type t leads to (through wrappers and
	// aliases), or nil when t is not an object.
	Struct(t *ir.TypeRef) *ir.Type
	// Map returns the value type of the map t leads to, or nil.
	Map(t *ir.TypeRef) *ir.TypeRef
}

// Result is a resolved path.
type Result struct {
	Steps []ir.Step
	// Leaf is the last property (a synthetic field named by the key when
	// the path ends in a map entry).
	Leaf *ir.Field
	// Untyped says the path goes through a map whose values are
	// untyped (any): its value is not checked against a schema.
	Untyped bool
	// Extra names the segments that became keys of an object's
	// additional properties (not declared fields); NearMiss is a declared
	// field one of them is a likely typo of.
	Extra    []string
	NearMiss string
}

// ErrorKind says why a path does not resolve.
type ErrorKind int

// Error kinds.
const (
	// NotObject: Segments[:At] is not an object (nor a map).
	NotObject ErrorKind = iota
	// NoField: the object at At has no property Segments[At].
	NoField
	// KeyIntoNonMap: a ["key"] selector on something that is not a map.
	KeyIntoNonMap
	// Syntax: the path is malformed.
	Syntax
)

// Error is a path that does not resolve.
type Error struct {
	Kind ErrorKind
	Path string
	At   int // index of the failing segment
	// Prefix is the written path up to the failing segment; Segment is
	// the failing segment.
	Prefix, Segment string
	// Type is the object searched (NoField), Known its property names.
	Type  *ir.Type
	Known []string
	Msg   string // Syntax
}

func (e *Error) Error() string {
	switch e.Kind {
	case NotObject:
		return fmt.Sprintf("%q is not an object, so it has no field %q", e.Prefix, e.Segment)
	case NoField:
		return fmt.Sprintf("no field %q in %s%s", e.Segment, e.Type.Name, diag.Hint(e.Segment, e.Known, 0))
	case KeyIntoNonMap:
		return fmt.Sprintf("%q is not a map, so it has no key %q", e.Prefix, e.Segment)
	}
	return e.Msg
}

// Resolve follows text from root.
func Resolve(types Types, root *ir.TypeRef, text string) (Result, *Error) {
	segs, err := Parse(text)
	if err != nil {
		return Result{}, &Error{Kind: Syntax, Path: text, Msg: err.Error()}
	}
	return ResolveSegments(types, root, text, segs)
}

// ResolveSegments follows parsed segments from root.
func ResolveSegments(types Types, root *ir.TypeRef, text string, segs []Segment) (Result, *Error) {
	var res Result
	cur := root
	for i, seg := range segs {
		prefix := written(segs[:i])
		if elem := types.Map(cur); elem != nil {
			res.Steps = append(res.Steps, ir.Step{Key: seg.Name, MapKey: true, Type: elem})
			res.Leaf = &ir.Field{JSONName: seg.Name, Name: seg.Name, Type: elem}
			if u := elem.Unwrapped(); (u.Kind == ir.Builtin && u.Name == "any") || u.IsRawJSON() {
				res.Untyped = true
			}
			cur = elem
			continue
		}
		if seg.Bracketed {
			return res, &Error{Kind: KeyIntoNonMap, Path: text, At: i, Prefix: prefix, Segment: seg.Name}
		}
		st := types.Struct(cur)
		if st == nil || st.Kind != ir.Struct {
			return res, &Error{Kind: NotObject, Path: text, At: i, Prefix: prefix, Segment: seg.Name}
		}
		var f *ir.Field
		var names []string
		for _, cand := range st.Fields {
			names = append(names, cand.JSONName)
			if cand.JSONName == seg.Name {
				f = cand
			}
		}
		if f == nil && st.Extra != nil && st.ExtraField != "" {
			// An object that also takes undeclared properties: the
			// segment is a key of its additional-properties map.
			res.Steps = append(res.Steps,
				ir.Step{Field: st.ExtraField, Type: &ir.TypeRef{Kind: ir.Map, Elem: st.Extra}},
				ir.Step{Key: seg.Name, MapKey: true, Type: st.Extra})
			res.Leaf = &ir.Field{JSONName: seg.Name, Name: seg.Name, Type: st.Extra}
			res.Extra = append(res.Extra, seg.Name)
			if res.NearMiss == "" {
				res.NearMiss = diag.Suggest(seg.Name, names)
			}
			if u := st.Extra.Unwrapped(); u.Kind == ir.Builtin && u.Name == "any" {
				res.Untyped = true
			}
			cur = st.Extra
			continue
		}
		if f == nil {
			return res, &Error{Kind: NoField, Path: text, At: i, Prefix: prefix, Segment: seg.Name, Type: st, Known: names}
		}
		res.Steps = append(res.Steps, ir.Step{Field: f.Name, Type: f.Type})
		res.Leaf = f
		cur = f.Type
	}
	return res, nil
}

// written renders segments back the way a user writes them.
func written(segs []Segment) string {
	var b strings.Builder
	for i, s := range segs {
		switch {
		case s.Bracketed:
			b.WriteString("[" + strconv.Quote(s.Name) + "]")
		case i > 0:
			b.WriteString("." + s.Name)
		default:
			b.WriteString(s.Name)
		}
	}
	return b.String()
}
