package recursive_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/connectorgen/connectorgen/golden/cases/recursive/recursive"
	"github.com/connectorgen/connectorgen/runtime/oas"
)

// Recursive collections of themselves are plain defined types.
var (
	_ recursive.Forest = recursive.Forest{{{}}}
	_ recursive.Dict   = recursive.Dict{"a": {"b": nil}}
)

func echo(t *testing.T) (*recursive.Client, *[]string) {
	t.Helper()
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, string(b))
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	c, err := recursive.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c, &got
}

var ctx = context.Background()

func TestSelfRecursion(t *testing.T) {
	c, got := echo(t)
	in := recursive.Node{
		Name:   "root",
		Parent: &recursive.Node{Name: "up", Parent: &recursive.Node{Name: "top"}},
		Children: []recursive.Node{
			{Name: "c1", Children: []recursive.Node{{Name: "c1a"}}},
			{Name: "c2", ByName: map[string]recursive.Node{"x": {Name: "cx"}}},
		},
		Grid: [][]recursive.Node{{{Name: "g00"}}, {}},
	}
	out, err := c.EchoTree(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"name":"root","parent":{"name":"up","parent":{"name":"top"}},"children":[{"name":"c1","children":[{"name":"c1a"}]},` +
		`{"name":"c2","byName":{"x":{"name":"cx"}}}],"grid":[[{"name":"g00"}],[]]}`
	if (*got)[0] != want {
		t.Fatalf("sent %s\nwant %s", (*got)[0], want)
	}
	if out.Parent == nil || out.Parent.Parent == nil || out.Parent.Parent.Name != "top" || out.Parent.Parent.Parent != nil {
		t.Errorf("parents %+v", out.Parent)
	}
	if out.Children[0].Children[0].Name != "c1a" || out.Children[1].ByName["x"].Name != "cx" || out.Grid[0][0].Name != "g00" || len(out.Grid[1]) != 0 {
		t.Errorf("decoded %+v", out)
	}
	b, _ := json.Marshal(out)
	if string(b) != want {
		t.Errorf("re-encoded %s", b)
	}

	// Depth is limited only by the decoder.
	deep := strings.Repeat(`{"name":"n","parent":`, 200) + `{"name":"leaf"}` + strings.Repeat(`}`, 200)
	var n recursive.Node
	if err := json.Unmarshal([]byte(deep), &n); err != nil {
		t.Fatal(err)
	}
	depth := 0
	for p := &n; p.Parent != nil; p = p.Parent {
		depth++
	}
	if depth != 200 {
		t.Errorf("depth %d, want 200", depth)
	}
}

func TestMutualRecursion(t *testing.T) {
	c, got := echo(t)
	boss := recursive.Person{Name: "boss"}
	in := recursive.Person{
		Name: "ann",
		Team: &recursive.Team{
			Lead:    &boss,
			Deputy:  oas.Value(&recursive.Person{Name: "dan", Team: &recursive.Team{Lead: &recursive.Person{Name: "ann"}}}),
			Members: []recursive.Person{{Name: "m1"}},
		},
	}
	out, err := c.EchoOrg(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"name":"ann","team":{"lead":{"name":"boss"},"deputy":{"name":"dan","team":{"lead":{"name":"ann"}}},"members":[{"name":"m1"}]}}`
	if (*got)[0] != want {
		t.Fatalf("sent %s\nwant %s", (*got)[0], want)
	}
	d, ok := out.Team.Deputy.Get()
	if !ok || d.Name != "dan" || d.Team.Lead.Name != "ann" || out.Team.Lead.Name != "boss" || out.Team.Members[0].Name != "m1" {
		t.Errorf("decoded %+v", out.Team)
	}

	// The nullable recursive member keeps null apart from absent.
	in.Team.Deputy = oas.Null[*recursive.Person]()
	out, err = c.EchoOrg(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains((*got)[1], `"deputy":null`) || !out.Team.Deputy.IsNull() {
		t.Errorf("sent %s, deputy %v", (*got)[1], out.Team.Deputy)
	}
	in.Team.Deputy = oas.Nullable[*recursive.Person]{}
	if _, err := c.EchoOrg(ctx, in); err != nil {
		t.Fatal(err)
	}
	if strings.Contains((*got)[2], "deputy") {
		t.Errorf("absent deputy sent: %s", (*got)[2])
	}
}

func lit(t *testing.T, v float64) recursive.Expr {
	var e recursive.Expr
	if err := e.FromLiteral(recursive.Literal{Kind: "lit", Value: v}); err != nil {
		t.Fatal(err)
	}
	return e
}

func bin(t *testing.T, op string, l, r recursive.Expr) recursive.Expr {
	var e recursive.Expr
	if err := e.FromBinOp(recursive.BinOp{Kind: "bin", Op: op, Left: l, Right: r}); err != nil {
		t.Fatal(err)
	}
	return e
}

func eval(t *testing.T, e recursive.Expr) float64 {
	switch e.Which() {
	case "Literal":
		l, err := e.AsLiteral()
		if err != nil {
			t.Fatal(err)
		}
		return l.Value
	case "BinOp":
		b, err := e.AsBinOp()
		if err != nil {
			t.Fatal(err)
		}
		switch b.Op {
		case "+":
			return eval(t, b.Left) + eval(t, b.Right)
		case "*":
			return eval(t, b.Left) * eval(t, b.Right)
		}
	}
	t.Fatalf("cannot evaluate %s (Which %q)", e.Raw(), e.Which())
	return 0
}

func TestRecursiveUnion(t *testing.T) {
	c, got := echo(t)
	// (1 + 2) * 4
	in := bin(t, "*", bin(t, "+", lit(t, 1), lit(t, 2)), lit(t, 4))
	out, err := c.EchoExpr(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"kind":"bin","op":"*","left":{"kind":"bin","op":"+","left":{"kind":"lit","value":1},"right":{"kind":"lit","value":2}},"right":{"kind":"lit","value":4}}`
	if (*got)[0] != want {
		t.Fatalf("sent %s\nwant %s", (*got)[0], want)
	}
	if v := eval(t, out); v != 12 {
		t.Errorf("evaluated %v, want 12", v)
	}
}

func TestRecursiveArraysAndMaps(t *testing.T) {
	c, got := echo(t)
	const doc = `{"a":["x",1.5,{"b":[]}],"c":{}}`
	var in recursive.JSONValue
	if err := json.Unmarshal([]byte(doc), &in); err != nil {
		t.Fatal(err)
	}
	out, err := c.EchoJSON(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if (*got)[0] != doc || string(out.Raw()) != doc {
		t.Fatalf("sent %s, received %s", (*got)[0], out.Raw())
	}
	if out.Which() != "JSONValueMap" {
		t.Fatalf("Which = %q", out.Which())
	}
	m, err := out.AsJSONValueMap()
	if err != nil {
		t.Fatal(err)
	}
	list, err := m["a"].AsJSONValueList()
	if err != nil || len(list) != 3 {
		t.Fatalf("a = %v, %v", list, err)
	}
	if s, _ := list[0].AsString(); list[0].Which() != "String" || s != "x" {
		t.Errorf("a[0] = %s (%s)", list[0].Raw(), list[0].Which())
	}
	if f, _ := list[1].AsFloat64(); list[1].Which() != "Float64" || f != 1.5 {
		t.Errorf("a[1] = %s (%s)", list[1].Raw(), list[1].Which())
	}
	inner, err := list[2].AsJSONValueMap()
	if err != nil || inner["b"].Which() != "JSONValueList" {
		t.Errorf("a[2] = %s, %v", list[2].Raw(), err)
	}

	// Building one from Go values gives the same document.
	var b, x, f, a, cc, root recursive.JSONValue
	b.FromJSONValueList([]recursive.JSONValue{})
	x.FromString("x")
	f.FromFloat64(1.5)
	var bm recursive.JSONValue
	bm.FromJSONValueMap(map[string]recursive.JSONValue{"b": b})
	a.FromJSONValueList([]recursive.JSONValue{x, f, bm})
	cc.FromJSONValueMap(map[string]recursive.JSONValue{})
	root.FromJSONValueMap(map[string]recursive.JSONValue{"a": a, "c": cc})
	enc, err := json.Marshal(root)
	if err != nil || string(enc) != doc {
		t.Errorf("built %s, %v; want %s", enc, err, doc)
	}
}
