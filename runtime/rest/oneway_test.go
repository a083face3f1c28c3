package rest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/connectorgen/connectorgen/runtime/oas"
)

// Models as connectorgen generates them: one type per schema, one-way
// fields tagged.
type owTag struct {
	ID     string          `json:"id,omitzero" oas:"readOnly"`
	Label  string          `json:"label"`
	Secret oas.Opt[string] `json:"secret,omitzero" oas:"writeOnly"`
}

type owNode struct {
	ID       int64                   `json:"id,omitzero" oas:"readOnly"`
	Name     string                  `json:"name"`
	Password oas.Opt[string]         `json:"password,omitzero" oas:"writeOnly"`
	Children []owNode                `json:"children,omitzero"`
	Parent   *owNode                 `json:"parent,omitzero"`
	Tags     map[string]owTag        `json:"tags,omitzero"`
	Main     oas.Opt[owTag]          `json:"main,omitzero"`
	Maybe    oas.Nullable[owTag]     `json:"maybe,omitzero"`
	Raw      json.RawMessage         `json:"raw,omitzero"`
	Plain    oas.Opt[map[string]int] `json:"plain,omitzero"`
}

type owPlain struct {
	A string   `json:"a"`
	B []string `json:"b"`
}

func TestShapeOfPlainTypeIsNil(t *testing.T) {
	for _, v := range []any{owPlain{}, []owPlain{}, map[string]int{}, "x", oas.Opt[int]{}, json.RawMessage(`{}`)} {
		for _, dir := range []direction{toServer, fromServer} {
			if s := (*Client)(nil).shapeOf(reflect.TypeOf(v), dir); s != nil {
				t.Errorf("%T %v: shape %+v, want nil", v, dir, s)
			}
		}
	}
}

func TestEncodeLeavesOutReadOnlyAtAnyDepth(t *testing.T) {
	c := &Client{shapes: &shapeCache{}}
	n := owNode{
		ID: 1, Name: "root", Password: oas.Some("pw"),
		Children: []owNode{{ID: 2, Name: "kid", Children: []owNode{{ID: 3, Name: "grandkid"}}}},
		Parent:   &owNode{ID: 9, Name: "up"},
		Tags:     map[string]owTag{"a": {ID: "t1", Label: "x", Secret: oas.Some("s")}},
		Main:     oas.Some(owTag{ID: "t2", Label: "m"}),
		Maybe:    oas.Value(owTag{ID: "t3", Label: "n"}),
		Raw:      json.RawMessage(`{"id":"kept"}`),
		Plain:    oas.Some(map[string]int{"id": 1}),
	}
	for range 2 { // the second time from the cache
		b, err := c.encodeJSON(n)
		if err != nil {
			t.Fatal(err)
		}
		want := `{"name":"root","password":"pw","children":[{"name":"kid","children":[{"name":"grandkid"}]}],` +
			`"parent":{"name":"up"},"tags":{"a":{"label":"x","secret":"s"}},"main":{"label":"m"},"maybe":{"label":"n"},` +
			`"raw":{"id":"kept"},"plain":{"id":1}}`
		if string(b) != want {
			t.Fatalf("got  %s\nwant %s", b, want)
		}
	}
	// A pointer and a slice of models too; a plain json.Marshal keeps all.
	b, _ := c.encodeJSON(&[]owTag{{ID: "x", Label: "y"}})
	if string(b) != `[{"label":"y"}]` {
		t.Fatalf("slice: %s", b)
	}
	if b, _ := json.Marshal(owTag{ID: "x"}); !strings.Contains(string(b), `"id":"x"`) {
		t.Fatalf("json.Marshal must keep readOnly fields: %s", b)
	}
}

func TestDecodeIgnoresWriteOnly(t *testing.T) {
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, ` {"id": 7, "name":"n", "password":"leaked",`+
			` "children":[{"id":8,"password":"p2","name":"k"}], "tags":{"a":{"id":"t","secret":"s","label":"l"}},`+
			` "main":{"secret":"s2","label":"m"}, "maybe":null, "unknown":{"password":"x"}} `)
	})
	c, err := New(srv.URL, WithInsecureHTTP())
	if err != nil {
		t.Fatal(err)
	}
	var out owNode
	req := c.NewRequest(context.Background(), &Operation{ID: "get"})
	if ok, err := c.CallJSON(req, &out, nil); !ok || err != nil {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
	if _, set := out.Password.Get(); set || out.ID != 7 || out.Name != "n" {
		t.Fatalf("top level: %+v", out)
	}
	if len(out.Children) != 1 || out.Children[0].ID != 8 || out.Children[0].Name != "k" {
		t.Fatalf("children: %+v", out.Children)
	}
	if _, set := out.Children[0].Password.Get(); set {
		t.Fatal("nested writeOnly decoded")
	}
	if tg := out.Tags["a"]; tg.ID != "t" || tg.Label != "l" {
		t.Fatalf("tags: %+v", out.Tags)
	} else if _, set := tg.Secret.Get(); set {
		t.Fatal("writeOnly in a map value decoded")
	}
	if m, _ := out.Main.Get(); m.Label != "m" {
		t.Fatalf("main: %+v", out.Main)
	} else if _, set := m.Secret.Get(); set {
		t.Fatal("writeOnly inside oas.Opt decoded")
	}
}

func TestFilterMalformedFallsBack(t *testing.T) {
	s := (*Client)(nil).shapeOf(reflect.TypeOf(owTag{}), toServer)
	if s == nil {
		t.Fatal("no shape")
	}
	for _, in := range []string{`{"id":`, `{"id":"x" "label":1}`, `{"id":"x",}x`, `[`, `{"a":[}`, `"unterminated`} {
		if out, ok := s.filter([]byte(in)); ok || string(out) != in {
			t.Errorf("%q: got %q, %v; want it back unchanged", in, out, ok)
		}
	}
	for in, want := range map[string]string{
		`{}`:                                    `{}`,
		` { "id" : "x" } `:                      `{}`,
		`{"label":"a","id":"x"}`:                `{"label":"a"}`,
		`{"id":"x","label":"a"}`:                `{"label":"a"}`,
		`{"\u0069d":"x","label":"a\"}"}`:        `{"label":"a\"}"}`,
		`null`:                                  `null`,
		`{"label":{"id":[1,{"x":"]"}]},"id":1}`: `{"label":{"id":[1,{"x":"]"}]}}`,
	} {
		if out, ok := s.filter([]byte(in)); !ok || string(out) != want {
			t.Errorf("%s: got %s, %v; want %s", in, out, ok, want)
		}
	}
}

func TestFormAndMultipartLeaveOutReadOnly(t *testing.T) {
	c := &Client{shapes: &shapeCache{}}
	b, err := c.formBody(owTag{ID: "x", Label: "l", Secret: oas.Some("s")}, nil)
	if err != nil || string(b) != "label=l&secret=s" {
		t.Fatalf("form: %q %v", b, err)
	}
	srv, seen := newServer(t, nil)
	hc, err := New(srv.URL, WithInsecureHTTP())
	if err != nil {
		t.Fatal(err)
	}
	req := hc.NewRequest(context.Background(), &Operation{ID: "up", Method: "POST"})
	type upload struct {
		ID   string          `json:"id,omitzero" oas:"readOnly"`
		Meta owTag           `json:"meta"`
		Note oas.Opt[string] `json:"note,omitzero"`
	}
	if err := req.SetMultipartBody(upload{ID: "x", Meta: owTag{ID: "y", Label: "l"}, Note: oas.Some("n")}); err != nil {
		t.Fatal(err)
	}
	if err := hc.Call(req, nil); err != nil {
		t.Fatal(err)
	}
	body := string(seen.body[0])
	if strings.Contains(body, `name="id"`) || strings.Contains(body, `"id"`) || !strings.Contains(body, `{"label":"l"}`) || !strings.Contains(body, `name="note"`) {
		t.Fatalf("multipart body:\n%s", body)
	}
}
