package generator

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// The largest specs in the shared corpus (read in place, never copied).
var largeSpecs = []string{
	"../../shared/corpus/stripe__api__2023-09-12.yaml",
	"../../shared/corpus/github__rest-api__2022-07-18.json",
}

func requireCorpusFile(tb testing.TB, path string) {
	tb.Helper()
	if _, err := os.Stat(path); err != nil {
		tb.Skipf("%s not found: the corpus lives outside the repository (../shared/corpus); this needs it", path)
	}
}

// TestLargeSpecBudget runs the real CLI on the largest corpus specs and
// enforces the budget: under 10 s and under 1 GiB peak memory each.
func TestLargeSpecBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("large-spec budget skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "connectorgen")
	build := exec.Command("go", "build", "-o", bin, "../cmd/connectorgen")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the CLI: %v\n%s", err, out)
	}
	for _, spec := range largeSpecs {
		requireCorpusFile(t, spec)
		out := t.TempDir()
		cmd := exec.Command(bin, "generate", "-q", "-spec", spec, "-package", "big", "-out", out)
		start := time.Now()
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", spec, err, msg)
		}
		elapsed := time.Since(start)
		maxRSS := int64(0)
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			maxRSS = int64(ru.Maxrss) * 1024 // kilobytes on Linux
		}
		t.Logf("%s: %.2fs, peak RSS %d MiB", filepath.Base(spec), elapsed.Seconds(), maxRSS>>20)
		if elapsed > 10*time.Second {
			t.Errorf("%s took %s; the budget is 10s", filepath.Base(spec), elapsed)
		}
		if maxRSS > 1<<30 {
			t.Errorf("%s peaked at %d MiB; the budget is 1024 MiB", filepath.Base(spec), maxRSS>>20)
		}
	}
}

// BenchmarkGenerateLarge measures in-process generation of the largest
// corpus specs (load, lower, emit with gofmt), without writing files.
func BenchmarkGenerateLarge(b *testing.B) {
	for _, spec := range largeSpecs {
		requireCorpusFile(b, spec)
		b.Run(filepath.Base(spec), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				res := GenerateSpec(spec, "big", Options{})
				if !res.OK() {
					b.Fatalf("generation failed: %s", res.Diagnostics)
				}
			}
		})
	}
}
