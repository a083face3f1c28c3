package golden

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGoGenerateInConsumerModule does what the README's quick start tells
// users to do: a fresh module with a //go:generate line that runs
// connectorgen through `go run`, then go generate, go build, go vet and
// connectorgen check. The module points at this checkout with replace
// lines, as a user's would point at a released version.
func TestGoGenerateInConsumerModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module from scratch; skipped with -short")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	gomod := fmt.Sprintf(`module example.com/shop

go 1.25

require (
	github.com/connectorgen/connectorgen v0.0.0
	github.com/connectorgen/connectorgen/runtime v0.0.0
)

replace (
	github.com/connectorgen/connectorgen => %s
	github.com/connectorgen/connectorgen/runtime => %s
)
`, root, filepath.Join(root, "runtime"))
	spec, err := os.ReadFile(filepath.Join(root, "specs", "email", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"go.mod":               gomod,
		"postbox/openapi.yaml": string(spec),
		"postbox/generate.go":  "package postbox\n\n//go:generate go run github.com/connectorgen/connectorgen/cmd/connectorgen generate -spec openapi.yaml -package postbox -out .\n",
		"cmd/app/main.go":      "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/shop/postbox\"\n)\n\nfunc main() {\n\tc, err := postbox.NewClient(postbox.ServerProduction)\n\tfmt.Println(c != nil, err)\n}\n",
	}
	for name, content := range files {
		p := filepath.Join(work, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("mod", "tidy")
	run("generate", "./...")
	for _, f := range []string{"client_gen.go", "types_gen.go", "operations_gen.go"} {
		if _, err := os.Stat(filepath.Join(work, "postbox", f)); err != nil {
			t.Errorf("go generate did not write postbox/%s", f)
		}
	}
	run("mod", "tidy")
	run("build", "./...")
	run("vet", "./...")
	out := run("run", "github.com/connectorgen/connectorgen/cmd/connectorgen", "check", "-spec", "postbox/openapi.yaml", "-package", "postbox", "-out", "postbox")
	if !strings.Contains(out, "up to date") {
		t.Errorf("check after generate: %s", out)
	}
}
