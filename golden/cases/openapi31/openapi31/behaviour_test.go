package openapi31_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/connectorgen/connectorgen/golden/cases/openapi31/openapi31"
	"github.com/connectorgen/connectorgen/runtime/oas"
)

// A $ref with sibling keywords is still the referenced component's type,
// not a copy of it.
var (
	_ oas.Opt[openapi31.Label]      = openapi31.Thing{}.Label
	_ oas.Nullable[openapi31.Owner] = openapi31.Thing{}.Owner
)

func echo(t *testing.T) (*openapi31.Client, *[]string) {
	t.Helper()
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, string(b))
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	c, err := openapi31.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c, &got
}

func TestTypeArraysAndConst(t *testing.T) {
	c, got := echo(t)
	ctx := context.Background()
	var id openapi31.ThingIDOrName
	if err := id.FromInt64(42); err != nil {
		t.Fatal(err)
	}
	in := openapi31.Thing{
		Kind:     openapi31.ThingKindThing,
		Name:     oas.Null[string](),
		Count:    0,
		Score:    oas.Value(0.25),
		IDOrName: id,
		Label:    oas.Some[openapi31.Label]("l"),
		Owner:    oas.Value(openapi31.Owner{ID: oas.Some("o")}),
		Tags:     oas.Value([]string{}),
		Version:  oas.Some(openapi31.ThingVersion2),
	}
	out, err := c.EchoThing(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"kind":"thing","name":null,"count":0,"score":0.25,"idOrName":42,"label":"l","owner":{"id":"o"},"tags":[],"version":2}`
	if (*got)[0] != want {
		t.Fatalf("sent %s\nwant %s", (*got)[0], want)
	}
	if !out.Name.IsNull() || oas.Or(out.Score, 0) != 0.25 || out.IDOrName.Which() != "Int64" || !out.Kind.IsKnown() || oas.Or(out.Version, 0) != 2 {
		t.Errorf("decoded %+v", out)
	}
	if tags, ok := out.Tags.Get(); !ok || tags == nil || len(tags) != 0 {
		t.Errorf("tags %v", out.Tags)
	}

	// The other member of each type array.
	in.Name, in.Score, in.Owner, in.Tags = oas.Value("n"), oas.Null[float64](), oas.Null[openapi31.Owner](), oas.Null[[]string]()
	in.IDOrName.FromString("abc")
	in.Label, in.Version = oas.Opt[openapi31.Label]{}, oas.Opt[openapi31.ThingVersion]{}
	out, err = c.EchoThing(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	want = `{"kind":"thing","name":"n","count":0,"score":null,"idOrName":"abc","owner":null,"tags":null}`
	if (*got)[1] != want {
		t.Fatalf("sent %s\nwant %s", (*got)[1], want)
	}
	if s, err := out.IDOrName.AsString(); err != nil || s != "abc" || out.IDOrName.Which() != "String" {
		t.Errorf("idOrName %s (%s)", out.IDOrName.Raw(), out.IDOrName.Which())
	}
	if !out.Score.IsNull() || !out.Owner.IsNull() || !out.Tags.IsNull() || oas.Or(out.Name, "") != "n" {
		t.Errorf("decoded %+v", out)
	}

	// A const the server breaks is still decoded, and detectable.
	var th openapi31.Thing
	if err := json.Unmarshal([]byte(`{"kind":"other","name":null,"count":1,"version":3}`), &th); err != nil {
		t.Fatal(err)
	}
	if th.Kind.IsKnown() || oas.Or(th.Version, 0).IsKnown() {
		t.Errorf("unexpected consts reported as known: %+v", th)
	}
}
