// Package service is the runtime's service host: it turns a generated
// connector (its syncs, clients and systems, described by a Connector
// value that the generated main fills in) into one operable program with
// the sub-commands run, once, dry-run, status, dead-letters, conflicts,
// reauthorize and audit (DESIGN.md §8).
//
// Role: runtime, core. It imports only the standard library and the other
// core runtime packages; it never imports a store implementation. State
// stores are chosen by the -state URL's scheme from the StoreOpener
// registry the generated main passes in (sqlite:// from
// runtime/sqlitestore, postgres:// from runtime/riverexec's OpenURL), so
// the heavy drivers stay in their own modules. A store that is also a
// WorkerStore hands the run command an executor (River workers) through
// which every process on the same store shares the syncs. It must not make decisions that belong
// to the engine (what to write, when a record is done): it schedules,
// serves, reports and shuts down.
package service

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/observe"
	"github.com/connectorgen/connectorgen/runtime/rest"
	"github.com/connectorgen/connectorgen/runtime/secret"
)

// StoreOpener opens the state store a -state URL names (the URL's scheme
// selected it).
type StoreOpener func(ctx context.Context, u *url.URL) (engine.Store, error)

// Environment is one named base URL of a system (a server of its spec).
type Environment struct {
	Name       string `json:"name"`
	URL        string `json:"url"`
	Production bool   `json:"production"`
}

// System describes one API the connector talks to.
type System struct {
	// Name is the system's name in the mapping file.
	Name string
	// Environments are the spec's servers; the first is the default
	// unless DefaultEnvironment names another.
	Environments       []Environment
	DefaultEnvironment string
	// BaseURL, when set, is the mapping file's base_url: it overrides the
	// environments unless a flag or variable selects one.
	BaseURL string
	// OAuth says the system authenticates with OAuth 2.0 (its tokens live
	// in the store; reauthorize applies); RefreshToken that it uses the
	// refresh-token grant.
	OAuth, RefreshToken bool
	// SpecVersion and SpecHash record the spec the client was generated
	// from (info.version and the SHA-256 of the file).
	SpecVersion, SpecHash string
	// Scopes are the OAuth scopes the connector's operations need.
	Scopes []string
}

// SyncInfo describes one sync for the host.
type SyncInfo struct {
	Name           string
	Source, Target string
	SourceSystem   string
	TargetSystem   string
	// Every is the polling interval (0: webhooks only).
	Every time.Duration
	// Webhook is set for realtime syncs: the host serves
	// /webhooks/<Name>, verifying Header with the secret Secret refers to.
	Webhook *Webhook
}

// Webhook is a realtime sync's endpoint configuration.
type Webhook struct {
	// Scheme is the signature scheme the mapping declares (the engine's
	// default when zero); Header overrides its signature header.
	Scheme engine.WebhookScheme
	Header string
	// Secret is a reference (env://NAME, file://PATH), resolved at start.
	Secret string
	// IDHeader names the header carrying the event ID when the body is the
	// record itself (the mapping's id: header.NAME); empty: the scheme's
	// (X-Shopify-Webhook-Id for Shopify's).
	IDHeader string
}

// Setup is what a connector's Register function receives from the host.
type Setup struct {
	Engine   *engine.Engine
	Resolver *secret.Resolver
	// URLs maps each system to the base URL of its selected environment;
	// TokenURLs to an OAuth token URL override (empty: the spec's).
	URLs, TokenURLs map[string]string
	// ClientOptions apply to every client (observer, logger).
	ClientOptions []rest.Option
}

// Connector is what a generated main passes to Main.
type Connector struct {
	// Name is the connector's package name; it prefixes nothing but
	// appears in logs, status and usage.
	Name    string
	Systems []System
	Syncs   []SyncInfo
	// Register builds the clients and adds every sync to s.Engine.
	Register func(ctx context.Context, s *Setup) error
	// Stores maps -state URL schemes to openers.
	Stores map[string]StoreOpener
	// Resolver resolves credential references (nil: env:// and file://).
	Resolver *secret.Resolver
	// Options are added to the engine's options, after the host's (for
	// example engine.WithExecutor with runtime/riverexec).
	Options []engine.Option
}

// IO is the process environment Main works in; tests replace it.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Getenv replaces os.Getenv (nil: os.Getenv).
	Getenv func(string) string
	// Signals, when set, replaces SIGINT/SIGTERM handling: the run stops
	// when it is closed.
	Signals <-chan struct{}
}

// Exit statuses.
const (
	ExitOK      = 0
	ExitFailed  = 1
	ExitUsage   = 2
	exitDrainTO = 3
)

// Main runs the sub-command args[0] and returns the exit status.
func Main(c Connector, args []string, pio IO) int {
	if pio.Stdin == nil {
		pio.Stdin = os.Stdin
	}
	if pio.Stdout == nil {
		pio.Stdout = os.Stdout
	}
	if pio.Stderr == nil {
		pio.Stderr = os.Stderr
	}
	if pio.Getenv == nil {
		pio.Getenv = os.Getenv
	}
	h := &host{c: c, io: pio}
	if len(args) == 0 {
		h.usage()
		return ExitUsage
	}
	cmd, rest := args[0], args[1:]
	ctx := context.Background()
	var stop context.CancelFunc
	if pio.Signals != nil {
		ctx, stop = context.WithCancel(ctx)
		go func() { <-pio.Signals; stop() }()
	} else {
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	}
	defer stop()
	switch cmd {
	case "run":
		return h.cmdRun(ctx, rest)
	case "once":
		return h.cmdOnce(ctx, rest, false)
	case "dry-run":
		return h.cmdOnce(ctx, rest, true)
	case "status":
		return h.cmdStatus(ctx, rest)
	case "dead-letters":
		return h.cmdDeadLetters(ctx, rest)
	case "conflicts":
		return h.cmdConflicts(ctx, rest)
	case "reauthorize":
		return h.cmdReauthorize(ctx, rest)
	case "audit":
		return h.cmdAudit(ctx, rest)
	case "help", "-h", "-help", "--help":
		h.usage()
		return ExitOK
	}
	fmt.Fprintf(pio.Stderr, "%s: unknown command %q\n", c.Name, cmd)
	h.usage()
	return ExitUsage
}

type host struct {
	c  Connector
	io IO
}

func (h *host) usage() {
	fmt.Fprintf(h.io.Stderr, `usage: %s COMMAND [flags]

commands:
  run           serve schedules, webhooks, /metrics, /healthz, /readyz, /status until SIGTERM
  once          run every sync (or -sync NAME) once; exit 1 when one failed
  dry-run       print the writes one run would make, write nothing
  status        per-sync health from the state store (-json; -url for a running service)
  dead-letters  list|show|replay|discard
  conflicts     list|resolve
  reauthorize   SYSTEM: store a new OAuth refresh token read from stdin or -from-file
  audit         read the audit log of target writes

Every flag can also be set by an environment variable (-state: CONNECTOR_STATE;
see "%s COMMAND -h").
`, h.c.Name, h.c.Name)
}

// common are the flags every command shares.
type common struct {
	state     string
	logLevel  string
	logFormat string
	jsonOut   bool
}

// envName returns the variable that sets flag name.
func envName(name string) string {
	return "CONNECTOR_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// flagSet returns a flag set whose defaults come from CONNECTOR_* variables
// (12-factor: a flag wins over its variable, the variable over the
// default).
func (h *host) flagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(h.c.Name+" "+name, flag.ContinueOnError)
	fs.SetOutput(h.io.Stderr)
	return fs
}

func (h *host) str(fs *flag.FlagSet, p *string, name, def, usage string) {
	if v := h.io.Getenv(envName(name)); v != "" {
		def = v
	}
	fs.StringVar(p, name, def, usage+" (env "+envName(name)+")")
}

func (h *host) intv(fs *flag.FlagSet, p *int, name string, def int, usage string) {
	if v := h.io.Getenv(envName(name)); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			def = n
		}
	}
	fs.IntVar(p, name, def, usage+" (env "+envName(name)+")")
}

func (h *host) dur(fs *flag.FlagSet, p *time.Duration, name string, def time.Duration, usage string) {
	if v := h.io.Getenv(envName(name)); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			def = d
		}
	}
	fs.DurationVar(p, name, def, usage+" (env "+envName(name)+")")
}

func (h *host) commonFlags(fs *flag.FlagSet, c *common) {
	h.str(fs, &c.state, "state", "", "state store URL: sqlite:///path/state.db"+h.schemes())
	h.str(fs, &c.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	h.str(fs, &c.logFormat, "log-format", "json", "log format: json or text")
	fs.BoolVar(&c.jsonOut, "json", false, "print JSON instead of text")
}

func (h *host) schemes() string {
	var s []string
	for k := range h.c.Stores {
		if k != "sqlite" {
			s = append(s, k+"://…")
		}
	}
	sort.Strings(s)
	if len(s) == 0 {
		return ""
	}
	return ", " + strings.Join(s, ", ")
}

// parse parses args and refuses anything that looks like a secret passed
// on the command line (a flag named like a credential): credentials come
// from the environment, files or stdin, where they do not end up in shell
// history and process listings.
func (h *host) parse(fs *flag.FlagSet, args []string) error {
	for _, a := range args {
		name := strings.TrimLeft(strings.SplitN(a, "=", 2)[0], "-")
		if strings.HasPrefix(a, "-") && looksSecret(name) {
			return fmt.Errorf("flag -%s: secrets are not accepted on the command line; use an environment variable, a file or stdin", name)
		}
	}
	return fs.Parse(args)
}

func looksSecret(name string) bool {
	n := strings.ToLower(name)
	if strings.HasSuffix(n, "url") || n == "from-file" {
		return false
	}
	for _, w := range []string{"token", "secret", "password", "passwd", "apikey", "api-key", "api_key", "credential"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

func (h *host) logger(c common) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("-log-level %q: %w", c.logLevel, err)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch c.logFormat {
	case "json":
		return slog.New(slog.NewJSONHandler(h.io.Stderr, opts)).With("connector", h.c.Name), nil
	case "text":
		return slog.New(slog.NewTextHandler(h.io.Stderr, opts)).With("connector", h.c.Name), nil
	}
	return nil, fmt.Errorf("-log-format %q: want json or text", c.logFormat)
}

// openStore opens the store the -state URL names.
func (h *host) openStore(ctx context.Context, state string) (engine.Store, error) {
	if state == "" {
		return nil, errors.New("no state store: set -state or CONNECTOR_STATE (sqlite:///path/state.db" + h.schemes() + ")")
	}
	u, err := url.Parse(state)
	if err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("-state %q: want a URL such as sqlite:///var/lib/connector/state.db", redactURL(state))
	}
	open := h.c.Stores[u.Scheme]
	if open == nil {
		var known []string
		for k := range h.c.Stores {
			known = append(known, k)
		}
		sort.Strings(known)
		return nil, fmt.Errorf("-state: no store for scheme %q (this connector knows %s)", u.Scheme, strings.Join(known, ", "))
	}
	return open(ctx, u)
}

// redactURL removes a password from a URL for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// SQLitePath returns the file path of a sqlite:// state URL
// (sqlite:///abs/path or sqlite://rel/path), for StoreOpeners.
func SQLitePath(u *url.URL) string {
	if u.Host != "" {
		return u.Host + u.Path
	}
	return u.Path
}

func (h *host) resolver() *secret.Resolver {
	if h.c.Resolver != nil {
		return h.c.Resolver
	}
	r := secret.NewResolver()
	r.Register("env", secret.Env{Lookup: func(k string) (string, bool) {
		v := h.io.Getenv(k)
		return v, v != ""
	}})
	return r
}

func (h *host) syncNames() []string {
	out := make([]string, len(h.c.Syncs))
	for i, s := range h.c.Syncs {
		out[i] = s.Name
	}
	return out
}

func (h *host) checkSync(name string) error {
	if name == "" {
		return nil
	}
	for _, s := range h.c.Syncs {
		if s.Name == name {
			return nil
		}
	}
	return fmt.Errorf("unknown sync %q (syncs: %s)", name, strings.Join(h.syncNames(), ", "))
}

func (h *host) fail(err error) int {
	fmt.Fprintf(h.io.Stderr, "%s: %v\n", h.c.Name, err)
	return ExitFailed
}

// memObserver is the transport observer the host gives every client.
func newMemory() *observe.Memory { return observe.NewMemory(observe.MemoryOptions{}) }
