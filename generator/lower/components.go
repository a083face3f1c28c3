package lower

import (
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/connectorgen/connectorgen/generator/ir"
	"github.com/connectorgen/connectorgen/generator/load"
	"github.com/connectorgen/connectorgen/generator/naming"
)

// component is one components.schemas entry and its named type.
type component struct {
	key string
	sr  *openapi3.SchemaRef
	loc load.Loc
	t   *ir.Type
	// owns is true for a component that is a $ref to a schema that is not
	// itself a component (one in another file, typically): the component
	// gives that schema its name, and target is where the schema is.
	owns   bool
	target load.Loc
}

// isComponentLoc reports whether loc is a components.schemas entry of the
// root document.
func (l *lowerer) isComponentLoc(loc load.Loc) bool {
	const prefix = "#/components/schemas/"
	if loc.File != "" || !strings.HasPrefix(loc.Pointer, prefix) || l.doc.Components == nil {
		return false
	}
	key := loc.Pointer[len(prefix):]
	if strings.Contains(key, "/") {
		return false
	}
	key = strings.ReplaceAll(strings.ReplaceAll(key, "~1", "/"), "~0", "~")
	_, ok := l.doc.Components.Schemas[key]
	return ok
}

// declareComponents is naming phase 1: every component schema gets its
// type name, in sorted key order, and its kind, so that later lookups know
// whether a type is a struct, a slice or a union before it is filled.
func (l *lowerer) declareComponents() {
	if l.doc.Components == nil {
		return
	}
	keys := sortedKeys(l.doc.Components.Schemas)
	// Pinned names first, so they win over derived ones.
	for _, key := range keys {
		sr := l.doc.Components.Schemas[key]
		c := &component{key: key, sr: sr, loc: l.spec.Root().Child("components", "schemas", key)}
		l.components = append(l.components, c)
		if sr == nil || sr.Value == nil || sr.Ref != "" {
			continue
		}
		if pinned, ok := pinnedName(sr.Value.Extensions); ok {
			if !l.pkgNS.Reserve(pinned, "schema "+key) {
				o, _ := l.pkgNS.Owner(pinned)
				l.diags.Errorf(l.pos(c.loc), "x-connectorgen-name %q of schema %q collides with %s", pinned, key, o)
			}
			c.t = &ir.Type{Name: pinned}
		}
	}
	for _, c := range l.components {
		if c.t == nil {
			base := naming.Exported(c.key)
			if base == "" {
				base = "Schema"
			}
			hint := ""
			if c.sr != nil && c.sr.Value != nil && c.sr.Ref == "" {
				hint = hintedName(c.sr.Value.Extensions)
			}
			c.t = &ir.Type{Name: l.pkgNS.Claim("schema "+c.key, hint, base, base+"Model")}
		}
		c.t.SchemaName = c.key
		c.t.Pos = l.pos(c.loc)
		l.addType(c.t)
		if c.sr == nil || c.sr.Value == nil {
			c.t.Kind, c.t.Target = ir.Alias, rawJSON()
			continue
		}
		s := c.sr.Value
		c.t.Doc, c.t.Deprecated = docText(s), deprecation(s.Deprecated, "type")
		fillLoc := c.loc
		if c.sr.Ref != "" {
			target := l.spec.RefLoc(c.loc, c.sr.Ref)
			if l.isComponentLoc(target) {
				c.t.Kind = ir.Alias
				continue
			}
			// components: {Widget: {$ref: ./widget.yaml#/Widget}} names
			// the schema in the other file Widget.
			c.owns, c.target, fillLoc = true, target, target
			if _, taken := l.byLoc[target]; !taken {
				l.byLoc[target] = c.t
			}
		}
		if _, taken := l.byValue[s]; !taken {
			l.byValue[s] = c.t
		}
		c.t.Kind = l.kindOf(s, fillLoc)
	}
	// Aliases of other components can be resolved now that every
	// component is registered.
	for _, c := range l.components {
		if c.sr != nil && c.sr.Value != nil && c.sr.Ref != "" && !c.owns {
			if target, ok := l.byValue[c.sr.Value]; ok && target != c.t {
				c.t.Target = ir.NamedRef(target.Name)
			}
		}
	}
}

// kindOf predicts the kind fill will give a schema's named type.
func (l *lowerer) kindOf(s *openapi3.Schema, loc load.Loc) ir.TypeKind {
	switch l.shapeOf(s) {
	case shapeStruct:
		return ir.Struct
	case shapeEnum:
		return ir.Enum
	case shapeUnion:
		return ir.Union
	case shapeArray, shapeMap:
		return ir.Defined
	case shapeAllOf:
		if _, pt := l.allOfParts(s, loc); pt != nil {
			return ir.Alias
		}
		return ir.Struct
	}
	return ir.Alias
}

// fillComponents lowers every component's contents, in key order.
func (l *lowerer) fillComponents() {
	for _, c := range l.components {
		if c.sr == nil || c.sr.Value == nil {
			continue
		}
		if c.sr.Ref != "" && !c.owns {
			if c.t.Target == nil {
				target, _ := l.typeFor(c.sr, c.loc, c.t.Name+"Value")
				if target.Kind == ir.Named && target.Pkg == "" && target.Name == c.t.Name {
					target = rawJSON()
				}
				c.t.Target = target
			}
			continue
		}
		if l.byValue[c.sr.Value] != c.t {
			// Two component keys share one schema object: the second is
			// an alias of the first.
			c.t.Kind, c.t.Target = ir.Alias, ir.NamedRef(l.byValue[c.sr.Value].Name)
			continue
		}
		if c.owns {
			l.fill(c.t, c.sr.Value, c.target)
			continue
		}
		l.fill(c.t, c.sr.Value, c.loc)
	}
}
