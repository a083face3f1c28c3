package wirenames_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/connectorgen/connectorgen/golden/cases/wirenames/wirenames"
	"github.com/connectorgen/connectorgen/runtime/oas"
)

// Property names a struct tag cannot spell go on the wire exactly: before,
// "`param1" was sent as "Param1" and "" was never decoded.
func TestOddNamesOnTheWire(t *testing.T) {
	var sent map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &sent); err != nil {
			t.Errorf("request body %s: %v", b, err)
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"a,b":"x","plain":"p","n":3}`)
	}))
	defer srv.Close()
	c, err := wirenames.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.EchoOdd(context.Background(), wirenames.Odd{
		Param1:    1,
		AB:        oas.Some("ab"),
		SayHi:     oas.Some("hi"),
		Field:     "empty",
		Minus:     oas.Some(true),
		BackSlash: oas.Some(int64(2)),
		WithSpace: oas.Some("s"),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"`param1": 1.0, "a,b": "ab", `say "hi"`: "hi", "": "empty", "-": true, `back\slash`: 2.0, "with space": "s"}
	if len(sent) != len(want) {
		t.Errorf("sent %v, want %v", sent, want)
	}
	for k, v := range want {
		if sent[k] != v {
			t.Errorf("sent[%q] = %v, want %v (whole body %v)", k, sent[k], v, sent)
		}
	}
	if oas.Or(got.AB, "") != "x" || oas.Or(got.Plain, "") != "p" || got.AdditionalProperties["n"] != 3 || len(got.AdditionalProperties) != 1 {
		t.Errorf("decoded %+v", got)
	}
}

// Decoding then encoding keeps every odd-named property, absent ones stay
// absent.
func TestOddNamesRoundTrip(t *testing.T) {
	in := `{"":"e","-":false,"` + "`param1" + `":7,"a,b":"x","back\\slash":1,"plain":"p","say \"hi\"":"h","with space":"w"}`
	var v wirenames.Odd
	if err := json.Unmarshal([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	if v.Param1 != 7 || v.Field != "e" || oas.Or(v.Minus, true) != false || oas.Or(v.BackSlash, 0) != 1 || oas.Or(v.SayHi, "") != "h" {
		t.Errorf("decoded %+v", v)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var a, b map[string]any
	json.Unmarshal([]byte(in), &a)
	json.Unmarshal(out, &b)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Errorf("round trip:\n in  %s\n out %s", ja, jb)
	}
	out, _ = json.Marshal(wirenames.Odd{})
	if string(out) != `{"":"","`+"`param1"+`":0}` {
		t.Errorf("zero value encodes as %s; want only the required properties", out)
	}
}
