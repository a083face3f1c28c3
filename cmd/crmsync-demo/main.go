// Command crmsync-demo runs the example connector's generated syncs
// (specs/crmemail/connector.yaml: CRM owners → email senders, qualified CRM
// leads → the email nurture list) end to end against simulated CRM and email
// servers on loopback, with injected faults, and checks the result: every
// qualified lead on the list exactly once with every mapped field right,
// nothing else touched.
//
//	go run ./cmd/crmsync-demo [-leads N] [-fail-rate F] [-json] [-state FILE] [-crm-url U -email-url U]
//	go run ./cmd/crmsync-demo worker -postgres URL -crm-url U -email-url U [-id NAME]
//
// The worker form is one of any number of processes sharing the syncs
// through PostgreSQL and River (see the README's "Scale out").
//
// Progress goes to standard error; the summary to standard output (with
// -json, its last line is a JSON object). The exit status is 0 when the
// result is correct, 1 when it is not, 2 on a usage error.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

func realMain(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "worker" {
		return workerMain(args[1:], stderr)
	}
	fs := flag.NewFlagSet("crmsync-demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c Config
	fs.IntVar(&c.Leads, "leads", 2000, "number of simulated leads")
	fs.Float64Var(&c.FailRate, "fail-rate", 0.1, "fraction of requests the simulated servers fail (500, 429, slow, reset)")
	jsonOut := fs.Bool("json", false, "print the summary as one JSON object on the last line of standard output")
	fs.StringVar(&c.StatePath, "state", "", "SQLite state file (default: a temporary file, removed afterwards); reuse it only against the same servers")
	fs.StringVar(&c.CRMURL, "crm-url", "", "CRM API base URL of running servers (default: start simulated ones)")
	fs.StringVar(&c.CRMTokenURL, "crm-token-url", "", "CRM OAuth token URL (default: <crm origin>/oauth/token)")
	fs.StringVar(&c.EmailURL, "email-url", "", "email API base URL of running servers")
	seed := fs.Uint64("seed", 1, "seed of the simulated data and changes")
	fs.IntVar(&c.Mutations, "changes", -1, "changes made in the simulated CRM while syncing (default leads/10)")
	fs.IntVar(&c.Concurrency, "concurrency", 16, "records applied in parallel")
	fs.IntVar(&c.MaxRounds, "max-rounds", 60, "upper bound on rounds of runs")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after this long")
	quiet := fs.Bool("q", false, "no progress on standard error")
	verbose := fs.Bool("v", false, "log the engine's and clients' messages to standard error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "crmsync-demo: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if (c.CRMURL == "") != (c.EmailURL == "") {
		fmt.Fprintln(stderr, "crmsync-demo: give both -crm-url and -email-url, or neither")
		return 2
	}
	if c.FailRate < 0 || c.FailRate >= 1 {
		fmt.Fprintln(stderr, "crmsync-demo: -fail-rate must be in [0, 1)")
		return 2
	}
	c.Seed = *seed
	if !*quiet {
		c.Progress = stderr
	}
	if *verbose {
		c.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	sum, err := Run(ctx, c)
	if err != nil {
		fmt.Fprintf(stderr, "crmsync-demo: %v\n", err)
		if *jsonOut {
			b, _ := json.Marshal(sum)
			fmt.Fprintln(stdout, string(b))
		}
		return 1
	}
	printSummary(stdout, sum)
	if *jsonOut {
		b, _ := json.Marshal(sum)
		fmt.Fprintln(stdout, string(b))
	}
	if sum.Duplicates > 0 || sum.Lost > 0 || sum.Mismatched > 0 || sum.Stray > 0 || !sum.Converged {
		return 1
	}
	return 0
}

func printSummary(w io.Writer, s Summary) {
	verdict := "OK: every qualified lead is on the list exactly once, with every field right"
	if s.Duplicates > 0 || s.Lost > 0 || s.Mismatched > 0 || s.Stray > 0 {
		verdict = "WRONG"
	} else if !s.Converged {
		verdict = "NOT CONVERGED within the round limit"
	}
	fmt.Fprintf(w, `
crmsync-demo summary
  leads              %d (%d qualified)
  members on list    %d
  senders            %d
  duplicates         %d
  lost               %d
  wrong fields       %d
  untouched leads    %s
  dead letters       %d
  writes             %d created, %d updated in %d rounds (%d runs stopped by a system being down)
  requests           %d attempts, %d retries, %d faults injected (%d after the write was applied)
  alerts             %d
  time               %.1fs (%.0f writes/s)
  result             %s
`, s.Leads, s.Qualified, s.Members, s.Senders, s.Duplicates, s.Lost, s.Mismatched,
		untouched(s.Stray), s.DeadLettered, s.Created, s.Updated, s.Rounds, s.FailedRuns,
		s.Requests, s.Retries, s.Faults, s.FaultsAfter, s.Alerts, s.Seconds, s.RecordsPerS, verdict)
	if len(s.Problems) > 0 {
		fmt.Fprintf(w, "  problems:\n    %s\n", strings.Join(s.Problems, "\n    "))
	}
}

func untouched(stray int) string {
	if stray == 0 {
		return "yes"
	}
	return fmt.Sprintf("NO: %d members of never-qualified leads", stray)
}
