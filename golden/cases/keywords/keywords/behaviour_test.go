package keywords_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/connectorgen/connectorgen/golden/cases/keywords/keywords"
	"github.com/connectorgen/connectorgen/runtime/oas"
	"github.com/connectorgen/connectorgen/runtime/rest"
)

// Fixed API names keep their meaning; schemas named like them yield.
var (
	_ func(string, ...keywords.Option) (*keywords.Client, error) = keywords.NewClient
	_ keywords.ClientModel
	_ keywords.NewClientModel
	_ keywords.OptionModel = keywords.OptionModelSwitch
	_ keywords.ServerDefaultModel
	_ keywords.SpecVersionModel
	_ = keywords.ServerDefault
	_ = keywords.SpecVersion
	_ keywords.JSONKind // exported type beside the unexported jsonKind helper
	_ keywords.String   = "s"
)

func TestKeywordFieldsRoundTrip(t *testing.T) {
	v := keywords.Type{
		Type:        "t",
		Func:        "f",
		String:      oas.Some("s"),
		Map:         map[string]string{"k": "v"},
		Range:       []int64{1, 2},
		Default:     oas.Some("d"),
		Client:      oas.Some("c"),
		NewClient:   oas.Some("nc"),
		Option:      oas.Some("o"),
		Error:       oas.Some("e"),
		Interface:   oas.Some("i"),
		Chan:        oas.Some(true),
		Nil:         oas.Null[string](),
		True:        oas.Some(false),
		Iota:        oas.Some(int64(0)),
		Len:         oas.Some(int64(3)),
		MarshalJSON: oas.Some("m"),
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"t","func":"f","string":"s","map":{"k":"v"},"range":[1,2],"default":"d","Client":"c","NewClient":"nc","Option":"o","error":"e","interface":"i","chan":true,"nil":null,"true":false,"iota":0,"len":3,"MarshalJSON":"m"}`
	if string(b) != want {
		t.Fatalf("marshal:\n got %s\nwant %s", b, want)
	}
	var back keywords.Type
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(back)
	if string(b2) != want {
		t.Errorf("round trip:\n got %s\nwant %s", b2, want)
	}
}

func TestParamsNamedLikeLocals(t *testing.T) {
	var gotURI, gotDefault, gotCookie string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotURI, gotDefault, gotCookie = r.URL.RequestURI(), r.Header.Get("default"), r.Header.Get("Cookie")
		if r.URL.Path == "/range/missing" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":"lower","Error":"upper"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"type":"x","func":"y","len":5}`)
	}))
	defer srv.Close()
	c, err := keywords.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	out, err := c.Range(ctx, keywords.RangeParams{
		Type: "a b", Func: oas.Some("1"), Map: oas.Some(int64(2)), Ctx: oas.Some("3"), P: oas.Some("4"),
		Req: oas.Some("5"), Resp: oas.Some("6"), Err: oas.Some("7"), Body: oas.Some("8"),
		Default: oas.Some("dflt"), Select: oas.Some("sel"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "/range/a%20b?func=1&map=2&ctx=3&p=4&req=5&resp=6&err=7&body=8"; gotURI != want {
		t.Errorf("URI = %q, want %q", gotURI, want)
	}
	if gotDefault != "dflt" || gotCookie != "select=sel" {
		t.Errorf("default header %q, cookie %q", gotDefault, gotCookie)
	}
	if out.Type != "x" || out.Func != "y" || oas.Or(out.Len, 0) != 5 {
		t.Errorf("decoded %+v", out)
	}

	_, err = c.Range(ctx, keywords.RangeParams{Type: "missing"})
	var apiErr *rest.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound {
		t.Fatalf("err = %v, want a *rest.Error with status 404", err)
	}
	model, ok := apiErr.Model.(*keywords.Error)
	if !ok {
		t.Fatalf("Model = %T, want *keywords.Error", apiErr.Model)
	}
	if oas.Or(model.Error, "") != "lower" || oas.Or(model.Error2, "") != "upper" {
		t.Errorf("model = %+v", model)
	}
}

func TestMethodsNamedLikeAPI(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/func":
			b, _ := io.ReadAll(r.Body)
			if string(b) != `"in"` {
				t.Errorf("func body = %s", b)
			}
			io.WriteString(w, `{"a":{"type":"1","func":"2"}}`)
		case "/new-client":
			io.WriteString(w, `{"go":"yes"}`)
		case "/option":
			io.WriteString(w, `"case"`)
		}
	}))
	defer srv.Close()
	c, err := keywords.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m, err := c.Func(ctx, "in")
	if err != nil || m["a"].Func != "2" {
		t.Fatalf("Func = %+v, %v", m, err)
	}
	nc, err := c.NewClient(ctx)
	if err != nil || oas.Or(nc.Go, "") != "yes" {
		t.Fatalf("NewClient = %+v, %v", nc, err)
	}
	o, err := c.Option(ctx)
	if err != nil || o != keywords.OptionModelCase {
		t.Fatalf("Option = %q, %v", o, err)
	}
}

func TestUnionNamedLikeHelper(t *testing.T) {
	var k keywords.JSONKind
	if err := json.Unmarshal([]byte(`42`), &k); err != nil {
		t.Fatal(err)
	}
	if k.Which() != "Int64" {
		t.Fatalf("Which = %q", k.Which())
	}
	if err := k.FromString("s"); err != nil || k.Which() != "String" {
		t.Fatalf("FromString: %v, Which %q", err, k.Which())
	}
}
