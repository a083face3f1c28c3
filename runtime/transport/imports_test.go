package transport

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRuntimeImportAllowList enforces the runtime module's dependency rule:
// the core packages (every package of this module, excluding test files and
// nested modules, which `./...` skips) import only the standard library,
// golang.org/x/oauth2, golang.org/x/time and the module's own packages,
// directly or transitively.
func TestRuntimeImportAllowList(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("the go command is needed for this test: ", err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	modCmd := exec.Command(goBin, "list", "-m", "-f", "{{.Path}}")
	modCmd.Dir = root
	modCmd.Env = append(modCmd.Environ(), "GOWORK=off")
	out, err := modCmd.Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	module := strings.TrimSpace(string(out))
	if module != "github.com/connectorgen/connectorgen/runtime" {
		t.Fatalf("unexpected module %q at %s", module, root)
	}
	cmd := exec.Command(goBin, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./...")
	cmd.Dir = root
	cmd.Env = append(cmd.Environ(), "GOWORK=off")
	out, err = cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("go list -deps: %v\n%s", err, msg)
	}
	allowed := []string{module, "golang.org/x/oauth2", "golang.org/x/time"}
	var checked int
	for _, p := range strings.Fields(string(out)) {
		checked++
		ok := false
		for _, a := range allowed {
			if p == a || strings.HasPrefix(p, a+"/") {
				ok = true
			}
		}
		if !ok {
			t.Errorf("runtime depends on %s, which is outside the allow-list %v", p, allowed)
		}
	}
	if checked == 0 {
		t.Fatal("go list reported no runtime packages")
	}
}
