package oas

import (
	"encoding/json"
	"testing"
)

// FuzzScanner checks that the object scanner never panics and agrees with
// encoding/json about validity and about the discriminator value.
func FuzzScanner(f *testing.F) {
	for _, s := range []string{`{"type":"a"}`, `{"a":{"type":"x"},"type":"b\u0041"}`, `[1]`, `{"type":1}`, `{`, `{"t\"":"q"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := PeekString(data, "type")
		var m map[string]json.RawMessage
		stdErr := json.Unmarshal(data, &m)
		if ok && stdErr != nil {
			t.Fatalf("PeekString accepted invalid object %q", data)
		}
		if stdErr == nil && m != nil {
			var want string
			raw, present := m["type"]
			isString := present && json.Unmarshal(raw, &want) == nil && len(raw) > 0 && raw[0] == '"'
			if isString != ok || got != want {
				// encoding/json matches keys case-insensitively only for
				// struct fields, not maps, so results must agree exactly.
				t.Fatalf("PeekString(%q) = %q, %v; encoding/json %q, %v", data, got, ok, want, isString)
			}
		}
		_, _ = UnmarshalExtra[any](data, nil)
		var o Opt[string]
		_ = o.UnmarshalJSON(data)
		var n Nullable[int64]
		_ = n.UnmarshalJSON(data)
	})
}
