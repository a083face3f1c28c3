package cycles_test

import (
	"encoding/json"
	"testing"

	"github.com/connectorgen/connectorgen/golden/cases/cycles/cycles"
	"github.com/connectorgen/connectorgen/runtime/oas"
)

// Schemas whose allOf/anyOf/oneOf lead back to themselves generate (they
// used to overflow the stack) and keep every value they are given: the
// member closing the cycle is raw JSON, the rest stays typed.
func TestCyclicCompositionRoundTrips(t *testing.T) {
	in := `{"self":{"x":[1,2]},"selfWithProps":{"a":"A"},"mutual":"m","any":{"k":true},"selfAny":7,"mixed":"text"}`
	var h cycles.Holder
	if err := json.Unmarshal([]byte(in), &h); err != nil {
		t.Fatal(err)
	}
	if v := h.SelfWithProps; v == nil || oas.Or(v.A, "") != "A" {
		t.Errorf("selfWithProps.a = %+v, want A (the member beside the self reference stays typed)", h.SelfWithProps)
	}
	if h.Mixed.Which() != "String" {
		t.Errorf("mixed variant = %q, want String", h.Mixed.Which())
	}
	out, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	json.Unmarshal([]byte(in), &a)
	json.Unmarshal(out, &b)
	if ja, jb := mustJSON(a), mustJSON(b); ja != jb {
		t.Errorf("round trip lost data:\n in  %s\n out %s", ja, jb)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
