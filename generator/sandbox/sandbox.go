// Package sandbox serves stateful, spec-validating simulations of the
// systems of a connector, for developing and testing connectors against
// APIs that have no test environment of their own (DESIGN.md §9).
//
// sandbox is not a stage of the generator pipeline: it is a tool that
// serves simulations from the same loaded inputs the generator reads (the
// connector config through generator/config, each spec through
// generator/load and generator/lower), and it must not emit code. Each
// system gets a loopback HTTP server. Operations are classified from the
// mapping's entity declarations (read.list, read.get, write.create,
// write.update, write.find) and, where the mapping is silent, from the
// spec's shape (method, path, request and response schemas). Every request
// is validated with kin-openapi's openapi3filter before it is served, and
// every answer the sandbox gives is validated against the response schema:
// both kinds of failure are recorded as violations that tests assert to be
// zero.
//
// What a spec cannot say is derived from the mapping where possible (the
// natural keys a create must keep unique come from the syncs' match
// steps, the change-time field from read.cursor); the few remaining hints
// go in Options.Hints or in an x-connectorgen-sandbox extension on a
// schema (see Hint).
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/connectorgen/connectorgen/generator/config"
)

// Options configure a sandbox. The zero value serves every system on
// 127.0.0.1 on free ports, with no faults, accepting any credential that
// is present.
type Options struct {
	// Seed makes generated ids, generated values and fault decisions
	// reproducible. Default 1.
	Seed uint64
	// Listen is the address of the first system ("127.0.0.1:0" when
	// empty). With a fixed port, the following systems take the next
	// ports in config order.
	Listen string
	// Faults configure fault injection for every system.
	Faults Faults
	// Credentials are the credentials each system accepts, by system name.
	// A system without an entry accepts any credential that is present.
	Credentials map[string]Credentials
	// TokenTTL is the lifetime of issued OAuth 2.0 access tokens. Default
	// 1 h.
	TokenTTL time.Duration
	// Hints add what neither the spec nor the mapping says, by entity name
	// ("system.Entity"); they override x-connectorgen-sandbox extensions.
	Hints map[string]Hint
	// SkipResponseValidation turns off validating the sandbox's own answers
	// (benchmarks only: a sandbox bug must not pass silently in tests).
	SkipResponseValidation bool
	// SpecOnly answers every operation statelessly with its first 2xx
	// response generated from the response schema, ignoring entities (the
	// corpus operation-call test uses it to exercise every operation). A
	// request carrying the header X-Sandbox-Example: 1 gets the media
	// type's example instead when the spec has one.
	SpecOnly bool
}

// Credentials are what one system accepts. Empty fields accept any
// non-empty value for the scheme.
type Credentials struct {
	// APIKey is the value of an apiKey scheme (header, query or cookie).
	APIKey string
	// Username and Password are checked by http basic schemes.
	Username, Password string
	// Bearer is a static token for http bearer schemes. Tokens issued by
	// the OAuth 2.0 token endpoint are accepted too.
	Bearer string
	// ClientID and ClientSecret are checked by the token endpoint; when
	// set, bearer tokens must have been issued by it (or equal Bearer).
	ClientID, ClientSecret string
}

// Hint adds sandbox behaviour to one entity. In a spec it is written as
// the x-connectorgen-sandbox extension of the entity's schema, with the
// same field names in snake case (key_from, unique, clear_on_empty,
// merge_on_put, natural_keys_not_unique).
type Hint struct {
	// KeyFrom derives the key from another field instead of generating
	// one: "md5_lower:FIELD" is the lower-case hex MD5 of the field's
	// value in lower case (the member ids of Mailchimp-style APIs).
	KeyFrom string
	// Unique lists fields a create must keep unique (case-insensitive); a
	// duplicate is answered 409. The mapping's natural keys are added.
	Unique []string
	// ClearOnEmpty lists object fields whose members are removed by a
	// PATCH setting them to "" (merge-field style maps).
	ClearOnEmpty []string
	// MergeOnPut makes an update by PUT merge like a PATCH: the fields the
	// body names are set, the others kept (Jira's editIssue, whose spec
	// says so only in prose). Without it a PUT replaces the record.
	MergeOnPut bool
	// NaturalKeysNotUnique stops the mapping's natural keys from being
	// added to Unique: the system lets two records share the value, so a
	// repeated create makes a duplicate the test can see (Jira's custom
	// fields, which a find by JQL searches).
	NaturalKeysNotUnique bool
}

// Sandbox is a running set of simulated systems.
type Sandbox struct {
	systems []*System
}

// Load reads a connector config and starts one server per system.
func Load(configPath string, opts Options) (*Sandbox, error) {
	cfg, diags := config.Load(configPath)
	if diags.HasErrors() {
		return nil, errors.New(diags.Errors().String())
	}
	return New(cfg, opts)
}

// New starts one server per system of cfg.
func New(cfg *config.File, opts Options) (*Sandbox, error) {
	opts = opts.withDefaults()
	sb := &Sandbox{}
	for i, sys := range cfg.Systems {
		s, err := newSystem(cfg, sys, opts, uint64(i))
		if err != nil {
			sb.Close()
			return nil, err
		}
		sb.systems = append(sb.systems, s)
	}
	if err := sb.listen(opts.Listen); err != nil {
		sb.Close()
		return nil, err
	}
	return sb, nil
}

// LoadSpec serves a single spec without a mapping, as system name:
// entities are derived from the spec's shape alone.
func LoadSpec(specPath, name string, opts Options) (*Sandbox, error) {
	opts = opts.withDefaults()
	s, err := newSpecSystem(specPath, name, opts)
	if err != nil {
		return nil, err
	}
	sb := &Sandbox{systems: []*System{s}}
	if err := sb.listen(opts.Listen); err != nil {
		sb.Close()
		return nil, err
	}
	return sb, nil
}

func (o Options) withDefaults() Options {
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = time.Hour
	}
	return o
}

func (sb *Sandbox) listen(addr string) error {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("sandbox: listen address %q: %v", addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return fmt.Errorf("sandbox: listen address %q: bad port", addr)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		// The sandbox speaks plain HTTP; only loopback may carry it.
		return fmt.Errorf("sandbox: listen address %q is not loopback", addr)
	}
	for i, s := range sb.systems {
		p := 0
		if port != 0 {
			p = port + i
		}
		if err := s.start(net.JoinHostPort(host, strconv.Itoa(p))); err != nil {
			return err
		}
	}
	return nil
}

// Systems returns the systems in config order.
func (sb *Sandbox) Systems() []*System { return slices.Clone(sb.systems) }

// System returns the system called name, or nil.
func (sb *Sandbox) System(name string) *System {
	for _, s := range sb.systems {
		if s.name == name {
			return s
		}
	}
	return nil
}

// Violations returns the violations of every system.
func (sb *Sandbox) Violations() []Violation {
	var out []Violation
	for _, s := range sb.systems {
		out = append(out, s.Violations()...)
	}
	return out
}

// Close stops every server, cutting slow answers short.
func (sb *Sandbox) Close() {
	for _, s := range sb.systems {
		s.close()
	}
}

// Shutdown stops every server gracefully.
func (sb *Sandbox) Shutdown(ctx context.Context) error {
	var errs []error
	for _, s := range sb.systems {
		errs = append(errs, s.shutdown(ctx))
	}
	return errors.Join(errs...)
}

// Violation is a request that did not validate against the spec, or an
// answer of the sandbox's that did not.
type Violation struct {
	System    string `json:"system"`
	Operation string `json:"operation"`
	// Kind is "request" or "response".
	Kind    string `json:"kind"`
	Method  string `json:"method"`
	Path    string `json:"path"`
	Message string `json:"message"`
}

func (v Violation) String() string {
	return v.System + " " + v.Operation + " (" + v.Kind + ", " + v.Method + " " + v.Path + "): " + v.Message
}

// lowerFirst is a case-insensitive name comparison helper.
func eqFold(a, b string) bool { return strings.EqualFold(a, b) }
