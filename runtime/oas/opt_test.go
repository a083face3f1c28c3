package oas

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

type color string

type inner struct {
	A int    `json:"a"`
	B string `json:"b,omitempty"`
}

// optModel has every field twice: with and without omitzero.
type optModel struct {
	S  Opt[string]            `json:"s,omitzero"`
	I  Opt[int]               `json:"i,omitzero"`
	I6 Opt[int64]             `json:"i6,omitzero"`
	I3 Opt[int32]             `json:"i3,omitzero"`
	F  Opt[float64]           `json:"f,omitzero"`
	F3 Opt[float32]           `json:"f3,omitzero"`
	B  Opt[bool]              `json:"b,omitzero"`
	C  Opt[color]             `json:"c,omitzero"`
	O  Opt[inner]             `json:"o,omitzero"`
	L  Opt[[]string]          `json:"l,omitzero"`
	M  Opt[map[string]int]    `json:"m,omitzero"`
	T  Opt[time.Time]         `json:"t,omitzero"`
	D  Opt[Date]              `json:"d,omitzero"`
	U  Opt[UUID]              `json:"u,omitzero"`
	R  Opt[json.RawMessage]   `json:"r,omitzero"`
	P  Opt[*inner]            `json:"p,omitzero"`
	N  Opt[Nullable[string]]  `json:"n,omitzero"`
	SP *Opt[string]           `json:"sp,omitempty"`
	SL []Opt[int]             `json:"sl,omitempty"`
	MP map[string]Opt[string] `json:"mp,omitempty"`

	SN Opt[string] `json:"sn"`
	IN Opt[int]    `json:"in"`
}

func TestOptJSONRoundTrip(t *testing.T) {
	when := time.Date(2024, 3, 1, 12, 30, 0, 500, time.UTC)
	uid := MustParseUUID("f47ac10b-58cc-4372-a567-0e02b2c3d479")
	full := optModel{
		S: Some("hé \"quoted\" <tag> & \u2028"), I: Some(-42), I6: Some(int64(math.MinInt64)), I3: Some(int32(math.MaxInt32)),
		F: Some(0.1), F3: Some(float32(1.5)), B: Some(false), C: Some(color("red")),
		O: Some(inner{A: 1, B: "x"}), L: Some([]string{"a", "b"}), M: Some(map[string]int{"k": 1}),
		T: Some(when), D: Some(NewDate(2024, 2, 29)), U: Some(uid), R: Some(json.RawMessage(`{"x":[1,2]}`)),
		P: Some(&inner{A: 2}), N: Some(Value("v")), SP: &Opt[string]{}, SL: []Opt[int]{Some(1), {}, Some(3)},
		MP: map[string]Opt[string]{"a": Some("x"), "b": {}},
		SN: Some(""), IN: Some(0),
	}
	tests := []struct {
		name string
		in   optModel
		want string
	}{
		{"all absent", optModel{}, `{"sn":null,"in":null}`},
		{"zero values are present", optModel{S: Some(""), I: Some(0), B: Some(false), L: Some([]string{})},
			`{"s":"","i":0,"b":false,"l":[],"sn":null,"in":null}`},
		{"all present", full, `{"s":"hé \"quoted\" \u003ctag\u003e \u0026 \u2028","i":-42,"i6":-9223372036854775808,"i3":2147483647,` +
			`"f":0.1,"f3":1.5,"b":false,"c":"red","o":{"a":1,"b":"x"},"l":["a","b"],"m":{"k":1},` +
			`"t":"2024-03-01T12:30:00.0000005Z","d":"2024-02-29","u":"f47ac10b-58cc-4372-a567-0e02b2c3d479","r":{"x":[1,2]},` +
			`"p":{"a":2},"n":"v","sp":null,"sl":[1,null,3],"mp":{"a":"x","b":null},"sn":"","in":0}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("marshal:\n got %s\nwant %s", got, tt.want)
			}
			var back optModel
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatal(err)
			}
			// null decodes as absent for Opt: adjust the expectation.
			want := tt.in
			if want.SP != nil && want.SP.IsZero() {
				want.SP = nil // encoding/json sets a pointer to nil for null
			}
			if want.MP != nil {
				want.MP = map[string]Opt[string]{"a": Some("x"), "b": {}}
			}
			if !want.T.IsZero() {
				if !back.T.value.Equal(want.T.value) {
					t.Fatalf("time: got %v want %v", back.T.value, want.T.value)
				}
				back.T, want.T = Opt[time.Time]{}, Opt[time.Time]{}
			}
			if !reflect.DeepEqual(back, want) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", back, want)
			}
		})
	}
}

func TestOptDecodeNullIsAbsent(t *testing.T) {
	var m optModel
	m.S = Some("old")
	m.SN = Some("old")
	if err := json.Unmarshal([]byte(`{"s":null,"sn":null,"i": 7 ,"sl":[null,2],"mp":{"k":null}}`), &m); err != nil {
		t.Fatal(err)
	}
	if !m.S.IsZero() || !m.SN.IsZero() {
		t.Fatalf("null must decode as absent: %v %v", m.S, m.SN)
	}
	if v, ok := m.I.Get(); !ok || v != 7 {
		t.Fatalf("I = %v", m.I)
	}
	if len(m.SL) != 2 || !m.SL[0].IsZero() || Or(m.SL[1], 0) != 2 {
		t.Fatalf("SL = %v", m.SL)
	}
	if o, ok := m.MP["k"]; !ok || !o.IsZero() {
		t.Fatalf("MP = %v", m.MP)
	}
}

func TestOptDecodeReplacesValue(t *testing.T) {
	o := Some(map[string]int{"a": 1})
	if err := json.Unmarshal([]byte(`{"b":2}`), &o); err != nil {
		t.Fatal(err)
	}
	if got := Or(o, nil); !reflect.DeepEqual(got, map[string]int{"b": 2}) {
		t.Fatalf("decoding must replace, not merge: %v", got)
	}
}

func TestOptDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		json string
		into func([]byte) error
	}{
		{"string into int", `"x"`, func(b []byte) error { var o Opt[int]; return json.Unmarshal(b, &o) }},
		{"float into int", `1.5`, func(b []byte) error { var o Opt[int]; return json.Unmarshal(b, &o) }},
		{"overflow int32", `2147483648`, func(b []byte) error { var o Opt[int32]; return json.Unmarshal(b, &o) }},
		{"number into string", `12`, func(b []byte) error { var o Opt[string]; return json.Unmarshal(b, &o) }},
		{"bad date", `"2024-13-01"`, func(b []byte) error { var o Opt[Date]; return json.Unmarshal(b, &o) }},
		{"bad uuid", `"nope"`, func(b []byte) error { var o Opt[UUID]; return json.Unmarshal(b, &o) }},
		{"direct invalid", `tru`, func(b []byte) error { var o Opt[bool]; return o.UnmarshalJSON(b) }},
		{"direct empty", ``, func(b []byte) error { var o Opt[string]; return o.UnmarshalJSON(b) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.into([]byte(tt.json)); err == nil {
				t.Fatal("want error")
			}
		})
	}
	// On error the Opt is left absent.
	o := Some(5)
	if err := o.UnmarshalJSON([]byte(`"x"`)); err == nil || !o.IsZero() {
		t.Fatalf("err=%v set=%v", err, !o.IsZero())
	}
	var te *json.UnmarshalTypeError
	var oi Opt[int8]
	if err := json.Unmarshal([]byte(`300`), &oi); !errors.As(err, &te) {
		t.Fatalf("want *json.UnmarshalTypeError, got %T %v", err, err)
	}
}

func TestOptMethods(t *testing.T) {
	var o Opt[string]
	if !o.IsZero() || Or(o, "d") != "d" || Ptr(o) != nil || !FromPtr[string](nil).IsZero() {
		t.Fatalf("zero Opt: %#v", o)
	}
	if v, ok := o.Get(); ok || v != "" {
		t.Fatal("Get on absent")
	}
	o = Some("v")
	if o.IsZero() || Or(o, "d") != "v" || *Ptr(o) != "v" {
		t.Fatalf("set Opt: %#v", o)
	}
	p := Ptr(o)
	*p = "changed"
	if Or(o, "") != "v" {
		t.Fatal("Ptr must return a copy")
	}
	s := "from"
	if v, ok := FromPtr(&s).Get(); !ok || v != "from" {
		t.Fatalf("FromPtr = %q %v", v, ok)
	}
	if got := fmt.Sprint(Some(0)); got == "" {
		t.Fatal("fmt prints an Opt")
	}
	// A present nil slice follows encoding/json and is written as null, which
	// then decodes as absent: callers wanting [] must set an empty slice.
	if b, _ := Some([]int(nil)).MarshalJSON(); string(b) != "null" {
		t.Fatalf("present nil slice = %s", b)
	}
	if b, _ := Some([]int{}).MarshalJSON(); string(b) != "[]" {
		t.Fatalf("present empty slice = %s", b)
	}
	if b, _ := (Opt[int]{}).MarshalJSON(); string(b) != "null" {
		t.Fatalf("absent MarshalJSON = %s", b)
	}
}

func TestNullableJSONRoundTrip(t *testing.T) {
	type model struct {
		A Nullable[string]           `json:"a,omitzero"`
		B Nullable[int64]            `json:"b,omitzero"`
		C Nullable[inner]            `json:"c,omitzero"`
		D Nullable[Date]             `json:"d,omitzero"`
		E Nullable[[]int]            `json:"e,omitzero"`
		F Nullable[bool]             `json:"f"`
		G []Nullable[float64]        `json:"g,omitempty"`
		H map[string]Nullable[color] `json:"h,omitempty"`
		P *Nullable[int]             `json:"p,omitempty"`
	}
	tests := []struct {
		name string
		in   model
		want string
	}{
		{"absent", model{}, `{"f":null}`},
		{"null", model{A: Null[string](), B: Null[int64](), C: Null[inner](), D: Null[Date](), E: Null[[]int](), F: Null[bool]()},
			`{"a":null,"b":null,"c":null,"d":null,"e":null,"f":null}`},
		{"values", model{A: Value(""), B: Value(int64(1) << 60), C: Value(inner{A: 3}), D: Value(NewDate(1999, 12, 31)),
			E: Value([]int{1}), F: Value(true), G: []Nullable[float64]{Value(1e21), Null[float64](), Value(-0.000001)},
			H: map[string]Nullable[color]{"x": Value(color("blue")), "y": Null[color]()}, P: ptr(Null[int]())},
			`{"a":"","b":1152921504606846976,"c":{"a":3},"d":"1999-12-31","e":[1],"f":true,"g":[1e+21,null,-0.000001],"h":{"x":"blue","y":null},"p":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("marshal:\n got %s\nwant %s", got, tt.want)
			}
			var back model
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatal(err)
			}
			want := tt.in
			if want.F.IsZero() {
				want.F = Null[bool]() // absent without omitzero is written as null
			}
			if want.P != nil {
				// encoding/json leaves a pointer nil for a JSON null.
				want.P = nil
			}
			if !reflect.DeepEqual(back, want) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", back, want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestNullableMethods(t *testing.T) {
	var n Nullable[int]
	if n.IsNull() || !n.IsZero() || Or(n, 9) != 9 || Ptr(n) != nil {
		t.Fatalf("absent: %#v", n)
	}
	n = Null[int]()
	if !n.IsNull() || n.IsZero() || Or(n, 9) != 9 || Ptr(n) != nil {
		t.Fatalf("null: %#v", n)
	}
	if _, ok := n.Get(); ok {
		t.Fatal("Get on null")
	}
	n = Value(0)
	if v, ok := n.Get(); !ok || v != 0 || n.IsNull() || n.IsZero() || Or(n, 9) != 0 || *Ptr(n) != 0 {
		t.Fatalf("value: %#v", n)
	}
	for _, c := range []struct {
		n    Nullable[string]
		want string
	}{{Nullable[string]{}, "null"}, {Null[string](), "null"}, {Value("a"), `"a"`}} {
		if b, err := c.n.MarshalJSON(); err != nil || string(b) != c.want {
			t.Fatalf("MarshalJSON(%v) = %s, %v", c.n, b, err)
		}
	}
	if err := n.UnmarshalJSON([]byte(" null ")); err != nil || !n.IsNull() {
		t.Fatalf("null with spaces: %v %v", err, n)
	}
	if err := n.UnmarshalJSON([]byte(`"x"`)); err == nil || !n.IsZero() {
		t.Fatalf("bad value must error and leave absent: %v %v", err, n)
	}
}

// TestFastPathsMatchEncodingJSON checks that the scalar fast paths produce
// exactly what encoding/json produces, and accept and reject the same input.
func TestFastPathsMatchEncodingJSON(t *testing.T) {
	strs := []string{"", "plain", "with \"quotes\" and \\", "<html>&amp;", "tab\tnew\nline\r\x00\x1f\x7f",
		"é日本\U0001F600", "\u2028\u2029", "bad \xff utf8 \xc3", "\xed\xa0\x80", strings.Repeat("x", 300)}
	for _, s := range strs {
		want, _ := json.Marshal(s)
		got, err := marshalValue(&s)
		if err != nil || string(got) != string(want) {
			t.Errorf("string %q: got %s want %s", s, got, want)
		}
		var back string
		if err := unmarshalValue(got, &back); err != nil {
			t.Errorf("decode %s: %v", got, err)
		}
		var std string
		_ = json.Unmarshal(got, &std)
		if back != std {
			t.Errorf("decode %s: got %q want %q", got, back, std)
		}
	}
	floats := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1e-6, 9.99999e-7, 1e-7, 1e20, 1e21, 123456789.125,
		math.MaxFloat64, math.SmallestNonzeroFloat64, 5e-324, -1.5e-10, 3.4e38}
	for _, f := range floats {
		want, _ := json.Marshal(f)
		got, err := marshalValue(&f)
		if err != nil || string(got) != string(want) {
			t.Errorf("float64 %v: got %s want %s", f, got, want)
		}
		f32 := float32(f)
		want32, err32 := json.Marshal(f32)
		got32, err := marshalValue(&f32)
		if (err32 == nil) != (err == nil) || string(got32) != string(want32) {
			t.Errorf("float32 %v: got %s want %s", f32, got32, want32)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := marshalValue(&f); err == nil {
			t.Errorf("float %v: want error", f)
		}
	}
	ints := []int64{0, 1, -1, math.MaxInt64, math.MinInt64, math.MaxInt32, math.MinInt32}
	for _, n := range ints {
		want, _ := json.Marshal(n)
		got, _ := marshalValue(&n)
		if string(got) != string(want) {
			t.Errorf("int64 %d: got %s want %s", n, got, want)
		}
	}
	numInputs := []string{"0", "-0", "1", "-1", "01", "+1", "1.0", "1e3", "1E+2", "-", "", " 1", "9223372036854775807",
		"9223372036854775808", "-9223372036854775808", "-9223372036854775809", "2147483647", "2147483648", "-2147483648",
		"-2147483649", "1_000", "0x10", "12345678901234567890123", "true", `"1"`, "1.5e-400", "1e400", ".5", "5."}
	for _, in := range numInputs {
		compareDecode[int](t, in)
		compareDecode[int64](t, in)
		compareDecode[int32](t, in)
		compareDecode[float64](t, in)
	}
	for _, in := range []string{"true", "false", "True", "tru", "1", `"true"`, "null"} {
		compareDecode[bool](t, in)
	}
	for _, in := range []string{`""`, `"a"`, `"a\"b"`, `"\u00e9"`, `"` + "\xff" + `"`, `"a` + "\n" + `"`, `"abc`, `abc"`, `"`, `1`} {
		compareDecode[string](t, in)
	}
}

func compareDecode[T comparable](t *testing.T, in string) {
	t.Helper()
	var got, want T
	gotErr := unmarshalValue([]byte(in), &got)
	wantErr := json.Unmarshal([]byte(in), &want)
	if (gotErr == nil) != (wantErr == nil) || got != want {
		t.Errorf("decode %T from %q: got %v, %v; encoding/json %v, %v", got, in, got, gotErr, want, wantErr)
	}
}

type benchModel struct {
	ID     Opt[int64]         `json:"id,omitzero"`
	Name   Opt[string]        `json:"name,omitzero"`
	Email  Opt[string]        `json:"email,omitzero"`
	Score  Opt[float64]       `json:"score,omitzero"`
	Active Opt[bool]          `json:"active,omitzero"`
	Owner  Nullable[string]   `json:"owner,omitzero"`
	Tags   Opt[[]string]      `json:"tags,omitzero"`
	Notes  Opt[string]        `json:"notes,omitzero"`
	Parent Nullable[int64]    `json:"parent,omitzero"`
	Extra  Opt[inner]         `json:"extra,omitzero"`
	Ref    Opt[Date]          `json:"ref,omitzero"`
	Nick   Nullable[string]   `json:"nick,omitzero"`
	Misc   Opt[json.Number]   `json:"misc,omitzero"`
	Unused Opt[time.Duration] `json:"unused,omitzero"`
}

type benchPlain struct {
	ID     int64         `json:"id,omitempty"`
	Name   string        `json:"name,omitempty"`
	Email  string        `json:"email,omitempty"`
	Score  float64       `json:"score,omitempty"`
	Active *bool         `json:"active,omitempty"`
	Owner  *string       `json:"owner"`
	Tags   []string      `json:"tags,omitempty"`
	Notes  string        `json:"notes,omitempty"`
	Parent *int64        `json:"parent"`
	Extra  *inner        `json:"extra,omitempty"`
	Ref    *Date         `json:"ref,omitempty"`
	Nick   *string       `json:"nick,omitempty"`
	Misc   string        `json:"misc,omitempty"`
	Unused time.Duration `json:"unused,omitempty"`
}

var benchJSON = []byte(`{"id":1234567,"name":"Ada Lovelace","email":"ada@example.com","score":98.5,"active":true,` +
	`"owner":null,"tags":["math","poetry"],"notes":"first programmer","parent":42,"extra":{"a":1,"b":"x"},"ref":"1843-07-01","nick":"ada"}`)

func BenchmarkOptMarshal(b *testing.B) {
	var m benchModel
	if err := json.Unmarshal(benchJSON, &m); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(&m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOptUnmarshal(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var m benchModel
		if err := json.Unmarshal(benchJSON, &m); err != nil {
			b.Fatal(err)
		}
	}
}

// The Plain benchmarks decode the same document into pointer-and-omitempty
// fields, the baseline Opt competes with.
func BenchmarkPlainMarshal(b *testing.B) {
	var m benchPlain
	if err := json.Unmarshal(benchJSON, &m); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(&m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPlainUnmarshal(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var m benchPlain
		if err := json.Unmarshal(benchJSON, &m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOptStringMarshalJSON(b *testing.B) {
	o := Some("hello, world")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := o.MarshalJSON(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOptStringUnmarshalJSON(b *testing.B) {
	in := []byte(`"hello, world"`)
	b.ReportAllocs()
	for b.Loop() {
		var o Opt[string]
		if err := o.UnmarshalJSON(in); err != nil {
			b.Fatal(err)
		}
	}
}

// TestGenericMethodSetsStaySmall guards the build cost of generated
// packages: every method of Opt and Nullable is compiled (with a wrapper for
// the pointer type) for each type argument, and a generated package uses
// hundreds, so a new helper belongs in a generic function instead. The
// types are not comparable, which spares an equality function per
// instantiation and per model struct holding one.
func TestGenericMethodSetsStaySmall(t *testing.T) {
	for _, c := range []struct {
		typ  reflect.Type
		want []string
	}{
		{reflect.TypeFor[*Opt[int]](), []string{"Get", "IsZero", "MarshalJSON", "UnmarshalJSON"}},
		{reflect.TypeFor[*Nullable[int]](), []string{"Get", "IsNull", "IsZero", "MarshalJSON", "UnmarshalJSON"}},
	} {
		var got []string
		for i := range c.typ.NumMethod() {
			got = append(got, c.typ.Method(i).Name)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v methods = %v, want %v", c.typ, got, c.want)
		}
		if c.typ.Elem().Comparable() {
			t.Errorf("%v is comparable", c.typ.Elem())
		}
	}
}
