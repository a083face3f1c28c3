package fieldpath

import (
	"reflect"
	"testing"

	"github.com/connectorgen/connectorgen/generator/ir"
)

// testTypes is a tiny package: Contact{id string; properties
// map[string]string; fields map[string]any; address *Address}.
type testTypes map[string]*ir.Type

func (tt testTypes) Struct(t *ir.TypeRef) *ir.Type {
	if u := t.Unwrapped(); u != nil && u.Kind == ir.Named {
		return tt[u.Name]
	}
	return nil
}

func (tt testTypes) Map(t *ir.TypeRef) *ir.TypeRef {
	if u := t.Unwrapped(); u != nil && u.Kind == ir.Map {
		return u.Elem
	}
	return nil
}

func types() testTypes {
	str, anyT := ir.BuiltinRef("string"), ir.BuiltinRef("any")
	return testTypes{
		"Contact": {Name: "Contact", Kind: ir.Struct, Fields: []*ir.Field{
			{Name: "ID", JSONName: "id", Type: str},
			{Name: "Properties", JSONName: "properties", Type: &ir.TypeRef{Kind: ir.Map, Elem: str}},
			{Name: "Fields", JSONName: "fields", Type: &ir.TypeRef{Kind: ir.Opt, Elem: &ir.TypeRef{Kind: ir.Map, Elem: anyT}}},
			{Name: "Address", JSONName: "address", Type: &ir.TypeRef{Kind: ir.Pointer, Elem: ir.NamedRef("Address")}},
		}},
		"Address": {Name: "Address", Kind: ir.Struct, Fields: []*ir.Field{{Name: "City", JSONName: "city", Type: str}}},
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []Segment
		bad  bool
	}{
		{in: "a.b", want: []Segment{{Name: "a"}, {Name: "b"}}},
		{in: `metadata["plan"]`, want: []Segment{{Name: "metadata"}, {Name: "plan", Bracketed: true}}},
		{in: `m["a.b"].c`, want: []Segment{{Name: "m"}, {Name: "a.b", Bracketed: true}, {Name: "c"}}},
		{in: "a..b", bad: true}, {in: "a.", bad: true}, {in: `["x"]`, bad: true},
		{in: `m[plan]`, bad: true}, {in: `m["x"]c`, bad: true}, {in: "", bad: true}, {in: `m["x"`, bad: true},
	} {
		got, err := Parse(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("Parse(%q) = %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Parse(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestResolve(t *testing.T) {
	tt := types()
	root := ir.NamedRef("Contact")
	res, err := Resolve(tt, root, "properties.lifecyclestage")
	if err != nil || len(res.Steps) != 2 || !res.Steps[1].MapKey || res.Steps[1].Key != "lifecyclestage" || res.Leaf.Type.Name != "string" || res.Untyped {
		t.Errorf("map key path: %+v, %v", res, err)
	}
	res, err = Resolve(tt, root, `fields["customfield_10050"]`)
	if err != nil || !res.Untyped {
		t.Errorf("untyped map key: %+v, %v", res, err)
	}
	if res, err = Resolve(tt, root, "address.city"); err != nil || len(res.Steps) != 2 || res.Steps[1].Field != "City" {
		t.Errorf("struct path: %+v, %v", res, err)
	}
	for _, tc := range []struct {
		path string
		kind ErrorKind
		msg  string
	}{
		{"id.x", NotObject, `"id" is not an object, so it has no field "x"`},
		{`address["city"]`, KeyIntoNonMap, `"address" is not a map, so it has no key "city"`},
		{"adress.city", NoField, `no field "adress" in Contact (did you mean "address"?)`},
		{"a..b", Syntax, `empty segment in "a..b"`},
	} {
		_, err := Resolve(tt, root, tc.path)
		if err == nil || err.Kind != tc.kind || err.Error() != tc.msg {
			t.Errorf("Resolve(%q) error = %v, want kind %d %q", tc.path, err, tc.kind, tc.msg)
		}
	}
}
