// Package cli implements the connectorgen command line: generate, check,
// validate, sandbox and version. cmd/connectorgen only calls Main; keeping the logic
// here makes every command testable in-process.
//
// Exit codes: 0 success; 1 diagnostics or stale output; 2 usage error.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/connectorgen/connectorgen/generator"
	"github.com/connectorgen/connectorgen/generator/config"
	"github.com/connectorgen/connectorgen/generator/diag"
	"github.com/connectorgen/connectorgen/generator/output"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitDiags = 1
	ExitUsage = 2
)

const usage = `connectorgen generates typed Go API clients (and sync code) from OpenAPI specs.

Usage:
  connectorgen generate -spec FILE -package NAME -out DIR   one client from one spec
  connectorgen generate -config FILE [-out DIR]              every package a connector config declares
  connectorgen check    (same flags as generate)             report missing, changed and stale files; write nothing
  connectorgen validate -config FILE                         print diagnostics only
  connectorgen diff     -config FILE -spec SYSTEM=NEWSPEC    what a new spec version changes that matters to the connector
  connectorgen sandbox  -config FILE [-listen ADDR] [-seed FILE] [-fail-rate F] [-state DIR]
                                                             serve spec-validating simulations of its systems
  connectorgen version

Run "connectorgen <command> -h" for a command's flags.
Exit status: 0 ok, 1 diagnostics or stale output, 2 usage error.
`

// Main runs the command line and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return ExitUsage
	}
	switch args[0] {
	case "generate":
		return runGenerate(args[1:], stdout, stderr, false)
	case "check":
		return runGenerate(args[1:], stdout, stderr, true)
	case "validate":
		return runValidate(args[1:], stdout, stderr)
	case "diff":
		return runDiff(args[1:], stdout, stderr)
	case "sandbox":
		ctx, stop := interruptContext()
		defer stop()
		return runSandbox(ctx, args[1:], stdout, stderr, nil)
	case "version", "-version", "--version":
		fmt.Fprintf(stdout, "connectorgen %s\n", generator.Version)
		return ExitOK
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return ExitOK
	}
	fmt.Fprintf(stderr, "connectorgen: unknown command %q\n\n%s", args[0], usage)
	return ExitUsage
}

type genFlags struct {
	spec, pkg, out, config string
	strict, remote, quiet  bool
	verbose                bool
}

func newGenFlagSet(name string, stderr io.Writer, f *genFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("connectorgen "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.spec, "spec", "", "OpenAPI spec `file` (JSON or YAML; Swagger 2.0, OpenAPI 3.0 or 3.1)")
	fs.StringVar(&f.pkg, "package", "", "Go package `name` of the generated client (with -spec)")
	fs.StringVar(&f.out, "out", "", "output `directory` (required with -spec; overrides the config's output)")
	fs.StringVar(&f.config, "config", "", "connector config (mapping) `file`")
	fs.BoolVar(&f.strict, "strict", false, "treat warnings (spec defects worked around) as errors")
	fs.BoolVar(&f.remote, "allow-remote-refs", false, "let $refs fetch http(s) documents")
	fs.BoolVar(&f.quiet, "q", false, "print only warnings, errors and differences")
	fs.BoolVar(&f.verbose, "v", false, "print every warning (by default a kind of warning seen more than 3 times is summarised)")
	return fs
}

func runGenerate(args []string, stdout, stderr io.Writer, check bool) int {
	name := "generate"
	if check {
		name = "check"
	}
	var f genFlags
	fs := newGenFlagSet(name, stderr, &f)
	fs.Usage = func() {
		if check {
			fmt.Fprint(stderr, "Usage: connectorgen check -spec FILE -package NAME -out DIR | -config FILE [-out DIR]\n\nRegenerates in memory and compares with DIR: exits 1 and lists missing, changed (with a short diff) and stale files (files with the generated header that would no longer be written); exits 0 when up to date. Writes nothing.\n\nFlags:\n")
		} else {
			fmt.Fprint(stderr, "Usage: connectorgen generate -spec FILE -package NAME -out DIR | -config FILE [-out DIR]\n\nWrites only files whose content changed and removes stale generated files; never touches files without the generated header.\n\nFlags:\n")
		}
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "connectorgen %s: unexpected argument %q\n", name, fs.Arg(0))
		fs.Usage()
		return ExitUsage
	}
	opts := generator.Options{Strict: f.strict, AllowRemoteRefs: f.remote}
	var res *generator.Result
	var root string
	switch {
	case f.config != "" && (f.spec != "" || f.pkg != ""):
		fmt.Fprintf(stderr, "connectorgen %s: use either -config or -spec/-package, not both\n", name)
		return ExitUsage
	case f.config != "":
		cfg, diags := config.Load(f.config)
		printDiags(stderr, diags, f.verbose)
		if cfg == nil {
			return ExitDiags
		}
		root = cfg.OutputDir()
		if f.out != "" {
			root = f.out
		}
		opts.OutputDir = root
		res = generator.GenerateConfig(cfg, opts)
	case f.spec != "":
		if f.pkg == "" || f.out == "" {
			fmt.Fprintf(stderr, "connectorgen %s: -spec needs -package and -out\n", name)
			return ExitUsage
		}
		root = f.out
		opts.OutputDir = root
		res = generator.GenerateSpec(f.spec, f.pkg, opts)
	default:
		fmt.Fprintf(stderr, "connectorgen %s: need -spec FILE -package NAME -out DIR, or -config FILE\n", name)
		fs.Usage()
		return ExitUsage
	}
	printDiags(stderr, res.Diagnostics, f.verbose)
	if !res.OK() {
		return ExitDiags
	}
	if !f.quiet {
		for _, s := range res.Stats {
			fmt.Fprintf(stderr, "%s: %d operations in the spec, %d methods generated, %d types (package %s)\n",
				s.Spec, s.Operations, s.Methods, s.Types, s.Package)
			for _, sk := range s.Skipped {
				fmt.Fprintf(stderr, "%s: warning: %s %s skipped: %s\n", sk.Pos, sk.Method, sk.Path, sk.Reason)
			}
		}
	}
	if check {
		noteSpecDrift(stdout, root, res, f.config)
		rep, err := output.Compare(root, res.Files, res.Dirs, generator.Header)
		if err != nil {
			fmt.Fprintf(stderr, "connectorgen check: %v\n", err)
			return ExitDiags
		}
		if !rep.UpToDate() {
			fmt.Fprintf(stdout, "generated files in %s are out of date:\n%s", displayDir(root), rep)
			fmt.Fprintf(stdout, "run connectorgen generate with the same flags to update them\n")
			return ExitDiags
		}
		if !f.quiet {
			fmt.Fprintf(stderr, "%d generated files in %s are up to date\n", rep.Unchanged, displayDir(root))
		}
		return ExitOK
	}
	rep, err := output.Write(root, res.Files, res.Dirs, generator.Header)
	if err != nil {
		fmt.Fprintf(stderr, "connectorgen generate: %v\n", err)
		return ExitDiags
	}
	if !f.quiet {
		fmt.Fprintf(stderr, "%s: %d files written, %d unchanged, %d stale removed\n",
			displayDir(root), len(rep.Missing)+len(rep.Changed), rep.Unchanged, len(rep.Stale))
	}
	return ExitOK
}

func runValidate(args []string, stdout, stderr io.Writer) int {
	var f genFlags
	fs := newGenFlagSet("validate", stderr, &f)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: connectorgen validate -config FILE | -spec FILE\n\nLoads and checks the inputs and prints diagnostics; writes nothing.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	opts := generator.Options{Strict: f.strict, AllowRemoteRefs: f.remote}
	var res *generator.Result
	switch {
	case f.config != "":
		cfg, diags := config.Load(f.config)
		printDiags(stderr, diags, f.verbose)
		if cfg == nil {
			return ExitDiags
		}
		opts.OutputDir = cfg.OutputDir()
		res = generator.GenerateConfig(cfg, opts)
	case f.spec != "":
		pkg := f.pkg
		if pkg == "" {
			pkg = "client"
		}
		res = generator.GenerateSpec(f.spec, pkg, opts)
	default:
		fs.Usage()
		return ExitUsage
	}
	printDiags(stderr, res.Diagnostics, f.verbose)
	if !res.OK() {
		return ExitDiags
	}
	fmt.Fprintln(stdout, "ok")
	return ExitOK
}

// shownPerKind is how many warnings of one kind are printed in full
// without -v.
const shownPerKind = 3

// printDiags prints errors in full and, unless verbose, at most
// shownPerKind warnings of each kind (the message with its quoted parts
// and numbers blanked), then one line per kind with how many more there
// were: 221 "example null does not fit the schema" warnings would bury the
// two that matter.
func printDiags(w io.Writer, diags diag.List, verbose bool) {
	count := map[string]int{}
	var kinds []string
	first := map[string]diag.Diagnostic{}
	for _, d := range diags {
		if d.Severity != diag.Warning || verbose {
			fmt.Fprintln(w, d)
			continue
		}
		k := warningKind(d.Msg)
		count[k]++
		if count[k] == 1 {
			kinds = append(kinds, k)
			first[k] = d
		}
		if count[k] <= shownPerKind {
			fmt.Fprintln(w, d)
		}
	}
	for _, k := range kinds {
		if n := count[k] - shownPerKind; n > 0 {
			fmt.Fprintf(w, "%s: warning: …and %d more like this (first at %s; -v prints all): %s\n", first[k].Pos.File, n, first[k].Pos, k)
		}
	}
}

// warningKind is a warning message with its variable parts (quoted
// strings, numbers) replaced, so that warnings of one kind compare equal.
func warningKind(msg string) string {
	var b strings.Builder
	inQuote, digits := false, false
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		wasDigits := digits
		digits = !inQuote && c >= '0' && c <= '9'
		switch {
		case c == '"' && (i == 0 || msg[i-1] != '\\'):
			if !inQuote {
				b.WriteString(`"…"`)
			}
			inQuote = !inQuote
		case inQuote:
		case digits:
			if !wasDigits {
				b.WriteByte('N')
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func displayDir(d string) string {
	d = filepath.ToSlash(filepath.Clean(d))
	if d == "." {
		return "."
	}
	return strings.TrimSuffix(d, "/")
}
