package emit

import (
	"bytes"
	"fmt"
	"path"
	"slices"
	"strings"
	"unicode"

	"github.com/dave/jennifer/jen"

	"github.com/connectorgen/connectorgen/generator/ir"
)

// This file emits what makes a connector a runnable service: Service()
// in the connector package (service_gen.go: its systems, environments,
// spec versions, syncs and Register for the runtime's service host) and
// the main package (cmd/<package>/main_gen.go) that adds the state
// stores the mapping's service.state lists (SQLite by default, PostgreSQL
// with River workers) and calls service.Main.

// PkgService is the runtime's service host.
const PkgService = "github.com/connectorgen/connectorgen/runtime/service"

// PkgSQLiteStore is the embedded state store the generated main links.
const PkgSQLiteStore = "github.com/connectorgen/connectorgen/runtime/sqlitestore"

// PkgRiverExec opens postgres:// state (runtime/pgstore) with River
// workers, for mains whose mapping lists postgres in service.state.
const PkgRiverExec = "github.com/connectorgen/connectorgen/runtime/riverexec"

// SystemService is the service settings of one system from the mapping
// file.
type SystemService struct {
	// Environment is the default environment name; BaseURL replaces the
	// spec's servers.
	Environment, BaseURL string
	// Scopes are the OAuth scopes the connector's operations need.
	Scopes []string
}

// Environment is one spec server as a named environment.
type Environment struct {
	Name       string
	Server     *ir.Server
	Production bool
}

// Environments names a spec's servers: the constant name without its
// Server prefix, in lower kebab case ("ServerProduction" → production,
// "ServerEUSandbox" → eu-sandbox). A server whose name says "prod" is
// production; when none does, the first server is (OpenAPI's default).
func Environments(p *ir.Package) []Environment {
	var out []Environment
	anyProd := false
	for i, s := range p.Servers {
		name := kebab(strings.TrimPrefix(s.ConstName, "Server"))
		if name == "" {
			name = fmt.Sprintf("server-%d", i+1)
		}
		e := Environment{Name: name, Server: s, Production: strings.Contains(name, "prod")}
		anyProd = anyProd || e.Production
		out = append(out, e)
	}
	if !anyProd && len(out) > 0 {
		out[0].Production = true
	}
	return out
}

func kebab(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if unicode.IsUpper(r) && i > 0 && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]))) {
			b.WriteByte('-')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// Service renders service_gen.go of the connector package.
func Service(c *ir.Connector, systems map[string]SystemService) (File, error) {
	f := jen.NewFile(c.Package)
	f.HeaderComment(Header)
	f.HeaderComment("Source: " + c.Source.Path)
	f.ImportName(PkgService, "service")
	f.ImportName(PkgEngine, "engine")

	var sysVals []jen.Code
	for _, cl := range c.Clients {
		ss := systems[cl.System]
		d := jen.Dict{
			jen.Id("Name"):        jen.Lit(cl.System),
			jen.Id("SpecVersion"): jen.Qual(cl.ImportPath, "SpecVersion"),
			jen.Id("SpecHash"):    jen.Qual(cl.ImportPath, "SpecHash"),
		}
		var envs []jen.Code
		for _, e := range Environments(cl.Pkg) {
			envs = append(envs, jen.Values(jen.Dict{
				jen.Id("Name"):       jen.Lit(e.Name),
				jen.Id("URL"):        jen.Qual(cl.ImportPath, e.Server.ConstName),
				jen.Id("Production"): jen.Lit(e.Production),
			}))
		}
		if len(envs) > 0 {
			d[jen.Id("Environments")] = jen.Index().Qual(PkgService, "Environment").Values(envs...)
		}
		if ss.Environment != "" {
			d[jen.Id("DefaultEnvironment")] = jen.Lit(ss.Environment)
		}
		if ss.BaseURL != "" {
			d[jen.Id("BaseURL")] = jen.Lit(ss.BaseURL)
		}
		for _, cred := range cl.Creds {
			if cred.Scheme.Type == "oauth2" {
				d[jen.Id("OAuth")] = jen.True()
				if _, ok := cred.Parts["refresh_token"]; ok {
					d[jen.Id("RefreshToken")] = jen.True()
				}
			}
		}
		if len(ss.Scopes) > 0 {
			var sc []jen.Code
			for _, s := range ss.Scopes {
				sc = append(sc, jen.Lit(s))
			}
			d[jen.Id("Scopes")] = jen.Index().String().Values(sc...)
		}
		sysVals = append(sysVals, jen.Values(d))
	}
	var syncVals []jen.Code
	for _, s := range c.Syncs {
		d := jen.Dict{
			jen.Id("Name"):         jen.Lit(s.Name),
			jen.Id("Source"):       jen.Lit(s.From.Name),
			jen.Id("Target"):       jen.Lit(s.To.Name),
			jen.Id("SourceSystem"): jen.Lit(s.From.Client.System),
			jen.Id("TargetSystem"): jen.Lit(s.To.Client.System),
		}
		if s.Every > 0 {
			d[jen.Id("Every")] = duration(s.Every)
		}
		if wh := s.From.Webhook; s.Realtime && wh != nil {
			whd := jen.Dict{
				jen.Id("Header"): jen.Lit(wh.SignatureHeader),
				jen.Id("Secret"): jen.Lit(wh.SecretSource),
			}
			if wh.Scheme != "" {
				whd[jen.Id("Scheme")] = jen.Qual(PkgEngine, wh.Scheme)
			}
			if wh.IDHeader != "" {
				whd[jen.Id("IDHeader")] = jen.Lit(wh.IDHeader)
			}
			d[jen.Id("Webhook")] = jen.Op("&").Qual(PkgService, "Webhook").Values(whd)
		}
		syncVals = append(syncVals, jen.Values(d))
	}
	urls := jen.Dict{}
	for _, cl := range c.Clients {
		urls[jen.Id(cl.Field)] = jen.Id("s").Dot("URLs").Index(jen.Lit(cl.System))
		if hasOAuth(cl) {
			urls[jen.Id(cl.Field+"TokenURL")] = jen.Id("s").Dot("TokenURLs").Index(jen.Lit(cl.System))
		}
	}
	register := jen.Func().Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("s").Op("*").Qual(PkgService, "Setup")).Error().Block(
		jen.List(jen.Id("c"), jen.Err()).Op(":=").Id("NewClients").Call(jen.Id("ctx"), jen.Id("s").Dot("Resolver"), jen.Id("Endpoints").Values(urls), jen.Id("s").Dot("Engine"), jen.Id("s").Dot("ClientOptions").Op("...")),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())),
		jen.Return(jen.Id("Register").Call(jen.Id("s").Dot("Engine"), jen.Id("c"))),
	)
	f.Add(comment("Service describes the connector to the runtime's service host (service.Main): its systems with their environments and spec versions, its syncs, and how to build its clients. Add state store openers to Stores before calling service.Main."))
	f.Func().Id("Service").Params().Qual(PkgService, "Connector").Block(
		jen.Return(jen.Qual(PkgService, "Connector").Values(jen.Dict{
			jen.Id("Name"):     jen.Lit(c.Package),
			jen.Id("Systems"):  jen.Index().Qual(PkgService, "System").Values(sysVals...),
			jen.Id("Syncs"):    jen.Index().Qual(PkgService, "SyncInfo").Values(syncVals...),
			jen.Id("Register"): register,
			jen.Id("Stores"):   jen.Map(jen.String()).Qual(PkgService, "StoreOpener").Values(),
		})),
	)
	var buf bytes.Buffer
	if err := f.Render(&buf); err != nil {
		return File{}, fmt.Errorf("rendering service_gen.go: %w (this is a connectorgen bug; please report it)", err)
	}
	return File{Name: "service_gen.go", Content: buf.Bytes()}, nil
}

// Main renders cmd/<package>/main_gen.go; connImport is the connector
// package's import path, source the config path relative to the main
// package's directory and states the mapping's service.state (nil:
// sqlite). Each state store is one import, so a consumer's module
// requires only the drivers it chose.
func Main(c *ir.Connector, connImport, source string, states []string) (File, error) {
	if len(states) == 0 {
		states = []string{"sqlite"}
	}
	has := func(k string) bool { return slices.Contains(states, k) }
	var examples []string
	if has("sqlite") {
		examples = append(examples, "sqlite:///path/state.db")
	}
	if has("postgres") {
		examples = append(examples, "postgres://host/db, whose run processes share the syncs as River jobs")
	}
	f := jen.NewFile("main")
	f.HeaderComment(Header)
	f.HeaderComment("Source: " + source)
	f.PackageComment(fmt.Sprintf("Command %s runs connector %s as a service (run), once (for cron), as a dry run, and operates it (status, dead-letters, conflicts, reauthorize, audit). Run %q for the flags and environment variables; the state store is chosen with -state (%s).", c.Package, c.Package, c.Package+" help", strings.Join(examples, "; ")))
	f.ImportName(PkgService, "service")
	f.ImportName(PkgSQLiteStore, "sqlitestore")
	f.ImportName(PkgRiverExec, "riverexec")
	f.ImportName(PkgEngine, "engine")
	f.ImportAlias(connImport, c.Package)
	body := []jen.Code{jen.Id("c").Op(":=").Qual(connImport, "Service").Call()}
	if has("sqlite") {
		body = append(body, jen.Id("c").Dot("Stores").Index(jen.Lit("sqlite")).Op("=").Id("openSQLite"))
	}
	if has("postgres") {
		body = append(body,
			jen.Comment("postgres:// state: runtime/pgstore, with the units of the run"),
			jen.Comment("command as River jobs that every process on the URL shares."),
			jen.Id("c").Dot("Stores").Index(jen.Lit("postgres")).Op("=").Qual(PkgRiverExec, "OpenURL"),
			jen.Id("c").Dot("Stores").Index(jen.Lit("postgresql")).Op("=").Qual(PkgRiverExec, "OpenURL"))
	}
	body = append(body, jen.Qual("os", "Exit").Call(jen.Qual(PkgService, "Main").Call(jen.Id("c"), jen.Qual("os", "Args").Index(jen.Lit(1).Op(":")), jen.Qual(PkgService, "IO").Values())))
	f.Func().Id("main").Params().Block(body...)
	if has("sqlite") {
		f.Add(comment("openSQLite opens the embedded state store of a sqlite:///path/state.db URL."))
		f.Func().Id("openSQLite").Params(jen.Id("_").Qual("context", "Context"), jen.Id("u").Op("*").Qual("net/url", "URL")).Params(jen.Qual(PkgEngine, "Store"), jen.Error()).Block(
			jen.Return(jen.Qual(PkgSQLiteStore, "Open").Call(jen.Qual(PkgService, "SQLitePath").Call(jen.Id("u")))),
		)
	}
	var buf bytes.Buffer
	if err := f.Render(&buf); err != nil {
		return File{}, fmt.Errorf("rendering main_gen.go: %w (this is a connectorgen bug; please report it)", err)
	}
	return File{Name: path.Join("cmd", c.Package, "main_gen.go"), Content: buf.Bytes()}, nil
}
