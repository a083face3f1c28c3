package golden

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/connectorgen/connectorgen/generator"
)

// writeDrivenClient generates the client of specPath as package pkg under
// work, beside a driver test (driverSrc with PKG replaced by the package
// name) and the calls it makes as JSON in callsName. It returns the
// generator's errors, if any, as an error.
func writeDrivenClient(work, specPath, pkg string, calls any, callsName, driverName, driverSrc string) error {
	dir := filepath.Join(work, pkg)
	res := generator.GenerateSpec(specPath, pkg, generator.Options{OutputDir: dir})
	if !res.OK() {
		return errorString(res.Diagnostics.Errors().String())
	}
	for _, f := range res.Files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Content, 0o644); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(calls, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, callsName), b, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, driverName), []byte(strings.ReplaceAll(driverSrc, "PKG", pkg)), 0o644)
}

// testModule runs the tests of every package of the module in work in one
// go test, so one process compiles every client and shares the build cache.
func testModule(work string) ([]byte, error) {
	cmd := exec.Command("go", "test", "-count=1", "./...")
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	return cmd.CombinedOutput()
}

type errorString string

func (e errorString) Error() string { return string(e) }
