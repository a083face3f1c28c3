// Package config loads connector configuration (mapping) files: YAML
// decoded through yaml.Node so that every key and value keeps its
// file:line:col for diagnostics.
//
// Stage: load. config checks the file's own shape (known keys, value
// types); it does not open specs or resolve names against them, which is
// the bind stage's job.
package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/connectorgen/connectorgen/generator/diag"
)

// File is a decoded connector configuration.
type File struct {
	// Path is the file as shown in diagnostics; Dir is its directory, which
	// relative paths inside the file are resolved against.
	Path string
	Dir  string

	Version int
	// Package is the Go package of the generated sync code.
	Package string
	// Output is the directory generated packages go to (relative to Dir).
	Output    string
	OutputPos diag.Pos
	// Systems are the APIs the connector talks to, in file order.
	Systems []*System

	// Entities, Xrefs and Syncs are the mapping, in file order.
	Entities []*Entity
	Xrefs    []*Xref
	Syncs    []*Sync

	// NoMain is service.main: false: no main package is generated.
	NoMain bool
	// State is service.state: the state stores the generated main
	// registers (nil: sqlite only).
	State []string

	// Root is the document's top mapping node, for later stages that read
	// the sections this package does not model yet.
	Root *yaml.Node
}

// System is one API: a spec and how to reach it.
type System struct {
	Name    string
	Pos     diag.Pos
	Spec    string // path relative to File.Dir
	SpecPos diag.Pos
	// Package is the Go package of the system's client (default: Name).
	Package    string
	PackagePos diag.Pos
	// Server selects the default base URL: a server description
	// ("production"), a 1-based index, or a URL.
	Server string
	// AllowRemoteRefs lets the spec's $refs fetch remote documents.
	AllowRemoteRefs bool
	// Environment names the spec server the generated main uses by
	// default (production, sandbox, …); BaseURL replaces the spec's
	// servers. Both can be overridden at run time.
	Environment, BaseURL       string
	EnvironmentPos, BaseURLPos diag.Pos
	// Auth says where each security scheme's credentials come from.
	Auth []AuthSource
	// Limits are the system's declared request budgets, shared by every
	// sync on it.
	Limits []Limit
	// Overlays are OpenAPI Overlay documents (paths relative to File.Dir)
	// applied to the spec at load time, in order.
	Overlays []Value
	// Node is the system's mapping, for sections modelled elsewhere
	// (auth, limits).
	Node *yaml.Node
}

// SpecPath returns the system's spec path relative to the working
// directory.
func (f *File) SpecPath(s *System) string { return filepath.Join(f.Dir, filepath.FromSlash(s.Spec)) }

// OverlayPaths returns the system's overlay paths relative to the working
// directory.
func (f *File) OverlayPaths(s *System) []string {
	var out []string
	for _, o := range s.Overlays {
		out = append(out, filepath.Join(f.Dir, filepath.FromSlash(o.Text)))
	}
	return out
}

// OutputDir returns the output directory relative to the working
// directory.
func (f *File) OutputDir() string { return filepath.Join(f.Dir, filepath.FromSlash(f.Output)) }

// Load reads and decodes a configuration file.
func Load(path string) (*File, diag.List) {
	var diags diag.List
	display := filepath.ToSlash(filepath.Clean(path))
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if ok := asPathError(err, &pe); ok {
			err = pe.Err
		}
		diags.Errorf(diag.Pos{File: display}, "cannot read config: %v", err)
		return nil, diags
	}
	return Parse(display, data)
}

func asPathError(err error, target **os.PathError) bool {
	pe, ok := err.(*os.PathError)
	if ok {
		*target = pe
	}
	return ok
}

// Parse decodes configuration text; path is used for diagnostics and to
// resolve relative paths.
func Parse(path string, data []byte) (*File, diag.List) {
	d := &decoder{file: path, lines: strings.Split(string(data), "\n")}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		d.diags.Errorf(diag.Pos{File: path}, "cannot parse config: %v", err)
		return nil, d.diags
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		d.diags.Errorf(diag.Pos{File: path, Line: 1, Col: 1}, "config must be a mapping with version, package and systems")
		return nil, d.diags
	}
	root := doc.Content[0]
	f := &File{Path: path, Dir: filepath.Dir(path), Root: root, Output: "."}
	d.fields(root, "config", map[string]func(k, v *yaml.Node){
		"version": func(k, v *yaml.Node) {
			if d.scalar(v, "version") && v.Value != "1" {
				d.diags.Errorf(d.pos(v), "unsupported config version %s (this connectorgen reads version 1)", v.Value)
			}
			f.Version = 1
		},
		"package": func(k, v *yaml.Node) {
			if d.scalar(v, "package") {
				f.Package = v.Value
			}
		},
		"output": func(k, v *yaml.Node) {
			if d.scalar(v, "output") {
				f.Output, f.OutputPos = v.Value, d.pos(v)
			}
		},
		"systems":  func(k, v *yaml.Node) { f.Systems = d.systems(v) },
		"entities": func(k, v *yaml.Node) { f.Entities = d.entities(v) },
		"xrefs":    func(k, v *yaml.Node) { f.Xrefs = d.xrefs(v) },
		"syncs":    func(k, v *yaml.Node) { f.Syncs = d.syncs(v) },
		"service":  func(k, v *yaml.Node) { d.service(v, f) },
	})
	if f.Version == 0 {
		d.diags.Errorf(d.pos(root), "config: missing \"version: 1\"")
	}
	if len(f.Systems) == 0 && !d.diags.HasErrors() {
		d.diags.Errorf(d.pos(root), "config: no systems declared")
	}
	if d.diags.HasErrors() {
		return nil, d.diags.Sort()
	}
	return f, d.diags.Sort()
}

func (d *decoder) systems(n *yaml.Node) []*System {
	if n.Kind != yaml.MappingNode {
		d.diags.Errorf(d.pos(n), "systems must be a mapping from system name to its spec")
		return nil
	}
	var out []*System
	seenPkg := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		s := &System{Name: k.Value, Pos: d.pos(k), Package: k.Value, PackagePos: d.pos(k), Node: v}
		if v.Kind != yaml.MappingNode {
			d.diags.Errorf(d.pos(v), "system %q must be a mapping with at least spec", k.Value)
			continue
		}
		d.fields(v, "system "+quote(k.Value), map[string]func(k, v *yaml.Node){
			"spec": func(kk, vv *yaml.Node) {
				if d.scalar(vv, "spec") {
					s.Spec, s.SpecPos = vv.Value, d.pos(vv)
				}
			},
			"package": func(kk, vv *yaml.Node) {
				if d.scalar(vv, "package") {
					s.Package, s.PackagePos = vv.Value, d.pos(vv)
				}
			},
			"server": func(kk, vv *yaml.Node) {
				if d.scalar(vv, "server") {
					s.Server = vv.Value
				}
			},
			"allow_remote_refs": func(kk, vv *yaml.Node) {
				if d.scalar(vv, "allow_remote_refs") {
					s.AllowRemoteRefs = vv.Value == "true"
				}
			},
			"base_url": func(kk, vv *yaml.Node) {
				if d.scalar(vv, "base_url") {
					s.BaseURL, s.BaseURLPos = vv.Value, d.pos(vv)
				}
			},
			"environment": func(kk, vv *yaml.Node) {
				if d.scalar(vv, "environment") {
					s.Environment, s.EnvironmentPos = vv.Value, d.pos(vv)
				}
			},
			"auth":   func(kk, vv *yaml.Node) { s.Auth = d.auth(vv, "system "+quote(k.Value)) },
			"limits": func(kk, vv *yaml.Node) { s.Limits = d.limits(vv, "system "+quote(k.Value)) },
			"overlays": func(kk, vv *yaml.Node) {
				if vv.Kind != yaml.SequenceNode {
					d.diags.Errorf(d.pos(vv), "system %q: overlays must be a list of overlay files", k.Value)
					return
				}
				for _, c := range vv.Content {
					if v := d.value(c, "overlay"); v.IsSet() {
						s.Overlays = append(s.Overlays, v)
					}
				}
			},
		})
		if s.Spec == "" {
			d.diags.Errorf(d.pos(k), "system %q: missing spec (the path of its OpenAPI document)", k.Value)
		}
		if other, dup := seenPkg[s.Package]; dup {
			d.diags.Errorf(s.PackagePos, "system %q: package %q is also used by system %q", k.Value, s.Package, other)
		}
		seenPkg[s.Package] = k.Value
		out = append(out, s)
	}
	return out
}

// decoder holds diagnostics while walking the node tree.
type decoder struct {
	file  string
	diags diag.List
	// lines is the source text by line, to tell where inside a scalar a
	// part of its value is (Value.At).
	lines []string
}

func (d *decoder) pos(n *yaml.Node) diag.Pos {
	if n == nil {
		return diag.Pos{File: d.file}
	}
	return diag.Pos{File: d.file, Line: n.Line, Col: n.Column}
}

// fields calls the handler of every key of mapping n, and reports unknown
// keys with a "did you mean" hint.
func (d *decoder) fields(n *yaml.Node, what string, handlers map[string]func(k, v *yaml.Node)) {
	known := make([]string, 0, len(handlers))
	for k := range handlers {
		known = append(known, k)
	}
	slices.Sort(known)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		h, ok := handlers[k.Value]
		if !ok {
			d.diags.Errorf(d.pos(k), "%s: unknown key %q%s", what, k.Value, diag.Hint(k.Value, known, -1))
			continue
		}
		if seen[k.Value] {
			d.diags.Errorf(d.pos(k), "%s: duplicate key %q", what, k.Value)
			continue
		}
		seen[k.Value] = true
		h(k, v)
	}
}

func (d *decoder) scalar(v *yaml.Node, what string) bool {
	if v.Kind != yaml.ScalarNode {
		d.diags.Errorf(d.pos(v), "%s must be a single value", what)
		return false
	}
	return true
}
