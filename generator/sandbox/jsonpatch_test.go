package sandbox

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestApplyJSONPatch: RFC 6902's operations, including its appendix A
// examples, and errors for what cannot apply.
func TestApplyJSONPatch(t *testing.T) {
	for _, c := range []struct{ doc, patch, want string }{
		{`{"foo":"bar"}`, `[{"op":"add","path":"/baz","value":"qux"}]`, `{"baz":"qux","foo":"bar"}`},
		{`{"foo":["bar","baz"]}`, `[{"op":"add","path":"/foo/1","value":"qux"}]`, `{"foo":["bar","qux","baz"]}`},
		{`{"foo":["bar"]}`, `[{"op":"add","path":"/foo/-","value":["abc","def"]}]`, `{"foo":["bar",["abc","def"]]}`},
		{`{"baz":"qux","foo":"bar"}`, `[{"op":"remove","path":"/baz"}]`, `{"foo":"bar"}`},
		{`{"foo":["bar","qux","baz"]}`, `[{"op":"remove","path":"/foo/1"}]`, `{"foo":["bar","baz"]}`},
		{`{"baz":"qux","foo":"bar"}`, `[{"op":"replace","path":"/baz","value":"boo"}]`, `{"baz":"boo","foo":"bar"}`},
		{`{"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}`, `[{"op":"move","from":"/foo/waldo","path":"/qux/thud"}]`,
			`{"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}`},
		{`{"foo":["all","grass","cows","eat"]}`, `[{"op":"move","from":"/foo/1","path":"/foo/3"}]`, `{"foo":["all","cows","eat","grass"]}`},
		{`{"a":{"b":1}}`, `[{"op":"copy","from":"/a","path":"/c"},{"op":"replace","path":"/c/b","value":2}]`, `{"a":{"b":1},"c":{"b":2}}`},
		{`{"baz":"qux","foo":["a",2,"c"]}`, `[{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}]`, `{"baz":"qux","foo":["a",2,"c"]}`},
		{`{"/":1,"~":2}`, `[{"op":"replace","path":"/~1","value":3},{"op":"remove","path":"/~0"}]`, `{"/":3}`},
	} {
		var doc, patch, want any
		for _, x := range []struct {
			s string
			v *any
		}{{c.doc, &doc}, {c.patch, &patch}, {c.want, &want}} {
			if err := json.Unmarshal([]byte(x.s), x.v); err != nil {
				t.Fatal(err)
			}
		}
		got, err := applyJSONPatch(doc, patch)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s on %s: %v %v, want %s", c.patch, c.doc, got, err, c.want)
		}
	}
	for _, c := range []struct{ doc, patch string }{
		{`{"baz":"qux"}`, `[{"op":"test","path":"/baz","value":"bar"}]`},
		{`{"foo":"bar"}`, `[{"op":"add","path":"/baz/bat","value":"qux"}]`},
		{`{"foo":"bar"}`, `[{"op":"replace","path":"/nope","value":1}]`},
		{`{"foo":[1]}`, `[{"op":"add","path":"/foo/2","value":1}]`},
		{`{"foo":[1]}`, `[{"op":"remove","path":"/foo/01"}]`},
		{`{"a":{"b":1}}`, `[{"op":"move","from":"/a","path":"/a/b/c"}]`},
		{`{"a":1}`, `[{"op":"frob","path":"/a"}]`},
		{`{"a":1}`, `[{"op":"add","path":"a","value":1}]`},
		{`{"a":1}`, `{"op":"add"}`},
	} {
		var doc, patch any
		json.Unmarshal([]byte(c.doc), &doc)
		json.Unmarshal([]byte(c.patch), &patch)
		if got, err := applyJSONPatch(doc, patch); err == nil {
			t.Errorf("%s on %s: %v, want an error", c.patch, c.doc, got)
		}
	}
}
