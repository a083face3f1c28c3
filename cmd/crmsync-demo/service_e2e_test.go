package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/cmd/crmsync-demo/sim"
	"github.com/connectorgen/connectorgen/runtime/engine"
)

// This file is the acceptance test of issue 10: the generated crmemail
// service (golden/crmemail/cmd/crmemail, built here with go build) runs as
// a real process against the demo's simulated CRM and email servers on
// loopback. To run it against another backend (the sandbox), change
// newBackend: everything else talks to the process over HTTP, its CLI and
// signals.

const (
	serviceBinary = "github.com/connectorgen/connectorgen/golden/crmemail/cmd/crmemail"
	webhookSecret = "whsec_e2e"
	// drainBound is the service's -drain-timeout.
	drainBound = 10 * time.Second
)

// backend is the simulated pair of systems the service syncs.
type backend struct {
	s   *sim.Sim
	env []string // the service's variables: URLs and credentials
}

func newBackend(t *testing.T) *backend {
	s := sim.New(sim.Options{Seed: 11, Leads: 150})
	t.Cleanup(s.Close)
	return &backend{s: s, env: []string{
		"CRM_BASE_URL=" + s.CRM.BaseURL(),
		"CRM_TOKEN_URL=" + s.CRM.TokenURL(),
		"EMAIL_BASE_URL=" + s.Email.BaseURL(),
		"CRM_CLIENT_ID=" + sim.DefaultClientID,
		"CRM_CLIENT_SECRET=" + sim.DefaultClientSecret,
		"CRM_REFRESH_TOKEN=" + s.CRM.IssueRefreshToken(),
		"POSTBOX_API_KEY=" + sim.DefaultAPIKey,
		"CRM_WEBHOOK_SECRET=" + webhookSecret,
	}}
}

// buildService compiles the generated main once per test binary run.
func buildService(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "crmemail")
	cmd := exec.Command("go", "build", "-o", bin, serviceBinary)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", serviceBinary, err, out)
	}
	return bin
}

// alertSink is the alert hook's receiver.
type alertSink struct {
	mu     sync.Mutex
	alerts []engine.Alert
}

func (a *alertSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var al engine.Alert
	if err := json.NewDecoder(r.Body).Decode(&al); err == nil {
		a.mu.Lock()
		a.alerts = append(a.alerts, al)
		a.mu.Unlock()
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *alertSink) has(kind engine.AlertKind, system string, resolved bool) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, al := range a.alerts {
		if al.Kind == kind && al.System == system && al.Resolved == resolved {
			return true
		}
	}
	return false
}

// proc is the running service.
type proc struct {
	cmd    *exec.Cmd
	base   string
	logs   *bytes.Buffer
	logMu  *sync.Mutex
	exited chan error
}

func (p *proc) log() string {
	p.logMu.Lock()
	defer p.logMu.Unlock()
	return p.logs.String()
}

// startService starts `crmemail run` and waits for its listening address
// in the JSON log.
func startService(t *testing.T, bin string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"run", "-addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, logs: &bytes.Buffer{}, logMu: &sync.Mutex{}, exited: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.logMu.Lock()
			p.logs.WriteString(line + "\n")
			p.logMu.Unlock()
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "listening" {
				addr <- m["addr"].(string)
			}
		}
		p.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	select {
	case a := <-addr:
		p.base = "http://" + a
	case err := <-p.exited:
		t.Fatalf("service exited before listening: %v\n%s", err, p.log())
	case <-time.After(60 * time.Second):
		t.Fatalf("service did not start listening (hang guard)\n%s", p.log())
	}
	return p
}

func httpGet(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// statusReport is the part of /status the test reads (the full type is
// runtime/service.StatusReport, checked against its schema there).
type statusReport struct {
	Live          bool     `json:"live"`
	NonProduction []string `json:"non_production"`
	Systems       []struct {
		Name, Environment, Credential, Breaker string
		SpecVersion                            string `json:"spec_version"`
	} `json:"systems"`
	Syncs []struct {
		Name        string         `json:"name"`
		LastSuccess *time.Time     `json:"last_success"`
		Applied     int            `json:"applied"`
		QueueDepth  int            `json:"queue_depth"`
		DeadLetters int            `json:"dead_letters"`
		LastError   string         `json:"last_error"`
		Alerts      []engine.Alert `json:"alerts"`
	} `json:"syncs"`
}

func (p *proc) status(t *testing.T) statusReport {
	t.Helper()
	code, b := httpGet(t, p.base+"/status")
	if code != 200 {
		t.Fatalf("/status: %d %s", code, b)
	}
	var r statusReport
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("/status: %v\n%s", err, b)
	}
	return r
}

// waitFor polls cond; the timeout only guards against a hang.
func waitFor(t *testing.T, p *proc, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s (hang guard)\nservice log:\n%s", what, p.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// cli runs an operator command of the binary.
func cli(t *testing.T, bin string, env []string, stdin string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, string(out)
}

func TestServiceEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the generated service as a process")
	}
	ctx := context.Background()
	be := newBackend(t)
	bin := buildService(t)
	sink := &alertSink{}
	alerts := httptest.NewServer(sink)
	defer alerts.Close()
	state := "sqlite://" + filepath.ToSlash(filepath.Join(t.TempDir(), "state.db"))
	env := append(be.env, "CONNECTOR_STATE="+state, "CONNECTOR_ALERT_URL="+alerts.URL, "CONNECTOR_QUEUE_POLL=300ms", "CONNECTOR_DRAIN_TIMEOUT="+drainBound.String())
	// Polls run at start and then hourly (the mapping's schedule): after
	// the first run every change arrives by webhook.
	p := startService(t, bin, env, "-retry-attempts", "2", "-retry-base-delay", "20ms")

	// Health, readiness, the first full sync, status and metrics.
	if code, _ := httpGet(t, p.base+"/healthz"); code != 200 {
		t.Fatalf("/healthz %d", code)
	}
	waitFor(t, p, "readiness", func() bool { code, _ := httpGet(t, p.base+"/readyz"); return code == 200 })
	waitFor(t, p, "both syncs' first success", func() bool {
		st := p.status(t)
		return len(st.Syncs) == 2 && st.Syncs[0].LastSuccess != nil && st.Syncs[1].LastSuccess != nil
	})
	checkResult(t, be.s)
	st := p.status(t)
	if !st.Live || st.Syncs[1].Applied == 0 || st.Systems[0].SpecVersion == "" || st.Systems[0].Credential != "valid" || len(st.NonProduction) != 2 {
		t.Fatalf("status after the first sync: %+v", st)
	}
	if !strings.Contains(p.log(), "NOT PRODUCTION") {
		t.Error("the log does not say the service runs against a non-production environment")
	}
	_, metrics := httpGet(t, p.base+"/metrics")
	for _, want := range []string{`connector_records_total{sync="qualified_leads_to_nurture",outcome="created"}`, `connector_runs_total{sync="owners_to_senders",result="ok"}`,
		`connector_environment_info{system="crm",environment="custom",production="false"} 1`, "# TYPE "} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// A signed webhook: the CRM delivers the change, the service applies
	// it; a forged delivery is refused.
	be.s.CRM.Subscribe(p.base+"/webhooks/qualified_leads_to_nurture", webhookSecret)
	lead := qualifiedLeads(be.s)[0]
	be.s.CRM.Update(lead.ID, func(l *sim.Lead) { l.LastName = ptr("Webhooked") })
	if n, err := be.s.CRM.Flush(ctx); err != nil || n != 1 {
		t.Fatalf("webhook delivery: %d accepted, %v", n, err)
	}
	waitFor(t, p, "the webhook's change on the list", func() bool {
		return memberOfLead(be.s, lead.ID).MergeFields["LNAME"] == "Webhooked"
	})
	forged, _ := http.Post(p.base+"/webhooks/qualified_leads_to_nurture", "application/json", strings.NewReader(`{"id":"evt_x","lead_id":"`+lead.ID+`"}`))
	if forged.StatusCode != 401 {
		t.Fatalf("forged webhook: %d, want 401", forged.StatusCode)
	}
	forged.Body.Close()

	// The email system goes down: the queued change cannot be applied, the
	// alert hook and /status say so.
	be.s.Email.SetDown(true)
	be.s.CRM.Update(lead.ID, func(l *sim.Lead) { l.LastName = ptr("WhileDown") })
	if _, err := be.s.CRM.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, "the system_down alert for email", func() bool { return sink.has(engine.AlertSystemDown, "email", false) })
	st = p.status(t)
	leads := st.Syncs[1]
	if leads.QueueDepth != 1 || len(leads.Alerts) == 0 || leads.Alerts[0].Kind != engine.AlertSystemDown || leads.Alerts[0].System != "email" {
		t.Fatalf("status while email is down: %+v", leads)
	}
	// Back up: the queued change is applied and the alert resolved.
	be.s.Email.SetDown(false)
	waitFor(t, p, "the queued change after recovery", func() bool {
		return memberOfLead(be.s, lead.ID).MergeFields["LNAME"] == "WhileDown"
	})
	waitFor(t, p, "the resolved alert", func() bool { return sink.has(engine.AlertSystemDown, "email", true) })
	if st := p.status(t); st.Syncs[1].QueueDepth != 0 || len(st.Syncs[1].Alerts) != 0 {
		t.Fatalf("status after recovery: %+v", st.Syncs[1])
	}

	// A dead letter: the mapping's phone classifier rejects a number with
	// too few digits (a permanent error); the lead is fixed in the CRM
	// without a webhook and the operator replays it through the CLI.
	bad := qualifiedLeads(be.s)[1]
	be.s.CRM.Update(bad.ID, func(l *sim.Lead) { l.Phone = ptr("12") })
	if _, err := be.s.CRM.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, "the dead letter", func() bool { return p.status(t).Syncs[1].DeadLetters == 1 })
	code, out := cli(t, bin, env, "", "dead-letters", "list", "-json")
	var dls []engine.DeadLetter
	if err := json.Unmarshal([]byte(out), &dls); code != 0 || err != nil || len(dls) != 1 || dls[0].SourceKey != bad.ID || !strings.Contains(dls[0].Error, "too few digits") {
		t.Fatalf("dead-letters list: %d %s", code, out)
	}
	const fixed = "+44 7700 900123" // classified mobile, written as +447700900123
	be.s.CRM.Update(bad.ID, func(l *sim.Lead) { l.Phone = ptr(fixed) })
	code, out = cli(t, bin, env, "", "dead-letters", "replay", "-sync", "qualified_leads_to_nurture", fmt.Sprint(dls[0].ID))
	if code != 0 || !strings.Contains(out, "replayed") {
		t.Fatalf("dead-letters replay: %d %s", code, out)
	}
	if m := memberOfLead(be.s, bad.ID); m.MergeFields["MOBILE"] != "+447700900123" {
		t.Fatalf("replayed lead's member has not the fixed phone: %+v", m.MergeFields)
	}
	if st := p.status(t); st.Syncs[1].DeadLetters != 0 {
		t.Fatalf("dead letters after the replay: %d", st.Syncs[1].DeadLetters)
	}
	code, out = cli(t, bin, env, "", "audit", "-sync", "qualified_leads_to_nurture", "-key", bad.ID, "-json")
	var au []engine.AuditEntry
	if err := json.Unmarshal([]byte(out), &au); code != 0 || err != nil || len(au) < 2 || au[0].Outcome != engine.AuditUpdated || au[1].Outcome != engine.AuditFailed {
		t.Fatalf("audit of the replayed lead: %s", out)
	}
	// The operator CLI never takes or prints a secret.
	if code, out := cli(t, bin, env, "", "reauthorize", "-refresh-token=rt-cli-secret", "crm"); code != 2 || strings.Contains(out, "rt-cli-secret") {
		t.Fatalf("reauthorize with a token flag: %d %s", code, out)
	}
	for _, args := range [][]string{{"status"}, {"status", "-json"}, {"audit"}, {"dead-letters", "list"}} {
		_, out := cli(t, bin, env, "", args...)
		for _, kv := range be.env {
			if v := kv[strings.IndexByte(kv, '=')+1:]; strings.Contains(kv, "SECRET") || strings.Contains(kv, "TOKEN=") || strings.Contains(kv, "KEY") {
				if strings.Contains(out, v) {
					t.Fatalf("%v prints a secret", args)
				}
			}
		}
	}

	// Drain: a burst of changes is in flight when SIGTERM arrives. The
	// process exits 0 (within its drain bound, which it enforces); what it
	// did not apply stays queued and a later `once` applies it: nothing
	// lost, nothing duplicated.
	be.s.CRM.Mutate(60)
	if _, err := be.s.CRM.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("service exit after SIGTERM: %v\n%s", err, p.log())
		}
	case <-time.After(drainBound + 60*time.Second):
		t.Fatalf("service still running after SIGTERM (hang guard)\n%s", p.log())
	}
	t.Logf("drain took %s (bound %s)", time.Since(sent).Round(time.Millisecond), drainBound)
	if !strings.Contains(p.log(), `"msg":"stopped"`) {
		t.Errorf("no clean stop in the log:\n%s", p.log())
	}
	code, out = cli(t, bin, env, "", "once")
	if code != 0 {
		t.Fatalf("once after the drain: %d %s", code, out)
	}
	checkResult(t, be.s)
	for _, secretVar := range []string{"CRM_CLIENT_SECRET", "POSTBOX_API_KEY", "CRM_WEBHOOK_SECRET"} {
		for _, kv := range be.env {
			if strings.HasPrefix(kv, secretVar+"=") && strings.Contains(p.log(), kv[len(secretVar)+1:]) {
				t.Errorf("the service log contains %s", secretVar)
			}
		}
	}
}

func memberOfLead(s *sim.Sim, leadID string) sim.Member {
	for _, m := range s.Email.Members(sim.DefaultListID) {
		if m.SourceID != nil && *m.SourceID == leadID {
			return m
		}
	}
	return sim.Member{}
}

func ptr(s string) *string { return &s }
