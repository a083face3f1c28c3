package ir

// Search is a bound search read (read.search): the source is polled
// through a search operation whose request body carries the lower bound
// (a filter on Property), the sort order, the page size and the page
// position, in the CRM search convention (HubSpot's filterGroups[].filters[]
// {propertyName, operator, value}, sorts, limit, after; answered with
// results and paging.next.after).
type Search struct {
	Call *OpCall
	// Groups leads from the body to the filter groups (element GroupType);
	// Filters from a group to its filters (element FilterType); Prop, Op
	// and Value from a filter to its property name, operator and value.
	Groups, Filters     Path
	GroupType           *TypeRef
	FilterType          *TypeRef
	Prop, Op, Value     Path
	Property, Operator  string
	Sorts, Limit, After Path
	Sort                string
	PageSize            int
	// Results leads from the answer to the records; Next to the position
	// of the next page (absent or empty on the last page).
	Results, Next Path
	// Consts are body fields fixed by the entity's params (HubSpot's
	// properties, the fields the answer carries).
	Consts []BodyConst
}

// BodyConst is a request body field fixed by the mapping: a string or a
// UUID, or a list of them given as comma-separated values.
type BodyConst struct {
	Path   Path
	List   bool
	Values []string
	// UUID says the values are UUIDs (oas.UUID), checked when bound.
	UUID bool
}
