package composition_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/golden/cases/composition/composition"
	"github.com/connectorgen/connectorgen/runtime/oas"
)

// An allOf whose only other member makes `name` required is the member's
// object with name required (a plain string, not oas.Opt): before, the
// required list was dropped and the type was Named itself.
var _ = composition.RequiredName{Name: "required"}

// echo returns a client whose server answers every request with its body
// and records the bodies it received.
func echo(t *testing.T) (*composition.Client, *[]string) {
	t.Helper()
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, string(b))
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	c, err := composition.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c, &got
}

func TestAllOfMergesMembers(t *testing.T) {
	c, got := echo(t)
	created := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	in := composition.Pet{ID: "p1", Created: oas.Some(created), Name: oas.Some("Rex"), Tags: []string{"good"}, Kind: "dog"}
	out, err := c.CreatePet(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"id":"p1","created":"2024-05-06T07:08:09Z","name":"Rex","tags":["good"],"kind":"dog"}`; (*got)[0] != want {
		t.Errorf("sent %s, want %s", (*got)[0], want)
	}
	if out.ID != "p1" || out.Kind != "dog" || oas.Or(out.Name, "") != "Rex" || !oas.Or(out.Created, time.Time{}).Equal(created) {
		t.Errorf("decoded %+v", out)
	}
	// Required members of every part stay required: they are sent even
	// when empty; optional ones are left out.
	if _, err := c.CreatePet(context.Background(), composition.Pet{}); err != nil {
		t.Fatal(err)
	}
	if want := `{"id":"","kind":""}`; (*got)[1] != want {
		t.Errorf("sent %s, want %s", (*got)[1], want)
	}
}

func TestNestedAllOf(t *testing.T) {
	var ch composition.Champion
	data := `{"id":"c","name":"Ace","kind":"cat","trophies":3,"tags":["x"]}`
	if err := json.Unmarshal([]byte(data), &ch); err != nil {
		t.Fatal(err)
	}
	if ch.ID != "c" || oas.Or(ch.Name, "") != "Ace" || ch.Kind != "cat" || oas.Or(ch.Trophies, 0) != 3 || len(ch.Tags) != 1 {
		t.Errorf("decoded %+v", ch)
	}
	b, _ := json.Marshal(ch)
	if want := `{"id":"c","name":"Ace","tags":["x"],"kind":"cat","trophies":3}`; string(b) != want {
		t.Errorf("encoded %s, want %s", b, want)
	}
}

func TestOneOfDiscriminator(t *testing.T) {
	c, got := echo(t)
	ctx := context.Background()

	var a composition.Animal
	if err := a.FromCat(composition.Cat{PetType: "cat", Meows: oas.Some(true)}); err != nil {
		t.Fatal(err)
	}
	out, err := c.EchoAnimal(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if (*got)[0] != `{"petType":"cat","meows":true}` {
		t.Errorf("sent %s", (*got)[0])
	}
	if out.Which() != "Cat" || out.DiscriminatorValue() != "cat" {
		t.Fatalf("Which = %q, discriminator %q", out.Which(), out.DiscriminatorValue())
	}
	cat, err := out.AsCat()
	if err != nil || !oas.Or(cat.Meows, false) {
		t.Errorf("AsCat = %+v, %v", cat, err)
	}

	// The mapping, not the schema name, selects the variant.
	cases := []struct{ raw, which string }{
		{`{"petType":"doggo","barks":true}`, "Dog"},
		{`{"petType":"Dog","barks":true}`, ""}, // "Dog" is not a mapped value
		{`{"petType":"parrot"}`, ""},           // fits Cat's fields, but names no variant
		{`{"barks":false}`, "Dog"},             // no discriminator: the shape decides
		{`{"meows":true,"barks":true}`, ""},    // fits neither strictly
		{`"just a string"`, ""},                // not an object at all
		{`{"petType":"cat","colour":"grey"}`, "Cat"},
	}
	for _, tc := range cases {
		var u composition.Animal
		if err := json.Unmarshal([]byte(tc.raw), &u); err != nil {
			t.Fatalf("%s: unknown variants must decode: %v", tc.raw, err)
		}
		if u.Which() != tc.which {
			t.Errorf("%s: Which = %q, want %q", tc.raw, u.Which(), tc.which)
		}
		if string(u.Raw()) != tc.raw {
			t.Errorf("%s: Raw = %s", tc.raw, u.Raw())
		}
		b, _ := json.Marshal(u)
		if string(b) != tc.raw {
			t.Errorf("%s: re-encoded as %s; the raw value must survive", tc.raw, b)
		}
	}
}

func TestMappingConflict(t *testing.T) {
	var m composition.Mixup
	json.Unmarshal([]byte(`{"petType":"Dog"}`), &m)
	if m.Which() != "Cat" {
		t.Errorf("mapped Dog: Which = %q, want Cat", m.Which())
	}
	json.Unmarshal([]byte(`{"barks":true}`), &m)
	if m.Which() != "Dog" {
		t.Errorf("shape of Dog: Which = %q, want Dog", m.Which())
	}
}

func TestAnyOfByJSONKind(t *testing.T) {
	c, got := echo(t)
	ctx := context.Background()
	var v composition.Value
	if err := v.FromPoint(composition.ValuePoint{X: oas.Some(int64(1)), Y: oas.Some(int64(2))}); err != nil {
		t.Fatal(err)
	}
	out, err := c.EchoValue(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	if (*got)[0] != `{"x":1,"y":2}` || out.Which() != "Point" {
		t.Fatalf("sent %s, Which %q", (*got)[0], out.Which())
	}
	p, err := out.AsPoint()
	if err != nil || oas.Or(p.X, 0) != 1 || oas.Or(p.Y, 0) != 2 {
		t.Errorf("AsPoint = %+v, %v", p, err)
	}

	v.FromString("hello")
	out, err = c.EchoValue(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := out.AsString(); out.Which() != "String" || s != "hello" || err != nil {
		t.Errorf("Which %q, AsString %q, %v", out.Which(), s, err)
	}

	v.FromInt64List([]int64{3, 4})
	out, err = c.EchoValue(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	if l, err := out.AsInt64List(); out.Which() != "Int64List" || len(l) != 2 || l[1] != 4 || err != nil {
		t.Errorf("Which %q, AsInt64List %v, %v", out.Which(), l, err)
	}

	// A number is none of the variants: kept raw, Which is "".
	var n composition.Value
	if err := json.Unmarshal([]byte(`12.5`), &n); err != nil {
		t.Fatal(err)
	}
	if n.Which() != "" || !bytes.Equal(n.Raw(), []byte(`12.5`)) {
		t.Errorf("Which %q, Raw %s", n.Which(), n.Raw())
	}
	if _, err := n.AsString(); err == nil {
		t.Error("AsString of a number: want an error")
	}
}

func TestUnionsInsideStructs(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/owners/o1" {
			t.Errorf("path %s", r.URL.Path)
		}
		io.WriteString(w, `{"pet":{"petType":"doggo","barks":true},"nickname":{"name":"Bo"},"champion":{"id":"c","kind":"cat","trophies":2}}`)
	}))
	defer srv.Close()
	c, err := composition.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	o, err := c.GetOwner(context.Background(), composition.GetOwnerParams{ID: "o1"})
	if err != nil {
		t.Fatal(err)
	}
	if o.Pet.Which() != "Dog" {
		t.Errorf("pet: Which = %q", o.Pet.Which())
	}
	dog, _ := o.Pet.AsDog()
	nick, champ := o.Nickname, o.Champion
	if !oas.Or(dog.Barks, false) || nick == nil || nick.Name != "Bo" || champ == nil || oas.Or(champ.Trophies, 0) != 2 {
		t.Errorf("owner %+v", o)
	}
	// An absent union stays absent when re-encoded.
	var empty composition.Owner
	b, _ := json.Marshal(empty)
	if string(b) != `{}` {
		t.Errorf("empty owner encodes as %s", b)
	}
}
