// Package lower is the stage of the generator pipeline that turns a loaded
// spec into the IR of one client package. It is the only stage that decides
// Go names and Go types.
//
// Names are claimed in documented phases, each in a fixed order, so output
// never depends on map iteration order:
//
//  0. fixed API names: Client, NewClient, Spec* constants, Server* constants,
//     security scheme constants;
//  1. component schema types, in sorted key order (a name already taken gets
//     a "Model" suffix, then a number);
//  2. client methods, in operation order (path, then method), with iterator
//     methods after the operation methods;
//  3. inline types, as they are met: component contents first, then
//     operations (params, request bodies, responses) in operation order;
//  4. enum constants, in type name order, after every type name is final;
//  5. struct fields and union accessors, each type being its own scope.
//
// Names pinned with x-go-name are reserved before their phase; a pinned name
// that collides is an error. lower must not emit code or touch the file
// system.
package lower

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/connectorgen/connectorgen/generator/diag"
	"github.com/connectorgen/connectorgen/generator/ir"
	"github.com/connectorgen/connectorgen/generator/load"
	"github.com/connectorgen/connectorgen/generator/naming"
)

// Options control lowering.
type Options struct {
	// Package is the Go package name.
	Package string
	// SourcePath names the spec in generated files; empty means the
	// diagnostic path.
	SourcePath string
}

// Lower builds the IR for spec. Diagnostics hold warnings for constructs
// that were approximated and errors for those that cannot be generated.
func Lower(spec *load.Spec, opts Options) (*ir.Package, diag.List) {
	l := &lowerer{
		spec:          spec,
		doc:           spec.Doc,
		opts:          opts,
		pkgNS:         naming.NewScope(),
		byValue:       map[*openapi3.Schema]*ir.Type{},
		byName:        map[string]*ir.Type{},
		byLoc:         map[load.Loc]*ir.Type{},
		errorDecoders: map[string]string{},
		linkHeader:    map[*ir.Operation]bool{},
		paramDefault:  map[*ir.Param]any{},
		paramMax:      map[*ir.Param]float64{},
		memberLocs:    map[*openapi3.Schema][]load.Loc{},
		formatsSeen:   map[string]bool{},
		specNamed:     map[*ir.Type]bool{},
		pkg: &ir.Package{
			Name: opts.Package,
			Source: ir.Source{
				Path:           cmp.Or(opts.SourcePath, spec.Path),
				OpenAPIVersion: spec.Version,
				Hash:           spec.Hash,
			},
		},
	}
	if ok, reason := naming.PackageName(opts.Package); !ok {
		l.diags.Errorf(diag.Pos{}, "%s", reason)
		return nil, l.diags
	}
	l.lower()
	if l.diags.HasErrors() {
		return nil, l.diags.Sort()
	}
	return l.pkg, l.diags.Sort()
}

type lowerer struct {
	spec  *load.Spec
	doc   *openapi3.T
	opts  Options
	diags diag.List
	pkg   *ir.Package

	// pkgNS is the package-level namespace (types, constants, functions).
	pkgNS *naming.Scope
	// methodNS is the Client's method namespace.
	methodNS *naming.Scope
	// byValue maps every schema that has a named Go type to it. kin-openapi
	// shares one *Schema between a component and every $ref to it.
	byValue map[*openapi3.Schema]*ir.Type
	byName  map[string]*ir.Type
	// byLoc maps the location of every schema that has a named Go type
	// to it, for schemas kin-openapi loads more than once.
	byLoc map[load.Loc]*ir.Type
	types []*ir.Type

	components []*component
	// errorDecoders maps a set of error models to the decoder sharing it.
	errorDecoders map[string]string
	// linkHeader marks operations whose success response documents a Link
	// header.
	linkHeader map[*ir.Operation]bool
	// paramDefault holds each parameter's schema default, for pagination;
	// paramMax its schema maximum (the largest page a limit takes).
	paramDefault map[*ir.Param]any
	paramMax     map[*ir.Param]float64
	// memberLocs holds the real locations of the members of allOf schemas
	// the lowerer builds itself (a property declared in two allOf members
	// becomes the allOf of both declarations).
	memberLocs map[*openapi3.Schema][]load.Loc
	// formatsSeen holds the formats checkFormat has looked at.
	formatsSeen map[string]bool
	// specNamed marks the inline types whose name the spec pins or
	// suggests: dedupeTypes leaves them alone.
	specNamed map[*ir.Type]bool
}

func (l *lowerer) addType(t *ir.Type) {
	l.byName[t.Name] = t
	l.types = append(l.types, t)
}

func (l *lowerer) pos(loc load.Loc) diag.Pos { return l.spec.Pos(loc) }

func (l *lowerer) lower() {
	info := l.doc.Info
	if info != nil {
		l.pkg.Source.Title = info.Title
		l.pkg.Source.Version = info.Version
		l.pkg.Doc = strings.TrimSpace(info.Description)
	}
	l.reserveFixedNames()
	l.lowerServers()
	l.lowerSecuritySchemes()
	l.declareComponents()
	ops := l.collectOperations()
	l.nameMethods(ops)
	l.fillComponents()
	for _, op := range ops {
		l.lowerOperation(op)
	}
	l.breakValueCycles()
	l.pointOptionalStructs()
	l.dedupeTypes()
	l.nameEnumConstants()
	slices.SortFunc(l.types, func(a, b *ir.Type) int { return cmp.Compare(a.Name, b.Name) })
	l.pkg.Types = l.types
	slices.SortFunc(l.pkg.Operations, func(a, b *ir.Operation) int { return cmp.Compare(a.MethodName, b.MethodName) })
}

// fixedNames are the package-level identifiers every client declares.
func fixedNames() []string {
	return []string{"Client", "NewClient", "SpecTitle", "SpecVersion", "SpecHash", "OpenAPIVersion", "Option"}
}

func (l *lowerer) reserveFixedNames() {
	for _, n := range fixedNames() {
		l.pkgNS.Reserve(n, "the generated client API")
	}
}

func (l *lowerer) lowerServers() {
	if l.doc.Servers == nil {
		return
	}
	for i, s := range l.doc.Servers {
		if s == nil || s.URL == "" {
			continue
		}
		u := s.URL
		for _, name := range sortedKeys(s.Variables) {
			if v := s.Variables[name]; v != nil {
				u = strings.ReplaceAll(u, "{"+name+"}", v.Default)
			}
		}
		if _, vars := pathTemplateParts(u); len(vars) > 0 {
			l.diags.Warnf(l.pos(l.spec.Root().Child("servers", itoa(i), "url")), "server URL %q uses {%s}, which its variables do not define; it is kept literally (pass the real base URL to NewClient)", s.URL, strings.Join(vars, "}, {"))
		}
		label := s.Description
		if label == "" || len(naming.Words(label)) > 4 {
			label = ""
		}
		cands := []string{}
		if label != "" {
			cands = append(cands, "Server"+naming.Exported(label))
		}
		if i == 0 {
			cands = append(cands, "ServerDefault")
		}
		cands = append(cands, fmt.Sprintf("Server%d", i+1))
		name := l.pkgNS.Claim("server "+s.URL, cands...)
		l.pkg.Servers = append(l.pkg.Servers, &ir.Server{ConstName: name, URL: u, Description: strings.TrimSpace(s.Description)})
	}
}

func (l *lowerer) lowerSecuritySchemes() {
	if l.doc.Components == nil {
		return
	}
	for _, key := range sortedKeys(l.doc.Components.SecuritySchemes) {
		ref := l.doc.Components.SecuritySchemes[key]
		if ref == nil || ref.Value == nil {
			continue
		}
		s := ref.Value
		l.checkSecurityScheme(key, s)
		sc := &ir.SecurityScheme{
			Key: key, Type: s.Type, In: s.In, ParamName: s.Name,
			Scheme: strings.ToLower(s.Scheme), BearerFormat: s.BearerFormat,
			OpenIDURL: s.OpenIdConnectUrl, Doc: strings.TrimSpace(s.Description),
		}
		if f := s.Flows; f != nil {
			for _, fl := range []struct {
				kind string
				flow *openapi3.OAuthFlow
			}{{"authorizationCode", f.AuthorizationCode}, {"clientCredentials", f.ClientCredentials}, {"implicit", f.Implicit}, {"password", f.Password}} {
				if fl.flow == nil {
					continue
				}
				sc.Flows = append(sc.Flows, ir.OAuthFlow{
					Kind: fl.kind, AuthorizationURL: fl.flow.AuthorizationURL, TokenURL: fl.flow.TokenURL,
					RefreshURL: fl.flow.RefreshURL, Scopes: sortedKeys(fl.flow.Scopes),
				})
			}
		}
		base := naming.Exported(key)
		if base == "" {
			base = "Scheme"
		}
		sc.ConstName = l.pkgNS.Claim("security scheme "+key, "Security"+base, "SecurityScheme"+base)
		if s.Type != "mutualTLS" {
			sc.OptionName = l.pkgNS.Claim("option for security scheme "+key, "With"+base, "With"+base+"Credential")
		}
		for _, fl := range sc.Flows {
			if fl.TokenURL != "" {
				sc.TokenURL = fl.TokenURL
				sc.TokenURLConst = l.pkgNS.Claim("token URL of security scheme "+key, base+"TokenURL")
				break
			}
		}
		l.pkg.SecuritySchemes = append(l.pkg.SecuritySchemes, sc)
	}
}

// checkSecurityScheme warns about schemes the client cannot follow as
// written (before, an unknown type quietly became a bearer token and an
// API key without a name was sent unnamed).
func (l *lowerer) checkSecurityScheme(key string, s *openapi3.SecurityScheme) {
	loc := l.spec.Root().Child("components", "securitySchemes", key)
	switch s.Type {
	case "apiKey":
		switch s.In {
		case "header", "query", "cookie":
		default:
			l.diags.Warnf(l.pos(loc.Child("in")), "security scheme %q: an API key goes in a header, query or cookie, not %q; it is sent as a header", key, s.In)
		}
		if strings.TrimSpace(s.Name) == "" {
			l.diags.Warnf(l.pos(loc), "security scheme %q: the API key has no name; the credential cannot be sent", key)
		}
	case "http":
		if s.Scheme == "" {
			l.diags.Warnf(l.pos(loc), "security scheme %q: type http needs a scheme (bearer, basic …); bearer is assumed", key)
		}
	case "oauth2", "openIdConnect", "mutualTLS":
	default:
		l.diags.Warnf(l.pos(loc.Child("type")), "security scheme %q has type %q, which OpenAPI does not define (apiKey, http, oauth2, openIdConnect, mutualTLS); it is treated as a bearer token", key, s.Type)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// docText joins a description and a title into one doc comment body.
func docText(s *openapi3.Schema) string {
	if s == nil {
		return ""
	}
	if d := strings.TrimSpace(s.Description); d != "" {
		return d
	}
	return strings.TrimSpace(s.Title)
}

func deprecation(deprecated bool, what string) string {
	if !deprecated {
		return ""
	}
	return "this " + what + " is deprecated by the API."
}

// pinnedName returns a Go name pinned with x-connectorgen-name, which must
// be honoured exactly (a collision is an error).
func pinnedName(ext map[string]any) (string, bool) {
	v, ok := ext["x-connectorgen-name"].(string)
	return v, ok && v != ""
}

// hintedName returns the x-go-name some specs carry for their own Go code.
// It is tried first but yields to collisions: those specs target their own
// multi-package layout, where the names do not have to be unique.
func hintedName(ext map[string]any) string {
	v, _ := ext["x-go-name"].(string)
	if v != "" && !isExportedIdent(v) {
		return ""
	}
	return v
}

func isExportedIdent(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
