package emit

import (
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/connectorgen/connectorgen/generator/ir"
)

// TestMainImportsOnlyChosenStores: the generated main imports the driver
// of each store in service.state and nothing else, so a consumer's go.mod
// grows only with what the config lists; postgres registers riverexec's
// opener for both URL schemes.
func TestMainImportsOnlyChosenStores(t *testing.T) {
	c := &ir.Connector{Package: "crmemail"}
	for _, tc := range []struct {
		states     []string
		want, not  []string
		registered []string
	}{
		{states: nil, want: []string{PkgSQLiteStore}, not: []string{PkgRiverExec}, registered: []string{`"sqlite"`}},
		{states: []string{"sqlite"}, want: []string{PkgSQLiteStore}, not: []string{PkgRiverExec}, registered: []string{`"sqlite"`}},
		{states: []string{"postgres"}, want: []string{PkgRiverExec}, not: []string{PkgSQLiteStore, "net/url"}, registered: []string{`"postgres"`, `"postgresql"`}},
		{states: []string{"sqlite", "postgres"}, want: []string{PkgSQLiteStore, PkgRiverExec}, registered: []string{`"sqlite"`, `"postgres"`, `"postgresql"`}},
	} {
		f, err := Main(c, "example.com/m/crmemail", "connector.yaml", tc.states)
		if err != nil {
			t.Fatal(err)
		}
		pf, err := parser.ParseFile(token.NewFileSet(), "main_gen.go", f.Content, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			t.Fatalf("%v: the main does not parse: %v\n%s", tc.states, err, f.Content)
		}
		var imports []string
		for _, im := range pf.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			imports = append(imports, p)
		}
		for _, w := range tc.want {
			if !slices.Contains(imports, w) {
				t.Errorf("%v: main does not import %s: %v", tc.states, w, imports)
			}
		}
		for _, n := range tc.not {
			if slices.Contains(imports, n) {
				t.Errorf("%v: main imports %s: %v", tc.states, n, imports)
			}
		}
		for _, r := range tc.registered {
			if !strings.Contains(string(f.Content), `c.Stores[`+r+`] =`) {
				t.Errorf("%v: main does not register %s:\n%s", tc.states, r, f.Content)
			}
		}
		if f.Name != "cmd/crmemail/main_gen.go" {
			t.Errorf("file %s", f.Name)
		}
	}
}
