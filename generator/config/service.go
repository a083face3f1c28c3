package config

import (
	"slices"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/connectorgen/connectorgen/generator/diag"
)

// StateKinds returns the values of service.state: the state stores a
// generated main can register (sqlite: runtime/sqlitestore; postgres:
// runtime/pgstore with runtime/riverexec workers).
func StateKinds() []string { return []string{"sqlite", "postgres"} }

// service decodes the service section into f (main: false; state: the
// stores the generated main registers).
func (d *decoder) service(n *yaml.Node, f *File) {
	if n.Kind != yaml.MappingNode {
		d.diags.Errorf(d.pos(n), "service must be a mapping such as { main: false }")
		return
	}
	var statePos *yaml.Node
	d.fields(n, "service", map[string]func(k, v *yaml.Node){
		"main": func(k, v *yaml.Node) {
			if d.scalar(v, "service.main") {
				switch v.Value {
				case "true":
				case "false":
					f.NoMain = true
				default:
					d.diags.Errorf(d.pos(v), "service.main must be true or false, not %q", v.Value)
				}
			}
		},
		"state": func(k, v *yaml.Node) {
			statePos = k
			f.State = d.serviceState(v)
		},
	})
	if statePos != nil && f.NoMain {
		d.diags.Errorf(d.pos(statePos), "service.state chooses the stores of the generated main, but service.main is false")
	}
}

// serviceState decodes service.state, a list of stateKinds without
// repeats; nil when it is wrong (reported) or absent.
func (d *decoder) serviceState(v *yaml.Node) []string {
	if v.Kind != yaml.SequenceNode {
		d.diags.Errorf(d.pos(v), "service.state must be a list of state stores such as [sqlite, postgres]")
		return nil
	}
	if len(v.Content) == 0 {
		d.diags.Errorf(d.pos(v), "service.state must name at least one state store (%s)", strings.Join(StateKinds(), ", "))
		return nil
	}
	kinds := StateKinds()
	var out []string
	ok := true
	for _, e := range v.Content {
		if !d.scalar(e, "a service.state entry") {
			ok = false
			continue
		}
		switch {
		case !slices.Contains(kinds, e.Value):
			d.diags.Errorf(d.pos(e), "service.state: unknown state store %q (want %s)%s", e.Value, strings.Join(kinds, " or "), diag.Hint(e.Value, kinds, 0))
			ok = false
		case slices.Contains(out, e.Value):
			d.diags.Errorf(d.pos(e), "service.state: %q is listed twice", e.Value)
			ok = false
		default:
			out = append(out, e.Value)
		}
	}
	if !ok {
		return nil
	}
	return out
}
