package hints_test

import (
	"encoding/json"
	"testing"

	"github.com/connectorgen/connectorgen/golden/cases/hints/hints"
)

// Unresolved refs are raw JSON and misspelt formats plain strings: nothing
// the server sends is lost.
func TestValuesKept(t *testing.T) {
	in := `{"again":"x","c":{"name":"n"},"d":[1],"id":"ID","mail":"a@b","when":"2024-01-01 00:00"}`
	var v hints.GetAResponse
	if err := json.Unmarshal([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(v)
	var a, b map[string]any
	json.Unmarshal([]byte(in), &a)
	json.Unmarshal(out, &b)
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	if string(x) != string(y) {
		t.Errorf("round trip:\n in  %s\n out %s", x, y)
	}
}
