package rest

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"sync"

	"github.com/connectorgen/connectorgen/runtime/oas"
)

// One-way properties. OpenAPI's readOnly properties are sent by the server
// only and SHOULD NOT be sent in requests; writeOnly ones are sent by the
// client only and never returned. Generated models are shared by requests
// and responses (one Go type per schema), and mark such fields with a
// struct tag beside the json one:
//
//	ID       string `json:"id,omitzero" oas:"readOnly"`
//	Password oas.Opt[string] `json:"password,omitzero" oas:"writeOnly"`
//
// The request encoders (SetJSONBody, SetFormBody, SetMultipartBody) leave
// readOnly properties out, at any depth (inside arrays, maps, oas.Opt and
// oas.Nullable values and pointers), so a model read from the server can
// be sent back as it is; the Call helpers' JSON decoding ignores writeOnly
// properties a server sends anyway. encoding/json itself, used directly,
// still sees every field. A oneOf/anyOf value keeps its JSON as given (its
// variants are not known at run time), so one-way properties inside it are
// left as they are.

// direction selects which one-way properties a filter removes.
type direction uint8

const (
	toServer   direction = iota // a request body: readOnly properties go
	fromServer                  // a response body: writeOnly properties go
)

// tagFor is the oas tag option a direction removes.
func (d direction) tagFor() string {
	if d == toServer {
		return "readOnly"
	}
	return "writeOnly"
}

// shape describes, for one Go type, the JSON members a filter removes:
// drop names the properties of an object to leave out, props the
// properties whose values have something to remove in turn, and elem the
// shape of every array element (or, for a map type, of every member
// value). A nil *shape removes nothing.
type shape struct {
	drop  map[string]bool
	props map[string]*shape
	elem  *shape
}

type shapeKey struct {
	t   reflect.Type
	dir direction
}

// shapeCache holds the shapes computed for a Client: types are few and
// their shapes never change.
type shapeCache struct{ m sync.Map } // shapeKey → *shape

// shapeOf returns the shape of t for dir, or nil when values of t carry no
// property to remove (the common case: then encoding is unchanged).
func (c *Client) shapeOf(t reflect.Type, dir direction) *shape {
	if t == nil {
		return nil
	}
	var cache *shapeCache
	if c != nil {
		cache = c.shapes
	}
	key := shapeKey{t, dir}
	if cache != nil {
		if s, ok := cache.m.Load(key); ok {
			return s.(*shape)
		}
	}
	b := &shapeBuilder{dir: dir, structs: map[reflect.Type]*shape{}}
	s := b.build(t)
	s = b.prune(s)
	if cache != nil {
		cache.m.Store(key, s)
	}
	return s
}

// shapeBuilder builds the shapes of a type graph. Struct shapes are
// created before their fields are visited, so recursive types terminate;
// prune then removes the shapes from which nothing to drop is reachable.
type shapeBuilder struct {
	dir     direction
	structs map[reflect.Type]*shape
	all     []*shape
}

func (b *shapeBuilder) newShape() *shape {
	s := &shape{}
	b.all = append(b.all, s)
	return s
}

const (
	optPrefix      = "Opt["
	nullablePrefix = "Nullable["
)

func (b *shapeBuilder) build(t reflect.Type) *shape {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return nil // []byte, json.RawMessage: opaque
		}
		if e := b.build(t.Elem()); e != nil {
			s := b.newShape()
			s.elem = e
			return s
		}
		return nil
	case reflect.Map:
		if e := b.build(t.Elem()); e != nil {
			s := b.newShape()
			s.elem = e
			return s
		}
		return nil
	case reflect.Struct:
	default:
		return nil
	}
	if s, ok := b.structs[t]; ok {
		return s
	}
	if t.PkgPath() == oasPkgPath() && (strings.HasPrefix(t.Name(), optPrefix) || strings.HasPrefix(t.Name(), nullablePrefix)) {
		// oas.Opt[T] and oas.Nullable[T] encode as their T.
		if f, ok := t.FieldByName("value"); ok {
			return b.build(f.Type)
		}
		return nil
	}
	s := b.newShape()
	b.structs[t] = s
	b.fields(s, t, 0)
	return s
}

// fields adds the exported fields of struct type t to s, the way
// encoding/json names them (embedded structs without a name are flattened).
func (b *shapeBuilder) fields(s *shape, t reflect.Type, depth int) {
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if sf.Anonymous && name == "" {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && depth < 8 {
				b.fields(s, ft, depth+1)
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		if hasOpt(sf.Tag.Get("oas"), b.dir.tagFor()) {
			if s.drop == nil {
				s.drop = map[string]bool{}
			}
			s.drop[name] = true
			continue
		}
		if fs := b.build(sf.Type); fs != nil {
			if s.props == nil {
				s.props = map[string]*shape{}
			}
			s.props[name] = fs
		}
	}
}

// prune clears the links to shapes that remove nothing (directly or
// through their own links) and returns root, or nil when root removes
// nothing.
func (b *shapeBuilder) prune(root *shape) *shape {
	live := map[*shape]bool{}
	for changed := true; changed; {
		changed = false
		for _, s := range b.all {
			if live[s] {
				continue
			}
			ok := len(s.drop) > 0 || s.elem != nil && live[s.elem]
			for _, p := range s.props {
				ok = ok || live[p]
			}
			if ok {
				live[s] = true
				changed = true
			}
		}
	}
	for _, s := range b.all {
		if s.elem != nil && !live[s.elem] {
			s.elem = nil
		}
		for k, p := range s.props {
			if !live[p] {
				delete(s.props, k)
			}
		}
	}
	if root == nil || !live[root] {
		return nil
	}
	return root
}

// oasPkgPath is the import path of package oas, whose Opt and Nullable
// wrappers the shapes look through.
func oasPkgPath() string { return reflect.TypeFor[oas.Date]().PkgPath() }

// maxFilterDepth bounds the nesting the filter follows, as encoding/json
// bounds decoding.
const maxFilterDepth = 10000

// filter returns the JSON value b without the members s removes. It
// reports false when b is not valid JSON where it looked; callers then use
// b as it is (encoding/json reports the error).
func (s *shape) filter(b []byte) ([]byte, bool) {
	out := make([]byte, 0, len(b))
	out, i, ok := s.value(out, b, skipWS(b, 0), 0)
	if !ok || skipWS(b, i) != len(b) {
		return b, false
	}
	return out, true
}

// value appends the value at b[i:] to out, filtered by s, and returns the
// index after it.
func (s *shape) value(out, b []byte, i, depth int) ([]byte, int, bool) {
	if i >= len(b) || depth > maxFilterDepth {
		return out, i, false
	}
	if s == nil || (b[i] != '{' && b[i] != '[') {
		end, ok := skipValue(b, i)
		return append(out, b[i:end]...), end, ok
	}
	if b[i] == '[' {
		if s.elem == nil {
			end, ok := skipValue(b, i)
			return append(out, b[i:end]...), end, ok
		}
		out = append(out, '[')
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == ']' {
			return append(out, ']'), i + 1, true
		}
		for {
			var ok bool
			if out, i, ok = s.elem.value(out, b, i, depth+1); !ok {
				return out, i, false
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return out, i, false
			}
			switch b[i] {
			case ',':
				out = append(out, ',')
				i = skipWS(b, i+1)
			case ']':
				return append(out, ']'), i + 1, true
			default:
				return out, i, false
			}
		}
	}
	out = append(out, '{')
	first := true
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return append(out, '}'), i + 1, true
	}
	for {
		kStart := i
		kEnd, ok := skipString(b, i)
		if !ok {
			return out, i, false
		}
		i = skipWS(b, kEnd)
		if i >= len(b) || b[i] != ':' {
			return out, i, false
		}
		i = skipWS(b, i+1)
		var sub *shape
		drop := false
		if s.elem != nil {
			sub = s.elem
		} else if len(s.drop) > 0 || len(s.props) > 0 {
			key, ok := memberName(b[kStart:kEnd])
			if !ok {
				return out, i, false
			}
			drop, sub = s.drop[key], s.props[key]
		}
		if drop {
			end, ok := skipValue(b, i)
			if !ok {
				return out, end, false
			}
			i = end
		} else {
			if !first {
				out = append(out, ',')
			}
			first = false
			out = append(out, b[kStart:kEnd]...)
			out = append(out, ':')
			if out, i, ok = sub.value(out, b, i, depth+1); !ok {
				return out, i, false
			}
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return out, i, false
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			return append(out, '}'), i + 1, true
		default:
			return out, i, false
		}
	}
}

// memberName decodes a JSON string literal (a member name).
func memberName(lit []byte) (string, bool) {
	inner := lit[1 : len(lit)-1]
	for _, c := range inner {
		if c == '\\' {
			var s string
			if json.Unmarshal(lit, &s) != nil {
				return "", false
			}
			return s, true
		}
	}
	return string(inner), true
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string literal at b[i].
func skipString(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false
	}
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1, true
		}
	}
	return i, false
}

// skipValue returns the index after the JSON value at b[i]. It checks
// only the structure it needs (strings, brackets); encoding/json checks
// the rest.
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		var stack []byte
		for ; i < len(b); i++ {
			switch c := b[i]; c {
			case '"':
				end, ok := skipString(b, i)
				if !ok {
					return end, false
				}
				i = end - 1
			case '{', '[':
				stack = append(stack, c)
			case '}', ']':
				if len(stack) == 0 || (c == '}') != (stack[len(stack)-1] == '{') {
					return i, false
				}
				stack = stack[:len(stack)-1]
				if len(stack) == 0 {
					return i + 1, true
				}
			}
		}
		return i, false
	}
	start := i
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i, i > start
		}
		i++
	}
	return i, i > start
}

// encodeJSON marshals v for a request body, without its readOnly
// properties.
func (c *Client) encodeJSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if s := c.shapeOf(reflect.TypeOf(v), toServer); s != nil {
		b, _ = s.filter(b)
	}
	return b, nil
}

// decodeJSON is DecodeJSON ignoring the writeOnly properties of v's type.
func (c *Client) decodeJSON(resp *http.Response, v any) error {
	return decodeJSON(resp, v, c.shapeOf(reflect.TypeOf(v), fromServer))
}
