package config

import "go.yaml.in/yaml/v4"

// service decodes the service section and reports whether the generated
// main is turned off (main: false).
func (d *decoder) service(n *yaml.Node) bool {
	off := false
	if n.Kind != yaml.MappingNode {
		d.diags.Errorf(d.pos(n), "service must be a mapping such as { main: false }")
		return false
	}
	d.fields(n, "service", map[string]func(k, v *yaml.Node){
		"main": func(k, v *yaml.Node) {
			if d.scalar(v, "service.main") {
				switch v.Value {
				case "true":
				case "false":
					off = true
				default:
					d.diags.Errorf(d.pos(v), "service.main must be true or false, not %q", v.Value)
				}
			}
		},
	})
	return off
}
