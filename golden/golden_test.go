// Package golden holds connectorgen's golden tests: for every case under
// cases/ and errors/, the generator's output must equal the committed
// expectation byte for byte, twice in a row.
//
// cases/NAME/ holds an input spec (spec.yaml, spec.json, or several files
// with spec.* as the root), the expected package in cases/NAME/NAME/ (real
// Go, built and vetted with this module, with hand-written behaviour tests
// beside it), and warnings.txt with the expected warnings. errors/NAME/
// holds an input spec and want.txt with the exact diagnostics.
//
// Run with -update to rewrite the expectations from the current generator.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/connectorgen/connectorgen/generator"
	"github.com/connectorgen/connectorgen/generator/config"
	"github.com/connectorgen/connectorgen/generator/output"
)

var update = flag.Bool("update", false, "rewrite golden files from the current generator output")

// specOf finds a case's root spec file.
func specOf(t *testing.T, dir string) string {
	t.Helper()
	for _, name := range []string{"spec.yaml", "spec.yml", "spec.json"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return filepath.ToSlash(p)
		}
	}
	t.Fatalf("%s: no spec.yaml, spec.yml or spec.json", dir)
	return ""
}

func caseDirs(t *testing.T, root string) []string {
	t.Helper()
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	if len(out) == 0 {
		t.Fatalf("no cases under %s", root)
	}
	return out
}

// compareTree checks (or with -update, writes) generated files against the
// expected directory.
func compareTree(t *testing.T, root string, res *generator.Result) {
	t.Helper()
	if *update {
		if _, err := output.Write(root, res.Files, res.Dirs, generator.Header); err != nil {
			t.Fatal(err)
		}
		return
	}
	rep, err := output.Compare(root, res.Files, res.Dirs, generator.Header)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.UpToDate() {
		t.Errorf("generated output differs from the golden files in %s (run go test ./golden -update to accept):\n%s", root, rep)
	}
}

// compareText checks (or updates) a text golden file.
func compareText(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if got == "" {
			os.Remove(path)
			return
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// TestCases generates every case twice: the two runs must be byte-identical
// and equal the committed package and warnings.
func TestCases(t *testing.T) {
	for _, name := range caseDirs(t, "cases") {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("cases", name)
			spec := specOf(t, dir)
			pkg := strings.ReplaceAll(name, "-", "")
			opts := generator.Options{OutputDir: filepath.Join(dir, pkg)}
			first := generator.GenerateSpec(spec, pkg, opts)
			if !first.OK() {
				t.Fatalf("generation failed:\n%s", first.Diagnostics)
			}
			second := generator.GenerateSpec(spec, pkg, opts)
			if diff := cmp.Diff(first.Files, second.Files); diff != "" {
				t.Fatalf("two runs differ (-first +second):\n%s", diff)
			}
			compareTree(t, filepath.Join(dir, pkg), first)
			compareText(t, filepath.Join(dir, "warnings.txt"), first.Diagnostics.Warnings().String())
		})
	}
}

// TestErrors pins the exact diagnostics for inputs that must not generate.
func TestErrors(t *testing.T) {
	for _, name := range caseDirs(t, "errors") {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("errors", name)
			var res *generator.Result
			if _, err := os.Stat(filepath.Join(dir, "connector.yaml")); err == nil {
				cfg, diags := config.Load(filepath.ToSlash(filepath.Join(dir, "connector.yaml")))
				res = &generator.Result{Diagnostics: diags}
				if cfg != nil {
					res = generator.GenerateConfig(cfg, generator.Options{})
				}
			} else {
				res = generator.GenerateSpec(specOf(t, dir), "client", generator.Options{Strict: strict(dir)})
			}
			if res.OK() {
				t.Fatalf("generation succeeded; want diagnostics")
			}
			if len(res.Files) != 0 {
				t.Errorf("failed generation returned %d files", len(res.Files))
			}
			compareText(t, filepath.Join(dir, "want.txt"), res.Diagnostics.String())
		})
	}
}

// strict reports whether an error case runs with -strict (a file named
// "strict" in the case directory).
func strict(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "strict"))
	return err == nil
}

// TestExamplesUpToDate checks the example connector's generated packages
// (golden/crmemail) against the generator, like `connectorgen check`.
func TestExamplesUpToDate(t *testing.T) {
	cfg, diags := config.Load("../specs/crmemail/connector.yaml")
	if cfg == nil {
		t.Fatalf("config: %s", diags)
	}
	res := generator.GenerateConfig(cfg, generator.Options{OutputDir: cfg.OutputDir()})
	if !res.OK() {
		t.Fatalf("generation failed:\n%s", res.Diagnostics)
	}
	compareTree(t, cfg.OutputDir(), res)
}

// TestSyncCases generates every mapping golden (golden/syncs/NAME/
// connector.yaml, output into its own directory) twice: the output must be
// byte-identical and match the committed files, which are compiled and
// driven by the case's behaviour test.
func TestSyncCases(t *testing.T) {
	for _, name := range caseDirs(t, "syncs") {
		t.Run(name, func(t *testing.T) {
			cfg, diags := config.Load(filepath.ToSlash(filepath.Join("syncs", name, "connector.yaml")))
			if cfg == nil {
				t.Fatalf("config: %s", diags)
			}
			opts := generator.Options{OutputDir: cfg.OutputDir()}
			first := generator.GenerateConfig(cfg, opts)
			if !first.OK() {
				t.Fatalf("generation failed:\n%s", first.Diagnostics)
			}
			second := generator.GenerateConfig(cfg, opts)
			if len(first.Files) != len(second.Files) {
				t.Fatalf("second run produced %d files, first %d", len(second.Files), len(first.Files))
			}
			for i := range first.Files {
				if first.Files[i].Path != second.Files[i].Path || !bytes.Equal(first.Files[i].Content, second.Files[i].Content) {
					t.Errorf("%s differs between two runs", first.Files[i].Path)
				}
			}
			compareTree(t, cfg.OutputDir(), first)
		})
	}
}
