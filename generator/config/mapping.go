package config

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v4"

	"github.com/connectorgen/connectorgen/generator/diag"
)

// This file decodes the mapping part of a connector config: entities,
// xrefs and syncs. Like the rest of the package it checks shape only (known
// keys, value kinds, durations); names are resolved by the bind stage.

// Value is a scalar with its position.
type Value struct {
	Text string
	Pos  diag.Pos
	// Tag is the YAML tag (!!str, !!int, !!bool, !!null…), so a bind
	// stage can tell "1" from 1.
	Tag string
	// verbatim is the column offset of Text's first character from Pos
	// plus one (1 for a plain scalar, 2 for a quoted one) when Text is the
	// scalar's source text on one line (no escapes, no folding); 0 when
	// positions inside Text cannot be told.
	verbatim int
}

// IsSet reports whether the value was given.
func (v Value) IsSet() bool { return v.Pos.IsValid() }

// At returns the position of byte offset i of Text in the file, so that a
// diagnostic about part of a value (a template's placeholder) points at
// that part; the value's own position where the source text differs
// from Text (escapes, a multi-line scalar).
func (v Value) At(i int) diag.Pos {
	if v.verbatim == 0 || i < 0 || i > len(v.Text) {
		return v.Pos
	}
	p := v.Pos
	p.Col += v.verbatim - 1 + utf8.RuneCountInString(v.Text[:i])
	return p
}

// Entity is one entities entry: a record type of a system and the
// operations that read and write it.
type Entity struct {
	Name   string // "crm.Lead"
	System string // "crm"
	Pos    diag.Pos

	Schema  Value
	Key     Value
	Version Value
	Deleted Value
	// Changed is a date-time field holding the record's last change time
	// (last_writer_wins compares it); the cursor serves when it is a
	// date-time and Changed is not given.
	Changed Value
	// Params are constant values for operation parameters (path params
	// such as a list ID) shared by every operation on the entity.
	Params []Param

	List, Get, Cursor, Since, Lookback Value
	// PageSize is the records per page of List (its limit parameter).
	PageSize  Value
	PageSizeN int
	// Search reads through a search operation instead of List.
	Search      *Search
	LookbackDur time.Duration

	Create, Update, Find Value
	// Upsert is a create-or-update operation (by a natural key in the
	// body, no key in the path): it serves as both create and update.
	Upsert Value
	// Bulk makes the upsert a bulk write: its body carries a list of
	// records (BulkList, a path into the body) rather than one.
	Bulk *Bulk

	// Events, when set, reads the entity's changes from an events feed
	// (read.events) instead of read.list.
	Events *Events

	Webhook *Webhook
}

// Bulk is write.bulk: the upsert takes a list of records per request.
type Bulk struct {
	Pos  diag.Pos
	List Value
	// Batch is the number of records per request (0: the default, 500,
	// capped by the list's maxItems).
	Batch  Value
	BatchN int
}

// Param is a constant operation parameter.
type Param struct {
	Name  string
	Pos   diag.Pos
	Value Value
}

// Webhook describes the events a source system posts about an entity.
type Webhook struct {
	Pos                     diag.Pos
	Event, ID, Key, Version Value
	SignatureHeader, Secret Value
	// SignatureScheme is default, stripe or shopify.
	SignatureScheme           Value
	DeletedField, DeletedWhen Value
}

// ExitAction is a sync's on_exit: exactly one of Set (a final write of
// constants through the target's update), Archive or Delete (an
// operation of the target taking the record key), and When, a condition
// on the source record leaving (nil: always).
type ExitAction struct {
	Pos             diag.Pos
	Set             []Pair
	Archive, Delete Value
	When            *Predicate
}

// Xref is a persisted ID cross-reference table between two entities.
type Xref struct {
	Name     string
	Pos      diag.Pos
	From, To Value
}

// Sync is one syncs entry.
type Sync struct {
	Name     string
	Pos      diag.Pos
	From, To Value
	Xref     Value

	Enter, Exit *Predicate
	// OnExit is what to do to the target record when a record leaves the
	// trigger's scope (nil: nothing).
	OnExit *ExitAction
	// EchoSuppression is echo_suppression (two-way syncs: a write made by
	// one direction must not come back as a change in the other).
	EchoSuppression Value
	Match           []MatchStep
	Fields          []*FieldMap
	Splits          []*Split
	Merges          []*Merge

	ConflictDefault Value
	Conflicts       []Conflict

	Every    time.Duration
	Realtime bool

	MaxAttempts int
	DeadLetter  bool
	DeadPos     diag.Pos

	AlertFailures    int
	AlertFreshness   time.Duration
	AlertDeadLetters int
}

// MatchStep is one entry of a sync's match list: "xref", "create", a
// natural key, or the source field holding the target's key (key_from).
type MatchStep struct {
	Kind Value // xref, natural_key, key_from, create
	// NaturalKey is the target field; From the source field it is
	// compared with; By names where the find operation takes it: a
	// parameter name, or body.PATH into its request body (default: the
	// parameter named like the key's last segment, else the one required
	// parameter). From is optional: the key is the mapped value of the
	// target field, whatever rule produces it (a template).
	NaturalKey, From, By Value
	// Filter, when set, is the value the find operation takes, built from
	// the natural key: "{key}" in it is replaced by the key, escaped for a
	// double-quoted string (a JQL search: 'cf[10050] = "{key}"').
	Filter Value
	// KeyFrom is the source field holding the target record's key (a
	// foreign key such as a contact's stripe_customer_id).
	KeyFrom Value
}

// FieldMap maps one target field.
type FieldMap struct {
	Target Value // dotted path in the target entity
	From   Value // dotted path in the source entity
	// Const is a constant value; OnCreate restricts it (or the whole
	// field) to creates.
	Const    Value
	OnCreate bool
	OnPos    diag.Pos
	Default  Value
	// Transform names string transforms applied in order.
	Transform []Value
	// Map is an enum value map (source value → target value) with an
	// optional Else.
	Map    []Pair
	MapPos diag.Pos
	Else   Value
	// Lookup names an xref table the From value is looked up in; Missing
	// says what happens when it has no entry: defer, skip or fail.
	Lookup, Missing Value
	// Prepend are constants put before the items of a list source
	// (fields.labels = ["freshdesk"] + tags); items already in the list
	// are not repeated.
	Prepend    []Value
	PrependPos diag.Pos
	// Template builds a string from source fields: "{path}" is replaced by
	// the field's value ("https://acme.freshdesk.com/a/tickets/{id}").
	Template Value
}

// Pair is one enum map entry.
type Pair struct{ Key, Value Value }

// Split calls a Go function with one source value and spreads its named
// results over target fields.
type Split struct {
	Pos  diag.Pos
	From Value
	With Value
	Into []Pair // result name → target path
}

// Merge calls a Go function with several source values and writes its
// result to one target field.
type Merge struct {
	Pos  diag.Pos
	From []Value
	With Value
	Into Value
}

// Conflict is a per-field conflict policy.
type Conflict struct {
	Field  Value
	Policy Value
}

// Predicate is a trigger condition: a combinator or a field test.
type Predicate struct {
	Pos      diag.Pos
	All, Any []*Predicate
	Not      *Predicate
	Field    Value
	// Op is eq, ne, in or present; Operands hold its values.
	Op       string
	Operands []Value
}

func (d *decoder) value(n *yaml.Node, what string) Value {
	if !d.scalar(n, what) {
		return Value{}
	}
	return Value{Text: n.Value, Pos: d.pos(n), Tag: n.ShortTag(), verbatim: d.verbatimOffset(n)}
}

// verbatimOffset is Value.verbatim for a scalar node: whether the source
// holds the value as is on the node's line, after its quote if any.
func (d *decoder) verbatimOffset(n *yaml.Node) int {
	if n.Line < 1 || n.Line > len(d.lines) || n.Column < 1 {
		return 0
	}
	line := []rune(d.lines[n.Line-1])
	if n.Column-1 > len(line) {
		return 0
	}
	src := string(line[n.Column-1:])
	switch n.Style {
	case 0:
		if strings.HasPrefix(src, n.Value) {
			return 1
		}
	case yaml.SingleQuotedStyle, yaml.DoubleQuotedStyle:
		// Escapes ('' or \t) make the source differ from the value.
		if q := src[:min(1, len(src))]; q != "" && strings.HasPrefix(src[1:], n.Value+q) {
			return 2
		}
	}
	return 0
}

func (d *decoder) mapping(n *yaml.Node, what string) bool {
	if n.Kind != yaml.MappingNode {
		d.diags.Errorf(d.pos(n), "%s must be a mapping", what)
		return false
	}
	return true
}

func (d *decoder) duration(n *yaml.Node, what string) time.Duration {
	v := d.value(n, what)
	if !v.IsSet() {
		return 0
	}
	dur, err := time.ParseDuration(v.Text)
	if err != nil || dur <= 0 {
		d.diags.Errorf(v.Pos, "%s: %q is not a positive duration (write e.g. 30s, 5m, 2h)", what, v.Text)
		return 0
	}
	return dur
}

func (d *decoder) integer(n *yaml.Node, what string) int {
	v := d.value(n, what)
	if !v.IsSet() {
		return 0
	}
	i, err := strconv.Atoi(v.Text)
	if err != nil || i <= 0 {
		d.diags.Errorf(v.Pos, "%s: %q is not a positive integer", what, v.Text)
		return 0
	}
	return i
}

func (d *decoder) boolean(n *yaml.Node, what string) bool {
	v := d.value(n, what)
	if !v.IsSet() {
		return false
	}
	switch v.Text {
	case "true":
		return true
	case "false":
		return false
	}
	d.diags.Errorf(v.Pos, "%s: %q is not true or false", what, v.Text)
	return false
}

func (d *decoder) entities(n *yaml.Node) []*Entity {
	if !d.mapping(n, "entities") {
		return nil
	}
	var out []*Entity
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		e := &Entity{Name: k.Value, Pos: d.pos(k)}
		sys, _, ok := strings.Cut(k.Value, ".")
		if !ok {
			d.diags.Errorf(d.pos(k), "entity %q: name it system.Name (e.g. crm.Lead)", k.Value)
			continue
		}
		e.System = sys
		if !d.mapping(v, "entity "+quote(k.Value)) {
			continue
		}
		what := "entity " + quote(k.Value)
		d.fields(v, what, map[string]func(k, v *yaml.Node){
			"schema":  func(_, v *yaml.Node) { e.Schema = d.value(v, "schema") },
			"key":     func(_, v *yaml.Node) { e.Key = d.value(v, "key") },
			"version": func(_, v *yaml.Node) { e.Version = d.value(v, "version") },
			"deleted": func(_, v *yaml.Node) { e.Deleted = d.value(v, "deleted") },
			"changed": func(_, v *yaml.Node) { e.Changed = d.value(v, "changed") },
			"params": func(_, v *yaml.Node) {
				if !d.mapping(v, what+": params") {
					return
				}
				for j := 0; j+1 < len(v.Content); j += 2 {
					e.Params = append(e.Params, Param{Name: v.Content[j].Value, Pos: d.pos(v.Content[j]), Value: d.value(v.Content[j+1], "param value")})
				}
			},
			"read": func(_, v *yaml.Node) {
				if !d.mapping(v, what+": read") {
					return
				}
				d.fields(v, what+": read", map[string]func(k, v *yaml.Node){
					"list":   func(_, v *yaml.Node) { e.List = d.value(v, "list") },
					"get":    func(_, v *yaml.Node) { e.Get = d.value(v, "get") },
					"cursor": func(_, v *yaml.Node) { e.Cursor = d.value(v, "cursor") },
					"since":  func(_, v *yaml.Node) { e.Since = d.value(v, "since") },
					"search": func(k, v *yaml.Node) { e.Search = d.search(k, v, what) },
					"events": func(k, v *yaml.Node) { e.Events = d.events(k, v, what) },
					"lookback": func(_, v *yaml.Node) {
						e.Lookback = d.value(v, "lookback")
						e.LookbackDur = d.duration(v, "lookback")
					},
					"page_size": func(_, v *yaml.Node) {
						e.PageSize = d.value(v, "page_size")
						if e.PageSizeN = d.integer(v, "page_size"); e.PageSizeN < 1 && e.PageSize.IsSet() {
							d.diags.Errorf(e.PageSize.Pos, "%s: read page_size must be at least 1", what)
						}
					},
				})
			},
			"write": func(_, v *yaml.Node) {
				if !d.mapping(v, what+": write") {
					return
				}
				d.fields(v, what+": write", map[string]func(k, v *yaml.Node){
					"create": func(_, v *yaml.Node) { e.Create = d.value(v, "create") },
					"update": func(_, v *yaml.Node) { e.Update = d.value(v, "update") },
					"find":   func(_, v *yaml.Node) { e.Find = d.value(v, "find") },
					"upsert": func(_, v *yaml.Node) { e.Upsert = d.value(v, "upsert") },
					"bulk": func(k, v *yaml.Node) {
						if !d.mapping(v, what+": write bulk") {
							return
						}
						bk := &Bulk{Pos: d.pos(k)}
						d.fields(v, what+": write bulk", map[string]func(k, v *yaml.Node){
							"list": func(_, v *yaml.Node) { bk.List = d.value(v, "list") },
							"batch": func(_, v *yaml.Node) {
								bk.Batch = d.value(v, "batch")
								if bk.BatchN = d.integer(v, "batch"); bk.BatchN < 1 && bk.Batch.IsSet() {
									d.diags.Errorf(bk.Batch.Pos, "%s: bulk batch must be at least 1", what)
								}
							},
						})
						if !bk.List.IsSet() {
							d.diags.Errorf(bk.Pos, "%s: write bulk needs list (the path of the records' list in the upsert body)", what)
						}
						e.Bulk = bk
					},
				})
			},
			"webhook": func(k, v *yaml.Node) {
				if !d.mapping(v, what+": webhook") {
					return
				}
				w := &Webhook{Pos: d.pos(k)}
				d.fields(v, what+": webhook", map[string]func(k, v *yaml.Node){
					"event":   func(_, v *yaml.Node) { w.Event = d.value(v, "event") },
					"id":      func(_, v *yaml.Node) { w.ID = d.value(v, "id") },
					"key":     func(_, v *yaml.Node) { w.Key = d.value(v, "key") },
					"version": func(_, v *yaml.Node) { w.Version = d.value(v, "version") },
					"signature": func(_, v *yaml.Node) {
						if !d.mapping(v, "signature") {
							return
						}
						d.fields(v, what+": webhook signature", map[string]func(k, v *yaml.Node){
							"header": func(_, v *yaml.Node) { w.SignatureHeader = d.value(v, "header") },
							"secret": func(_, v *yaml.Node) { w.Secret = d.value(v, "secret") },
							"scheme": func(_, v *yaml.Node) {
								w.SignatureScheme = d.value(v, "scheme")
								switch w.SignatureScheme.Text {
								case "default", "stripe", "shopify":
								default:
									d.diags.Errorf(w.SignatureScheme.Pos, "%s: webhook signature scheme must be default, stripe or shopify, not %q%s", what, w.SignatureScheme.Text, diag.Hint(w.SignatureScheme.Text, []string{"default", "shopify", "stripe"}, 0))
								}
							},
						})
					},
				})
				e.Webhook = w
			},
		})
		out = append(out, e)
	}
	return out
}

func (d *decoder) exitAction(k, n *yaml.Node, what string) *ExitAction {
	what += ": on_exit"
	if !d.mapping(n, what) {
		return nil
	}
	a := &ExitAction{Pos: d.pos(k)}
	d.fields(n, what, map[string]func(k, v *yaml.Node){
		"set": func(_, v *yaml.Node) {
			if !d.mapping(v, what+": set") {
				return
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				a.Set = append(a.Set, Pair{Key: d.value(v.Content[j], "field"), Value: d.value(v.Content[j+1], "value")})
			}
			if len(a.Set) == 0 {
				d.diags.Errorf(d.pos(v), "%s: set needs at least one field", what)
			}
		},
		"archive": func(_, v *yaml.Node) { a.Archive = d.value(v, "archive") },
		"delete":  func(_, v *yaml.Node) { a.Delete = d.value(v, "delete") },
		"when":    func(_, v *yaml.Node) { a.When = d.predicate(v, what+": when") },
	})
	n2 := 0
	for _, b := range []bool{len(a.Set) > 0, a.Archive.IsSet(), a.Delete.IsSet()} {
		if b {
			n2++
		}
	}
	if n2 != 1 {
		d.diags.Errorf(a.Pos, "%s: give exactly one of set, archive or delete", what)
		return nil
	}
	return a
}

func (d *decoder) xrefs(n *yaml.Node) []*Xref {
	if !d.mapping(n, "xrefs") {
		return nil
	}
	var out []*Xref
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		x := &Xref{Name: k.Value, Pos: d.pos(k)}
		if !d.mapping(v, "xref "+quote(k.Value)) {
			continue
		}
		d.fields(v, "xref "+quote(k.Value), map[string]func(k, v *yaml.Node){
			"from": func(_, v *yaml.Node) { x.From = d.value(v, "from") },
			"to":   func(_, v *yaml.Node) { x.To = d.value(v, "to") },
		})
		out = append(out, x)
	}
	return out
}

func (d *decoder) syncs(n *yaml.Node) []*Sync {
	if !d.mapping(n, "syncs") {
		return nil
	}
	var out []*Sync
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		s := &Sync{Name: k.Value, Pos: d.pos(k)}
		what := "sync " + quote(k.Value)
		if !d.mapping(v, what) {
			continue
		}
		d.fields(v, what, map[string]func(k, v *yaml.Node){
			"from":    func(_, v *yaml.Node) { s.From = d.value(v, "from") },
			"to":      func(_, v *yaml.Node) { s.To = d.value(v, "to") },
			"xref":    func(_, v *yaml.Node) { s.Xref = d.value(v, "xref") },
			"trigger": func(_, v *yaml.Node) { d.trigger(v, s, what) },
			"on_exit": func(k, v *yaml.Node) { s.OnExit = d.exitAction(k, v, what) },
			"echo_suppression": func(_, v *yaml.Node) {
				s.EchoSuppression = d.value(v, "echo_suppression")
				d.boolean(v, "echo_suppression")
			},
			"match":     func(_, v *yaml.Node) { s.Match = d.match(v, what) },
			"fields":    func(_, v *yaml.Node) { s.Fields = d.fieldMaps(v, what) },
			"split":     func(_, v *yaml.Node) { s.Splits = d.splits(v, what) },
			"merge":     func(_, v *yaml.Node) { s.Merges = d.merges(v, what) },
			"conflicts": func(_, v *yaml.Node) { d.conflicts(v, s, what) },
			"schedule": func(_, v *yaml.Node) {
				if !d.mapping(v, what+": schedule") {
					return
				}
				d.fields(v, what+": schedule", map[string]func(k, v *yaml.Node){
					"realtime": func(_, v *yaml.Node) { s.Realtime = d.boolean(v, "realtime") },
					"poll": func(_, v *yaml.Node) {
						if !d.mapping(v, what+": schedule poll") {
							return
						}
						d.fields(v, what+": schedule poll", map[string]func(k, v *yaml.Node){
							"every": func(_, v *yaml.Node) { s.Every = d.duration(v, "every") },
						})
					},
				})
			},
			"errors": func(_, v *yaml.Node) {
				if !d.mapping(v, what+": errors") {
					return
				}
				d.fields(v, what+": errors", map[string]func(k, v *yaml.Node){
					"retry": func(_, v *yaml.Node) {
						if !d.mapping(v, what+": errors retry") {
							return
						}
						d.fields(v, what+": errors retry", map[string]func(k, v *yaml.Node){
							"max_attempts": func(_, v *yaml.Node) { s.MaxAttempts = d.integer(v, "max_attempts") },
						})
					},
					"dead_letter": func(_, v *yaml.Node) { s.DeadLetter, s.DeadPos = d.boolean(v, "dead_letter"), d.pos(v) },
				})
			},
			"alerts": func(_, v *yaml.Node) {
				if !d.mapping(v, what+": alerts") {
					return
				}
				d.fields(v, what+": alerts", map[string]func(k, v *yaml.Node){
					"consecutive_failures": func(_, v *yaml.Node) { s.AlertFailures = d.integer(v, "consecutive_failures") },
					"freshness":            func(_, v *yaml.Node) { s.AlertFreshness = d.duration(v, "freshness") },
					"dead_letters":         func(_, v *yaml.Node) { s.AlertDeadLetters = d.integer(v, "dead_letters") },
				})
			},
		})
		if !s.From.IsSet() {
			d.diags.Errorf(s.Pos, "%s: missing from (the source entity, e.g. crm.Lead)", what)
		}
		if !s.To.IsSet() {
			d.diags.Errorf(s.Pos, "%s: missing to (the target entity, e.g. email.Member)", what)
		}
		out = append(out, s)
	}
	return out
}

func (d *decoder) trigger(n *yaml.Node, s *Sync, what string) {
	if !d.mapping(n, what+": trigger") {
		return
	}
	d.fields(n, what+": trigger", map[string]func(k, v *yaml.Node){
		"enter": func(_, v *yaml.Node) { s.Enter = d.predicate(v, what+": trigger enter") },
		"exit":  func(_, v *yaml.Node) { s.Exit = d.predicate(v, what+": trigger exit") },
	})
}

// predicate decodes {all: [...]}, {any: [...]}, {not: P} or
// {field: F, eq|ne|in|present: V}.
func (d *decoder) predicate(n *yaml.Node, what string) *Predicate {
	if !d.mapping(n, what) {
		return nil
	}
	p := &Predicate{Pos: d.pos(n)}
	list := func(v *yaml.Node) []*Predicate {
		if v.Kind != yaml.SequenceNode {
			d.diags.Errorf(d.pos(v), "%s: all and any take a list of conditions", what)
			return nil
		}
		var out []*Predicate
		for _, c := range v.Content {
			if q := d.predicate(c, what); q != nil {
				out = append(out, q)
			}
		}
		return out
	}
	op := func(name string) func(_, v *yaml.Node) {
		return func(_, v *yaml.Node) {
			if p.Op != "" {
				d.diags.Errorf(d.pos(v), "%s: one of eq, ne, in, present, contains per condition (have %s and %s)", what, p.Op, name)
				return
			}
			p.Op = name
			if name == "in" {
				if v.Kind != yaml.SequenceNode {
					d.diags.Errorf(d.pos(v), "%s: in takes a list of values", what)
					return
				}
				for _, c := range v.Content {
					p.Operands = append(p.Operands, d.value(c, "in value"))
				}
				return
			}
			p.Operands = []Value{d.value(v, name)}
		}
	}
	d.fields(n, what, map[string]func(k, v *yaml.Node){
		"all":      func(_, v *yaml.Node) { p.All = list(v) },
		"any":      func(_, v *yaml.Node) { p.Any = list(v) },
		"not":      func(_, v *yaml.Node) { p.Not = d.predicate(v, what) },
		"field":    func(_, v *yaml.Node) { p.Field = d.value(v, "field") },
		"eq":       op("eq"),
		"ne":       op("ne"),
		"in":       op("in"),
		"present":  op("present"),
		"contains": op("contains"),
	})
	switch {
	case p.Field.IsSet() && p.Op == "":
		d.diags.Errorf(p.Pos, "%s: condition on %q needs eq, ne, in, present or contains", what, p.Field.Text)
	case !p.Field.IsSet() && p.Op != "":
		d.diags.Errorf(p.Pos, "%s: %s needs a field", what, p.Op)
	case !p.Field.IsSet() && p.All == nil && p.Any == nil && p.Not == nil:
		d.diags.Errorf(p.Pos, "%s: a condition is {field: F, eq: V} or all/any/not", what)
	}
	return p
}

func (d *decoder) match(n *yaml.Node, what string) []MatchStep {
	if n.Kind != yaml.SequenceNode {
		d.diags.Errorf(d.pos(n), "%s: match must be a list such as [xref, {natural_key: email, from: email}, create]", what)
		return nil
	}
	var out []MatchStep
	for _, c := range n.Content {
		switch c.Kind {
		case yaml.ScalarNode:
			v := d.value(c, "match step")
			if v.Text != "xref" && v.Text != "create" {
				d.diags.Errorf(v.Pos, "%s: unknown match step %q%s", what, v.Text, diag.Hint(v.Text, []string{"xref", "create", "natural_key"}, 0))
				continue
			}
			out = append(out, MatchStep{Kind: v})
		case yaml.MappingNode:
			st := MatchStep{Kind: Value{Text: "natural_key", Pos: d.pos(c)}}
			d.fields(c, what+": match", map[string]func(k, v *yaml.Node){
				"natural_key": func(_, v *yaml.Node) { st.NaturalKey = d.value(v, "natural_key") },
				"from":        func(_, v *yaml.Node) { st.From = d.value(v, "from") },
				"by":          func(_, v *yaml.Node) { st.By = d.value(v, "by") },
				"filter":      func(_, v *yaml.Node) { st.Filter = d.value(v, "filter") },
				"key_from":    func(_, v *yaml.Node) { st.KeyFrom = d.value(v, "key_from") },
			})
			if st.KeyFrom.IsSet() {
				if st.NaturalKey.IsSet() || st.From.IsSet() || st.By.IsSet() || st.Filter.IsSet() {
					d.diags.Errorf(d.pos(c), "%s: a key_from match step takes no natural_key, from, by or filter (the source field holds the target's key itself)", what)
					continue
				}
				st.Kind.Text = "key_from"
				out = append(out, st)
				continue
			}
			if !st.NaturalKey.IsSet() {
				d.diags.Errorf(d.pos(c), "%s: a natural-key match step needs natural_key (the target field whose value finds the record)", what)
				continue
			}
			out = append(out, st)
		default:
			d.diags.Errorf(d.pos(c), "%s: match steps are xref, create, {natural_key: F, from: F} or {key_from: F}", what)
		}
	}
	return out
}

func (d *decoder) fieldMaps(n *yaml.Node, what string) []*FieldMap {
	if !d.mapping(n, what+": fields") {
		return nil
	}
	var out []*FieldMap
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		f := &FieldMap{Target: Value{Text: k.Value, Pos: d.pos(k)}}
		fw := what + ": field " + quote(k.Value)
		if v.Kind == yaml.ScalarNode {
			// Shorthand: target: source.
			f.From = d.value(v, "from")
			out = append(out, f)
			continue
		}
		if !d.mapping(v, fw) {
			continue
		}
		d.fields(v, fw, map[string]func(k, v *yaml.Node){
			"from":  func(_, v *yaml.Node) { f.From = d.value(v, "from") },
			"const": func(_, v *yaml.Node) { f.Const = d.value(v, "const") },
			"on": func(_, v *yaml.Node) {
				on := d.value(v, "on")
				f.OnPos = on.Pos
				switch on.Text {
				case "create":
					f.OnCreate = true
				case "always":
				default:
					d.diags.Errorf(on.Pos, "%s: on must be create or always, not %q", fw, on.Text)
				}
			},
			"default": func(_, v *yaml.Node) { f.Default = d.value(v, "default") },
			"transform": func(_, v *yaml.Node) {
				if v.Kind == yaml.ScalarNode {
					f.Transform = []Value{d.value(v, "transform")}
					return
				}
				if v.Kind != yaml.SequenceNode {
					d.diags.Errorf(d.pos(v), "%s: transform must be a list such as [trim, lower]", fw)
					return
				}
				for _, c := range v.Content {
					f.Transform = append(f.Transform, d.value(c, "transform"))
				}
			},
			"map": func(_, v *yaml.Node) {
				if !d.mapping(v, fw+": map") {
					return
				}
				f.MapPos = d.pos(v)
				for j := 0; j+1 < len(v.Content); j += 2 {
					f.Map = append(f.Map, Pair{Key: d.value(v.Content[j], "map key"), Value: d.value(v.Content[j+1], "map value")})
				}
			},
			"else":    func(_, v *yaml.Node) { f.Else = d.value(v, "else") },
			"lookup":  func(_, v *yaml.Node) { f.Lookup = d.value(v, "lookup") },
			"missing": func(_, v *yaml.Node) { f.Missing = d.value(v, "missing") },
			"prepend": func(_, v *yaml.Node) {
				f.PrependPos = d.pos(v)
				if v.Kind != yaml.SequenceNode {
					d.diags.Errorf(d.pos(v), "%s: prepend must be a list of constants such as [freshdesk]", fw)
					return
				}
				for _, c := range v.Content {
					f.Prepend = append(f.Prepend, d.value(c, "prepend"))
				}
			},
			"template": func(_, v *yaml.Node) { f.Template = d.value(v, "template") },
		})
		switch {
		case f.Template.IsSet() && (f.From.IsSet() || f.Const.IsSet()):
			d.diags.Errorf(f.Target.Pos, "%s: template excludes from and const", fw)
		case f.Template.IsSet():
		case f.From.IsSet() && f.Const.IsSet():
			d.diags.Errorf(f.Target.Pos, "%s: from and const exclude each other", fw)
		case !f.From.IsSet() && !f.Const.IsSet():
			d.diags.Errorf(f.Target.Pos, "%s: needs from (a source field), const or template", fw)
		}
		if f.Prepend != nil && (!f.From.IsSet() || f.Map != nil || f.Lookup.IsSet()) {
			d.diags.Errorf(f.PrependPos, "%s: prepend applies only to a list copied with from (no map or lookup)", fw)
		}
		if f.Missing.IsSet() {
			switch f.Missing.Text {
			case "defer", "skip", "fail":
			default:
				d.diags.Errorf(f.Missing.Pos, "%s: missing must be defer, skip or fail, not %q", fw, f.Missing.Text)
			}
			if !f.Lookup.IsSet() {
				d.diags.Errorf(f.Missing.Pos, "%s: missing applies only with lookup", fw)
			}
		}
		if f.Else.IsSet() && f.Map == nil {
			d.diags.Errorf(f.Else.Pos, "%s: else applies only with map", fw)
		}
		out = append(out, f)
	}
	return out
}

func (d *decoder) splits(n *yaml.Node, what string) []*Split {
	if n.Kind != yaml.SequenceNode {
		d.diags.Errorf(d.pos(n), "%s: split must be a list", what)
		return nil
	}
	var out []*Split
	for _, c := range n.Content {
		if !d.mapping(c, what+": split") {
			continue
		}
		s := &Split{Pos: d.pos(c)}
		d.fields(c, what+": split", map[string]func(k, v *yaml.Node){
			"from": func(_, v *yaml.Node) { s.From = d.value(v, "from") },
			"with": func(_, v *yaml.Node) { s.With = d.value(v, "with") },
			"into": func(_, v *yaml.Node) {
				if !d.mapping(v, what+": split into") {
					return
				}
				for j := 0; j+1 < len(v.Content); j += 2 {
					s.Into = append(s.Into, Pair{Key: d.value(v.Content[j], "result name"), Value: d.value(v.Content[j+1], "target field")})
				}
			},
		})
		if !s.From.IsSet() || !s.With.IsSet() || len(s.Into) == 0 {
			d.diags.Errorf(s.Pos, "%s: a split needs from, with (a Go function) and into (result name → target field)", what)
			continue
		}
		out = append(out, s)
	}
	return out
}

func (d *decoder) merges(n *yaml.Node, what string) []*Merge {
	if n.Kind != yaml.SequenceNode {
		d.diags.Errorf(d.pos(n), "%s: merge must be a list", what)
		return nil
	}
	var out []*Merge
	for _, c := range n.Content {
		if !d.mapping(c, what+": merge") {
			continue
		}
		m := &Merge{Pos: d.pos(c)}
		d.fields(c, what+": merge", map[string]func(k, v *yaml.Node){
			"from": func(_, v *yaml.Node) {
				if v.Kind != yaml.SequenceNode {
					d.diags.Errorf(d.pos(v), "%s: merge from must be a list of source fields", what)
					return
				}
				for _, e := range v.Content {
					m.From = append(m.From, d.value(e, "from"))
				}
			},
			"with": func(_, v *yaml.Node) { m.With = d.value(v, "with") },
			"into": func(_, v *yaml.Node) { m.Into = d.value(v, "into") },
		})
		if len(m.From) == 0 || !m.With.IsSet() || !m.Into.IsSet() {
			d.diags.Errorf(m.Pos, "%s: a merge needs from (a list), with (a Go function) and into (a target field)", what)
			continue
		}
		out = append(out, m)
	}
	return out
}

func (d *decoder) conflicts(n *yaml.Node, s *Sync, what string) {
	if !d.mapping(n, what+": conflicts") {
		return
	}
	d.fields(n, what+": conflicts", map[string]func(k, v *yaml.Node){
		"default": func(_, v *yaml.Node) { s.ConflictDefault = d.policy(v, what) },
		"fields": func(_, v *yaml.Node) {
			if !d.mapping(v, what+": conflicts fields") {
				return
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				s.Conflicts = append(s.Conflicts, Conflict{
					Field:  Value{Text: v.Content[j].Value, Pos: d.pos(v.Content[j])},
					Policy: d.policy(v.Content[j+1], what),
				})
			}
		},
	})
}

// policyNames are the conflict policies, as the mapping file spells them.
func policyNames() []string {
	return []string{"source_wins", "target_wins", "last_writer_wins", "queue"}
}

func (d *decoder) policy(n *yaml.Node, what string) Value {
	v := d.value(n, "policy")
	if !v.IsSet() {
		return v
	}
	policies := policyNames()
	for _, p := range policies {
		if v.Text == p {
			return v
		}
	}
	d.diags.Errorf(v.Pos, "%s: unknown conflict policy %q%s", what, v.Text, diag.Hint(v.Text, policies, -1))
	return Value{}
}

func quote(s string) string { return strconv.Quote(s) }

// Limit is one declared request budget: Requests per Per, with a Burst
// (0: the runtime's default).
type Limit struct {
	Pos      diag.Pos
	Requests int
	Per      time.Duration
	Burst    int
}

// limits decodes a system's limits: one window or a list of them, each
// {requests: N, per: second|minute|hour|day|DURATION, burst: B}.
func (d *decoder) limits(n *yaml.Node, what string) []Limit {
	what += ": limits"
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	var out []Limit
	for _, c := range items {
		if !d.mapping(c, what+" (a window {requests: N, per: minute} or a list of them)") {
			continue
		}
		l := Limit{Pos: d.pos(c)}
		given := 0 // requests and per given, valid or not (reported where they are)
		d.fields(c, what, map[string]func(k, v *yaml.Node){
			"requests": func(_, v *yaml.Node) { given++; l.Requests = d.integer(v, "requests") },
			"burst":    func(_, v *yaml.Node) { l.Burst = d.integer(v, "burst") },
			"per": func(_, v *yaml.Node) {
				given++
				p := d.value(v, "per")
				if !p.IsSet() {
					return
				}
				switch p.Text {
				case "second":
					l.Per = time.Second
				case "minute":
					l.Per = time.Minute
				case "hour":
					l.Per = time.Hour
				case "day":
					l.Per = 24 * time.Hour
				default:
					if dur, err := time.ParseDuration(p.Text); err == nil && dur > 0 {
						l.Per = dur
					} else {
						d.diags.Errorf(p.Pos, "%s: per must be second, minute, hour, day or a duration such as 10s, not %q", what, p.Text)
					}
				}
			},
		})
		if l.Requests == 0 || l.Per == 0 {
			if given == 2 {
				continue // a bad value, already reported
			}
			d.diags.Errorf(l.Pos, "%s: a window needs requests (a positive integer) and per (second, minute, hour, day or a duration)", what)
			continue
		}
		out = append(out, l)
	}
	return out
}

// AuthSource names where one security scheme's credential parts come
// from: env://NAME or file://PATH references, never values.
type AuthSource struct {
	Scheme Value
	// Parts are the credential parts (client_id, client_secret,
	// refresh_token, key, username, password, token) and their sources.
	Parts []Pair
	// Short says the entry gave one reference for the whole credential
	// (`BearerAuth: env://TOKEN`): it fills the scheme's one part.
	Short bool
}

func (d *decoder) auth(n *yaml.Node, what string) []AuthSource {
	if !d.mapping(n, what+": auth") {
		return nil
	}
	var out []AuthSource
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		a := AuthSource{Scheme: Value{Text: k.Value, Pos: d.pos(k)}}
		if v.Kind == yaml.ScalarNode {
			a.Parts = []Pair{{Key: Value{Text: "key", Pos: d.pos(k)}, Value: d.value(v, "credential")}}
			a.Short = true
		} else if d.mapping(v, what+": auth "+quote(k.Value)) {
			for j := 0; j+1 < len(v.Content); j += 2 {
				a.Parts = append(a.Parts, Pair{Key: Value{Text: v.Content[j].Value, Pos: d.pos(v.Content[j])}, Value: d.value(v.Content[j+1], "credential")})
			}
		}
		for _, p := range a.Parts {
			if p.Value.IsSet() && !strings.HasPrefix(p.Value.Text, "env://") && !strings.HasPrefix(p.Value.Text, "file://") && p.Key.Text != "client_id" && p.Key.Text != "username" && p.Key.Text != "scopes" {
				d.diags.Errorf(p.Value.Pos, "%s: auth %s %s: credentials must be references (env://NAME or file://PATH), never values in the mapping file", what, k.Value, p.Key.Text)
			}
		}
		out = append(out, a)
	}
	return out
}
