// Package generator is connectorgen's pipeline: load → bind → lower → emit
// → output. Each spec is loaded and lowered to a client package; a
// connector's mapping is then bound against those packages (it names their
// operations and Go types) and emitted as sync code. Generate functions
// read their inputs (specs, the config, and through go/packages the Go
// functions a mapping names) and return files and diagnostics; writing and
// checking the disk is the output stage's job.
//
// A panic anywhere in the pipeline is a connectorgen bug; it is recovered
// and reported as an internal-error diagnostic naming the input, never as a
// crash.
package generator

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"strings"

	"golang.org/x/mod/modfile"

	"github.com/connectorgen/connectorgen/generator/bind"
	"github.com/connectorgen/connectorgen/generator/config"
	"github.com/connectorgen/connectorgen/generator/diag"
	"github.com/connectorgen/connectorgen/generator/emit"
	"github.com/connectorgen/connectorgen/generator/ir"
	"github.com/connectorgen/connectorgen/generator/load"
	"github.com/connectorgen/connectorgen/generator/lower"
	"github.com/connectorgen/connectorgen/generator/naming"
	"github.com/connectorgen/connectorgen/generator/output"
)

// Header marks every generated file.
const Header = emit.Header

// Version is connectorgen's version.
const Version = "0.1.0"

// Options control generation.
type Options struct {
	// Strict turns warnings (spec defects worked around) into errors.
	Strict bool
	// AllowRemoteRefs lets specs' $refs fetch http(s) documents.
	AllowRemoteRefs bool
	// OutputDir is where the package will be written. Generated files name
	// their spec relative to it, so the output is the same whichever
	// directory the generator runs in (go generate runs in the package
	// directory, CI at the repository root). Empty means the working
	// directory.
	OutputDir string
	// overlays are the system's overlay files (GenerateConfig sets them
	// per system).
	overlays []string
}

// SpecStats summarises one generated client.
type SpecStats struct {
	Spec       string
	Package    string
	Operations int // operations in the spec
	Methods    int // client methods generated for them
	Skipped    []ir.Skipped
	Types      int
}

// Result is the outcome of a generation.
type Result struct {
	// Files are the generated files, relative to the output root.
	Files []output.File
	// Dirs are the root-relative directories the generator owns, where a
	// generated file it no longer produces is stale.
	Dirs        []string
	Diagnostics diag.List
	Stats       []SpecStats
}

// OK reports whether generation produced files (no error diagnostics).
func (r *Result) OK() bool { return !r.Diagnostics.HasErrors() }

// GenerateSpec generates one client package, named pkg, from the spec at
// specPath. Files are relative to the package directory.
func GenerateSpec(specPath, pkg string, opts Options) (res *Result) {
	res = &Result{}
	defer recoverBug(res, specPath)
	files, stats, _, diags := generateClient(specPath, pkg, opts)
	res.Diagnostics = finish(diags, opts)
	if res.Diagnostics.HasErrors() {
		return res
	}
	res.Files, res.Dirs = files, []string{"."}
	res.Stats = []SpecStats{stats}
	return res
}

// GenerateConfig generates every package a connector config declares.
// Files are relative to the config's output directory (OutputDir).
func GenerateConfig(cfg *config.File, opts Options) (res *Result) {
	res = &Result{}
	defer recoverBug(res, cfg.Path)
	var diags diag.List
	var clients []*ir.Client
	clientsOK := true
	for _, sys := range cfg.Systems {
		if ok, reason := naming.PackageName(sys.Package); !ok {
			diags.Errorf(sys.PackagePos, "system %q: %s", sys.Name, reason)
			continue
		}
		o := opts
		o.AllowRemoteRefs = o.AllowRemoteRefs || sys.AllowRemoteRefs
		o.OutputDir = filepath.Join(opts.OutputDir, sys.Package)
		o.overlays = cfg.OverlayPaths(sys)
		files, stats, pkg, d := generateClient(cfg.SpecPath(sys), sys.Package, o)
		diags.Append(d)
		if d.HasErrors() {
			clientsOK = false
			continue
		}
		clients = append(clients, &ir.Client{System: sys.Name, Field: naming.Exported(sys.Name), Pkg: pkg})
		for _, f := range files {
			f.Path = path.Join(sys.Package, f.Path)
			res.Files = append(res.Files, f)
		}
		res.Dirs = append(res.Dirs, sys.Package)
		res.Stats = append(res.Stats, stats)
	}
	if clientsOK && (len(cfg.Syncs) > 0 || len(cfg.Entities) > 0 || len(cfg.Xrefs) > 0) {
		files, d := generateSyncs(cfg, clients, opts)
		diags.Append(d)
		res.Files = append(res.Files, files...)
		if len(cfg.Syncs) > 0 {
			res.Dirs = append(res.Dirs, ".", mainDir(cfg))
		}
	}
	res.Diagnostics = finish(diags, opts)
	if res.Diagnostics.HasErrors() {
		res.Files, res.Dirs = nil, nil
	}
	return res
}

// generateSyncs binds the mapping against the generated clients and emits
// the sync code and runbook into the output directory.
func generateSyncs(cfg *config.File, clients []*ir.Client, opts Options) ([]output.File, diag.List) {
	var diags diag.List
	dir := opts.OutputDir
	if dir == "" {
		dir = "."
	}
	base, err := importPath(dir)
	if err != nil {
		diags.Errorf(cfg.OutputPos, "output directory %s: %v; sync code must live in a Go module", dir, err)
		return nil, diags
	}
	for _, c := range clients {
		c.ImportPath = path.Join(base, c.Pkg.Name)
	}
	conn, d := bind.Bind(bind.Input{Config: cfg, Clients: clients, Funcs: bind.PackagesResolver(dir)})
	diags.Append(d)
	if conn == nil || len(conn.Syncs) == 0 {
		return nil, diags
	}
	if ok, reason := naming.PackageName(cfg.Package); !ok {
		diags.Errorf(diag.Pos{File: cfg.Path}, "package: %s", reason)
		return nil, diags
	}
	conn.Source = ir.Source{Path: relativeTo(dir, cfg.Path)}
	f, err := emit.Syncs(conn)
	if err != nil {
		diags.Errorf(diag.Pos{File: cfg.Path}, "%v", err)
		return nil, diags
	}
	out := []output.File{{Path: f.Name, Content: f.Content}}
	diags.Append(leastPrivilege(cfg, conn))
	conn.Main = !cfg.NoMain
	rb, err := emit.Runbook(conn)
	if err != nil {
		diags.Errorf(diag.Pos{File: cfg.Path}, "%v", err)
		return nil, diags
	}
	out = append(out, output.File{Path: rb.Name, Content: rb.Content})
	svc, d := generateService(cfg, conn, clients, base)
	diags.Append(d)
	return append(out, svc...), diags
}

// importPath returns the Go import path of dir from the nearest go.mod.
func importPath(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d, rel := abs, ""; ; {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			mod := modfile.ModulePath(data)
			if mod == "" {
				return "", fmt.Errorf("%s has no module line", filepath.Join(d, "go.mod"))
			}
			return path.Join(mod, filepath.ToSlash(rel)), nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod in it or any parent")
		}
		rel = filepath.Join(filepath.Base(d), rel)
		d = parent
	}
}

func generateClient(specPath, pkg string, opts Options) ([]output.File, SpecStats, *ir.Package, diag.List) {
	stats := SpecStats{Spec: specPath, Package: pkg}
	spec, diags := load.Load(specPath, load.Options{AllowRemoteRefs: opts.AllowRemoteRefs, Overlays: opts.overlays})
	if spec == nil {
		return nil, stats, nil, diags
	}
	stats.Spec = spec.Path
	p, ld := lower.Lower(spec, lower.Options{Package: pkg, SourcePath: relativeTo(opts.OutputDir, specPath)})
	diags.Append(ld)
	if p == nil {
		return nil, stats, nil, diags
	}
	stats.Operations = p.SpecOperations
	stats.Methods = len(p.Operations)
	stats.Skipped = p.Skipped
	stats.Types = len(p.Types)
	if opts.Strict && diags.Warnings() != nil {
		return nil, stats, nil, diags
	}
	files, err := emit.Client(p)
	if err != nil {
		diags.Errorf(diag.Pos{File: spec.Path}, "%v", err)
		return nil, stats, nil, diags
	}
	var out []output.File
	for _, f := range files {
		out = append(out, output.File{Path: f.Name, Content: f.Content})
	}
	return out, stats, p, diags
}

// relativeTo names path relative to dir, with forward slashes.
func relativeTo(dir, path string) string {
	if dir == "" {
		dir = "."
	}
	absDir, err1 := filepath.Abs(dir)
	absPath, err2 := filepath.Abs(path)
	if err1 == nil && err2 == nil {
		if rel, err := filepath.Rel(absDir, absPath); err == nil {
			return filepath.ToSlash(rel)
		}
	}
	return filepath.ToSlash(path)
}

// finish applies -strict and sorts.
func finish(diags diag.List, opts Options) diag.List {
	if opts.Strict {
		for i := range diags {
			if diags[i].Severity == diag.Warning {
				diags[i].Severity = diag.Error
				diags[i].Msg += " (error because of -strict)"
			}
		}
	}
	return diags.Sort()
}

// recoverBug turns a panic into an internal-error diagnostic.
func recoverBug(res *Result, input string) {
	if r := recover(); r != nil {
		stack := string(debug.Stack())
		if i := strings.Index(stack, "panic("); i >= 0 {
			stack = stack[i:]
		}
		if len(stack) > 2000 {
			stack = stack[:2000]
		}
		res.Files, res.Dirs = nil, nil
		res.Diagnostics = append(res.Diagnostics, diag.Diagnostic{
			Pos:      diag.Pos{File: input},
			Severity: diag.Error,
			Msg:      fmt.Sprintf("internal error: %v\nThis is a connectorgen bug; please report it with the input that triggered it.\n%s", r, stack),
		})
	}
}
