package config

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
)

// TestValueAt: positions inside a scalar's value point at the source
// column of that part for plain and quoted scalars written as is, and at
// the scalar itself where the source differs from the value (escapes,
// folding).
func TestValueAt(t *testing.T) {
	src := "version: 1\n" +
		"a: plain {x}\n" +
		"b: \"quoted {x}\"\n" +
		"c: 'it''s {x}'\n" +
		"d: \"tab\\t{x}\"\n" +
		"e: folded\n  {x}\n"
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	d := &decoder{file: "f.yaml", lines: strings.Split(src, "\n")}
	m := doc.Content[0]
	want := map[string]string{"a": "f.yaml:2:10", "b": "f.yaml:3:12", "c": "f.yaml:4:4", "d": "f.yaml:5:4", "e": "f.yaml:6:4"}
	for i := 0; i < len(m.Content); i += 2 {
		k := m.Content[i].Value
		if k == "version" {
			continue
		}
		v := d.value(m.Content[i+1], k)
		if got := v.At(strings.Index(v.Text, "{x}")).String(); got != want[k] {
			t.Errorf("%s: %q at %s, want %s", k, v.Text, got, want[k])
		}
	}
}
