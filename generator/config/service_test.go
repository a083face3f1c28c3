package config

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v4"
)

// TestServiceState decodes service.state, reports bad values at their
// position, and checks that the editor schema agrees on each case.
func TestServiceState(t *testing.T) {
	schema := compileSchema(t)
	for _, c := range []struct {
		service string
		want    []string
		err     string // "" : valid
	}{
		{service: `{}`, want: nil},
		{service: `{ state: [sqlite] }`, want: []string{"sqlite"}},
		{service: `{ state: [postgres, sqlite] }`, want: []string{"postgres", "sqlite"}},
		{service: `{ state: [postgres] }`, want: []string{"postgres"}},
		{service: `{ state: [mysql] }`, err: `2:20: service.state: unknown state store "mysql"`},
		{service: `{ state: [sqlite, sqlite] }`, err: `2:28: service.state: "sqlite" is listed twice`},
		{service: `{ state: [] }`, err: `2:19: service.state must name at least one`},
		{service: `{ state: postgres }`, err: `2:19: service.state must be a list`},
		{service: `{ main: false, state: [postgres] }`, err: `2:25: service.state chooses the stores of the generated main, but service.main is false`},
	} {
		src := "version: 1\nservice: " + c.service + "\nsystems:\n  a: { spec: a.yaml }\n"
		f, diags := Parse("c.yaml", []byte(src))
		got := diags.String()
		if c.err == "" {
			if diags.HasErrors() {
				t.Errorf("%s: %s", c.service, got)
			} else if !slices.Equal(f.State, c.want) {
				t.Errorf("%s: state %q, want %q", c.service, f.State, c.want)
			}
		} else if !strings.Contains(got, "c.yaml:"+c.err) {
			t.Errorf("%s: diagnostics %q, want one containing c.yaml:%s", c.service, got, c.err)
		}
		var v any
		if err := yaml.Unmarshal([]byte(src), &v); err != nil {
			t.Fatal(err)
		}
		j, _ := json.Marshal(v)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
		if err != nil {
			t.Fatal(err)
		}
		// main: false with a state is a cross-field rule only the
		// decoder knows; every other case the schema judges alike.
		if verr := schema.Validate(doc); (verr == nil) != (c.err == "") && !strings.Contains(c.service, "main: false") {
			t.Errorf("%s: schema says %v, decoder %q", c.service, verr, got)
		}
	}
}
