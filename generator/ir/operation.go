package ir

import "github.com/connectorgen/connectorgen/generator/diag"

// Operation is one client method.
type Operation struct {
	// ID is the spec's operationId (synthesized from method and path when
	// the spec has none).
	ID string
	// MethodName is the exported client method.
	MethodName string
	// VarName is the unexported package-level operation descriptor.
	VarName    string
	HTTPMethod string // upper case
	Path       string // the path template as written
	PathParts  []PathPart
	Summary    string
	Doc        string
	Deprecated string
	Tags       []string
	Pos        diag.Pos

	// Params are path, query, header and cookie parameters, in the order
	// path, query, header, cookie and then spec order.
	Params []*Param
	// ParamsType names the params struct; "" when there are no params.
	ParamsType string
	Body       *Body
	Result     *Result
	// Errors are the documented non-2xx models, most specific first.
	Errors []*ErrorModel
	// ErrorDecoder names the unexported function decoding Errors; operations
	// with identical error models share one.
	ErrorDecoder string

	// Security lists the alternative requirements (scheme keys, sorted);
	// nil when the operation needs no credentials.
	Security [][]string
	// Scopes maps a scheme key to the OAuth scopes the operation's
	// requirements name for it (sorted; nil when none).
	Scopes               map[string][]string
	Idempotent           bool
	IdempotencyKeyHeader string
	Pagination           *Pagination
	// Accept and ContentType are the values of required Accept and
	// Content-Type header parameters the spec declares with a default or a
	// single enum value (a vendor's versioned media type); "" when none.
	// OpenAPI ignores such parameters, but the vendor expects them: Accept
	// replaces the media types derived from the responses, ContentType is
	// sent on an operation without a body (a body's media type wins).
	Accept, ContentType string
}

// PathPart is a literal piece of the path or a parameter.
type PathPart struct {
	Literal string
	Param   *Param
}

// ParamIn is a parameter location.
type ParamIn string

// Parameter locations.
const (
	InPath   ParamIn = "path"
	InQuery  ParamIn = "query"
	InHeader ParamIn = "header"
	InCookie ParamIn = "cookie"
)

// Param is one parameter, a field of the operation's params struct.
type Param struct {
	Name      string // name on the wire
	FieldName string
	In        ParamIn
	// Style is the OpenAPI style: simple, label, matrix, form,
	// spaceDelimited, pipeDelimited or deepObject.
	Style    string
	Explode  bool
	Required bool
	// Type is the field's type (Opt-wrapped when optional).
	Type *TypeRef
	// Format says how the unwrapped value becomes text.
	Format ParamFormat
	// Presence says how to tell the parameter was given.
	Presence   Presence
	Doc        string
	Deprecated string
}

// Presence says how generated code tells whether an optional value was
// given.
type Presence int

const (
	// Always: the value is required and always sent.
	Always Presence = iota
	// ViaGet: an oas.Opt; Get reports presence.
	ViaGet
	// ViaNil: a slice, map, pointer, reader or json.RawMessage; nil is absent.
	ViaNil
	// ViaIsZero: a union; IsZero reports absence.
	ViaIsZero
)

// ScalarKind says how a scalar value is formatted.
type ScalarKind int

const (
	// ScalarString: the value's underlying type is string.
	ScalarString ScalarKind = iota
	// ScalarInt: a signed integer.
	ScalarInt
	// ScalarUint: an unsigned integer.
	ScalarUint
	// ScalarFloat: a float.
	ScalarFloat
	// ScalarBool: a bool.
	ScalarBool
	// ScalarTime: a time.Time (RFC 3339).
	ScalarTime
	// ScalarStringer: a type with a String method (oas.Date, oas.UUID).
	ScalarStringer
)

// ParamFormat says how a parameter value becomes a rest.Param.
type ParamFormat struct {
	// List is true for arrays of scalars.
	List bool
	// Scalar is the scalar (or list element) kind.
	Scalar ScalarKind
	// Any is true when the value is encoded generically through JSON
	// (objects, unions, nested arrays).
	Any bool
	// JSON is true for parameters with content application/json: the
	// value is sent as JSON text.
	JSON bool
}

// BodyKind is the request body encoding.
type BodyKind int

const (
	// BodyJSON is application/json or a +json type.
	BodyJSON BodyKind = iota
	// BodyForm is application/x-www-form-urlencoded.
	BodyForm
	// BodyMultipart is multipart/form-data.
	BodyMultipart
	// BodyBinary is a raw byte stream (io.Reader).
	BodyBinary
	// BodyText is text (string): text/plain, XML, HTML.
	BodyText
)

// Body is an operation's request body.
type Body struct {
	Kind        BodyKind
	ContentType string
	// Type is the method argument's type: T when required, *T (or a nil-able
	// slice, map or reader) when optional.
	Type      *TypeRef
	Required  bool
	Presence  Presence
	Encodings []Encoding
	Doc       string
}

// Encoding is a form property's encoding.
type Encoding struct {
	Name    string
	Style   string
	Explode bool
}

// ContentKind is how a response body is decoded.
type ContentKind int

const (
	// ContentNone: no body is documented.
	ContentNone ContentKind = iota
	// ContentJSON: decoded from JSON into Type.
	ContentJSON
	// ContentText: read as a string.
	ContentText
	// ContentBinary: read as []byte.
	ContentBinary
)

// Response is one documented success response.
type Response struct {
	// Status is the status code; 0 with Class 2 for "2XX"; 0 with Class 0
	// for "default".
	Status      int
	Class       int
	Content     ContentKind
	ContentType string
	// Type is the decoded value type (T for JSON, string, []byte).
	Type *TypeRef
	// Pointer is true when the method returns *Type.
	Pointer bool
	// FieldName is the field of a multi-status result struct.
	FieldName string
	Doc       string
}

// ResultKind is the shape of an operation's return value.
type ResultKind int

const (
	// ResultNone: the method returns only an error.
	ResultNone ResultKind = iota
	// ResultSingle: the method returns one decoded value (or nothing for
	// documented success statuses without a body).
	ResultSingle
	// ResultMulti: the method returns a struct with one field per status.
	ResultMulti
)

// Result describes what a method returns on success.
type Result struct {
	Kind      ResultKind
	Responses []*Response
	// Single is the response whose type is returned (ResultSingle).
	Single *Response
	// TypeName is the result struct (ResultMulti).
	TypeName string
}

// ErrorModel is a documented error body decoded into Error.Model.
type ErrorModel struct {
	Status  int // 0 for a class or default
	Class   int // 4 or 5 for "4XX"/"5XX"; 0 otherwise
	Default bool
	Type    *TypeRef
}

// PaginationKind is a pagination scheme.
type PaginationKind int

const (
	// PageCursor: an opaque cursor from the response goes into a param.
	PageCursor PaginationKind = iota
	// PageItemCursor: the last item's ID goes into a param (starting_after).
	PageItemCursor
	// PageOffset: offset += number of items.
	PageOffset
	// PageNumber: page += 1.
	PageNumber
	// PageNextURL: the response carries the next page's URL.
	PageNextURL
	// PageLinkHeader: the Link header's rel="next" URL.
	PageLinkHeader
)

// String names the kind as the mapping file and docs spell it.
func (k PaginationKind) String() string {
	switch k {
	case PageCursor:
		return "cursor"
	case PageItemCursor:
		return "item_cursor"
	case PageOffset:
		return "offset"
	case PageNumber:
		return "page"
	case PageNextURL:
		return "next_url"
	case PageLinkHeader:
		return "link_header"
	}
	return "unknown"
}

// Step is one field access on a path through response values: a struct
// field, or (MapKey) the entry Key of a map.
type Step struct {
	Field string   // Go field name
	Type  *TypeRef // the field's (or map value's) type (wrappers included)
	// MapKey says the step reads the map entry Key, not a field.
	MapKey bool
	Key    string
}

// Pagination describes how to fetch the following pages of a list.
type Pagination struct {
	Kind PaginationKind
	// Items leads from the page to the item slice; ItemType is its element.
	Items    []Step
	ItemType *TypeRef
	// CursorParam (cursor kinds) is the params field receiving the cursor;
	// NextCursor leads from the page to the next cursor.
	CursorParam *Param
	NextCursor  []Step
	// HasMore, when set, leads to a boolean that says whether to continue.
	HasMore []Step
	// ItemID leads from an item to its ID (PageItemCursor).
	ItemID []Step
	// OffsetParam / PageParam receive the next offset or page number;
	// LimitParam, when set, bounds the page size; LimitMax is its
	// schema's maximum (0: none).
	OffsetParam, PageParam, LimitParam *Param
	LimitMax                           int64
	// FirstPage is the number of the first page (PageNumber): the page
	// parameter's default, else 1.
	FirstPage int64
	// NextURL leads from the page to the next page's URL (PageNextURL).
	NextURL []Step
	// PagesMethod and ItemsMethod are the iterator methods. URL-following
	// kinds also have PageMethod, which fetches one page (from a next URL
	// when given) and returns the URL of the page after it, and
	// PagesFromMethod, the pages iterator starting at a saved next URL.
	PagesMethod, ItemsMethod, PageMethod, PagesFromMethod string
	// Declared is true when the spec declared the scheme rather than it
	// being detected.
	Declared bool
}

// SecurityScheme is one components.securitySchemes entry.
type SecurityScheme struct {
	Key          string
	Type         string // apiKey, http, oauth2, openIdConnect, mutualTLS
	In           string // apiKey: header, query or cookie
	ParamName    string // apiKey: the header, query or cookie name
	Scheme       string // http: basic, bearer, …
	BearerFormat string
	Flows        []OAuthFlow
	OpenIDURL    string
	Doc          string
	// ConstName is the Go constant holding the scheme key.
	ConstName string
	// OptionName is the client option that supplies this scheme's
	// credential ("" for mutualTLS, which is configured on the
	// http.Client).
	OptionName string
	// TokenURLConst names the constant holding an OAuth 2.0 token URL
	// ("" when the scheme has none).
	TokenURLConst string
	// TokenURL is the token URL of the first flow that has one.
	TokenURL string
}

// OAuthFlow is one OAuth 2.0 flow of a scheme.
type OAuthFlow struct {
	Kind             string // clientCredentials, authorizationCode, password, implicit
	AuthorizationURL string
	TokenURL         string
	RefreshURL       string
	Scopes           []string // sorted
}
