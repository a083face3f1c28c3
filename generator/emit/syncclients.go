package emit

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/connectorgen/connectorgen/generator/ir"
)

// This file emits NewClients: the clients of every system, with the
// credentials the mapping file's auth sections name resolved at run time.

func (e *syncEmitter) endpointsType(f *jen.File) {
	var fields []jen.Code
	for _, c := range e.c.Clients {
		fields = append(fields, jen.Id(c.Field).String())
		if hasOAuth(c) {
			fields = append(fields, jen.Comment(c.Field+"TokenURL replaces the spec's OAuth 2.0 token URL of "+c.System+" when set."), jen.Id(c.Field+"TokenURL").String())
		}
	}
	f.Add(comment("Endpoints holds the base URL of each system: one of its client package's Server constants, or any other deployment (a sandbox, a test server)."))
	f.Type().Id("Endpoints").Struct(fields...)
}

func (e *syncEmitter) newClientsFunc(f *jen.File) {
	body := []jen.Code{jen.Var().Id("c").Id("Clients"), jen.Var().Err().Error()}
	for _, c := range e.c.Clients {
		body = append(body, jen.If(
			jen.List(jen.Id("c").Dot(c.Field), jen.Err()).Op("=").Id(c.NewFunc).Call(jen.Id("ctx"), jen.Id("r"), jen.Id("urls"), jen.Id("e"), jen.Id("opts")),
			jen.Err().Op("!=").Nil(),
		).Block(jen.Return(jen.Id("Clients").Values(), jen.Qual("fmt", "Errorf").Call(jen.Lit("system "+c.System+": %w"), jen.Err()))))
	}
	body = append(body, jen.Return(jen.Id("c"), jen.Nil()))
	f.Add(comment("NewClients builds the client of every system with the credentials the mapping file names, resolved with r (env://NAME, file://PATH, or a scheme registered with a vault provider). When e is not nil, OAuth 2.0 clients start from the token its state store holds and persist every rotated token there. opts apply to every client."))
	f.Func().Id("NewClients").Params(
		jen.Id("ctx").Qual("context", "Context"),
		jen.Id("r").Op("*").Qual(ir.PkgSecret, "Resolver"),
		jen.Id("urls").Id("Endpoints"),
		jen.Id("e").Op("*").Qual(PkgEngine, "Engine"),
		jen.Id("opts").Op("...").Qual(ir.PkgRest, "Option"),
	).Params(jen.Id("Clients"), jen.Error()).Block(body...)
	for _, c := range e.c.Clients {
		e.newClientFunc(f, c)
	}
	f.Add(comment("credential resolves a credential reference from the mapping file; a value without a scheme (a client ID, a user name) is used as it is."))
	f.Func().Id("credential").Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("r").Op("*").Qual(ir.PkgSecret, "Resolver"), jen.Id("ref").String()).Params(jen.Qual(ir.PkgSecret, "Secret"), jen.Error()).Block(
		jen.If(jen.Op("!").Qual("strings", "Contains").Call(jen.Id("ref"), jen.Lit("://"))).Block(jen.Return(jen.Qual(ir.PkgSecret, "New").Call(jen.Id("ref")), jen.Nil())),
		jen.Return(jen.Id("r").Dot("Resolve").Call(jen.Id("ctx"), jen.Id("ref"))),
	)
}

// resolveInto emits `name, err := credential(ctx, r, ref)` with its error
// check.
func resolveInto(name, ref string) []jen.Code {
	return []jen.Code{
		jen.List(jen.Id(name), jen.Err()).Op(":=").Id("credential").Call(jen.Id("ctx"), jen.Id("r"), jen.Lit(ref)),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
	}
}

func (e *syncEmitter) newClientFunc(f *jen.File, c *ir.Client) {
	body := []jen.Code{jen.Var().Id("all").Index().Qual(ir.PkgRest, "Option")}
	if len(c.Limits) > 0 {
		// The system's declared budgets: one limiter for the client every
		// sync on the system shares (options given by the caller come
		// after, so a caller's limiter wins).
		var windows []jen.Code
		for _, w := range c.Limits {
			d := jen.Dict{jen.Id("Requests"): jen.Lit(w.Requests), jen.Id("Per"): duration(w.Per)}
			if w.Burst > 0 {
				d[jen.Id("Burst")] = jen.Lit(w.Burst)
			}
			windows = append(windows, jen.Values(d))
		}
		body = append(body, jen.Id("all").Op("=").Append(jen.Id("all"), jen.Qual(ir.PkgRest, "WithSharedLimiter").Call(
			jen.Qual(ir.PkgTransport, "NewLimiter").Call(jen.Qual(ir.PkgTransport, "RateLimitConfig").Values(jen.Dict{
				jen.Id("Windows"): jen.Index().Qual(ir.PkgTransport, "Window").Values(windows...),
			})))))
	}
	for _, cred := range c.Creds {
		s := cred.Scheme
		opt := func(args ...jen.Code) jen.Code {
			return jen.Id("all").Op("=").Append(jen.Id("all"), jen.Qual(c.ImportPath, s.OptionName).Call(args...))
		}
		var block []jen.Code
		switch {
		case s.Type == "apiKey":
			block = append(resolveInto("key", cred.Parts["key"]), opt(jen.Id("key")))
		case s.Type == "http" && s.Scheme == "basic":
			block = append(resolveInto("username", cred.Parts["username"]), resolveInto("password", cred.Parts["password"])...)
			block = append(block, opt(jen.Id("username").Dot("Reveal").Call(), jen.Id("password")))
		case s.Type == "oauth2":
			block = append(resolveInto("clientID", cred.Parts["client_id"]), resolveInto("clientSecret", cred.Parts["client_secret"])...)
			block = append(block, jen.Id("cfg").Op(":=").Qual(ir.PkgAuth, "OAuthConfig").Values(jen.Dict{
				jen.Id("TokenURL"):     jen.Qual(c.ImportPath, s.TokenURLConst),
				jen.Id("ClientID"):     jen.Id("clientID").Dot("Reveal").Call(),
				jen.Id("ClientSecret"): jen.Id("clientSecret"),
			}),
				jen.If(jen.Id("urls").Dot(c.Field+"TokenURL").Op("!=").Lit("")).Block(jen.Id("cfg").Dot("TokenURL").Op("=").Id("urls").Dot(c.Field+"TokenURL")))
			if sc, ok := cred.Parts["scopes"]; ok {
				block = append(block, jen.Id("cfg").Dot("Scopes").Op("=").Qual("strings", "Fields").Call(jen.Lit(sc)))
			}
			grant := "ClientCredentials"
			if ref, ok := cred.Parts["refresh_token"]; ok {
				grant = "RefreshToken"
				block = append(block, resolveInto("refreshToken", ref)...)
				block = append(block, jen.Id("cfg").Dot("RefreshToken").Op("=").Id("refreshToken"))
			}
			withEngine := []jen.Code{
				jen.Id("cfg").Dot("OnToken").Op("=").Id("e").Dot("TokenHook").Call(jen.Lit(c.System)),
				// TokenFor: the stored (rotated) token, unless the operator
				// supplied a different refresh token (re-authorisation).
				jen.List(jen.Id("tok"), jen.Err()).Op(":=").Id("e").Dot("TokenFor").Call(jen.Id("ctx"), jen.Lit(c.System), jen.Id("cfg").Dot("RefreshToken")),
				jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
				jen.Id("cfg").Dot("Token").Op("=").Id("tok"),
			}
			if grant == "RefreshToken" {
				// Processes on one state refresh the rotating refresh
				// token in turn, each from the latest one saved.
				withEngine = append(withEngine, jen.Id("cfg").Dot("Shared").Op("=").Id("e").Dot("SharedToken").Call(jen.Lit(c.System)))
			}
			block = append(block, jen.If(jen.Id("e").Op("!=").Nil()).Block(withEngine...))
			block = append(block,
				jen.List(jen.Id("o"), jen.Err()).Op(":=").Qual(ir.PkgAuth, grant).Call(jen.Id("cfg")),
				jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
				opt(jen.Id("o")))
		default:
			block = append(resolveInto("token", cred.Parts["token"]), opt(jen.Id("token")))
		}
		body = append(body, jen.Comment(fmt.Sprintf("%s (%s)", s.Key, s.Type)), jen.Block(block...))
	}
	if len(c.Creds) == 0 {
		body = append(body, jen.Id("_").Op(",").Id("_").Op("=").List(jen.Id("r"), jen.Id("e")))
	}
	body = append(body, jen.Return(jen.Qual(c.ImportPath, "NewClient").Call(jen.Id("urls").Dot(c.Field), jen.Append(jen.Id("all"), jen.Id("opts").Op("...")).Op("..."))))
	f.Add(comment(fmt.Sprintf("%s builds the %s client with the credentials of the mapping file.", c.NewFunc, c.System)))
	f.Func().Id(c.NewFunc).Params(
		jen.Id("ctx").Qual("context", "Context"),
		jen.Id("r").Op("*").Qual(ir.PkgSecret, "Resolver"),
		jen.Id("urls").Id("Endpoints"),
		jen.Id("e").Op("*").Qual(PkgEngine, "Engine"),
		jen.Id("opts").Index().Qual(ir.PkgRest, "Option"),
	).Params(jen.Op("*").Qual(c.ImportPath, "Client"), jen.Error()).Block(body...)
}

func hasOAuth(c *ir.Client) bool {
	for _, cred := range c.Creds {
		if cred.Scheme.Type == "oauth2" {
			return true
		}
	}
	return false
}
