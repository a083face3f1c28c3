package load

import (
	"errors"
	"os"
	"strings"

	"github.com/speakeasy-api/openapi-overlay/pkg/overlay"
	yaml3 "gopkg.in/yaml.v3"

	"github.com/connectorgen/connectorgen/generator/diag"
	"go.yaml.in/yaml/v4"
)

// Overlays are OpenAPI Overlay documents (1.0, 1.1) a connector config
// names beside a vendor spec: what the spec gets wrong or leaves out is
// fixed there, never in the vendor file. They are applied, in order, to the
// root document right after it is parsed, so every later stage sees the
// corrected description.
//
// JSONPath selection and the merge rules are the speakeasy-api
// openapi-overlay library's (RFC 9535 JSONPath by default); this file
// adapts our YAML trees to it, reports each action that selects nothing at
// its target in the overlay file, and marks nodes an overlay added so
// diagnostics about them point into the overlay.

// applyOverlays applies the overlay files to document d.
func (l *loader) applyOverlays(d *document, paths []string) {
	for _, p := range paths {
		l.applyOverlay(d, p)
	}
}

func (l *loader) applyOverlay(d *document, path string) {
	display := displayPath(path)
	data, err := l.opts.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		l.diags.Errorf(diag.Pos{File: display}, "cannot read overlay: %v", err)
		return
	}
	// The overlay's bytes are part of the input: they change the hash.
	l.json[d.abs+"\x00raw"] = append(append(l.json[d.abs+"\x00raw"], 0), data...)
	var doc yaml3.Node
	if err := yaml3.Unmarshal(data, &doc); err != nil {
		l.diags.Errorf(diag.Pos{File: display}, "cannot parse overlay: %s", strings.TrimPrefix(err.Error(), "yaml: "))
		return
	}
	var o overlay.Overlay
	if err := doc.Decode(&o); err != nil {
		l.diags.Errorf(diag.Pos{File: display}, "not an overlay document: %s", strings.TrimPrefix(err.Error(), "yaml: "))
		return
	}
	top := &doc
	if top.Kind == yaml3.DocumentNode && len(top.Content) > 0 {
		top = top.Content[0]
	}
	pos := func(n *yaml3.Node) diag.Pos {
		if n == nil {
			return diag.Pos{File: display}
		}
		return diag.Pos{File: display, Line: n.Line, Col: n.Column}
	}
	if !strings.HasPrefix(o.Version, "1.0") && !strings.HasPrefix(o.Version, "1.1") {
		at := get3(top, "overlay")
		if at == nil {
			at = top
		}
		l.diags.Errorf(pos(at), "not an OpenAPI Overlay 1.0 or 1.1 document (overlay: %q)", o.Version)
		return
	}
	if o.JSONPathVersion == "" {
		// The Overlay Specification selects with RFC 9535 JSONPath.
		o.JSONPathVersion = "rfc9535"
	}
	actionNodes := get3(top, "actions")
	// Work on a yaml.v3 copy of the document, the library's tree type.
	known := map[*yaml3.Node]bool{}
	root := toV3(d.root, known)
	origin := map[*yaml3.Node]diag.Pos{}
	for i, a := range o.Actions {
		var an *yaml3.Node
		if actionNodes != nil && i < len(actionNodes.Content) {
			an = actionNodes.Content[i]
		}
		targetPos := pos(an)
		if t := get3(an, "target"); t != nil {
			targetPos = pos(t)
		}
		if a.Target == "" {
			l.diags.Errorf(targetPos, "overlay action %d has no target", i+1)
			continue
		}
		q, err := o.NewPath(a.Target, nil)
		if err != nil {
			l.diags.Errorf(targetPos, "overlay action %d: target %q is not a JSONPath: %v", i+1, a.Target, err)
			continue
		}
		if len(q.Query(root)) == 0 {
			l.diags.Errorf(targetPos, "overlay action %d: target %q matches nothing in %s", i+1, a.Target, d.display)
			continue
		}
		single := o
		single.Actions = []overlay.Action{a}
		if err := single.ApplyTo(root); err != nil {
			l.diags.Errorf(targetPos, "overlay action %d: %v", i+1, err)
			continue
		}
		updatePos := targetPos
		if u := get3(an, "update"); u != nil {
			updatePos = pos(u)
		}
		markNew(root, known, origin, updatePos)
	}
	d.root = fromV3(root, origin, d)
}

// get3 returns the value of key in a yaml.v3 mapping node, or nil.
func get3(n *yaml3.Node, key string) *yaml3.Node {
	if n == nil || n.Kind != yaml3.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// markNew records the nodes an action added (not seen before) as coming
// from the overlay at pos.
func markNew(n *yaml3.Node, known map[*yaml3.Node]bool, origin map[*yaml3.Node]diag.Pos, pos diag.Pos) {
	if n == nil {
		return
	}
	if !known[n] {
		known[n] = true
		origin[n] = pos
	}
	for _, c := range n.Content {
		markNew(c, known, origin, pos)
	}
}

// toV3 copies a yaml/v4 tree into yaml.v3 nodes, positions included.
func toV3(n *yaml.Node, known map[*yaml3.Node]bool) *yaml3.Node {
	if n == nil {
		return nil
	}
	out := &yaml3.Node{
		Kind: yaml3.Kind(n.Kind), Style: yaml3.Style(n.Style), Tag: n.Tag, Value: n.Value, Anchor: n.Anchor,
		HeadComment: n.HeadComment, LineComment: n.LineComment, FootComment: n.FootComment,
		Line: n.Line, Column: n.Column,
	}
	known[out] = true
	if n.Alias != nil {
		out.Alias = toV3(n.Alias, known)
	}
	for _, c := range n.Content {
		out.Content = append(out.Content, toV3(c, known))
	}
	return out
}

// fromV3 copies a yaml.v3 tree back into yaml/v4 nodes; nodes an overlay
// added take the overlay's position and are recorded in d.origin.
func fromV3(n *yaml3.Node, origin map[*yaml3.Node]diag.Pos, d *document) *yaml.Node {
	if n == nil {
		return nil
	}
	out := &yaml.Node{
		Kind: yaml.Kind(n.Kind), Style: yaml.Style(n.Style), Tag: n.Tag, Value: n.Value, Anchor: n.Anchor,
		HeadComment: n.HeadComment, LineComment: n.LineComment, FootComment: n.FootComment,
		Line: n.Line, Column: n.Column,
	}
	if p, ok := origin[n]; ok {
		if d.origin == nil {
			d.origin = map[*yaml.Node]diag.Pos{}
		}
		d.origin[out] = p
		out.Line, out.Column = p.Line, p.Col
	}
	if n.Alias != nil {
		out.Alias = fromV3(n.Alias, origin, d)
	}
	for _, c := range n.Content {
		out.Content = append(out.Content, fromV3(c, origin, d))
	}
	return out
}
