package enums_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/connectorgen/connectorgen/golden/cases/enums/enums"
	"github.com/connectorgen/connectorgen/runtime/oas"
	"github.com/connectorgen/connectorgen/runtime/rest"
)

// The enum constant for "open" yields to the component type StatusOpen,
// which keeps its name.
var (
	_ enums.StatusOpen = enums.StatusOpen{Since: oas.Some("x")}
	_ enums.Status     = enums.StatusOpen2
)

func server(t *testing.T, h http.HandlerFunc) *enums.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := enums.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConstantValues(t *testing.T) {
	strs := map[string]string{
		"StatusOpen2":  string(enums.StatusOpen2),
		"StatusOnHold": string(enums.StatusOnHold),
		"SymbolAB":     string(enums.SymbolAB),
		"SymbolAB2":    string(enums.SymbolAB2),
		"SymbolAB3":    string(enums.SymbolAB3),
		"SymbolPlus":   string(enums.SymbolPlus),
		"SymbolMinus":  string(enums.SymbolMinus),
		"SymbolEmpty":  string(enums.SymbolEmpty),
		"Symbol1St":    string(enums.Symbol1St),
		"Digits1":      string(enums.Digits1),
	}
	want := map[string]string{
		"StatusOpen2": "open", "StatusOnHold": "on-hold", "SymbolAB": "a-b", "SymbolAB2": "a_b", "SymbolAB3": "A B",
		"SymbolPlus": "+", "SymbolMinus": "-", "SymbolEmpty": "", "Symbol1St": "1st", "Digits1": "1",
	}
	for k, v := range want {
		if strs[k] != v {
			t.Errorf("%s = %q, want %q", k, strs[k], v)
		}
	}
	if enums.Priority2 != 2 || enums.Ratio05 != 0.5 || enums.Ratio15 != 1.5 {
		t.Errorf("numeric constants: %v %v %v", enums.Priority2, enums.Ratio05, enums.Ratio15)
	}
	// Every listed value is known, including the empty string.
	for _, s := range []enums.Symbol{enums.SymbolAB, enums.SymbolAB2, enums.SymbolAB3, enums.SymbolPlus, enums.SymbolMinus, enums.SymbolEmpty, enums.Symbol1St} {
		if !s.IsKnown() {
			t.Errorf("%q: IsKnown = false", s)
		}
	}
	if enums.Symbol("a b").IsKnown() || enums.Status("OPEN").IsKnown() || enums.Priority(4).IsKnown() || enums.Ratio(1).IsKnown() {
		t.Error("unlisted values reported as known")
	}
}

// Enum parameters go on the wire as their values.
func TestEnumParams(t *testing.T) {
	var query string
	c := server(t, func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.RawQuery
		io.WriteString(w, `[]`)
	})
	_, err := c.ListOrders(context.Background(), enums.ListOrdersParams{
		Status:     oas.Some(enums.StatusOnHold),
		Priorities: []enums.Priority{enums.Priority3, 7},
		Sort:       oas.Some(enums.ListOrdersParamsSortDesc),
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "status=on-hold&priorities=3&priorities=7&sort=desc"; query != want {
		t.Errorf("query %q, want %q", query, want)
	}
}

// Values the spec does not list decode without error, are detectable with
// IsKnown, and survive a round trip unchanged.
func TestUnknownValuesDecode(t *testing.T) {
	const body = `[{"id":"1","status":"archived","priority":9,"ratio":2.5,"symbol":"new","mark":"z","channel":"fax","digits":"3","tags":["open","lost"]},` +
		`{"id":"2","status":"open","priority":1,"ratio":0.5,"symbol":"a_b","mark":null,"channel":"web","digits":"1","flag":true}]`
	c := server(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) })
	orders, err := c.ListOrders(context.Background(), enums.ListOrdersParams{})
	if err != nil {
		t.Fatal(err)
	}
	if len(orders) != 2 {
		t.Fatalf("got %d orders", len(orders))
	}
	u, k := orders[0], orders[1]
	if u.Status != "archived" || u.Status.IsKnown() {
		t.Errorf("status %q known=%v", u.Status, u.Status.IsKnown())
	}
	if p, _ := u.Priority.Get(); p != 9 || p.IsKnown() {
		t.Errorf("priority %v", u.Priority)
	}
	if r, _ := u.Ratio.Get(); r != 2.5 || r.IsKnown() {
		t.Errorf("ratio %v", u.Ratio)
	}
	if ch, _ := u.Channel.Get(); ch != "fax" || ch.IsKnown() {
		t.Errorf("channel %v", u.Channel)
	}
	if m, _ := u.Mark.Get(); m != "z" || m.IsKnown() {
		t.Errorf("mark %v", u.Mark)
	}
	if len(u.Tags) != 2 || !u.Tags[0].IsKnown() || u.Tags[1].IsKnown() {
		t.Errorf("tags %v", u.Tags)
	}
	if k.Status != enums.StatusOpen2 || !k.Status.IsKnown() || oas.Or(k.Priority, 0) != enums.Priority1 ||
		oas.Or(k.Symbol, "") != enums.SymbolAB2 || !k.Mark.IsNull() || oas.Or(k.Channel, "") != enums.OrderChannelWeb || !oas.Or(k.Flag, false) {
		t.Errorf("known order decoded as %+v", k)
	}
	b, err := json.Marshal(orders)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != body {
		t.Errorf("re-encoded\n%s\nwant\n%s", b, body)
	}
}

// An integer enum is an integer: a fractional value is a decode error, not
// a silently truncated value.
func TestIntegerEnumRejectsFractions(t *testing.T) {
	c := server(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `[{"id":"1","status":"open","priority":1.5}]`)
	})
	_, err := c.ListOrders(context.Background(), enums.ListOrdersParams{})
	var de *rest.DecodeError
	if !errors.As(err, &de) || de.StatusCode != 200 {
		t.Fatalf("err = %v, want a *rest.DecodeError", err)
	}
}

// Unknown values are sent as given: the client does not second-guess a
// server that accepts more than its spec says.
func TestUnknownValuesEncode(t *testing.T) {
	var got string
	c := server(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = string(b)
		w.WriteHeader(http.StatusCreated)
		w.Write(b)
	})
	out, err := c.CreateOrder(context.Background(), enums.Order{ID: "n", Status: "draft", Priority: oas.Some(enums.Priority(0)), Mark: oas.Null[enums.Nullable]()})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"id":"n","status":"draft","priority":0,"mark":null}`; got != want {
		t.Errorf("sent %s, want %s", got, want)
	}
	if out.Status != "draft" || out.Status.IsKnown() || out.Priority.IsZero() || !out.Mark.IsNull() {
		t.Errorf("decoded %+v", out)
	}
}
