package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/cmd/crmsync-demo/sim"
	"github.com/connectorgen/connectorgen/runtime/engine"
)

// alertsSince returns the alerts delivered after the first n.
func alertsSince(env *Env, n int) []engine.Alert {
	env.alertMu.Lock()
	defer env.alertMu.Unlock()
	return append([]engine.Alert(nil), env.Alerts[n:]...)
}

func alertCount(env *Env) int {
	env.alertMu.Lock()
	defer env.alertMu.Unlock()
	return len(env.Alerts)
}

func unresolved(as []engine.Alert) []engine.Alert {
	var out []engine.Alert
	for _, a := range as {
		if !a.Resolved {
			out = append(out, a)
		}
	}
	return out
}

// downRuns runs the leads sync while the email system is down: every run
// must stop with a SystemDownError naming it and write nothing.
func downRuns(t *testing.T, s *sim.Sim, env *Env, runs int) {
	t.Helper()
	ctx := context.Background()
	before := len(s.Email.Members(sim.DefaultListID))
	for i := 0; i < runs; i++ {
		rep, err := env.Engine.RunOnce(ctx, leadsSync)
		var down *engine.SystemDownError
		if !errors.As(err, &down) || down.System != "email" {
			t.Fatalf("run %d with email down: %v (report %+v)", i+1, err, rep)
		}
		if rep.Created != 0 || rep.Updated != 0 || rep.DeadLettered != 0 {
			t.Fatalf("run %d with email down wrote something: %+v", i+1, rep)
		}
	}
	if n := len(s.Email.Members(sim.DefaultListID)); n != before {
		t.Fatalf("members changed while the email system was down: %d → %d", before, n)
	}
	if dls, _ := env.Engine.DeadLetters(ctx, leadsSync); len(dls) != 0 {
		t.Fatalf("%d dead letters while the email system was down", len(dls))
	}
}

// checkCursor asserts that the checkpoint is not after any of the unwritten
// leads' updated_at.
func checkCursor(t *testing.T, env *Env, unwritten []sim.Lead) {
	t.Helper()
	cur, ok, err := env.Store.LoadCursor(context.Background(), leadsSync)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return
	}
	for _, l := range unwritten {
		if cur.Time.After(l.UpdatedAt) {
			t.Fatalf("cursor %s passed unwritten lead %s (updated %s)", cur.Time, l.ID, l.UpdatedAt)
		}
	}
}

// TestEmailDown: the email system is down for whole runs — first for the
// initial load, later after changes in the CRM. Nothing is written, lost or
// dead-lettered, the cursor stays before every unwritten record, exactly one
// alert fires per outage (and is resolved afterwards), and the next run
// catches up.
func TestEmailDown(t *testing.T) {
	s, env := newTestEnv(t, size(2000, 800))
	ctx := context.Background()
	if _, err := env.Engine.RunOnce(ctx, "owners_to_senders"); err != nil {
		t.Fatal(err)
	}

	// Outage 1: the initial load.
	s.Email.SetDown(true)
	n0 := alertCount(env)
	start := time.Now()
	downRuns(t, s, env, 3)
	t.Logf("3 runs with the email system down took %s", time.Since(start).Round(time.Millisecond))
	checkCursor(t, env, qualifiedLeads(s))
	if got := unresolved(alertsSince(env, n0)); len(got) != 1 || got[0].Kind != engine.AlertSystemDown || got[0].System != "email" {
		t.Fatalf("alerts during the outage: %+v", got)
	}
	s.Email.SetDown(false)
	time.Sleep(600 * time.Millisecond) // the client's breaker cools down
	n1 := alertCount(env)
	rep, err := env.Engine.RunOnce(ctx, leadsSync)
	if err != nil || rep.Created == 0 {
		t.Fatalf("catch-up run: %+v %v", rep, err)
	}
	checkResult(t, s)
	if got := alertsSince(env, n1); len(got) != 1 || !got[0].Resolved || got[0].Kind != engine.AlertSystemDown {
		t.Fatalf("alerts after the outage: %+v", got)
	}

	// Outage 2: after changes, some leads newly qualified.
	before := map[string]int64{}
	for _, l := range s.CRM.Leads() {
		before[l.ID] = l.Version
	}
	s.CRM.Mutate(size(600, 300))
	var changed []sim.Lead
	for _, l := range qualifiedLeads(s) {
		if l.Version != before[l.ID] {
			changed = append(changed, l)
		}
	}
	if len(changed) == 0 {
		t.Fatal("no qualified lead changed")
	}
	s.Email.SetDown(true)
	n2 := alertCount(env)
	downRuns(t, s, env, 2)
	checkCursor(t, env, changed)
	if got := unresolved(alertsSince(env, n2)); len(got) != 1 || got[0].Kind != engine.AlertSystemDown {
		t.Fatalf("alerts during the second outage: %+v", got)
	}
	s.Email.SetDown(false)
	time.Sleep(600 * time.Millisecond)
	rep, err = env.Engine.RunOnce(ctx, leadsSync)
	if err != nil || rep.Created+rep.Updated == 0 {
		t.Fatalf("second catch-up run: %+v %v", rep, err)
	}
	checkResult(t, s)
	// A further run finds nothing to do.
	rep, err = env.Engine.RunOnce(ctx, leadsSync)
	if err != nil || rep.Created+rep.Updated+rep.Deferred+rep.Failed != 0 {
		t.Fatalf("run after catching up: %+v %v", rep, err)
	}
}
