package oas

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestMarshalExtra(t *testing.T) {
	tests := []struct {
		name  string
		known string
		extra map[string]any
		want  string
		err   bool
	}{
		{"empty extra returns known", `{"a":1}`, nil, `{"a":1}`, false},
		{"empty extra even if known is odd", `not json`, map[string]any{}, `not json`, false},
		{"into empty object", `{}`, map[string]any{"b": 2, "a": "x"}, `{"a":"x","b":2}`, false},
		{"append sorted", `{"id":7}`, map[string]any{"z": true, "m": nil, "b": []int{1}}, `{"id":7,"b":[1],"m":null,"z":true}`, false},
		{"declared wins", `{"id":7,"name":"n"}`, map[string]any{"id": 8, "x": 1}, `{"id":7,"name":"n","x":1}`, false},
		{"escaped known key", `{"\u0069d":7}`, map[string]any{"id": 8}, `{"\u0069d":7}`, false},
		{"whitespace", " {\n \"a\" : 1 \n} \n", map[string]any{"b": 2}, "{\n \"a\" : 1,\"b\":2}", false},
		{"whitespace empty", " { } ", map[string]any{"b": 2}, `{"b":2}`, false},
		{"key escaping", `{}`, map[string]any{"<k\"ey>": 1}, `{"\u003ck\"ey\u003e":1}`, false},
		{"nested values", `{"a":{"b":1}}`, map[string]any{"b": map[string]any{"a": 1}}, `{"a":{"b":1},"b":{"a":1}}`, false},
		{"known not an object", `[1]`, map[string]any{"a": 1}, "", true},
		{"known invalid", `{"a":}`, map[string]any{"a": 1}, "", true},
		{"known trailing data", `{"a":1}{}`, map[string]any{"a": 1}, "", true},
		{"unmarshalable value", `{}`, map[string]any{"f": func() {}}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MarshalExtra([]byte(tt.known), tt.extra)
			if tt.err {
				if err == nil {
					t.Fatalf("want error, got %s", got)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("got %s, %v; want %s", got, err, tt.want)
			}
			if !json.Valid(got) && tt.known != "not json" {
				t.Fatalf("invalid JSON %s", got)
			}
		})
	}
}

func TestMarshalExtraDeterministic(t *testing.T) {
	extra := map[string]int{}
	for _, k := range strings.Fields("q w e r t y u i o p a s d f g h j k l z x c v b n m") {
		extra[k] = len(k)
	}
	first, err := MarshalExtra([]byte(`{"known":true}`), extra)
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		again, _ := MarshalExtra([]byte(`{"known":true}`), extra)
		if string(again) != string(first) {
			t.Fatalf("non-deterministic: %s vs %s", first, again)
		}
	}
	if !strings.HasPrefix(string(first), `{"known":true,"a":1,"b":1,"c":1`) || !strings.HasSuffix(string(first), `"z":1}`) {
		t.Fatalf("not sorted: %s", first)
	}
}

func TestUnmarshalExtra(t *testing.T) {
	known := func(k string) bool { return k == "id" || k == "name" }
	tests := []struct {
		name    string
		data    string
		isKnown func(string) bool
		want    map[string]any
		err     bool
	}{
		{"only known", `{"id":1,"name":"x"}`, known, nil, false},
		{"empty", `{}`, known, nil, false},
		{"null", `null`, known, nil, false},
		{"extras", `{"id":1,"b":[1,"x"],"a":{"n":null},"name":"x","c":null}`, known,
			map[string]any{"a": map[string]any{"n": nil}, "b": []any{1.0, "x"}, "c": nil}, false},
		{"nil isKnown keeps all", `{"id":1}`, nil, map[string]any{"id": 1.0}, false},
		{"escaped keys decoded", `{"\u0069d":1,"k\"q":2}`, known, map[string]any{`k"q`: 2.0}, false},
		{"duplicate key last wins", `{"x":1,"x":2}`, known, map[string]any{"x": 2.0}, false},
		{"not an object", `[{"x":1}]`, known, nil, true},
		{"invalid", `{"x":1,}`, known, nil, true},
		{"truncated", `{"x":`, known, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := UnmarshalExtra[any]([]byte(tt.data), tt.isKnown)
			if tt.err {
				if err == nil {
					t.Fatalf("want error, got %v", got)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, %v; want %#v", got, err, tt.want)
			}
		})
	}
	// Typed values: a value that does not fit V is an error naming the key.
	got, err := UnmarshalExtra[int]([]byte(`{"id":"skip","n":3}`), known)
	if err != nil || !reflect.DeepEqual(got, map[string]int{"n": 3}) {
		t.Fatalf("typed: %v %v", got, err)
	}
	if _, err := UnmarshalExtra[int]([]byte(`{"n":"x"}`), known); err == nil || !strings.Contains(err.Error(), `"n"`) {
		t.Fatalf("typed error must name the key: %v", err)
	}
}

// lead shows how generated code combines declared fields with
// additionalProperties.
type lead struct {
	ID    int64          `json:"id"`
	Name  Opt[string]    `json:"name,omitzero"`
	Extra map[string]any `json:"-"`
}

func (l lead) MarshalJSON() ([]byte, error) {
	type plain lead
	b, err := json.Marshal(plain(l))
	if err != nil {
		return nil, err
	}
	return MarshalExtra(b, l.Extra)
}

func (l *lead) UnmarshalJSON(b []byte) error {
	type plain lead
	if err := json.Unmarshal(b, (*plain)(l)); err != nil {
		return err
	}
	extra, err := UnmarshalExtra[any](b, func(k string) bool { return k == "id" || k == "name" })
	l.Extra = extra
	return err
}

func TestExtraRoundTripInModel(t *testing.T) {
	in := `{"id":1,"name":"n","score":9.5,"tags":["a"]}`
	var l lead
	if err := json.Unmarshal([]byte(in), &l); err != nil {
		t.Fatal(err)
	}
	if l.ID != 1 || Or(l.Name, "") != "n" || l.Extra["score"] != 9.5 {
		t.Fatalf("decoded %+v", l)
	}
	out, err := json.Marshal(l)
	if err != nil || string(out) != `{"id":1,"name":"n","score":9.5,"tags":["a"]}` {
		t.Fatalf("encoded %s %v", out, err)
	}
	out, _ = json.Marshal(lead{ID: 2})
	if string(out) != `{"id":2}` {
		t.Fatalf("no extras: %s", out)
	}
}

func TestPeekString(t *testing.T) {
	tests := []struct {
		name, data, prop, want string
		ok                     bool
	}{
		{"simple", `{"type":"cat","name":"x"}`, "type", "cat", true},
		{"later", `{"name":"x","type":"dog"}`, "type", "dog", true},
		{"whitespace", " \n{ \"type\"\t:\r\n \"cat\" } \n", "type", "cat", true},
		{"escaped value", `{"type":"c\"a\u0074\\"}`, "type", `c"at\`, true},
		{"escaped key", `{"\u0074ype":"cat"}`, "type", "cat", true},
		{"nested same key ignored", `{"a":{"type":"inner"},"b":[{"type":"x"}],"type":"outer"}`, "type", "outer", true},
		{"only nested", `{"a":{"type":"inner"}}`, "type", "", false},
		{"key inside string value", `{"a":"\"type\":\"fake\"","type":"real"}`, "type", "real", true},
		{"brackets inside strings", `{"a":"{[}]","type":"t"}`, "type", "t", true},
		{"last duplicate wins", `{"type":"a","type":"b"}`, "type", "b", true},
		{"case sensitive", `{"Type":"a"}`, "type", "", false},
		{"not a string", `{"type":1}`, "type", "", false},
		{"null", `{"type":null}`, "type", "", false},
		{"empty string", `{"type":""}`, "type", "", true},
		{"unicode", `{"type":"日本"}`, "type", "日本", true},
		{"missing", `{"name":"x"}`, "type", "", false},
		{"not an object", `["type","cat"]`, "type", "", false},
		{"invalid later", `{"type":"cat",}`, "type", "", false},
		{"truncated", `{"type":"cat"`, "type", "", false},
		{"trailing garbage", `{"type":"cat"} x`, "type", "", false},
		{"empty input", ``, "type", "", false},
		{"bad escape", `{"type":"\x"}`, "type", "", false},
		{"deep nesting", `{"a":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `,"type":"x"}`, "type", "", false},
		{"moderate nesting", `{"a":` + strings.Repeat("[", 500) + strings.Repeat("]", 500) + `,"type":"x"}`, "type", "x", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := PeekString([]byte(tt.data), tt.prop)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("PeekString = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestScannerAgreesWithEncodingJSON cross-checks the validator.
func TestScannerAgreesWithEncodingJSON(t *testing.T) {
	inputs := []string{`{}`, `{"a":1}`, `{"a":-0.5e+3}`, `{"a":01}`, `{"a":1.}`, `{"a":.1}`, `{"a":-}`, `{"a":[1,2,]}`,
		`{"a":[,]}`, `{"a":tru}`, `{"a":nulls}`, `{"a":"\u12"}`, `{"a":"\ud800"}`, `{"a":{"b":{}}}`, `{"a" "b"}`, `{a:1}`,
		`{"a":1 "b":2}`, `{"a":[]}`, `{"a":[{}]}`, `{"a":"` + "\t" + `"}`, `{"a":1e}`, `{"a":1E-2}`, `{"a":-01}`, `{"a":[1 2]}`}
	for _, in := range inputs {
		err := eachMember([]byte(in), func(member) bool { return true })
		if (err == nil) != json.Valid([]byte(in)) {
			t.Errorf("%s: scanner err=%v, json.Valid=%v", in, err, json.Valid([]byte(in)))
		}
	}
}

func TestIsZero(t *testing.T) {
	type pt struct{ X int }
	for _, tc := range []struct {
		v    any
		want bool
	}{
		{nil, true}, {0, true}, {"", true}, {[]int(nil), true}, {pt{}, true}, {Opt[int]{}, true},
		{1, false}, {"a", false}, {[]int{}, false}, {pt{1}, false}, {Some(0), false}, {Null[int](), false},
	} {
		if got := IsZero(tc.v); got != tc.want {
			t.Errorf("IsZero(%#v) = %v, want %v", tc.v, got, tc.want)
		}
	}
}
