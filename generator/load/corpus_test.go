package load

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// corpusDir is the shared corpus of public vendor specs, read in place.
const corpusDir = "../../../shared/corpus"

func corpusFiles(t *testing.T) []string {
	t.Helper()
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("corpus not found at %s (it lives outside the repository; this test needs ../shared/corpus)", corpusDir)
	}
	files, err := filepath.Glob(filepath.Join(corpusDir, "*__*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus specs in %s: %v", corpusDir, err)
	}
	return files
}

// TestLoadCorpus loads every corpus spec: each must load (repairs allowed)
// without an error diagnostic.
func TestLoadCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("corpus load is slow; run without -short")
	}
	for _, f := range corpusFiles(t) {
		start := time.Now()
		spec, diags := Load(f, Options{})
		if diags.HasErrors() || spec == nil {
			t.Errorf("%s: %s", filepath.Base(f), diags.Errors().String())
			continue
		}
		if testing.Verbose() {
			t.Logf("%s: %d warnings, %.2fs", filepath.Base(f), len(diags.Warnings()), time.Since(start).Seconds())
			for _, d := range diags.Warnings() {
				t.Logf("  %s", d)
			}
		}
	}
}
