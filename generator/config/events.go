package config

import (
	"go.yaml.in/yaml/v4"

	"github.com/connectorgen/connectorgen/generator/diag"
)

// Events is read.events: the entity's changes are read from an events
// feed (a list of events, each naming one record to re-read with
// read.get) instead of a list of the records themselves. Stripe customers
// carry no change time, so their changes come from GET /v1/events.
type Events struct {
	Pos diag.Pos
	// List is the events list operation.
	List Value
	// Types are the event types to read, sent in the list's Types
	// parameter (default "types").
	Types      []Value
	TypesPos   diag.Pos
	TypesParam Value
	// Deleted are the event types reporting a deleted record (Stripe's
	// customer.deleted): the record is not re-read (it cannot be) but
	// leaves the sync's scope with its exit action. They are sent in the
	// types parameter with Types.
	Deleted    []Value
	DeletedPos diag.Pos
	// TypeField is the path in an event to its type (default "type"),
	// read to tell deletions apart.
	TypeField Value
	// Key is the path in an event to the key of the record it names.
	Key Value
	// Cursor is the event's integer or date-time field the checkpoint
	// follows.
	Cursor Value
	// Since is the list's parameter taking the cursor's lower bound
	// (inclusive): a parameter name, or NAME.MEMBER for a member of an
	// object parameter (Stripe's created[gte]: created.gte).
	Since Value
}

func (d *decoder) events(k, v *yaml.Node, what string) *Events {
	what += ": read events"
	if !d.mapping(v, what) {
		return nil
	}
	ev := &Events{Pos: d.pos(k)}
	d.fields(v, what, map[string]func(k, v *yaml.Node){
		"list":        func(_, v *yaml.Node) { ev.List = d.value(v, "list") },
		"key":         func(_, v *yaml.Node) { ev.Key = d.value(v, "key") },
		"cursor":      func(_, v *yaml.Node) { ev.Cursor = d.value(v, "cursor") },
		"since":       func(_, v *yaml.Node) { ev.Since = d.value(v, "since") },
		"types_param": func(_, v *yaml.Node) { ev.TypesParam = d.value(v, "types_param") },
		"type_field":  func(_, v *yaml.Node) { ev.TypeField = d.value(v, "type_field") },
		"types": func(k, v *yaml.Node) {
			ev.TypesPos = d.pos(k)
			ev.Types = d.eventTypes(v, what, "types")
		},
		"deleted": func(k, v *yaml.Node) {
			ev.DeletedPos = d.pos(k)
			ev.Deleted = d.eventTypes(v, what, "deleted")
		},
	})
	for _, req := range []struct {
		v    Value
		name string
	}{{ev.List, "list (the events list operation)"}, {ev.Key, "key (the path in an event to its record's key)"}, {ev.Cursor, "cursor (the event's time or sequence field)"}} {
		if !req.v.IsSet() {
			d.diags.Errorf(ev.Pos, "%s needs %s", what, req.name)
		}
	}
	return ev
}

// eventTypes decodes a list of event types (events.types, events.deleted).
func (d *decoder) eventTypes(v *yaml.Node, what, name string) []Value {
	if v.Kind != yaml.SequenceNode {
		d.diags.Errorf(d.pos(v), "%s: %s must be a list of event types", what, name)
		return nil
	}
	var out []Value
	for _, n := range v.Content {
		if t := d.value(n, "event type"); t.IsSet() {
			out = append(out, t)
		}
	}
	return out
}
