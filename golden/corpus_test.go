package golden

import (
	"bytes"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/connectorgen/connectorgen/generator"
)

// corpusDir holds the shared real-world specs. It lives outside the
// repository and is read in place, never copied.
const corpusDir = "../../shared/corpus"

type corpusRow struct {
	spec, pkg          string
	generated          bool
	warnings           int
	operations         int
	methods            int
	built, vetted      bool
	buildChecked       bool // compiled with go build, not only type-checked by go vet
	seconds            float64
	firstError         string
	internalGenerrorOK bool
	notGofmt           []string // generated files gofmt would change
}

// TestCorpus generates a client for every spec in the corpus, builds and
// vets them all, and prints a table. It enforces the acceptance floor: at
// least 97% of specs produce code that builds and vets, at least 99% of the
// corpus's operations become methods, no generator panics, and every spec
// that does not generate fails with a positioned diagnostic, and every
// generated Go file is gofmt-clean.
func TestCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("corpus sweep skipped with -short")
	}
	specs, err := filepath.Glob(filepath.Join(corpusDir, "*__*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) == 0 {
		t.Skipf("no corpus at %s: it lives outside the repository (../shared/corpus); this test needs it", corpusDir)
	}
	if only := os.Getenv("CORPUS_ONLY"); only != "" {
		specs = slices.DeleteFunc(specs, func(s string) bool { return !strings.Contains(filepath.Base(s), only) })
	}
	work := t.TempDir()
	runtimeDir, err := filepath.Abs("../runtime")
	if err != nil {
		t.Fatal(err)
	}
	gomod := fmt.Sprintf("module corpus\n\ngo 1.25\n\nrequire github.com/connectorgen/connectorgen/runtime v0.0.0\n\nreplace github.com/connectorgen/connectorgen/runtime => %s\n", runtimeDir)
	if err := os.WriteFile(filepath.Join(work, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	if sum, err := os.ReadFile("../runtime/go.sum"); err == nil {
		os.WriteFile(filepath.Join(work, "go.sum"), sum, 0o644)
	}

	rows := make([]*corpusRow, len(specs))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				rows[i] = generateCorpusSpec(t, specs[i], work)
			}
		}()
	}
	for i := range specs {
		next <- i
	}
	close(next)
	wg.Wait()

	// go vet type-checks every package (a type error fails it), which is
	// what "the output compiles" needs; compiling to machine code is the
	// slow part (about 9 minutes for the whole corpus on 2 cores), so by
	// default it runs on a fixed sample, and on everything with
	// CORPUS_FULL=1 or a CORPUS_ONLY selection.
	full := os.Getenv("CORPUS_FULL") == "1" || os.Getenv("CORPUS_ONLY") != ""
	buildArgs := []string{"build"}
	sampled := map[string]bool{}
	for i, r := range rows {
		if r.generated && (full || buildSample(i, r.spec)) {
			sampled[r.pkg] = true
			buildArgs = append(buildArgs, "./"+r.pkg)
		}
	}
	buildStart := time.Now()
	buildErrs := map[string]string{}
	if len(buildArgs) > 1 {
		buildErrs = goTool(t, work, buildArgs...)
	}
	buildSecs := time.Since(buildStart).Seconds()
	vetStart := time.Now()
	vetErrs := goTool(t, work, "vet", "./...")
	vetSecs := time.Since(vetStart).Seconds()

	var totalOps, totalMethods, good, generated int
	for _, r := range rows {
		totalOps += r.operations
		if !r.generated {
			continue
		}
		generated++
		totalMethods += r.methods
		r.buildChecked = sampled[r.pkg]
		if e, bad := buildErrs[r.pkg]; bad {
			r.firstError = "build: " + e
		} else {
			r.built = true
		}
		if e, bad := vetErrs[r.pkg]; bad {
			if r.firstError == "" {
				r.firstError = "vet: " + e
			}
		} else {
			r.vetted = r.built
		}
		if r.built && r.vetted {
			good++
		}
	}
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "spec\tgenerate\twarnings\toperations\tmethods\tbuild\tvet\tseconds\tfirst error")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\t%.2f\t%s\n", r.spec, okText(r.generated), r.warnings, r.operations, r.methods,
			buildText(r), okText(r.vetted), r.seconds, oneLineErr(r.firstError))
	}
	tw.Flush()
	summary := fmt.Sprintf("%d specs: %d generated, %d build and vet (%.1f%%; %d compiled with go build, the rest type-checked by go vet; CORPUS_FULL=1 compiles all); operations %d, methods %d (%.2f%%); go build %.0fs, go vet %.0fs",
		len(rows), generated, good, pct(good, len(rows)), len(sampled), totalOps, totalMethods, pct(totalMethods, totalOps), buildSecs, vetSecs)
	t.Logf("corpus results:\n%s%s", table.String(), summary)
	if out := os.Getenv("CORPUS_TABLE"); out != "" {
		os.WriteFile(out, []byte(table.String()+summary+"\n"), 0o644)
	}

	for _, r := range rows {
		if strings.Contains(r.firstError, "internal error") {
			t.Errorf("%s: generator panicked: %s", r.spec, oneLineErr(r.firstError))
		}
		if len(r.notGofmt) > 0 {
			t.Errorf("%s: generated files are not gofmt-clean: %s", r.spec, strings.Join(r.notGofmt, ", "))
		}
		if !r.generated && !r.internalGenerrorOK {
			t.Errorf("%s: failed without a positioned diagnostic: %s", r.spec, r.firstError)
		}
	}
	if p := pct(good, len(rows)); p < 97 {
		t.Errorf("only %.1f%% of corpus specs build and vet; the floor is 97%%", p)
	}
	if p := pct(totalMethods, totalOps); p < 99 {
		t.Errorf("only %.2f%% of corpus operations became methods; the floor is 99%%", p)
	}
}

func generateCorpusSpec(t *testing.T, spec, work string) *corpusRow {
	base := filepath.Base(spec)
	pkg := "c" + strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return -1
	}, strings.TrimSuffix(base, filepath.Ext(base)))
	r := &corpusRow{spec: base, pkg: pkg}
	start := time.Now()
	out := filepath.Join(work, pkg)
	res := generator.GenerateSpec(spec, pkg, generator.Options{OutputDir: out})
	r.seconds = time.Since(start).Seconds()
	r.warnings = len(res.Diagnostics.Warnings())
	if len(res.Stats) > 0 {
		r.operations, r.methods = res.Stats[0].Operations, res.Stats[0].Methods
	}
	if !res.OK() {
		errs := res.Diagnostics.Errors()
		r.firstError = errs[0].String()
		r.internalGenerrorOK = errs[0].Pos.Line > 0 && !strings.Contains(errs[0].Msg, "internal error")
		return r
	}
	r.generated = true
	for _, f := range res.Files {
		if strings.HasSuffix(f.Path, ".go") {
			if formatted, err := format.Source(f.Content); err != nil || !bytes.Equal(formatted, f.Content) {
				r.notGofmt = append(r.notGofmt, f.Path)
			}
		}
		p := filepath.Join(out, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Error(err)
		}
		if err := os.WriteFile(p, f.Content, 0o644); err != nil {
			t.Error(err)
		}
	}
	return r
}

// goTool runs a go command over the corpus module and returns the first
// error line per failing package.
func goTool(t *testing.T, dir string, args ...string) map[string]string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	out, _ := cmd.CombinedOutput()
	errs := map[string]string{}
	current := ""
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "# "):
			current = strings.TrimPrefix(strings.Fields(line)[1], "corpus/")
		case current != "" && line != "" && errs[current] == "":
			errs[current] = strings.TrimSpace(line)
		case current == "" && strings.HasPrefix(line, "go: "):
			t.Fatalf("go %s: %s", strings.Join(args, " "), string(out))
		}
	}
	return errs
}

// buildSample picks the specs CI compiles: every sixth in name order, plus
// the ones other generators cannot build (github, okta).
func buildSample(i int, spec string) bool {
	return i%6 == 0 || strings.HasPrefix(spec, "github__") || strings.HasPrefix(spec, "okta__")
}

func buildText(r *corpusRow) string {
	if r.generated && !r.buildChecked {
		return "(vet)"
	}
	return okText(r.built)
}

func okText(b bool) string {
	if b {
		return "ok"
	}
	return "FAIL"
}

func oneLineErr(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

func pct(a, b int) float64 {
	if b == 0 {
		return 100
	}
	return 100 * float64(a) / float64(b)
}
