package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/cmd/crmsync-demo/sim"
)

// buildDemo builds the demo binary into a temporary directory.
func buildDemo(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "crmsync-demo")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	cmd := exec.Command("go", "build", "-o", bin, ".")
	// The module's replace lines make it build on its own, whether or not
	// the workspace lists it.
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestCrashRecovery runs the sync as a real subprocess against servers in
// this process, SIGKILLs it at random points 20 times (changing the CRM in
// before every start) and restarts it with the same -state file each
// time; the final run completes. The email side then equals that of a clean
// run over the same data, and nothing is lost or duplicated.
func TestCrashRecovery(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGKILL semantics")
	}
	bin := buildDemo(t)
	leads := size(3000, 1500)
	const seed = 99
	const kills = 20
	changes := leads / 8 // made before every start, so that each has work to be killed in
	faults := simFaults(0.1, 150*time.Millisecond)
	opts := sim.Options{Seed: seed, Leads: leads, CRMFaults: faults, EmailFaults: faults}

	// The clean run: same data, same changes, no crashes.
	clean := sim.New(opts)
	defer clean.Close()
	clean.CRM.Mutate(kills * changes)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cleanSum, err := Run(ctx, Config{Sim: clean, Mutations: 0})
	if err != nil || !cleanSum.Converged {
		t.Fatalf("clean run: %v (converged %v)", err, cleanSum.Converged)
	}
	checkResult(t, clean)

	s := sim.New(opts)
	defer s.Close()
	state := filepath.Join(t.TempDir(), "state.db")
	args := []string{"-crm-url", s.CRM.BaseURL(), "-email-url", s.Email.BaseURL(), "-state", state, "-json", "-q"}
	rng := rand.New(rand.NewPCG(seed, 7))
	killedMidRun := 0
	for k := 0; k < kills; k++ {
		if k > 0 {
			s.CRM.Mutate(changes)
		}
		cmd := exec.CommandContext(ctx, bin, args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		// Kill anywhere from start-up to well into the run.
		wait := time.Duration(20+rng.IntN(700)) * time.Millisecond
		select {
		case err := <-done:
			// Finished before the kill: fine, the next start has less to do.
			t.Logf("start %d finished before the kill after %s: %v", k+1, wait, err)
			continue
		case <-time.After(wait):
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		err := <-done
		if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Logf("start %d: not killed (%v)", k+1, err)
			continue
		}
		killedMidRun++
	}
	if killedMidRun < kills*3/4 {
		t.Errorf("only %d of %d starts were killed mid-run", killedMidRun, kills)
	}
	s.CRM.Mutate(changes)
	// The last start runs to completion.
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run() // exit 1 when the result is wrong; the summary says how
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var sum Summary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatalf("final run: %v; summary %q: %v\nstderr:\n%s", runErr, lines[len(lines)-1], err, stderr.String())
	}
	if !sum.Converged || sum.Lost != 0 || sum.Duplicates != 0 || sum.Mismatched != 0 || sum.Stray != 0 {
		t.Errorf("final run (%v): %+v\nstdout:\n%s", runErr, sum, stdout.String())
	}
	t.Logf("%d kills mid-run; final run: %d members, %d created, %d updated", killedMidRun, sum.Members, sum.Created, sum.Updated)

	// A kill between a successful update and its commit must not make the
	// engine take its own write for a change made in the email system
	// (TestTargetWinsAfterLostCommit): the target_wins field FNAME is
	// compared like every other field.
	v := checkResultTolerating(t, s)
	if v.TargetWinsOnly > 0 {
		t.Errorf("%d members kept a stale target_wins FNAME after a kill between write and commit: %v",
			v.TargetWinsOnly, v.TargetWinsLeads)
	}
	got := canonicalState(s.Email.Members(sim.DefaultListID), s.Email.Senders(), v.TargetWinsLeads)
	want := canonicalState(clean.Email.Members(sim.DefaultListID), clean.Email.Senders(), v.TargetWinsLeads)
	if !slices.Equal(got, want) {
		diff := 0
		for i := 0; i < len(got) && i < len(want) && diff < 5; i++ {
			if got[i] != want[i] {
				t.Errorf("state differs from the clean run's:\n  crash: %s\n  clean: %s", got[i], want[i])
				diff++
			}
		}
		t.Errorf("state after crashes: %d entries, clean run: %d", len(got), len(want))
	}
	// Lost answers and crashes never made the email system add a member
	// twice.
	if n, m := s.Email.Applied()["addMember"], len(s.Email.Members(sim.DefaultListID)); int(n) != m {
		t.Errorf("addMember applied %d times for %d members", n, m)
	}
	if n := s.CRM.TokenRequests()["client_credentials"]; n > 3 {
		t.Errorf("%d token requests over %d starts: the persisted token was not reused", n, kills+1)
	}
}
