package config

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v4"
)

// compileSchema compiles connector.schema.json.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	data, err := os.ReadFile("connector.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("connector.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("connector.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// asJSONValue decodes YAML into the generic values the validator takes.
func asJSONValue(t *testing.T, file string) any {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSchemaAcceptsWhatParseAccepts keeps the editor schema and the
// decoder in step: the example config validates, and every config the
// decoder rejects for its shape the schema rejects too. (The schema may
// catch more, such as a misspelt transform, which bind reports.)
func TestSchemaAcceptsWhatParseAccepts(t *testing.T) {
	s := compileSchema(t)
	files, _ := filepath.Glob(filepath.Join("..", "..", "golden", "errors", "mapping-*", "connector.yaml"))
	files = append(files, filepath.Join("..", "..", "specs", "crmemail", "connector.yaml"))
	if len(files) < 10 {
		t.Fatalf("found only %d configs", len(files))
	}
	for _, f := range files {
		data, _ := os.ReadFile(f)
		_, diags := Parse(f, data)
		err := s.Validate(asJSONValue(t, f))
		switch {
		case diags.HasErrors() && err == nil:
			t.Errorf("%s: the decoder reports %s but the schema accepts it", f, strings.TrimSpace(diags.String()))
		case !strings.Contains(f, "errors") && err != nil:
			t.Errorf("%s: the schema rejects a valid config: %v", f, err)
		}
	}
}
