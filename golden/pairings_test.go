package golden

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/connectorgen/connectorgen/generator"
	"github.com/connectorgen/connectorgen/generator/config"
)

// pairings are the connector configs of ../shared/pairings that the
// mapping language can express today (specs/NAME/connector.yaml).
var pairings = []string{"freshdesk-jira", "hubspot-sendgrid", "shopify-klaviyo", "stripe-hubspot"}

// TestPairings validates, generates, builds and vets each pairing's
// connector against the real vendor specs in ../shared/corpus (read in
// place, fixed only by the overlays beside each config). The generated
// code goes into a fresh module that points at this checkout.
func TestPairings(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and builds large vendor clients; skipped with -short")
	}
	if _, err := os.Stat("../../shared/corpus"); err != nil {
		t.Skip("../shared/corpus (the vendor specs, outside the repository) is absent")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	// with: functions are type-checked with go/packages from the fresh
	// module, which has no go.sum yet: let go fill it, outside the
	// repository's workspace.
	t.Setenv("GOFLAGS", "-mod=mod")
	t.Setenv("GOWORK", "off")
	for _, name := range pairings {
		t.Run(name, func(t *testing.T) {
			cfg, diags := config.Load(filepath.Join("..", "specs", name, "connector.yaml"))
			if cfg == nil {
				t.Fatalf("config: %s", diags)
			}
			work := t.TempDir()
			writeModule(t, work, root)
			// with: functions are type-checked from the fresh module, whose
			// go.sum does not exist before tidy.
			t.Setenv("GOFLAGS", "-mod=mod")
			t.Setenv("GOWORK", "off")
			res := generator.GenerateConfig(cfg, generator.Options{OutputDir: work})
			if !res.OK() {
				t.Fatalf("generation failed:\n%s", res.Diagnostics.Errors())
			}
			for _, f := range res.Files {
				p := filepath.Join(work, filepath.FromSlash(f.Path))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, f.Content, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for _, args := range [][]string{{"mod", "tidy"}, {"build", "./..."}, {"vet", "./..."}} {
				cmd := exec.Command("go", args...)
				cmd.Dir = work
				cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
				}
			}
		})
	}
}

// writeModule writes the go.mod of a module that uses this checkout's
// runtime.
func writeModule(t *testing.T, dir, root string) {
	t.Helper()
	// The generated service main stores state in SQLite, its own module;
	// with: functions live in the repository's root module and (pairing
	// 3's) in the golden module.
	gomod := fmt.Sprintf("module example.com/pairing\n\ngo 1.25\n\nrequire (\n\tgithub.com/connectorgen/connectorgen v0.0.0\n\tgithub.com/connectorgen/connectorgen/golden v0.0.0\n\tgithub.com/connectorgen/connectorgen/runtime v0.0.0\n\tgithub.com/connectorgen/connectorgen/runtime/sqlitestore v0.0.0\n)\n\nreplace (\n\tgithub.com/connectorgen/connectorgen => %s\n\tgithub.com/connectorgen/connectorgen/golden => %s\n\tgithub.com/connectorgen/connectorgen/runtime => %s\n\tgithub.com/connectorgen/connectorgen/runtime/sqlitestore => %s\n)\n",
		root, filepath.Join(root, "golden"), filepath.Join(root, "runtime"), filepath.Join(root, "runtime", "sqlitestore"))
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
}
