package ir

import "time"

// Connector is the bound mapping of a connector config: the syncs between
// its systems' clients, with every name resolved to a Go-level fact.
type Connector struct {
	// Package is the Go package of the sync code; ImportPath is where
	// the client packages live relative to (their parent's import path).
	Package string
	Source  Source
	Clients []*Client
	Xrefs   []*Xref
	Syncs   []*Sync
	// Main says a main package (cmd/<Package>) is generated beside the
	// sync code (the runbook tells how to run it).
	Main bool
}

// Client is one system's generated client as the sync code uses it.
type Client struct {
	System string
	Field  string // field of the Clients struct
	// NewFunc is the generated function that builds this client from the
	// mapping's credentials (decided by bind with every other name).
	NewFunc    string
	ImportPath string
	Pkg        *Package
	// Auth lists where credentials come from (runbook); Creds are the same,
	// bound to the spec's security schemes (NewClients).
	Auth  []AuthDoc
	Creds []*Credential
	// Operations are the operation IDs the syncs use, sorted.
	Operations []string
	// Limits are the system's declared request budgets; one limiter with
	// every window serves all syncs on the system.
	Limits []RateWindow
	// Scopes are the OAuth scopes those operations need (from the spec's
	// security requirements); ExtraScopes the ones the mapping requests
	// beyond them (least privilege).
	Scopes, ExtraScopes []string
}

// RateWindow is one declared request budget: Requests per Per, with a
// Burst (0: the runtime's default).
type RateWindow struct {
	Requests int
	Per      time.Duration
	Burst    int
}

// AuthDoc says where one credential part comes from.
type AuthDoc struct {
	Scheme, Part, Source string
}

// Credential is one security scheme's credential as the mapping file
// sources it: part name (key, username, password, token, client_id,
// client_secret, refresh_token) → a reference (env://…, file://…) or, for
// non-secret parts, a literal.
type Credential struct {
	Scheme *SecurityScheme
	Parts  map[string]string
}

// Xref is a persisted ID cross-reference table.
type Xref struct {
	Name     string
	From, To string // entity names
}

// Path is a resolved dotted field path: Text as written, Steps through
// the Go structs (each step's Type keeps its Opt/Nullable/pointer wrapper).
type Path struct {
	Text  string
	Steps []Step
	// Untyped says the path goes through a map of untyped values: its
	// value is not checked against a schema.
	Untyped bool
	// NearMiss is a declared field that a segment taken as an
	// additional-properties key is a likely typo of (for a warning).
	NearMiss string
}

// HasMapKey reports whether any step reads a map entry.
func (p Path) HasMapKey() bool {
	for _, s := range p.Steps {
		if s.MapKey {
			return true
		}
	}
	return false
}

// Leaf returns the type of the path's last field.
func (p Path) Leaf() *TypeRef {
	if len(p.Steps) == 0 {
		return nil
	}
	return p.Steps[len(p.Steps)-1].Type
}

// ConstParam is an operation parameter with a value fixed by the mapping.
type ConstParam struct {
	Param *Param
	Value string
}

// OpCall is one client call a sync makes.
type OpCall struct {
	Client *Client
	Op     *Operation
	// Consts are entity params that apply to the operation.
	Consts []ConstParam
	// KeyParam receives the record key (get, update) or the natural key
	// (find), of KeyKind; SinceParam receives the cursor (list);
	// IdemParam receives the idempotency key (create).
	KeyParam, SinceParam, IdemParam *Param
	KeyKind                         KeyKind
	// PageSize, when above 0, goes in the list's limit parameter
	// (Op.Pagination.LimitParam): read.page_size.
	PageSize int
	// Items leads from a find result to the slice of matches (empty when
	// the result is the record itself).
	Items []Step
	// BodyType is the request body struct (create, update).
	BodyType *TypeRef
	// ConvertResult says the call answers with a structurally identical
	// copy of the record's type (an inline schema under another name),
	// converted with a Go conversion.
	ConvertResult bool
	// Envelope, when set, leads from a get's answer to the record: the
	// answer is an object whose only field holds it (Shopify's
	// {"customer": {…}}). One step; its type is the record's, or a
	// pointer to it (nil: the answer has no record, an error).
	Envelope []Step
	// ResultKey leads from a create's (or upsert's) response to the new
	// record's key; the response need not be the record's schema (Jira
	// answers a create with CreatedIssue).
	ResultKey Path
}

// Entity is a bound entities entry.
type Entity struct {
	Name   string // crm.Lead
	Client *Client
	Type   *TypeRef // the schema's Go type, qualified
	Key    Path
	// KeyKind is the key's scalar type (string, integer or UUID).
	KeyKind KeyKind
	// Version, Deleted and Cursor are optional (empty Text when absent).
	Version, Deleted, Cursor Path
	CursorKind               CursorKind
	// VersionFrom says which field orders the record's versions.
	VersionFrom VersionSource
	Lookback    time.Duration
	// Changed is the date-time field holding the record's last change
	// time (the `changed:` field, else a date-time cursor; empty Text when
	// neither): last_writer_wins compares it.
	Changed Path

	List, Get, Create, Update, Find *OpCall
	// Search, when set, is the poll's read instead of List.
	Search *Search
	// Upsert says Create and Update are one create-or-update operation
	// that takes no key.
	Upsert bool
	// Bulk, when set, makes the upsert a bulk write: Create.BodyType and
	// Update.BodyType are then the record type (a list element) that the
	// fields map into, and the request body is Bulk.BodyType with the
	// records under Bulk.List.
	Bulk *Bulk

	// Events, when set, reads the entity's changes from an events feed
	// (read.events) instead of List.
	Events *EventsFeed

	Webhook *Webhook
}

// EventsFeed is a bound read.events: List pages through events of Type;
// each names a record (Key, of KeyKind) that the entity's Get re-reads,
// and the checkpoint follows the event's Cursor.
type EventsFeed struct {
	List *OpCall
	Type *TypeRef
	Key  Path
	// KeyKind is the key's scalar type in the event.
	KeyKind    KeyKind
	Cursor     Path
	CursorKind CursorKind
	// Types are the event types sent in TypesParam (nil: none).
	Types      []string
	TypesParam *Param
	// Deleted are the event types reporting a deleted record (also sent
	// in TypesParam): the Feed yields the record's key as gone, without
	// re-reading it. TypeField leads from an event to its type (a string,
	// or a string enum when TypeEnum).
	Deleted   []string
	TypeField Path
	TypeEnum  bool
	// Since takes the cursor's lower bound; SinceField, when set, is the
	// member of Since's object type (SinceVariant: of that variant of its
	// union type) that takes it.
	Since        *Param
	SinceVariant *Variant
	// SinceUnion is Since's union type (qualified) when SinceVariant is
	// set; SinceType the object type holding SinceField.
	SinceUnion *TypeRef
	SinceType  *TypeRef
	SinceField *Field
}

// Bulk is a bound bulk write (write.bulk).
type Bulk struct {
	// BodyType is the upsert's request body; List leads from it to the
	// slice of records, of element ItemType.
	BodyType *TypeRef
	List     Path
	ItemType *TypeRef
	// ItemKey leads from a record of the list to its key: a bulk upsert's
	// answer (often an async job id) carries no record key, so the target
	// key is the natural key as written.
	ItemKey Path
	// Batch is the number of records per request: the configured batch,
	// else 500, capped by the list's maxItems.
	Batch int
	// Job leads from the upsert's answer to the id of the asynchronous job
	// applying the records (SendGrid's job_id), recorded in the audit log;
	// empty when the answer has none.
	Job Path
	// Consts are fields of the request body beside the list fixed by the
	// entity's params (SendGrid's list_ids: the list the contacts join).
	Consts []BodyConst
}

// ExitKind says what a sync does to the target record when a record
// leaves its scope.
type ExitKind int

// Exit actions (on_exit), chosen in the mapping, never inferred.
const (
	// ExitSet writes constants through the target's update operation.
	ExitSet ExitKind = iota + 1
	// ExitArchive and ExitDelete call an operation taking the record key;
	// a record already gone counts as done.
	ExitArchive
	ExitDelete
)

// ExitAction is a bound on_exit.
type ExitAction struct {
	Kind ExitKind
	// Op is the operation called with the target key (its KeyParam set):
	// the target's update for ExitSet, else the archive/delete operation.
	Op *OpCall
	// Set are the constants ExitSet writes, paths into Op.BodyType.
	Set []ExitField
	// When is the action's condition on the source record leaving (nil:
	// every record leaving gets the action).
	When *Pred
}

// ExitField is one constant of an ExitSet action.
type ExitField struct {
	Path  Path
	Value *Literal
}

// Webhook is a bound webhook event declaration.
type Webhook struct {
	Event            *TypeRef
	ID, Key, Version Path
	KeyKind          KeyKind
	// Scheme is the signature scheme's name in the runtime (the engine's
	// SchemeTimestamped, SchemeStripe or SchemeShopify constant).
	Scheme          string
	SignatureHeader string
	SecretSource    string
	// IDHeader names the request header carrying the event ID (ID is then
	// empty): the mapping's id: header.NAME, or the scheme's when id is
	// left out (X-Shopify-Webhook-Id).
	IDHeader string
	// RecordBody says the event schema is the entity's own: the body is
	// the changed record.
	RecordBody bool
}

// Sync is one bound sync.
type Sync struct {
	Name string
	// FuncName constructs the sync; WriteType is its write struct; Funcs
	// are its unexported helpers. Bind claims every one of these in the
	// package scope.
	FuncName, WriteType string
	Funcs               SyncFuncs
	Doc                 string

	From, To *Entity
	Xref     string

	Enter, Exit *Pred
	// OnExit is what happens to the target record when a record leaves
	// the scope (nil: nothing).
	OnExit *ExitAction
	Match  []MatchStep
	// NaturalKey is the write field the target is found by: Find takes
	// it in FindParam, or at FindBody in its request body.
	NaturalKey *WField
	FindParam  *Param
	FindBody   Path
	// FindFilter, when set, is what Find sends instead of the bare key:
	// "{key}" in it replaced by the key, escaped for a double-quoted
	// string (a JQL query).
	FindFilter string
	// FindSearch, when set, finds the target through its entity's search
	// read (read.search) instead of write.find: one filter, FindSearch EQ
	// the key (match by: search.PROPERTY).
	FindSearch string
	// KeyFrom is the source field holding the target record's key
	// (match: {key_from: F}), of KeyFromKind; the target key is its
	// value in the engine's string form.
	KeyFrom     Path
	KeyFromKind KeyKind

	Fields  []*WField
	Assigns []*Assign

	// Echo is the sync writing the other way between the same two
	// entities when this one declares echo_suppression (nil otherwise):
	// after each write, the engine records what that sync would find
	// unchanged (engine.Echo).
	Echo *Sync

	Every, Freshness time.Duration
	Realtime         bool
	MaxAttempts      int
	DeadLetter       bool
	AlertFailures    int
	AlertDeadLetters int
	HasConflicts     bool
}

// SyncFuncs are the names of a sync's unexported top-level functions.
type SyncFuncs struct {
	Map, Enter, Exit, Fields, CreateBody, UpdateBody string
	// ExitWhen is the on_exit condition; ExitBody builds the final write
	// of an on_exit set into a bulk target's record (shared by OnExit and
	// WriteBatch). "" when the sync has none.
	ExitWhen, ExitBody string
	// Webhook (exported) builds the engine's webhook configuration.
	Webhook string
}

// WField is one field of a sync's write struct: a target path.
type WField struct {
	GoName string
	Path   string
	// Type is the value type (no Opt wrapper; the write struct wraps it
	// in oas.Opt).
	Type       *TypeRef
	CreateOnly bool
	Policy     Policy
	// Create, Update and Read are the path through the create body, the
	// update body and the target record (nil Steps when the operation
	// does not exist).
	Create, Update, Read Path
	// Clear says how an update clears the field when its source lost its
	// value: ClearNull sends null, ClearEmpty an empty string, ClearNone
	// cannot clear it (the target keeps its value).
	Clear ClearKind
}

// ClearKind is how an update clears a target field.
type ClearKind int

// Ways to clear a target field.
const (
	ClearNone ClearKind = iota
	ClearNull
	ClearEmpty
)

// AssignKind is how a write field gets its value.
type AssignKind int

// Assignment kinds.
const (
	AssignFrom AssignKind = iota
	AssignConst
	AssignLookup
	AssignSplit
	AssignMerge
	// AssignTemplate builds a string from source fields (Template; its
	// fields are Sources).
	AssignTemplate
)

// Assign is one mapping statement.
type Assign struct {
	Kind   AssignKind
	Target *WField
	// Source is the source path (from, lookup); Sources for merges, and
	// Optional[i] says the function takes source i as it is (oas.Opt,
	// oas.Nullable or a pointer), so an absent value is passed, not a
	// reason to skip the merge.
	Source   Path
	Sources  []Path
	Optional []bool
	// AsPointer[i] says the function takes optional source i as a *T
	// (nil when absent) though the field is an oas.Opt or oas.Nullable,
	// so that with: functions need not import the runtime.
	AsPointer []bool
	// Transforms are applied to string values in order.
	Transforms []Transform
	// Conv converts the source leaf value to the target type.
	Conv Conversion
	// Map is an enum value map; Else the fallback (nil: exhaustive).
	Map  []MapPair
	Else *Literal
	// Const is the constant (AssignConst) and Default the value used
	// when the source is absent.
	Const, Default *Literal
	CreateOnly     bool
	// Lookup (the xref) and Missing for AssignLookup.
	Lookup  string
	Missing Missing
	// Func is the user function of a split or merge; Into the write
	// fields of its results, in result order (nil for an ignored result).
	Func *Func
	Into []*WField
	Pos  string // the mapping position, for comments
	// Prepend are constants put before a list source's items (items
	// already present are not repeated); Template is AssignTemplate's.
	Prepend  []*Literal
	Template *Template
}

// MapPair maps one source enum value to a target value.
type MapPair struct {
	From, To *Literal
}

// Literal is a constant in generated code: a named constant (enum value)
// or a Go literal of the given builtin kind.
type Literal struct {
	Const *TypeRef // qualified enum constant (Name is the constant name)
	Value any      // string, int64, float64 or bool
	Type  *TypeRef // the literal's type
}

// Conversion is a typed conversion between source and target values.
type Conversion int

// Conversions.
const (
	ConvNone             Conversion = iota
	ConvGo                          // a Go conversion T(v)
	ConvTimeToDate                  // time.Time → oas.Date
	ConvDateToTime                  // oas.Date → time.Time
	ConvTimeToString                // RFC 3339
	ConvDateToString                // YYYY-MM-DD
	ConvIntToString                 // strconv.FormatInt
	ConvFloatToString               // strconv.FormatFloat
	ConvBoolToString                // strconv.FormatBool
	ConvStringToInt                 // strconv.ParseInt, error is permanent
	ConvStringToFloat               // strconv.ParseFloat
	ConvStringToTime                // time.Parse RFC 3339
	ConvStringerToString            // v.String() (uuid)
	ConvToRawJSON                   // json.Marshal into a json.RawMessage (untyped target)
)

// Func is a user Go function named by with:.
type Func struct {
	ImportPath, Name string
	// Params and Results are the parameter and result types; HasError
	// says the last result is an error.
	Params, Results []*TypeRef
	ResultNames     []string
	HasError        bool
}

// Pred is a bound trigger predicate.
type Pred struct {
	All, Any []*Pred
	Not      *Pred
	Field    Path
	Op       PredOp
	Operands []*Literal
	Present  bool
}
