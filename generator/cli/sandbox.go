package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/connectorgen/connectorgen/generator/sandbox"
)

// runSandbox serves the systems of a connector config (or one spec) until
// ctx ends: interrupted from the terminal, or cancelled by a test.
func runSandbox(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(*sandbox.Sandbox)) int {
	fs := flag.NewFlagSet("connectorgen sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "connector config (mapping) `file`: one server per system")
	specPath := fs.String("spec", "", "a single OpenAPI spec `file` (instead of -config); entities are derived from the spec")
	name := fs.String("name", "api", "system `name` with -spec")
	listen := fs.String("listen", "127.0.0.1:0", "loopback `address` of the first system; the next systems take the next ports")
	seedFile := fs.String("seed", "", "JSON or YAML `file` of records to load, {\"system.Entity\": [records]}")
	generate := fs.Int("generate", 0, "generate `N` records of every entity from its schema")
	seed := fs.Uint64("random-seed", 1, "`seed` for generated ids, values and fault decisions")
	failRate := fs.Float64("fail-rate", 0, "fraction (0..1) of API requests that fail (500, 429, slow, reset; writes half after applying)")
	slow := fs.Duration("slow", 400*time.Millisecond, "how long a slow answer takes")
	retryAfterDate := fs.Bool("retry-after-date", false, "send Retry-After as an HTTP-date instead of seconds")
	state := fs.String("state", "", "`directory` to load records from at start and save them to at exit")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	if (*cfgPath == "") == (*specPath == "") || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "connectorgen sandbox: give exactly one of -config or -spec")
		return ExitUsage
	}
	opts := sandbox.Options{Seed: *seed, Listen: *listen,
		Faults: sandbox.Faults{Rate: *failRate, SlowDelay: *slow, RetryAfterDate: *retryAfterDate}}
	var sb *sandbox.Sandbox
	var err error
	if *cfgPath != "" {
		sb, err = sandbox.Load(*cfgPath, opts)
	} else {
		sb, err = sandbox.LoadSpec(*specPath, *name, opts)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return ExitDiags
	}
	defer sb.Close()
	if *state != "" {
		if err := sb.LoadState(*state); err != nil {
			fmt.Fprintln(stderr, err)
			return ExitDiags
		}
	}
	if *seedFile != "" {
		if err := sb.Seed(*seedFile); err != nil {
			fmt.Fprintln(stderr, err)
			return ExitDiags
		}
	}
	for _, s := range sb.Systems() {
		if *generate > 0 {
			for _, e := range s.Entities() {
				if err := s.Generate(e, *generate); err != nil {
					fmt.Fprintln(stderr, err)
					return ExitDiags
				}
			}
		}
		fmt.Fprintf(stdout, "%s: %s", s.Name(), s.BaseURL())
		if t := s.TokenURL(); t != "" {
			fmt.Fprintf(stdout, "  token %s", t)
		}
		fmt.Fprintf(stdout, "  admin %s\n", s.AdminURL())
	}
	if ready != nil {
		ready(sb)
	}
	<-ctx.Done()
	for _, s := range sb.Systems() {
		if v := s.Violations(); len(v) > 0 {
			fmt.Fprintf(stdout, "%s: %d spec violations\n", s.Name(), len(v))
		}
	}
	if *state != "" {
		if err := sb.SaveState(*state); err != nil {
			fmt.Fprintln(stderr, err)
			return ExitDiags
		}
	}
	return ExitOK
}

// interruptContext ends on SIGINT or SIGTERM.
func interruptContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
