package config

import (
	"github.com/connectorgen/connectorgen/generator/diag"
	"go.yaml.in/yaml/v4"
)

// Search is read.search: an incremental read through a search endpoint
// whose lower bound, sort order and page position go in the request body
// (HubSpot's POST /crm/v3/objects/{type}/search with filterGroups, sorts,
// limit and after).
type Search struct {
	Pos diag.Pos
	// Op is the search operation.
	Op Value
	// Property is the property the body filter compares with the cursor's
	// lower bound (filter.property); Operator its comparison (filter.op,
	// default GTE: the lower bound is inclusive).
	Property, Operator Value
	// Sort is the sort entry that orders results by the filtered property,
	// ascending (default: Property).
	Sort Value
	// PageSize is the records per page (page_size; 0: the spec's default).
	PageSize  Value
	PageSizeN int
}

func (d *decoder) search(k, v *yaml.Node, what string) *Search {
	what += ": read search"
	if !d.mapping(v, what) {
		return nil
	}
	s := &Search{Pos: d.pos(k)}
	d.fields(v, what, map[string]func(k, v *yaml.Node){
		"op": func(_, v *yaml.Node) { s.Op = d.value(v, "op") },
		"filter": func(_, v *yaml.Node) {
			if !d.mapping(v, what+" filter") {
				return
			}
			d.fields(v, what+" filter", map[string]func(k, v *yaml.Node){
				"property": func(_, v *yaml.Node) { s.Property = d.value(v, "property") },
				"op":       func(_, v *yaml.Node) { s.Operator = d.value(v, "op") },
			})
		},
		"sort": func(_, v *yaml.Node) { s.Sort = d.value(v, "sort") },
		"page_size": func(_, v *yaml.Node) {
			s.PageSize = d.value(v, "page_size")
			if s.PageSizeN = d.integer(v, "page_size"); s.PageSizeN < 1 && s.PageSize.IsSet() {
				d.diags.Errorf(s.PageSize.Pos, "%s: page_size must be at least 1", what)
			}
		},
	})
	if !s.Op.IsSet() {
		d.diags.Errorf(s.Pos, "%s needs op (the search operation)", what)
	}
	if !s.Property.IsSet() {
		d.diags.Errorf(s.Pos, "%s needs filter.property (the property compared with the cursor)", what)
	}
	return s
}
