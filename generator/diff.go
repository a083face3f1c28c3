package generator

import (
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/connectorgen/connectorgen/generator/bind"
	"github.com/connectorgen/connectorgen/generator/config"
	"github.com/connectorgen/connectorgen/generator/diag"
	"github.com/connectorgen/connectorgen/generator/ir"
	"github.com/connectorgen/connectorgen/generator/load"
	"github.com/connectorgen/connectorgen/generator/lower"
	"github.com/connectorgen/connectorgen/generator/naming"
)

// This file is spec drift (DESIGN.md §8): what a new version of one
// system's spec changes that matters to a connector. The mapping is bound
// against the current spec and against the new one; whatever the new one
// makes impossible (an operation or field the mapping uses is gone or
// renamed, a type no longer fits) is a bind error positioned in the
// mapping file. The two IRs are then compared on what the connector uses:
// new required parameters and request fields, newly deprecated operations,
// changed field types and removed enum values.

// Finding is one change that matters to the connector.
type Finding struct {
	Pos diag.Pos
	// Break says the connector would not generate or would fail at run
	// time with the new spec.
	Break bool
	Msg   string
}

func (f Finding) String() string {
	kind := "note"
	if f.Break {
		kind = "break"
	}
	return fmt.Sprintf("%s: %s: %s", f.Pos, kind, f.Msg)
}

// DiffResult is the outcome of Diff.
type DiffResult struct {
	System                 string
	OldVersion, NewVersion string
	OldHash, NewHash       string
	Findings               []Finding
	// Diagnostics are problems that stopped the comparison (the current
	// spec or the new one cannot be read, the mapping does not bind
	// against the current spec).
	Diagnostics diag.List
}

// Breaks reports whether any finding breaks the connector.
func (r *DiffResult) Breaks() bool {
	for _, f := range r.Findings {
		if f.Break {
			return true
		}
	}
	return false
}

// bound is a connector bound against a set of specs.
type bound struct {
	conn    *ir.Connector
	clients map[string]*ir.Client
	diags   diag.List
}

// bindWith lowers every system's spec (newSpec replaces system's) and
// binds the mapping. No code is emitted.
func bindWith(cfg *config.File, system, newSpec string, opts Options) bound {
	var b bound
	b.clients = map[string]*ir.Client{}
	dir := opts.OutputDir
	if dir == "" {
		dir = cfg.OutputDir()
	}
	base, err := importPath(dir)
	if err != nil {
		b.diags.Errorf(cfg.OutputPos, "output directory %s: %v; sync code must live in a Go module", dir, err)
		return b
	}
	var clients []*ir.Client
	for _, sys := range cfg.Systems {
		if ok, reason := naming.PackageName(sys.Package); !ok {
			b.diags.Errorf(sys.PackagePos, "system %q: %s", sys.Name, reason)
			continue
		}
		specPath := cfg.SpecPath(sys)
		if sys.Name == system && newSpec != "" {
			specPath = newSpec
		}
		spec, d := load.Load(specPath, load.Options{AllowRemoteRefs: opts.AllowRemoteRefs || sys.AllowRemoteRefs})
		b.diags.Append(d)
		if spec == nil {
			continue
		}
		p, d := lower.Lower(spec, lower.Options{Package: sys.Package, SourcePath: filepath.ToSlash(specPath)})
		b.diags.Append(d)
		if p == nil {
			continue
		}
		c := &ir.Client{System: sys.Name, Field: naming.Exported(sys.Name), Pkg: p, ImportPath: path.Join(base, p.Name)}
		clients = append(clients, c)
	}
	if b.diags.HasErrors() {
		return b
	}
	conn, d := bind.Bind(bind.Input{Config: cfg, Clients: clients, Funcs: bind.PackagesResolver(dir)})
	b.diags.Append(d)
	b.conn = conn
	if conn != nil {
		for _, c := range conn.Clients {
			b.clients[c.System] = c
		}
	}
	return b
}

// Diff compares the connector bound against its current specs with the
// same connector where system's spec is newSpec.
func Diff(cfg *config.File, system, newSpec string, opts Options) (res *DiffResult) {
	res = &DiffResult{System: system}
	defer func() {
		if r := recover(); r != nil {
			res.Diagnostics.Errorf(diag.Pos{File: cfg.Path}, "internal error while diffing (this is a connectorgen bug; please report it): %v", r)
		}
	}()
	var sys *config.System
	for _, s := range cfg.Systems {
		if s.Name == system {
			sys = s
		}
	}
	if sys == nil {
		var names []string
		for _, s := range cfg.Systems {
			names = append(names, s.Name)
		}
		res.Diagnostics.Errorf(diag.Pos{File: cfg.Path}, "no system %q in the config (systems: %s)", system, strings.Join(names, ", "))
		return res
	}
	old := bindWith(cfg, "", "", opts)
	if old.diags.HasErrors() || old.conn == nil {
		res.Diagnostics.Append(old.diags.Errors())
		res.Diagnostics.Errorf(diag.Pos{File: cfg.Path}, "the connector does not generate with its current specs; fix that before diffing")
		return res
	}
	nw := bindWith(cfg, system, newSpec, opts)
	oc := old.clients[system]
	if oc != nil {
		res.OldVersion, res.OldHash = oc.Pkg.Source.Version, oc.Pkg.Source.Hash
	}
	// Errors in the mapping file are what the new spec breaks; errors
	// elsewhere (the new spec cannot be read) stop the comparison.
	var elsewhere diag.List
	for _, d := range nw.diags.Errors() {
		if d.Pos.File == cfg.Path {
			res.Findings = append(res.Findings, Finding{Pos: d.Pos, Break: true, Msg: d.Msg})
		} else {
			elsewhere = append(elsewhere, d)
		}
	}
	if len(res.Findings) == 0 && len(elsewhere) > 0 {
		res.Diagnostics.Append(elsewhere)
		return res
	}
	nc := nw.clients[system]
	if nc == nil {
		// bind failed, so no client records what it used: compare against
		// the old connector's usage with a freshly lowered new package.
		spec, _ := load.Load(newSpec, load.Options{AllowRemoteRefs: opts.AllowRemoteRefs || sys.AllowRemoteRefs})
		if spec != nil {
			if p, _ := lower.Lower(spec, lower.Options{Package: sys.Package, SourcePath: filepath.ToSlash(newSpec)}); p != nil {
				nc = &ir.Client{System: system, Pkg: p}
			}
		}
	}
	if nc != nil {
		res.NewVersion, res.NewHash = nc.Pkg.Source.Version, nc.Pkg.Source.Hash
	}
	if oc != nil && nc != nil {
		res.Findings = mergeFindings(res.Findings, compareUsage(cfg, old.conn, oc, nc))
	}
	res.Findings = dedupe(res.Findings)
	sortFindings(res.Findings)
	return res
}

// compareUsage compares what the connector uses of the old client with the
// new one.
func compareUsage(cfg *config.File, conn *ir.Connector, oc, nc *ir.Client) []Finding {
	var out []Finding
	newOps := map[string]*ir.Operation{}
	for _, op := range nc.Pkg.Operations {
		newOps[op.ID] = op
	}
	oldOps := map[string]*ir.Operation{}
	for _, op := range oc.Pkg.Operations {
		oldOps[op.ID] = op
	}
	// Where the mapping names each operation, and which parameters it
	// supplies as constants.
	opPos := map[string]diag.Pos{}
	consts := map[string]map[string]bool{}
	for _, e := range cfg.Entities {
		if e.System != oc.System {
			continue
		}
		vals := []config.Value{e.List, e.Get, e.Create, e.Update, e.Find}
		if e.Search != nil {
			vals = append(vals, e.Search.Op)
		}
		for _, v := range vals {
			if v.Text != "" {
				opPos[v.Text] = v.Pos
				consts[v.Text] = map[string]bool{}
				for _, p := range e.Params {
					consts[v.Text][p.Name] = true
				}
			}
		}
	}
	// Parameters the generated code fills in itself.
	filled := map[*ir.Operation]map[string]bool{}
	for _, ent := range usedEntities(conn, oc.System) {
		calls := []*ir.OpCall{ent.List, ent.Get, ent.Create, ent.Update, ent.Find}
		if ent.Search != nil {
			calls = append(calls, ent.Search.Call)
		}
		for _, call := range calls {
			if call == nil {
				continue
			}
			m := map[string]bool{}
			for _, p := range []*ir.Param{call.KeyParam, call.SinceParam, call.IdemParam} {
				if p != nil {
					m[p.Name] = true
				}
			}
			for _, c := range call.Consts {
				m[c.Param.Name] = true
			}
			filled[call.Op] = m
		}
	}
	// Target paths the syncs write, with their parents (profile.email
	// writes profile).
	written := map[string]bool{}
	for _, sy := range conn.Syncs {
		if sy.To == nil || sy.To.Client == nil || sy.To.Client.System != oc.System {
			continue
		}
		for _, f := range sy.Fields {
			parts := strings.Split(f.Path, ".")
			for i := range parts {
				written[strings.Join(parts[:i+1], ".")] = true
			}
		}
	}
	for _, id := range oc.Operations {
		pos := opPos[id]
		if pos.File == "" {
			pos = diag.Pos{File: cfg.Path}
		}
		oop, nop := oldOps[id], newOps[id]
		if nop == nil {
			out = append(out, Finding{Pos: pos, Break: true, Msg: fmt.Sprintf("operation %s (%s %s) is gone from the new spec%s", id, oop.HTTPMethod, oop.Path, renamedHint(oop, nc.Pkg))})
			continue
		}
		if nop.Deprecated != "" && oop.Deprecated == "" {
			out = append(out, Finding{Pos: pos, Msg: fmt.Sprintf("operation %s is deprecated in the new spec: %s", id, oneLine(nop.Deprecated))})
		}
		if oop.Path != nop.Path || oop.HTTPMethod != nop.HTTPMethod {
			out = append(out, Finding{Pos: pos, Msg: fmt.Sprintf("operation %s moved from %s %s to %s %s (the regenerated client follows)", id, oop.HTTPMethod, oop.Path, nop.HTTPMethod, nop.Path)})
		}
		oldReq := map[string]bool{}
		oldPath, newPath := 0, 0
		for _, p := range oop.Params {
			if p.Required {
				oldReq[p.Name] = true
			}
			if p.In == ir.InPath {
				oldPath++
			}
		}
		for _, p := range nop.Params {
			if p.In == ir.InPath {
				newPath++
			}
		}
		for _, p := range nop.Params {
			// A renamed path parameter ({userId} → {id}) is still filled
			// by the record key; only additional ones are new.
			if p.In == ir.InPath && newPath <= oldPath {
				continue
			}
			if p.Required && !oldReq[p.Name] && !consts[id][p.Name] && !filled[oop][p.Name] {
				out = append(out, Finding{Pos: pos, Break: true, Msg: fmt.Sprintf("operation %s now requires %s parameter %q, which the mapping does not supply (add it under the entity's params)", id, p.In, p.Name)})
			}
		}
		if oop.Body != nil && nop.Body != nil {
			ot, nt := namedType(oc.Pkg, oop.Body.Type), namedType(nc.Pkg, nop.Body.Type)
			if ot != nil && nt != nil {
				was := map[string]bool{}
				for _, f := range ot.Fields {
					if f.Required {
						was[f.JSONName] = true
					}
				}
				for _, f := range nt.Fields {
					if f.Required && !was[f.JSONName] && !f.ReadOnly && !written[f.JSONName] {
						out = append(out, Finding{Pos: pos, Break: true, Msg: fmt.Sprintf("operation %s: request field %q is now required; the mapping does not write it", id, f.JSONName)})
					}
				}
			}
		}
	}
	// Field types and enum values of the entity types the connector uses.
	for _, ent := range usedEntities(conn, oc.System) {
		pos := diag.Pos{File: cfg.Path}
		for _, e := range cfg.Entities {
			if e.Name == ent.Name {
				pos = e.Pos
			}
		}
		ot := namedType(oc.Pkg, ent.Type)
		if ot == nil {
			continue
		}
		nt := findType(nc.Pkg, ot.SchemaName, ot.Name)
		if nt == nil {
			continue // bind reports a missing schema
		}
		nf := map[string]*ir.Field{}
		for _, f := range nt.Fields {
			nf[f.JSONName] = f
		}
		used := usedFields(conn, ent)
		for _, f := range ot.Fields {
			g := nf[f.JSONName]
			if g == nil || !used[f.JSONName] {
				continue // bind reports a used field that is gone; unused ones do not matter
			}
			if a, b := typeText(oc.Pkg, f.Type), typeText(nc.Pkg, g.Type); a != b {
				out = append(out, Finding{Pos: pos, Msg: fmt.Sprintf("entity %s: field %q changed type from %s to %s", ent.Name, f.JSONName, a, b)})
			}
			oe, ne := namedType(oc.Pkg, f.Type), namedType(nc.Pkg, g.Type)
			if oe != nil && ne != nil && len(oe.EnumValues) > 0 {
				have := map[string]bool{}
				for _, v := range ne.EnumValues {
					have[fmt.Sprint(v.Value)] = true
				}
				var gone []string
				for _, v := range oe.EnumValues {
					if !have[fmt.Sprint(v.Value)] {
						gone = append(gone, fmt.Sprint(v.Value))
					}
				}
				if len(gone) > 0 {
					out = append(out, Finding{Pos: pos, Msg: fmt.Sprintf("entity %s: field %q lost enum values %s", ent.Name, f.JSONName, strings.Join(gone, ", "))})
				}
			}
		}
	}
	return out
}

// usedFields returns the top-level JSON fields of an entity the connector
// reads or writes: its key, version, deleted and cursor fields, the
// sources of field mappings and triggers of syncs from it, and the target
// fields of syncs to it.
func usedFields(conn *ir.Connector, ent *ir.Entity) map[string]bool {
	used := map[string]bool{}
	add := func(path string) {
		if path != "" {
			first, _, _ := strings.Cut(path, ".")
			used[first] = true
		}
	}
	for _, p := range []ir.Path{ent.Key, ent.Version, ent.Deleted, ent.Cursor} {
		add(p.Text)
	}
	var pred func(p *ir.Pred)
	pred = func(p *ir.Pred) {
		if p == nil {
			return
		}
		add(p.Field.Text)
		for _, q := range append(append([]*ir.Pred{}, p.All...), p.Any...) {
			pred(q)
		}
		pred(p.Not)
	}
	for _, s := range conn.Syncs {
		if s.From == ent {
			for _, a := range s.Assigns {
				add(a.Source.Text)
				for _, src := range a.Sources {
					add(src.Text)
				}
			}
			pred(s.Enter)
			pred(s.Exit)
		}
		if s.To == ent {
			for _, f := range s.Fields {
				add(f.Path)
			}
		}
	}
	return used
}

// renamedHint names an operation of the new spec at the same method and
// path, the usual sign of a renamed operationId.
func renamedHint(op *ir.Operation, p *ir.Package) string {
	for _, n := range p.Operations {
		if n.HTTPMethod == op.HTTPMethod && trimVersionPrefix(n.Path) == trimVersionPrefix(op.Path) {
			return fmt.Sprintf("; %s %s is now %s (renamed?)", n.HTTPMethod, n.Path, n.ID)
		}
	}
	return ""
}

func trimVersionPrefix(p string) string {
	for _, pre := range []string{"/admin"} {
		p = strings.TrimPrefix(p, pre)
	}
	return p
}

func usedEntities(conn *ir.Connector, system string) []*ir.Entity {
	seen := map[*ir.Entity]bool{}
	var out []*ir.Entity
	for _, s := range conn.Syncs {
		for _, e := range []*ir.Entity{s.From, s.To} {
			if e != nil && e.Client != nil && e.Client.System == system && !seen[e] {
				seen[e] = true
				out = append(out, e)
			}
		}
	}
	return out
}

// namedType returns the package type a reference names (through Opt,
// Nullable, pointer and slice wrappers).
func namedType(p *ir.Package, t *ir.TypeRef) *ir.Type {
	for t != nil && t.Kind != ir.Named {
		t = t.Elem
	}
	if t == nil {
		return nil
	}
	for _, ty := range p.Types {
		if ty.Name == t.Name {
			return ty
		}
	}
	return nil
}

func findType(p *ir.Package, schema, name string) *ir.Type {
	for _, ty := range p.Types {
		if (schema != "" && ty.SchemaName == schema) || (schema == "" && ty.Name == name) {
			return ty
		}
	}
	return nil
}

// typeText renders a type reference by schema name where it has one (Go
// names of the same schema may differ between two versions: UserType,
// UserType2), for comparing the same field in two packages.
func typeText(p *ir.Package, t *ir.TypeRef) string {
	if t == nil {
		return "?"
	}
	switch t.Kind {
	case ir.Builtin:
		return t.Name
	case ir.Named:
		if ty := namedType(p, t); ty != nil {
			switch {
			case ty.SchemaName != "":
				return ty.SchemaName
			case ty.Target != nil:
				return typeText(p, ty.Target)
			case ty.EnumBase != nil:
				return "enum " + typeText(p, ty.EnumBase)
			}
		}
		return t.Name
	case ir.Slice:
		return "[]" + typeText(p, t.Elem)
	case ir.Map:
		return "map[string]" + typeText(p, t.Elem)
	case ir.Opt, ir.Nullable, ir.Pointer:
		// Optional and nullable wrappers change how a value is read, not
		// what it is; compare the value type.
		return typeText(p, t.Elem)
	}
	return "?"
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// mergeFindings adds the usage findings to bind's: where bind already
// reports a break at the same place, a usage break only contributes its
// rename hint.
func mergeFindings(bound, usage []Finding) []Finding {
	at := map[diag.Pos]int{}
	for i, f := range bound {
		if f.Break {
			at[f.Pos] = i
		}
	}
	for _, f := range usage {
		i, dup := at[f.Pos]
		if !f.Break || !dup {
			bound = append(bound, f)
			continue
		}
		if _, hint, ok := strings.Cut(f.Msg, "; "); ok {
			bound[i].Msg += "; " + hint
		}
	}
	return bound
}

func dedupe(fs []Finding) []Finding {
	var out []Finding
	seen := map[string]bool{}
	for _, f := range fs {
		k := f.String()
		if !seen[k] {
			seen[k] = true
			out = append(out, f)
		}
	}
	return out
}

func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i].Pos, fs[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Col != b.Col {
			return a.Col < b.Col
		}
		return fs[i].Msg < fs[j].Msg
	})
}
