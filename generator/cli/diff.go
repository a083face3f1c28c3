package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/connectorgen/connectorgen/generator"
	"github.com/connectorgen/connectorgen/generator/config"
)

// runDiff implements `connectorgen diff -config FILE -spec SYSTEM=NEWSPEC`:
// exit 0 when nothing breaks, 1 when the connector would break, 2 on a
// usage error or when the comparison cannot be made.
func runDiff(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "the connector's mapping file")
	spec := fs.String("spec", "", "SYSTEM=NEWSPEC: the new version of one system's spec")
	remote := fs.Bool("allow-remote-refs", false, "let specs' $refs fetch http(s) documents")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: connectorgen diff -config FILE -spec SYSTEM=NEWSPEC\n\nBinds the mapping against the new spec of SYSTEM and compares it with the current one on what the connector uses: removed or renamed operations and fields, type changes, new required parameters and request fields, removed enum values, newly deprecated operations. Each finding is positioned in the mapping file. Exit status: 0 nothing breaks, 1 the connector would break, 2 usage error or the comparison could not be made.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	system, newSpec, ok := strings.Cut(*spec, "=")
	if *cfgPath == "" || !ok || system == "" || newSpec == "" || fs.NArg() > 0 {
		fs.Usage()
		return ExitUsage
	}
	if _, err := os.Stat(newSpec); err != nil {
		fmt.Fprintf(stderr, "connectorgen diff: %v\n", err)
		return ExitUsage
	}
	cfg, diags := config.Load(*cfgPath)
	printDiags(stderr, diags, false)
	if cfg == nil {
		return ExitUsage
	}
	res := generator.Diff(cfg, system, newSpec, generator.Options{AllowRemoteRefs: *remote, OutputDir: cfg.OutputDir()})
	printDiags(stderr, res.Diagnostics, false)
	if res.Diagnostics.HasErrors() {
		return ExitUsage
	}
	breaks := 0
	for _, f := range res.Findings {
		fmt.Fprintln(stdout, f)
		if f.Break {
			breaks++
		}
	}
	verdict := "the connector keeps working"
	if breaks > 0 {
		verdict = fmt.Sprintf("the connector would break (%d breaking change", breaks)
		if breaks > 1 {
			verdict += "s"
		}
		verdict += ")"
	}
	fmt.Fprintf(stdout, "%s: %s (%s) → %s (%s): %d finding(s); %s\n", system, orUnknown(res.OldVersion), short(res.OldHash), orUnknown(res.NewVersion), short(res.NewHash), len(res.Findings), verdict)
	if breaks > 0 {
		return ExitDiags
	}
	return ExitOK
}

func orUnknown(s string) string {
	if s == "" {
		return "?"
	}
	return s
}

func short(h string) string {
	if len(h) > 12 {
		return "sha256:" + h[:12]
	}
	return h
}

// specHashPattern finds the SpecHash constant of a generated client.
const specHashPattern = `SpecHash = "(sha256:[0-9a-f]+)"`

// noteSpecDrift tells, during check, which systems' specs changed since
// their clients were generated: the SpecHash recorded in the client on
// disk differs from the spec's hash now.
func noteSpecDrift(w io.Writer, root string, res *generator.Result, cfgPath string) {
	specHashRE := regexp.MustCompile(specHashPattern)
	for _, f := range res.Files {
		if filepath.Base(f.Path) != "client_gen.go" {
			continue
		}
		now := specHashRE.FindSubmatch(f.Content)
		old, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f.Path)))
		if now == nil || err != nil {
			continue
		}
		was := specHashRE.FindSubmatch(old)
		if was == nil || string(was[1]) == string(now[1]) {
			continue
		}
		pkg := filepath.Dir(filepath.FromSlash(f.Path))
		fmt.Fprintf(w, "note: the spec of package %s changed since its client was generated (recorded %s, now %s)", pkg, was[1], now[1])
		if cfgPath != "" {
			fmt.Fprintf(w, "; before regenerating, `connectorgen diff -config %s -spec SYSTEM=NEWSPEC` against the old spec shows what matters to the connector", cfgPath)
		}
		fmt.Fprintln(w)
	}
}
