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
		"types": func(k, v *yaml.Node) {
			ev.TypesPos = d.pos(k)
			if v.Kind != yaml.SequenceNode {
				d.diags.Errorf(d.pos(v), "%s: types must be a list of event types", what)
				return
			}
			for _, n := range v.Content {
				if t := d.value(n, "event type"); t.IsSet() {
					ev.Types = append(ev.Types, t)
				}
			}
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
