package bind

import (
	"fmt"
	"slices"
	"strings"

	"github.com/connectorgen/connectorgen/generator/config"
	"github.com/connectorgen/connectorgen/generator/fieldpath"
	"github.com/connectorgen/connectorgen/generator/ir"
)

// events binds read.events: an events list whose every event names a
// record re-read with read.get, checkpointed on the event's cursor. Every
// name in it is checked against the spec with a positioned diagnostic.
func (b *binder) events(e *config.Entity, c *ir.Client, ent *ir.Entity) bool {
	ev := e.Events
	what := fmt.Sprintf("entity %q: read events", e.Name)
	ok := true
	for _, v := range []config.Value{e.List, e.Cursor, e.Since} {
		if v.IsSet() {
			b.errorf(v.Pos, "%s replaces read list, cursor and since: declare the feed's list, cursor and since under events only", what)
			ok = false
		}
	}
	if !e.Get.IsSet() {
		b.errorf(ev.Pos, "%s needs read.get: each event's record is re-read by its key", what)
		ok = false
	}
	if !ev.List.IsSet() || !ev.Key.IsSet() || !ev.Cursor.IsSet() {
		return false // the decoder reported it
	}
	oc := b.call(e, c, ev.List, "read events list")
	if oc == nil {
		return false
	}
	if oc.Op.Pagination == nil {
		b.errorf(ev.List.Pos, "%s: list operation %q has no pagination connectorgen knows; declare it with x-connectorgen-pagination in an overlay", what, ev.List.Text)
		return false
	}
	feed := &ir.EventsFeed{List: oc, Type: qualify(oc.Op.Pagination.ItemType, c.ImportPath)}
	if p, f, pok := b.path(c, feed.Type, ev.Key, what+": key"); pok {
		kk, kok := keyKind(f.Type.Unwrapped())
		switch {
		case !kok:
			b.errorf(ev.Key.Pos, "%s: key %q is %s; a key must be a string, an integer or a UUID", what, ev.Key.Text, f.Type.Unwrapped())
			ok = false
		case len(ent.Key.Steps) > 0 && kk != ent.KeyKind:
			b.errorf(ev.Key.Pos, "%s: key %q is %s, not the type of %s's key %q", what, ev.Key.Text, f.Type.Unwrapped(), e.Name, ent.Key.Text)
			ok = false
		}
		feed.Key, feed.KeyKind = p, kk
	} else {
		ok = false
	}
	var cursorLeaf *ir.TypeRef
	if p, f, pok := b.path(c, feed.Type, ev.Cursor, what+": cursor"); pok {
		cursorLeaf = f.Type.Unwrapped()
		switch {
		case isTime(qualify(cursorLeaf, c.ImportPath)):
			feed.CursorKind = ir.CursorTime
		case isInt(cursorLeaf):
			feed.CursorKind = ir.CursorInt
		default:
			b.errorf(ev.Cursor.Pos, "%s: cursor %q is %s; a cursor must be a date-time or an integer", what, ev.Cursor.Text, cursorLeaf)
			ok = false
			cursorLeaf = nil
		}
		feed.Cursor = p
	} else {
		ok = false
	}
	if len(ev.Types) > 0 || len(ev.Deleted) > 0 || ev.TypesParam.IsSet() {
		name, pos := "types", ev.TypesPos
		if len(ev.Types) == 0 {
			pos = ev.DeletedPos
		}
		if ev.TypesParam.IsSet() {
			name, pos = ev.TypesParam.Text, ev.TypesParam.Pos
		}
		feed.TypesParam = b.listParam(oc, name)
		switch u := paramType(feed.TypesParam); {
		case feed.TypesParam == nil:
			b.errorf(pos, "%s", suggest(fmt.Sprintf("%s: list operation %q has no parameter %q to take the event types", what, oc.Op.ID, name), name, paramNames(oc)))
			ok = false
		case !(u.Kind == ir.Slice && isString(u.Elem)):
			b.errorf(pos, "%s: parameter %q of %q is %s; event types go in a list of strings", what, name, oc.Op.ID, u)
			ok = false
		}
		for _, t := range ev.Types {
			feed.Types = append(feed.Types, t.Text)
		}
		for _, t := range ev.Deleted {
			feed.Deleted = append(feed.Deleted, t.Text)
		}
	}
	if !b.eventTypes(ev, c, feed, what) {
		ok = false
	}
	if ev.Since.IsSet() {
		if !b.eventsSince(ev, oc, feed, cursorLeaf, what) {
			ok = false
		}
	} else {
		b.diags.Warnf(ev.Pos, "%s: no since: every poll reads the whole events feed", what)
	}
	if ok {
		ent.Events = feed
	}
	return ok
}

// eventTypes binds the event's type field (events.type_field, default
// "type") and checks the declared types and deletion types against it: a
// deletion type must not be one of types (an event either names a record
// to re-read or a deleted one), and when the field is an enum every type
// must be one of its values. Without deletion types and without
// type_field, an event with no "type" field is accepted (types are then
// only sent to the list).
func (b *binder) eventTypes(ev *config.Events, c *ir.Client, feed *ir.EventsFeed, what string) bool {
	ok := true
	types := make(map[string]bool, len(ev.Types))
	for _, t := range ev.Types {
		types[t.Text] = true
	}
	for _, t := range ev.Deleted {
		if types[t.Text] {
			b.errorf(t.Pos, "%s: event type %q is both in types (re-read) and in deleted; a deletion names a record that cannot be read", what, t.Text)
			ok = false
		}
	}
	tf := ev.TypeField
	if !tf.IsSet() {
		tf = config.Value{Text: "type", Pos: ev.DeletedPos}
		if len(ev.Deleted) == 0 {
			// Only to check types against an enum, when the event has a
			// "type" field.
			if _, err := fieldpath.Resolve(clientTypes{b, c}, feed.Type, tf.Text); err != nil {
				return ok
			}
		}
	}
	p, f, pok := b.path(c, feed.Type, tf, what+": type_field")
	if !pok {
		return false
	}
	leaf := f.Type.Unwrapped()
	var known []string
	switch et := b.typeOf(c, leaf); {
	case isString(leaf):
	case et != nil && et.Kind == ir.Enum && isString(et.EnumBase):
		feed.TypeEnum = true
		for _, v := range et.EnumValues {
			if s, sok := v.Value.(string); sok {
				known = append(known, s)
			}
		}
	default:
		b.errorf(tf.Pos, "%s: type_field %q is %s; an event's type must be a string", what, tf.Text, leaf)
		return false
	}
	feed.TypeField = p
	if known != nil {
		for _, list := range []struct {
			name string
			vs   []config.Value
		}{{"types", ev.Types}, {"deleted", ev.Deleted}} {
			for _, t := range list.vs {
				if !slices.Contains(known, t.Text) {
					b.errorf(t.Pos, "%s", suggest(fmt.Sprintf("%s: %s: event type %q is not a value of the event's %s", what, list.name, t.Text, tf.Text), t.Text, known))
					ok = false
				}
			}
		}
	}
	return ok
}

// eventsSince binds events.since: a parameter, or NAME.MEMBER for a member
// of an object parameter (of one variant when the parameter is a union,
// as Stripe's created: an integer or a range object {gt, gte, lt, lte}).
func (b *binder) eventsSince(ev *config.Events, oc *ir.OpCall, feed *ir.EventsFeed, cursor *ir.TypeRef, what string) bool {
	c := oc.Client
	name, member, _ := strings.Cut(ev.Since.Text, ".")
	p := b.listParam(oc, name)
	if p == nil {
		b.errorf(ev.Since.Pos, "%s", suggest(fmt.Sprintf("%s: list operation %q has no parameter %q", what, oc.Op.ID, name), name, paramNames(oc)))
		return false
	}
	feed.Since = p
	u := p.Type.Unwrapped()
	if member == "" {
		if cursor != nil && !sameType(u, cursor) {
			b.errorf(ev.Since.Pos, "%s: parameter %q is %s but cursor %q is %s", what, name, u, ev.Cursor.Text, cursor)
			return false
		}
		return true
	}
	nt := b.typeOf(c, u)
	var objects []*ir.TypeRef
	switch {
	case nt != nil && nt.Kind == ir.Struct:
		objects = append(objects, u)
	case nt != nil && nt.Kind == ir.Union:
		for _, v := range nt.Variants {
			if vt := b.typeOf(c, v.Type); vt != nil && vt.Kind == ir.Struct {
				objects = append(objects, v.Type)
			}
		}
	}
	if len(objects) == 0 {
		b.errorf(ev.Since.Pos, "%s: parameter %q is %s; %q names a member of an object parameter", what, name, u, ev.Since.Text)
		return false
	}
	var known []string
	for _, ot := range objects {
		st := b.typeOf(c, ot)
		for _, f := range st.Fields {
			known = append(known, f.JSONName)
			if f.JSONName != member {
				continue
			}
			if cursor != nil && !sameType(f.Type.Unwrapped(), cursor) {
				b.errorf(ev.Since.Pos, "%s: %q is %s but cursor %q is %s", what, ev.Since.Text, f.Type.Unwrapped(), ev.Cursor.Text, cursor)
				return false
			}
			feed.SinceType, feed.SinceField = qualify(ot, c.ImportPath), f
			if nt.Kind == ir.Union {
				for _, v := range nt.Variants {
					if sameType(v.Type, ot) {
						feed.SinceVariant, feed.SinceUnion = v, qualify(u, c.ImportPath)
					}
				}
			}
			return true
		}
	}
	b.errorf(ev.Since.Pos, "%s", suggest(fmt.Sprintf("%s: parameter %q has no member %q", what, name, member), member, known))
	return false
}

func (b *binder) listParam(oc *ir.OpCall, name string) *ir.Param {
	for _, p := range oc.Op.Params {
		if p.Name == name && p.In == ir.InQuery {
			return p
		}
	}
	return nil
}

func paramType(p *ir.Param) *ir.TypeRef {
	if p == nil {
		return nil
	}
	return p.Type.Unwrapped()
}

func paramNames(oc *ir.OpCall) []string {
	var names []string
	for _, p := range oc.Op.Params {
		names = append(names, p.Name)
	}
	return names
}
