// Package ir is the generator's intermediate representation: the Go-level
// facts about one API client package, decided by the lower stage and read
// by the emit stage.
//
// It holds names, type references with import paths, operations, params,
// bodies, responses, security, pagination and docs, each with the source
// position it came from. It holds no jennifer code and no kin-openapi types,
// and it must not make decisions: every name and type in it is final.
package ir

import (
	"strings"
	"unicode"

	"github.com/connectorgen/connectorgen/generator/diag"
)

// Import paths the IR refers to.
const (
	PkgAuth      = "github.com/connectorgen/connectorgen/runtime/auth"
	PkgSecret    = "github.com/connectorgen/connectorgen/runtime/secret"
	PkgOAS       = "github.com/connectorgen/connectorgen/runtime/oas"
	PkgRest      = "github.com/connectorgen/connectorgen/runtime/rest"
	PkgTransport = "github.com/connectorgen/connectorgen/runtime/transport"
	PkgTime      = "time"
	PkgJSON      = "encoding/json"
	PkgIO        = "io"
)

// Package is one generated client package.
type Package struct {
	// Name is the Go package name.
	Name string
	// Source describes the spec the package was generated from.
	Source Source
	// Doc is the package documentation (from info.description).
	Doc string
	// Servers are the spec's base URLs, in spec order.
	Servers []*Server
	// Types are the package's named types, sorted by name.
	Types []*Type
	// Operations are the client methods, sorted by method name.
	Operations []*Operation
	// SecuritySchemes are the spec's security schemes, sorted by key.
	SecuritySchemes []*SecurityScheme
	// Skipped lists the spec operations that produced no method, with why.
	Skipped []Skipped
	// SpecOperations counts the operations in the spec.
	SpecOperations int
}

// Source identifies the input.
type Source struct {
	Path           string // as shown in diagnostics
	Title          string
	Version        string // info.version
	OpenAPIVersion string
	Hash           string // SHA-256 over every input file
}

// Server is one base URL, exposed as a constant.
type Server struct {
	ConstName   string
	URL         string // variables substituted with their defaults
	Description string
}

// Skipped is an operation that produced no method.
type Skipped struct {
	Method, Path, Reason string
	Pos                  diag.Pos
}

// TypeKind is the shape of a named type.
type TypeKind int

const (
	// Struct is an object with declared properties.
	Struct TypeKind = iota
	// Enum is a named scalar with constants; unknown values still decode.
	Enum
	// Union is a oneOf/anyOf: raw JSON with typed accessors.
	Union
	// Alias is `type X = T`.
	Alias
	// Defined is `type X T` for slices and maps.
	Defined
)

// Type is one named Go type.
type Type struct {
	Name       string
	Kind       TypeKind
	Doc        string
	Deprecated string // text of the Deprecated: paragraph; "" when not deprecated
	Pos        diag.Pos
	// SchemaName is the components.schemas key, for component types.
	SchemaName string

	// Struct
	Fields []*Field
	// Extra is the value type of additionalProperties on a struct that
	// also declares properties; ExtraField is the Go field holding them.
	Extra      *TypeRef
	ExtraField string

	// Enum
	EnumBase   *TypeRef // a builtin: string, int64, float64 or bool
	EnumValues []*EnumValue

	// Union
	Variants      []*Variant
	Discriminator string // JSON property name; "" when none
	// UnionMethods are the union's method names, decided by lower.
	UnionMethods UnionMethods

	// Alias and Defined
	Target *TypeRef
}

// UnionMethods names a union type's generated methods.
type UnionMethods struct {
	Raw, Which, DiscriminatorValue string
}

// Field is one struct field.
type Field struct {
	Name      string // Go name
	JSONName  string
	Type      *TypeRef
	Required  bool
	Nullable  bool
	ReadOnly  bool
	WriteOnly bool
	OmitZero  bool // `omitzero` in the json tag
	// MaxItems is the array's maxItems (0: none); a bulk target's batch
	// size is checked against it.
	MaxItems   int
	Doc        string
	Deprecated string
	Pos        diag.Pos
}

// EnumValue is one enum constant.
type EnumValue struct {
	ConstName string
	Value     any // string, int64, float64 or bool
	Doc       string
}

// Variant is one alternative of a union.
type Variant struct {
	// Name is used in the accessor names AsName/FromName and returned by
	// Which.
	Name string
	// AsMethod and FromMethod are the accessor names.
	AsMethod, FromMethod string
	Type                 *TypeRef
	// DiscriminatorValues map to this variant.
	DiscriminatorValues []string
	// JSONKind is the JSON value kind the variant accepts: "object",
	// "array", "string", "number", "boolean", or "" when unknown.
	JSONKind string
}

// RefKind is the shape of a type reference.
type RefKind int

const (
	// Builtin is a predeclared type: string, int64, bool, float64, any ….
	Builtin RefKind = iota
	// Named is a type declared in this package, or a qualified type when
	// Pkg is set (time.Time, json.RawMessage, oas.Date …).
	Named
	// Slice is []Elem.
	Slice
	// Map is map[string]Elem.
	Map
	// Opt is oas.Opt[Elem].
	Opt
	// Nullable is oas.Nullable[Elem].
	Nullable
	// Pointer is *Elem.
	Pointer
)

// TypeRef is a reference to a Go type.
type TypeRef struct {
	Kind RefKind
	Name string // builtin or type name
	Pkg  string // import path for qualified Named types
	Elem *TypeRef
}

// Builtin types used often.
func BuiltinRef(name string) *TypeRef { return &TypeRef{Kind: Builtin, Name: name} }

// NamedRef refers to a type declared in this package.
func NamedRef(name string) *TypeRef { return &TypeRef{Kind: Named, Name: name} }

// QualRef refers to a type in another package.
func QualRef(pkg, name string) *TypeRef { return &TypeRef{Kind: Named, Pkg: pkg, Name: name} }

// Wrap returns kind[Elem=t].
func Wrap(kind RefKind, t *TypeRef) *TypeRef { return &TypeRef{Kind: kind, Elem: t} }

// Unwrapped returns t without Opt, Nullable and Pointer wrappers.
func (t *TypeRef) Unwrapped() *TypeRef {
	for t != nil && (t.Kind == Opt || t.Kind == Nullable || t.Kind == Pointer) {
		t = t.Elem
	}
	return t
}

// IsRawJSON reports whether t is json.RawMessage.
func (t *TypeRef) IsRawJSON() bool {
	return t != nil && t.Kind == Named && t.Pkg == PkgJSON && t.Name == "RawMessage"
}

// String renders t in Go syntax with package names, for docs and tests.
func (t *TypeRef) String() string {
	if t == nil {
		return "<nil>"
	}
	switch t.Kind {
	case Builtin:
		return t.Name
	case Named:
		if t.Pkg != "" {
			return lastElem(t.Pkg) + "." + t.Name
		}
		return t.Name
	case Slice:
		return "[]" + t.Elem.String()
	case Map:
		return "map[string]" + t.Elem.String()
	case Opt:
		return "oas.Opt[" + t.Elem.String() + "]"
	case Nullable:
		return "oas.Nullable[" + t.Elem.String() + "]"
	case Pointer:
		return "*" + t.Elem.String()
	}
	return "?"
}

func lastElem(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}

// TagSpellable reports whether encoding/json reads name back from a struct
// tag exactly. It ignores (uses the Go field name instead of) names that are
// empty or hold characters other than letters, digits and a fixed set of
// punctuation, and "-" means "skip"; a backquote cannot even be written in
// a tag literal.
func TagSpellable(name string) bool {
	if name == "" || name == "-" {
		return false
	}
	for _, c := range name {
		if strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c) {
			continue
		}
		if !unicode.IsLetter(c) && !unicode.IsDigit(c) {
			return false
		}
	}
	return true
}
