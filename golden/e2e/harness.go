// Package e2e is the end-to-end acceptance harness for generated
// connectors (issue 9): for one connector config it generates the
// connector into a fresh Go module (clients, sync code and the generated
// service main), builds and vets it, serves every system of the config
// from generator/sandbox with injected faults, runs the built binary as a
// real process against the sandboxes through several rounds of user
// changes, SIGKILLs and restarts it on the same SQLite state, and finally
// compares the target systems with a hand-written oracle of the mapping.
//
// It is test support only: nothing generated or in the runtime imports it,
// and it must not call generated mapping code (the oracle is written by
// hand per connector, so a wrong Map cannot agree with itself). Each
// pairing is a Pairing value and one Test function in this package.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/generator/sandbox"

	// The connector's SQLite state file is read for its xrefs.
	_ "modernc.org/sqlite"
)

// Pairing describes one connector under test and its oracle.
type Pairing struct {
	// Name is the config's package (the generated command's name).
	Name string
	// Config is the connector config, relative to the repository root.
	Config string
	// Corpus, when set, is a directory relative to the repository root
	// the config's specs are read from; the test skips when it is absent.
	Corpus string
	// Modules are further module directories (relative to the root) the
	// generated code imports through with: functions, by module path.
	Modules map[string]string
	// Sandbox configures the sandboxes (credentials, hints). Faults are
	// set by the harness after seeding.
	Sandbox sandbox.Options
	// Env returns the credentials the connector reads from its
	// environment, once the sandboxes run. Base URLs are added by the
	// harness (SYSTEM_BASE_URL for every system).
	Env func(r *Run) []string
	// Seed loads the systems' initial data (source records, out-of-scope
	// records, target records the connector must leave alone).
	Seed func(r *Run) error
	// Change makes round's user changes (round counts from 1).
	Change func(r *Run, round int) error
	// Check compares the target systems with the oracle and returns the
	// discrepancies (empty when the target holds exactly what the mapping
	// says).
	Check func(r *Run) []string
	// Targets are the systems whose writes the quiet round counts (both
	// systems of a bidirectional pairing).
	Targets []string
	// Reads are operation IDs of target systems that only read though
	// not GET (HubSpot's POST search): the quiet round does not count them.
	Reads []string
	// Webhooks are the systems that deliver signed change events to the
	// running connector (POST /webhooks/SYNC), as the vendor would.
	Webhooks []Webhook
	// AdjustFaults, when set, changes one system's fault configuration
	// (the harness's default is Options.FaultRate of 500, 429, slow
	// answers and resets, half of write failures after the write
	// applied). A pairing that needs it says why.
	AdjustFaults func(system string, f *sandbox.Faults)
	// Records reports how many records the connector must have written
	// (for the records/s figure).
	Records func(r *Run) int
}

// Options scale a run. Zero values take the defaults noted.
type Options struct {
	// Rounds of user changes after the initial sync. Default 3.
	Rounds int
	// KillRound is the round in which the process is SIGKILLed mid-run and
	// restarted. Default 2.
	KillRound int
	// FaultRate is the fraction of requests that fail. Default 0.2.
	FaultRate float64
	// Every is the connector's polling interval. Default 300 ms.
	Every time.Duration
	// Converge bounds the wait for the target to match the oracle after
	// each round. Default 120 s (a bound on a hang, not a performance
	// assertion).
	Converge time.Duration
	// Args are extra flags for the connector's run command.
	Args []string
}

func (o Options) withDefaults() Options {
	if o.Rounds == 0 {
		o.Rounds = 3
	}
	if o.KillRound == 0 {
		o.KillRound = 2
	}
	if o.FaultRate == 0 {
		o.FaultRate = 0.2
	}
	if o.Every == 0 {
		o.Every = 300 * time.Millisecond
	}
	if o.Converge == 0 {
		o.Converge = 120 * time.Second
	}
	return o
}

// Scale is the record-count multiplier read from CONNECTORGEN_E2E_SCALE
// (default 1): pairings multiply their seeded record counts by it for a
// longer run.
func Scale() int {
	n, err := strconv.Atoi(os.Getenv("CONNECTORGEN_E2E_SCALE"))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// Run is one end-to-end run of a pairing.
type Run struct {
	T    *testing.T
	Root string
	SB   *sandbox.Sandbox
	// Rand is seeded: a pairing's seed data and changes are reproducible.
	Rand *rand.Rand
	// Vars hold whatever a pairing wants to keep between its callbacks.
	Vars map[string]any

	p     Pairing
	opts  Options
	bin   string
	state string
	env   []string
	proc  *process
	addr  string // the running connector's listen address
	// starts counts the connector's starts and logID names the run (log
	// file names).
	starts int
	logID  string
	// pastLogs are the logs of the processes before the current one.
	pastLogs string
}

// RepoRoot is the repository root seen from this package's directory.
func RepoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "connectorgen")); err != nil {
		t.Fatalf("repository root not found at %s: %v", root, err)
	}
	return root
}

// Webhook makes System deliver its record changes to Sync's webhook
// endpoint, signed with Secret in Scheme (sandbox.SignDefault, SignStripe
// or SignShopify).
type Webhook struct {
	System, Sync, Secret, Scheme string
	// Entity is the entity whose changes are delivered ("crm.Lead"), as
	// a vendor subscription names its event types.
	Entity string
}

// Figures are what one run measured.
type Figures struct {
	Records  int
	Initial  time.Duration // seeding to first convergence
	Total    time.Duration // first start to final convergence
	Requests map[string]int64
	Faults   map[string]int64
}

// RecordsPerSecond is the initial sync's throughput.
func (f Figures) RecordsPerSecond() float64 {
	if f.Initial <= 0 {
		return 0
	}
	return float64(f.Records) / f.Initial.Seconds()
}

// Execute runs the whole acceptance sequence for p and fails t on any
// discrepancy.
func Execute(t *testing.T, p Pairing, o Options) Figures {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: builds and runs a connector process; skipped with -short")
	}
	o = o.withDefaults()
	root := RepoRoot(t)
	if p.Corpus != "" {
		if _, err := os.Stat(filepath.Join(root, p.Corpus)); err != nil {
			t.Skipf("vendor specs not found at %s (the corpus lives beside the repository): %v", p.Corpus, err)
		}
	}
	r := &Run{T: t, Root: root, p: p, opts: o, Vars: map[string]any{},
		Rand: rand.New(rand.NewPCG(9, 9))}
	r.bin = Build(t, root, p)

	sb, err := sandbox.Load(filepath.Join(root, p.Config), p.Sandbox)
	if err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	t.Cleanup(sb.Close)
	r.SB = sb
	if err := p.Seed(r); err != nil {
		t.Fatalf("seed: %v", err)
	}
	for _, s := range sb.Systems() {
		f := sandbox.Faults{Rate: o.FaultRate, RetryAfter: 20 * time.Millisecond, SlowDelay: 300 * time.Millisecond}
		if p.AdjustFaults != nil {
			p.AdjustFaults(s.Name(), &f)
		}
		s.SetFaults(f)
	}
	r.state = filepath.Join(t.TempDir(), "state.db")
	for _, s := range sb.Systems() {
		r.env = append(r.env, envName(s.Name())+"_BASE_URL="+s.BaseURL())
	}
	if p.Env != nil {
		r.env = append(r.env, p.Env(r)...)
	}

	var fig Figures
	start := time.Now()
	r.start()
	r.converge("initial sync")
	fig.Initial = time.Since(start)
	if p.Records != nil {
		fig.Records = p.Records(r)
	}
	for round := 1; round <= o.Rounds; round++ {
		if err := p.Change(r, round); err != nil {
			t.Fatalf("round %d: changes: %v", round, err)
		}
		if round == o.KillRound {
			// Let the connector pick the changes up and start writing,
			// then kill it without warning, mid-run, and start it again on
			// the same state file.
			w0 := r.targetWrites()
			for t0 := time.Now(); r.targetWrites() == w0 && time.Since(t0) < 4*o.Every+2*time.Second; {
				time.Sleep(time.Millisecond)
			}
			before := len(r.Check())
			r.kill()
			t.Logf("round %d: SIGKILL with %d discrepancies outstanding; restarting on the same state", round, before)
			r.start()
		}
		r.converge(fmt.Sprintf("round %d", round))
	}
	fig.Total = time.Since(start)

	// Let the last round's work finish first: the oracle can match while
	// a write whose answer was lost (a fault after the write applied) is
	// still waiting for its retry. Writes that never stop (ping-pong) fail
	// here.
	r.settle()

	// Quiet round: no user change; several polls must write nothing.
	writes, byOp := r.targetWrites(), r.targetWritesByOp()
	quietLog := len(r.proc.log())
	time.Sleep(4*o.Every + time.Second)
	if after := r.targetWrites(); after != writes {
		log := r.proc.log()
		if quietLog > len(log) {
			quietLog = 0 // the buffer was trimmed meanwhile
		}
		t.Errorf("a round with no user change wrote %d requests to %s (ping-pong or rewrite of unchanged records): %s\nconnector log of the quiet round (tail):\n%s",
			after-writes, strings.Join(p.Targets, ", "), r.writesSince(byOp), tail(withoutReads(log[quietLog:])))
	}
	if probs := r.Check(); len(probs) > 0 {
		t.Errorf("after the quiet round: %d discrepancies:\n%s", len(probs), head(probs))
	}
	r.stop()

	fig.Requests, fig.Faults = map[string]int64{}, map[string]int64{}
	for _, s := range sb.Systems() {
		st := s.Stats()
		fig.Requests[s.Name()] = st.Total
		for k, v := range st.Faults {
			fig.Faults[k] += v
		}
	}
	for _, wh := range p.Webhooks {
		// A subscription that delivered nothing, or whose events the
		// connector refused (a signature it does not verify), proves
		// nothing about the webhook path.
		acc, ref, last := sb.System(wh.System).DeliveryResults()
		if acc == 0 || ref > 0 {
			var lines []string
			for line := range strings.SplitSeq(r.proc.log(), "\n") {
				if strings.Contains(line, "engine: webhook") {
					lines = append(lines, line)
				}
			}
			t.Errorf("webhooks from %s to %s: %d accepted, %d refused (last: %s); want some accepted and none refused\nthe connector's webhook log (tail):\n%s",
				wh.System, wh.Sync, acc, ref, last, tail(strings.Join(lines, "\n")))
		}
	}
	if vs := sb.Violations(); len(vs) > 0 {
		var lines []string
		for _, v := range vs {
			lines = append(lines, v.String())
		}
		t.Errorf("%d request/answer validation violations:\n%s", len(vs), head(lines))
	}
	var faults int64
	for _, v := range fig.Faults {
		faults += v
	}
	if o.FaultRate > 0 && faults == 0 {
		t.Errorf("no fault was injected: the run proves nothing about recovery")
	}
	var hooks []string
	for _, wh := range p.Webhooks {
		acc, _, _ := sb.System(wh.System).DeliveryResults()
		hooks = append(hooks, fmt.Sprintf("%s: %d accepted", wh.System, acc))
	}
	t.Logf("%s: %d records, initial sync %v (%.0f records/s), all rounds %v, requests %v, faults %v, webhooks %v",
		p.Name, fig.Records, fig.Initial.Round(time.Millisecond), fig.RecordsPerSecond(), fig.Total.Round(time.Millisecond), fig.Requests, fig.Faults, hooks)
	return fig
}

// Check runs the pairing's oracle.
func (r *Run) Check() []string { return r.p.Check(r) }

func (r *Run) converge(what string) {
	r.T.Helper()
	deadline := time.Now().Add(r.opts.Converge)
	var probs []string
	for time.Now().Before(deadline) {
		if probs = r.Check(); len(probs) == 0 {
			return
		}
		if err := r.proc.exitErr(); err != nil {
			r.T.Fatalf("%s: the connector exited: %v\n%s", what, err, tail(r.proc.log()))
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.T.Fatalf("%s: the target did not converge to the oracle within %v; %d discrepancies:\n%s\nconnector log (tail):\n%s\nconnector log lines naming the first discrepancy's records, every process (tail):\n%s",
		what, r.opts.Converge, len(probs), head(probs), tail(r.proc.log()), tail(r.linesAbout(probs[0])))
}

// linesAbout returns the log lines of every connector process so far
// that name one of the record ids (word_digits, as cus_000019) in text:
// the history of a record that did not converge.
func (r *Run) linesAbout(text string) string {
	var ids []string
	for _, f := range strings.FieldsFunc(text, func(c rune) bool {
		return !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z')
	}) {
		if i := strings.LastIndexByte(f, '_'); i > 0 && i < len(f)-1 && strings.Trim(f[i+1:], "0123456789") == "" {
			ids = append(ids, f)
		}
	}
	var b strings.Builder
	for line := range strings.SplitSeq(r.pastLogs+r.proc.log(), "\n") {
		for _, id := range ids {
			if strings.Contains(line, id) {
				b.WriteString(line + "\n")
				break
			}
		}
	}
	return b.String()
}

// settle waits until the target systems have received no write for two
// polling intervals and a second (bounded by Options.Converge).
func (r *Run) settle() {
	r.T.Helper()
	quiet := 2*r.opts.Every + time.Second
	start, w0, byOp, logAt := time.Now(), r.targetWrites(), r.targetWritesByOp(), len(r.proc.log())
	last, lastChange := w0, time.Now()
	for time.Since(lastChange) < quiet {
		if time.Since(start) > r.opts.Converge {
			r.T.Fatalf("the connector kept writing for %v after the oracle matched (%d writes): ping-pong between the directions?\nconnector log (tail):\n%s",
				r.opts.Converge, r.targetWrites()-w0, tail(withoutReads(r.proc.log())))
		}
		time.Sleep(50 * time.Millisecond)
		if n := r.targetWrites(); n != last {
			last, lastChange = n, time.Now()
		}
	}
	if last != w0 {
		var why []string
		if log := r.proc.log(); logAt <= len(log) {
			for line := range strings.SplitSeq(log[logAt:], "\n") {
				if strings.Contains(line, "engine: writing record") || strings.Contains(line, "record attempt failed") {
					why = append(why, line)
				}
			}
		}
		r.T.Logf("settling before the quiet round: %d trailing writes: %s\n%s", last-w0, r.writesSince(byOp), strings.Join(why, "\n"))
	}
}

// writesSince lists the write operations counted since byOp with their
// counts.
func (r *Run) writesSince(byOp map[string]int64) string {
	var ops []string
	for k, v := range r.targetWritesByOp() {
		if v != byOp[k] {
			ops = append(ops, fmt.Sprintf("%s: %d", k, v-byOp[k]))
		}
	}
	sort.Strings(ops)
	return strings.Join(ops, ", ")
}

// targetWrites counts write requests (any method but GET and HEAD) the
// target systems received, faulted or not.
func (r *Run) targetWrites() int64 {
	var n int64
	for _, v := range r.targetWritesByOp() {
		n += v
	}
	return n
}

// targetWritesByOp counts the target systems' write requests by
// "system METHOD operation".
func (r *Run) targetWritesByOp() map[string]int64 {
	out := map[string]int64{}
	for _, name := range r.p.Targets {
		s := r.SB.System(name)
		if s == nil {
			r.T.Fatalf("no system %q", name)
		}
		for k, v := range s.Stats().Requests {
			m, op, _ := strings.Cut(k, " ")
			if m != "GET" && m != "HEAD" && k != "POST token" && !slices.Contains(r.p.Reads, op) {
				out[name+" "+k] += v
			}
		}
	}
	return out
}

func envName(system string) string {
	return strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(system))
}

// Build generates p's connector into a new module under a temporary
// directory, tidies, builds and vets it, and returns the built service
// binary.
func Build(t *testing.T, root string, p Pairing) string {
	t.Helper()
	work := t.TempDir()
	requires := []string{
		"github.com/connectorgen/connectorgen", "github.com/connectorgen/connectorgen/runtime",
		"github.com/connectorgen/connectorgen/runtime/sqlitestore"}
	dirs := map[string]string{
		"github.com/connectorgen/connectorgen":                     root,
		"github.com/connectorgen/connectorgen/runtime":             filepath.Join(root, "runtime"),
		"github.com/connectorgen/connectorgen/runtime/sqlitestore": filepath.Join(root, "runtime", "sqlitestore"),
		// A generated main may also import the PostgreSQL store and the
		// River executor (service.state); tidy keeps only what it imports.
		"github.com/connectorgen/connectorgen/runtime/pgstore":   filepath.Join(root, "runtime", "pgstore"),
		"github.com/connectorgen/connectorgen/runtime/riverexec": filepath.Join(root, "runtime", "riverexec"),
	}
	for mod, dir := range p.Modules {
		requires = append(requires, mod)
		dirs[mod] = filepath.Join(root, dir)
	}
	sort.Strings(requires)
	var gomod strings.Builder
	gomod.WriteString("module example.com/e2e\n\ngo 1.25\n\nrequire (\n")
	for _, m := range requires {
		fmt.Fprintf(&gomod, "\t%s v0.0.0\n", m)
	}
	gomod.WriteString(")\n\nreplace (\n")
	replaced := make([]string, 0, len(dirs))
	for m := range dirs {
		replaced = append(replaced, m)
	}
	sort.Strings(replaced)
	for _, m := range replaced {
		fmt.Fprintf(&gomod, "\t%s => %s\n", m, dirs[m])
	}
	gomod.WriteString(")\n")
	if err := os.WriteFile(filepath.Join(work, "go.mod"), []byte(gomod.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(work, p.Name)
	// The with: functions are type-checked from the output directory, so
	// it must exist before generating.
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	gen := filepath.Join(work, "connectorgen")
	goCmd(t, root, "build", "-o", gen, "./cmd/connectorgen")
	run(t, work, gen, "generate", "-config", filepath.Join(root, p.Config), "-out", out, "-q")
	goCmd(t, work, "mod", "tidy")
	bin := filepath.Join(work, "bin", p.Name)
	goCmd(t, work, "build", "-o", bin, "./"+p.Name+"/cmd/"+p.Name)
	goCmd(t, work, "vet", "./...")
	return bin
}

func goCmd(t *testing.T, dir string, args ...string) {
	t.Helper()
	run(t, dir, "go", args...)
}

func run(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	// The temporary module stands alone: the repository's go.work must
	// not apply to it, and its go.sum is written as it goes.
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
}

// process is the running connector.
type process struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	logs   bytes.Buffer
	done   chan struct{}
	err    error
	exited bool
}

func (p *process) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

func (p *process) exitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.exited {
		return nil
	}
	if p.err == nil {
		return fmt.Errorf("exit status 0")
	}
	return p.err
}

// start runs `NAME run` against the sandboxes and waits until it listens.
func (r *Run) start() {
	r.T.Helper()
	args := append([]string{"run", "-addr", "127.0.0.1:0", "-state", "sqlite://" + filepath.ToSlash(r.state),
		"-every", r.opts.Every.String(), "-retry-base-delay", "10ms", "-drain-timeout", "2s"}, r.opts.Args...)
	if lvl := os.Getenv("CONNECTORGEN_E2E_LOG_LEVEL"); lvl != "" {
		// For diagnosis: debug logs name every write and the fields that
		// made it (shown by the quiet round when it fails).
		args = append(args, "-log-level", lvl)
	}
	cmd := exec.Command(r.bin, args...)
	cmd.Env = append(os.Environ(), r.env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		r.T.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		r.T.Fatal(err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	var logFile *os.File
	if dir := os.Getenv("CONNECTORGEN_E2E_LOG_DIR"); dir != "" {
		// For diagnosis: every process's whole log, one file per start.
		r.starts++
		if r.logID == "" {
			r.logID = strconv.FormatInt(time.Now().UnixMilli(), 10)
		}
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%s-%d.log", r.p.Name, r.logID, r.starts)))
		if err != nil {
			r.T.Fatal(err)
		}
		logFile = f
	}
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			if p.logs.Len() > 4<<20 {
				// Keep memory bounded on long runs: the tail matters.
				rest := p.logs.Bytes()[p.logs.Len()-(1<<20):]
				p.logs = *bytes.NewBuffer(append([]byte(nil), rest...))
			}
			p.logs.WriteString(line + "\n")
			p.mu.Unlock()
			if logFile != nil {
				_, _ = logFile.WriteString(line + "\n")
			}
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "listening" {
				a, _ := m["addr"].(string)
				select {
				case listening <- a:
				default:
				}
			}
		}
		err := cmd.Wait()
		if logFile != nil {
			_ = logFile.Close()
		}
		p.mu.Lock()
		p.exited, p.err = true, err
		p.mu.Unlock()
		close(p.done)
	}()
	r.T.Cleanup(func() {
		p.mu.Lock()
		exited := p.exited
		p.mu.Unlock()
		if !exited {
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	if r.proc != nil {
		r.pastLogs += r.proc.log()
	}
	r.proc = p
	select {
	case r.addr = <-listening:
		// Webhook deliveries follow the process to its new port.
		for _, wh := range r.p.Webhooks {
			r.SB.System(wh.System).Subscribe(sandbox.Subscription{URL: "http://" + r.addr + "/webhooks/" + wh.Sync,
				Secret: wh.Secret, Scheme: wh.Scheme, Auto: true, Entities: []string{wh.Entity}})
		}
	case <-p.done:
		r.T.Fatalf("the connector exited before listening: %v\n%s", p.err, tail(p.log()))
	case <-time.After(30 * time.Second):
		r.T.Fatalf("the connector did not log \"listening\" within 30s\n%s", tail(p.log()))
	}
}

// kill SIGKILLs the connector and waits for it to be gone.
func (r *Run) kill() {
	r.T.Helper()
	if err := r.proc.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		r.T.Fatalf("SIGKILL: %v", err)
	}
	<-r.proc.done
}

// stop ends the connector with SIGTERM (a clean drain) and checks it
// exits 0.
func (r *Run) stop() {
	r.T.Helper()
	_ = r.proc.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.proc.done:
	case <-time.After(30 * time.Second):
		r.T.Fatalf("the connector did not exit on SIGTERM\n%s", tail(r.proc.log()))
	}
	if r.proc.err != nil {
		r.T.Errorf("the connector exited with %v on SIGTERM\n%s", r.proc.err, tail(r.proc.log()))
	}
}

// Context is a context bound to the test.
func (r *Run) Context() context.Context { return r.T.Context() }

func head(lines []string) string {
	if len(lines) > 15 {
		lines = append(lines[:15:15], fmt.Sprintf("... and %d more", len(lines)-15))
	}
	return "  " + strings.Join(lines, "\n  ")
}

// withoutReads drops the log lines of GET requests, which a quiet round
// is full of, to leave its writes and what led to them.
func withoutReads(log string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(log, "\n") {
		if !strings.Contains(line, `"method":"GET"`) {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

func tail(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}

// Xref is one entry of the connector's xref tables.
type Xref struct{ Table, Source, Target string }

// Xrefs reads the connector's xrefs from its state file (read-only, beside
// the running process), for oracles whose target records carry nothing
// that names their source.
func (r *Run) Xrefs() ([]Xref, error) {
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(r.state)+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(r.Context(), "SELECT tbl, source_key, target_key FROM xrefs ORDER BY tbl, source_key")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Xref
	for rows.Next() {
		var x Xref
		if err := rows.Scan(&x.Table, &x.Source, &x.Target); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}
