package generator

import (
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/generator/config"
	"github.com/connectorgen/connectorgen/generator/emit"
	"github.com/connectorgen/connectorgen/generator/load"
	"github.com/connectorgen/connectorgen/generator/lower"
)

// addSeeds adds every golden input spec and the example specs as seeds.
func addSeeds(f *testing.F, patterns ...string) {
	for _, pattern := range patterns {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data)
			}
		}
	}
}

// FuzzGenerate runs load, lower and emit on arbitrary input without the
// panic recovery GenerateSpec has: any panic is a bug. Whatever emit
// produces must parse as Go.
func FuzzGenerate(f *testing.F) {
	addSeeds(f, "../golden/cases/*/spec.*", "../golden/errors/*/spec.*", "../specs/*/openapi.yaml")
	f.Add([]byte(`{"openapi":"3.0.0","info":{"title":"t","version":"1"},"paths":{"/a/{b}":{"get":{"responses":{"200":{"description":"x","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Missing"}}}}}}}}}`))
	f.Add([]byte("swagger: '2.0'\ninfo: {title: t, version: 1}\npaths: {}\n"))
	// Composition cycles that used to overflow the stack.
	f.Add([]byte("openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents: {schemas: {Test: {allOf: [{$ref: '#/components/schemas/Test'}]}}}\n"))
	f.Add([]byte("openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents: {schemas: {Test: {allOf: [{$ref: '#/components/schemas/Test'}, {type: object, properties: {a: {type: string}}}]}}}\n"))
	f.Add([]byte("openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents: {schemas: {A: {anyOf: [{$ref: '#/components/schemas/B'}]}, B: {oneOf: [{$ref: '#/components/schemas/A'}, {type: string}]}}}\n"))
	f.Add([]byte("swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}\ndefinitions: {A: {allOf: [{$ref: '#/definitions/B'}]}, B: {allOf: [{$ref: '#/definitions/A'}]}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		watchdog := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("hang on %q", data)) })
		defer watchdog.Stop()
		read := func(path string) ([]byte, error) {
			if filepath.Base(path) == "spec.yaml" {
				return data, nil
			}
			return nil, os.ErrNotExist
		}
		spec, diags := load.Load("spec.yaml", load.Options{ReadFile: read})
		if spec == nil {
			if !diags.HasErrors() {
				t.Fatal("Load returned no spec and no error")
			}
			return
		}
		pkg, _ := lower.Lower(spec, lower.Options{Package: "fuzz"})
		if pkg == nil {
			return
		}
		files, err := emit.Client(pkg)
		if err != nil {
			t.Fatalf("emit failed on a lowered package: %v", err)
		}
		fset := token.NewFileSet()
		for _, file := range files {
			if _, err := parser.ParseFile(fset, file.Name, file.Content, 0); err != nil {
				t.Fatalf("%s does not parse: %v", file.Name, err)
			}
		}
	})
}

// FuzzConfig decodes arbitrary connector configs: no panics, and a nil
// result always comes with an error diagnostic.
func FuzzConfig(f *testing.F) {
	addSeeds(f, "../specs/*/connector.yaml", "../golden/errors/*/connector.yaml")
	f.Add([]byte("version: 1\nsystems: {a: {spec: x}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, diags := config.Parse("connector.yaml", data)
		if cfg == nil && !diags.HasErrors() {
			t.Fatal("Parse returned nothing and no error")
		}
	})
}
