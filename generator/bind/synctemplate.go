package bind

import (
	"strings"

	"github.com/connectorgen/connectorgen/generator/config"
	"github.com/connectorgen/connectorgen/generator/diag"
	"github.com/connectorgen/connectorgen/generator/ir"
)

// This file binds the field rules that build a value from more than one
// part: template (a string from source fields) and prepend (constants
// before a list source's items), and the find filter of a natural-key
// match step (pairing 4, Freshdesk → Jira).

// template binds {template: "https://acme.freshdesk.com/a/tickets/{id}"}:
// every {path} must be a readable source field with a string form, and
// the target a string.
func (sb *syncBinder) template(f *config.FieldMap, wf *ir.WField, a *ir.Assign, where string) {
	a.Kind = ir.AssignTemplate
	t := &ir.Template{Raw: f.Template.Text}
	ok := true
	if !isString(wf.Type) {
		sb.errorf(f.Template.Pos, "%s: a template builds a string but the target is %s", where, wf.Type)
		ok = false
	}
	rest, lit := f.Template.Text, ""
	// at is the position of offset i of rest in the file.
	at := func(i int) diag.Pos { return f.Template.At(len(f.Template.Text) - len(rest) + i) }
	for rest != "" {
		open := strings.IndexAny(rest, "{}")
		if open < 0 {
			lit += rest
			break
		}
		if rest[open] == '}' {
			sb.errorf(at(open), "%s: template %q has a } without its {", where, f.Template.Text)
			sb.ok = false
			return
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			sb.errorf(at(open), "%s: template %q has a { without its }", where, f.Template.Text)
			sb.ok = false
			return
		}
		lit += rest[:open]
		inner := rest[open+1 : open+end]
		name := strings.TrimSpace(inner)
		namePos := at(open + 1 + strings.Index(inner, name))
		if name == "" {
			namePos = at(open)
		}
		rest = rest[open+end+1:]
		if name == "" {
			sb.errorf(namePos, "%s: template %q has an empty {} (write {field.path})", where, f.Template.Text)
			ok = false
			continue
		}
		p, sf, found := sb.path(sb.from.Client, sb.from.Type, config.Value{Text: name, Pos: namePos}, where+": template field")
		if !found {
			ok = false
			continue
		}
		sb.pathNotes(f.Template, p, "source")
		st := qualify(sf.Type.Unwrapped(), sb.from.Client.ImportPath)
		conv, cok := conversion(st, ir.BuiltinRef("string"), sb.isEnum(sb.from.Client, sf.Type.Unwrapped()), false)
		if !cok || conv == ir.ConvToRawJSON || conv == ir.ConvStringToTime {
			sb.errorf(namePos, "%s: template field {%s} is %s, which has no string form", where, name, st)
			ok = false
			continue
		}
		a.Sources = append(a.Sources, p)
		t.Text = append(t.Text, lit)
		t.Convs = append(t.Convs, conv)
		lit = ""
	}
	t.Text = append(t.Text, lit)
	if len(a.Sources) == 0 && ok {
		sb.errorf(f.Template.Pos, "%s: template %q names no source field; write a constant with const", where, f.Template.Text)
		ok = false
	}
	if !ok {
		sb.ok = false
		return
	}
	a.Template = t
	sb.s.Assigns = append(sb.s.Assigns, a)
}

// prepend binds {from: tags, prepend: [freshdesk]}: the target and the
// source are lists of the same scalar items, and each constant is one.
func (sb *syncBinder) prepend(f *config.FieldMap, wf *ir.WField, a *ir.Assign, where string) bool {
	if wf.Type == nil || wf.Type.Kind != ir.Slice {
		sb.errorf(f.PrependPos, "%s: prepend puts constants before a list's items, but the target is %s", where, wf.Type)
		return false
	}
	elem := wf.Type.Elem
	if et := sb.typeOf(sb.to.Client, elem); elem.Kind != ir.Builtin && (et == nil || et.Kind != ir.Enum) {
		sb.errorf(f.PrependPos, "%s: prepend takes constants, but the target's items are %s", where, elem)
		return false
	}
	ok := true
	for _, v := range f.Prepend {
		l := sb.literal(sb.to.Client, elem, v, where+": prepend")
		if l == nil {
			ok = false
			continue
		}
		a.Prepend = append(a.Prepend, l)
	}
	return ok
}

// findFilter binds a natural-key match step's filter: the value the find
// operation takes, built from the key.
func (sb *syncBinder) findFilter(m config.MatchStep) {
	if !m.Filter.IsSet() {
		return
	}
	if !strings.Contains(m.Filter.Text, "{key}") {
		sb.errorf(m.Filter.Pos, "%s: find filter %q does not contain {key}, so it would find the same records for every key", sb.what, m.Filter.Text)
		sb.ok = false
		return
	}
	if rest := strings.ReplaceAll(m.Filter.Text, "{key}", ""); strings.ContainsAny(rest, "{}") {
		sb.errorf(m.Filter.Pos, "%s: find filter %q: {key} is its only placeholder", sb.what, m.Filter.Text)
		sb.ok = false
		return
	}
	sb.s.FindFilter = m.Filter.Text
}

// templatePresent reports whether every field of a template is always
// present (so a create always gets its value).
func templatePresent(sb *syncBinder, a *ir.Assign) bool {
	for _, p := range a.Sources {
		if !alwaysPresent(p) && !sb.filtered[p.Text] {
			return false
		}
	}
	return true
}
