package rest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// Style is an OpenAPI 3 parameter serialization style.
type Style int

// The OpenAPI 3 parameter styles. Path parameters accept simple, label and
// matrix; query parameters form, spaceDelimited, pipeDelimited and
// deepObject; headers simple; cookies form.
const (
	StyleSimple Style = iota
	StyleLabel
	StyleMatrix
	StyleForm
	StyleSpaceDelimited
	StylePipeDelimited
	StyleDeepObject
)

// String returns the style's name as the OpenAPI document spells it.
func (s Style) String() string {
	switch s {
	case StyleSimple:
		return "simple"
	case StyleLabel:
		return "label"
	case StyleMatrix:
		return "matrix"
	case StyleForm:
		return "form"
	case StyleSpaceDelimited:
		return "spaceDelimited"
	case StylePipeDelimited:
		return "pipeDelimited"
	case StyleDeepObject:
		return "deepObject"
	}
	return "Style(" + strconv.Itoa(int(s)) + ")"
}

type paramKind uint8

const (
	kindAbsent paramKind = iota
	kindScalar
	kindList
	kindObject
)

// Param is a parameter value ready for encoding: a scalar (already
// formatted as text), a list, or an object (ordered key/value pairs whose
// values may themselves be lists or objects, which matters for deepObject).
// The zero Param is absent: the Request methods skip it.
type Param struct {
	kind   paramKind
	s      string
	items  []string // list of scalars
	elems  []Param  // list with nested elements (from AnyParam); used when non-nil
	fields []KV
}

// KV is one property of an object parameter.
type KV struct {
	Key   string
	Value Param
}

// Scalar returns a scalar parameter value. Format typed values with the
// Format functions first.
func Scalar(s string) Param { return Param{kind: kindScalar, s: s} }

// List returns a list parameter value. An empty list encodes to nothing.
func List(items []string) Param { return Param{kind: kindList, items: items} }

// Object returns an object parameter value whose properties are encoded in
// the order given. An empty object encodes to nothing.
func Object(fields ...KV) Param { return Param{kind: kindObject, fields: fields} }

// IsEmpty reports whether p is the zero (absent) Param.
func (p Param) IsEmpty() bool { return p.kind == kindAbsent }

func (p Param) listLen() int {
	if p.elems != nil {
		return len(p.elems)
	}
	return len(p.items)
}

func (p Param) elem(i int) Param {
	if p.elems != nil {
		return p.elems[i]
	}
	return Param{kind: kindScalar, s: p.items[i]}
}

// undefined reports whether p encodes to nothing: absent, or an empty list
// or object.
func (p Param) undefined() bool {
	switch p.kind {
	case kindList:
		return p.listLen() == 0
	case kindObject:
		return len(p.fields) == 0
	}
	return p.kind == kindAbsent
}

// AnyParam converts any value to a Param by way of its JSON encoding, so
// that generated code can pass models, oas.Opt values, enums and the like:
// null becomes the absent Param (nil error, meaning "omit"); strings,
// numbers (kept exactly as JSON wrote them) and booleans become scalars;
// arrays become lists (null elements dropped; object or array elements
// nest); objects become objects with keys in sorted order (null properties
// dropped).
func AnyParam(v any) (Param, error) {
	switch x := v.(type) {
	case nil:
		return Param{}, nil
	case string:
		return Scalar(x), nil
	case bool:
		return Scalar(FormatBool(x)), nil
	case int:
		return Scalar(strconv.Itoa(x)), nil
	case int64:
		return Scalar(strconv.FormatInt(x, 10)), nil
	case int32:
		return Scalar(strconv.FormatInt(int64(x), 10)), nil
	case []string:
		return List(x), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return Param{}, fmt.Errorf("rest: cannot encode %T as a parameter: %w", v, err)
	}
	g, err := decodeGeneric(b)
	if err != nil {
		return Param{}, fmt.Errorf("rest: cannot encode %T as a parameter: %w", v, err)
	}
	return paramOf(g), nil
}

// decodeGeneric decodes JSON into generic values with exact numbers.
func decodeGeneric(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var g any
	if err := dec.Decode(&g); err != nil {
		return nil, err
	}
	return g, nil
}

// paramOf converts a generic JSON value (decoded with UseNumber).
func paramOf(g any) Param {
	switch x := g.(type) {
	case string:
		return Scalar(x)
	case json.Number:
		return Scalar(x.String())
	case bool:
		return Scalar(FormatBool(x))
	case []any:
		nested := false
		for _, e := range x {
			switch e.(type) {
			case []any, map[string]any:
				nested = true
			}
		}
		if !nested {
			items := make([]string, 0, len(x))
			for _, e := range x {
				if e != nil {
					items = append(items, paramOf(e).s)
				}
			}
			return List(items)
		}
		elems := make([]Param, 0, len(x))
		for _, e := range x {
			if e != nil {
				elems = append(elems, paramOf(e))
			}
		}
		return Param{kind: kindList, elems: elems}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k, v := range x {
			if v != nil {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		fields := make([]KV, len(keys))
		for i, k := range keys {
			fields[i] = KV{Key: k, Value: paramOf(x[k])}
		}
		return Object(fields...)
	}
	return Param{}
}

// FieldEncoding overrides how [Request.SetFormBody] encodes one top-level
// property, as an OpenAPI encoding object does.
type FieldEncoding struct {
	// Name is the property name.
	Name string
	// Style is form, spaceDelimited, pipeDelimited or deepObject.
	Style Style
	// Explode is the encoding's explode flag.
	Explode bool
}

// FormatInt formats a signed integer in base 10.
func FormatInt[T ~int | ~int8 | ~int16 | ~int32 | ~int64](v T) string {
	return strconv.FormatInt(int64(v), 10)
}

// FormatUint formats an unsigned integer in base 10.
func FormatUint[T ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64](v T) string {
	return strconv.FormatUint(uint64(v), 10)
}

// FormatFloat formats a float the way encoding/json does: the shortest text
// that round-trips, without an exponent unless the magnitude is below 1e-6
// or at least 1e21 (then 1e-7, 1e+21). NaN and infinities, which JSON cannot
// carry, come out as "NaN", "+Inf" and "-Inf".
func FormatFloat[T ~float32 | ~float64](v T) string {
	bits := 64
	if float64(T(0.1)) == float64(float32(0.1)) { // T has float32 precision
		bits = 32
	}
	return string(appendFloat(nil, float64(v), bits))
}

func appendFloat(b []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.AppendFloat(b, f, 'g', -1, bits)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// FormatBool formats a boolean as "true" or "false".
func FormatBool(v bool) string {
	if v {
		return "true"
	}
	return "false"
}

// FormatTime formats t as RFC 3339, with fractional seconds only when they
// are not zero (and then without trailing zeros).
func FormatTime(t time.Time) string { return t.Format(time.RFC3339Nano) }

// FormatTimes formats each time with [FormatTime] (a list parameter of
// format: date-time items).
func FormatTimes(ts []time.Time) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = FormatTime(t)
	}
	return out
}

// FormatStrings converts a slice of a string type to []string.
func FormatStrings[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// FormatInts formats each integer with [FormatInt].
func FormatInts[T ~int | ~int8 | ~int16 | ~int32 | ~int64](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strconv.FormatInt(int64(v), 10)
	}
	return out
}

// FormatFloats formats each float with [FormatFloat].
func FormatFloats[T ~float32 | ~float64](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = FormatFloat(v)
	}
	return out
}

// FormatBools formats each boolean with [FormatBool].
func FormatBools(vs []bool) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = FormatBool(v)
	}
	return out
}

// FormatStringers formats each value with its String method (for lists of
// oas.Date, oas.UUID and enums).
func FormatStringers[T fmt.Stringer](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.String()
	}
	return out
}
