package service

import (
	"flag"
	"fmt"
	"sort"
	"strings"
)

// This file selects each system's environment: a named base URL from the
// spec's servers, or an explicit URL. Precedence, highest first: -base-url,
// -env, SYSTEM_BASE_URL, SYSTEM_ENVIRONMENT, the mapping's base_url, the
// mapping's environment, the spec's first server.

// pairs is a repeatable SYSTEM=VALUE flag.
type pairs map[string]string

func (p pairs) String() string {
	var s []string
	for k, v := range p {
		s = append(s, k+"="+v)
	}
	sort.Strings(s)
	return strings.Join(s, ",")
}

func (p pairs) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" || val == "" {
		return fmt.Errorf("want SYSTEM=VALUE, got %q", v)
	}
	p[k] = val
	return nil
}

// envFlags are the environment selection flags of run, once and dry-run.
type envFlags struct {
	env, baseURL, tokenURL pairs
}

func (h *host) envFlagSet(fs *flag.FlagSet) *envFlags {
	e := &envFlags{env: pairs{}, baseURL: pairs{}, tokenURL: pairs{}}
	fs.Var(e.env, "env", "SYSTEM=ENVIRONMENT: select a named server of the system's spec (repeatable; env SYSTEM_ENVIRONMENT)")
	fs.Var(e.baseURL, "base-url", "SYSTEM=URL: call the system at URL (repeatable; env SYSTEM_BASE_URL)")
	fs.Var(e.tokenURL, "token-url", "SYSTEM=URL: OAuth 2.0 token URL instead of the spec's (repeatable; env SYSTEM_TOKEN_URL)")
	return e
}

// Selected is the environment a system runs against.
type Selected struct {
	System      string `json:"system"`
	Environment string `json:"environment"`
	URL         string `json:"url"`
	Production  bool   `json:"production"`
	// Source says where the choice came from (flag, env, mapping, spec).
	Source   string `json:"source"`
	TokenURL string `json:"token_url,omitempty"`
}

func sysVar(system, what string) string {
	return strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(system)) + "_" + what
}

// selectEnvironments resolves every system's base URL.
func (h *host) selectEnvironments(f *envFlags) ([]Selected, error) {
	var out []Selected
	known := map[string]bool{}
	for _, s := range h.c.Systems {
		known[s.Name] = true
	}
	for _, m := range []pairs{f.env, f.baseURL, f.tokenURL} {
		for k := range m {
			if !known[k] {
				return nil, fmt.Errorf("unknown system %q (systems: %s)", k, strings.Join(h.systemNames(), ", "))
			}
		}
	}
	for _, s := range h.c.Systems {
		sel := Selected{System: s.Name, TokenURL: f.tokenURL[s.Name]}
		if sel.TokenURL == "" {
			sel.TokenURL = h.io.Getenv(sysVar(s.Name, "TOKEN_URL"))
		}
		byName := func(name, source string) error {
			for _, e := range s.Environments {
				if e.Name == name {
					sel.Environment, sel.URL, sel.Production, sel.Source = e.Name, e.URL, e.Production, source
					return nil
				}
			}
			var names []string
			for _, e := range s.Environments {
				names = append(names, e.Name)
			}
			return fmt.Errorf("system %s: no environment %q (%s; its spec's servers are: %s)", s.Name, name, source, strings.Join(names, ", "))
		}
		custom := func(u, source string) {
			sel.Environment, sel.URL, sel.Source = "custom", u, source
			// A URL equal to a named server keeps that server's name.
			for _, e := range s.Environments {
				if strings.TrimRight(e.URL, "/") == strings.TrimRight(u, "/") {
					sel.Environment, sel.Production = e.Name, e.Production
				}
			}
		}
		var err error
		switch {
		case f.baseURL[s.Name] != "":
			custom(f.baseURL[s.Name], "flag -base-url")
		case f.env[s.Name] != "":
			err = byName(f.env[s.Name], "flag -env")
		case h.io.Getenv(sysVar(s.Name, "BASE_URL")) != "":
			custom(h.io.Getenv(sysVar(s.Name, "BASE_URL")), "env "+sysVar(s.Name, "BASE_URL"))
		case h.io.Getenv(sysVar(s.Name, "ENVIRONMENT")) != "":
			err = byName(h.io.Getenv(sysVar(s.Name, "ENVIRONMENT")), "env "+sysVar(s.Name, "ENVIRONMENT"))
		case s.BaseURL != "":
			custom(s.BaseURL, "mapping base_url")
		case s.DefaultEnvironment != "":
			err = byName(s.DefaultEnvironment, "mapping environment")
		case len(s.Environments) > 0:
			e := s.Environments[0]
			sel.Environment, sel.URL, sel.Production, sel.Source = e.Name, e.URL, e.Production, "spec's first server"
		default:
			err = fmt.Errorf("system %s: its spec has no servers; set -base-url %s=URL or %s", s.Name, s.Name, sysVar(s.Name, "BASE_URL"))
		}
		if err != nil {
			return nil, err
		}
		out = append(out, sel)
	}
	return out, nil
}

func (h *host) systemNames() []string {
	var out []string
	for _, s := range h.c.Systems {
		out = append(out, s.Name)
	}
	return out
}
