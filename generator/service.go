package generator

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/connectorgen/connectorgen/generator/config"
	"github.com/connectorgen/connectorgen/generator/diag"
	"github.com/connectorgen/connectorgen/generator/emit"
	"github.com/connectorgen/connectorgen/generator/ir"
	"github.com/connectorgen/connectorgen/generator/output"
)

// mainDir is the output-relative directory of the generated main package.
func mainDir(cfg *config.File) string { return path.Join("cmd", cfg.Package) }

// generateService emits Service() into the connector package and, unless
// the config says service: {main: false}, the main package. It checks the
// systems' environment and base_url against the specs first.
func generateService(cfg *config.File, conn *ir.Connector, clients []*ir.Client, base string) ([]output.File, diag.List) {
	var diags diag.List
	systems := map[string]emit.SystemService{}
	for _, sys := range cfg.Systems {
		var cl *ir.Client
		for _, c := range conn.Clients {
			if c.System == sys.Name {
				cl = c
			}
		}
		if cl == nil {
			continue
		}
		ss := emit.SystemService{Environment: sys.Environment, BaseURL: sys.BaseURL, Scopes: Scopes(conn, cl)}
		if sys.Environment != "" {
			var names []string
			found := false
			for _, e := range emit.Environments(cl.Pkg) {
				names = append(names, e.Name)
				found = found || e.Name == sys.Environment
			}
			if !found {
				if len(names) == 0 {
					diags.Errorf(sys.EnvironmentPos, "system %q: environment %q: the spec declares no servers; use base_url", sys.Name, sys.Environment)
				} else {
					diags.Errorf(sys.EnvironmentPos, "system %q: no environment %q; the spec's servers are: %s", sys.Name, sys.Environment, strings.Join(names, ", "))
				}
			}
		}
		if sys.BaseURL != "" {
			if err := checkBaseURL(sys.BaseURL); err != nil {
				diags.Errorf(sys.BaseURLPos, "system %q: base_url: %v", sys.Name, err)
			}
		}
		systems[sys.Name] = ss
	}
	if diags.HasErrors() {
		return nil, diags
	}
	svc, err := emit.Service(conn, systems)
	if err != nil {
		diags.Errorf(diag.Pos{File: cfg.Path}, "%v", err)
		return nil, diags
	}
	out := []output.File{{Path: svc.Name, Content: svc.Content}}
	if cfg.NoMain {
		return out, diags
	}
	m, err := emit.Main(conn, base, path.Join("../..", conn.Source.Path), cfg.State)
	if err != nil {
		diags.Errorf(diag.Pos{File: cfg.Path}, "%v", err)
		return nil, diags
	}
	return append(out, output.File{Path: m.Name, Content: m.Content}), diags
}

// checkBaseURL accepts HTTPS URLs, and HTTP ones on loopback only.
func checkBaseURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", s)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		h := u.Hostname()
		if ip := net.ParseIP(h); (ip != nil && ip.IsLoopback()) || h == "localhost" {
			return nil
		}
	}
	return fmt.Errorf("%q: HTTPS is required except on loopback", s)
}

// Scopes returns the OAuth scopes the operations a connector uses on one
// system need (from the spec's security requirements), sorted. Filled in
// by scopes.go.
func Scopes(conn *ir.Connector, cl *ir.Client) []string {
	used := map[string]bool{}
	for _, id := range cl.Operations {
		used[id] = true
	}
	set := map[string]bool{}
	for _, op := range cl.Pkg.Operations {
		if !used[op.ID] {
			continue
		}
		for _, sc := range op.Scopes {
			for _, s := range sc {
				set[s] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// leastPrivilege records on each client the scopes its operations need and
// warns, at the mapping's scopes entry, about requested scopes beyond them.
func leastPrivilege(cfg *config.File, conn *ir.Connector) diag.List {
	var diags diag.List
	for _, cl := range conn.Clients {
		cl.Scopes = Scopes(conn, cl)
		for _, sys := range cfg.Systems {
			if sys.Name != cl.System {
				continue
			}
			for _, a := range sys.Auth {
				for _, p := range a.Parts {
					if p.Key.Text != "scopes" {
						continue
					}
					var extra []string
					for _, s := range strings.Fields(p.Value.Text) {
						if !slices.Contains(cl.Scopes, s) && !slices.Contains(extra, s) {
							extra = append(extra, s)
						}
					}
					if len(extra) > 0 {
						cl.ExtraScopes = extra
						diags.Warnf(p.Value.Pos, "system %q: scopes %s are requested but no operation the connector uses needs them (it needs: %s); least privilege: remove them", sys.Name, strings.Join(extra, ", "), strings.Join(cl.Scopes, ", "))
					}
				}
			}
		}
	}
	return diags
}
