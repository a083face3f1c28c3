package docs_test

import (
	"bytes"
	"go/format"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/connectorgen/connectorgen/golden/cases/docs/docs"
)

var _ = docs.Thing{}

// The descriptions' HTML and Markdown end up as doc comments gofmt leaves
// alone (sentry's indented continuation lines used to be re-indented).
func TestGeneratedFilesAreGofmtClean(t *testing.T) {
	files, _ := filepath.Glob("*_gen.go")
	if len(files) == 0 {
		t.Fatal("no generated files")
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out, err := format.Source(src)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, src) {
			t.Errorf("%s is not gofmt-clean", f)
		}
		if strings.Contains(string(src), "<p>") || strings.Contains(string(src), "&amp;") {
			t.Errorf("%s still holds HTML markup", f)
		}
	}
}
