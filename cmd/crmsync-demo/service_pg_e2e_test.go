package main

import (
	"context"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/connectorgen/connectorgen/cmd/crmsync-demo/sim"
	"github.com/connectorgen/connectorgen/runtime/pgstore/pgtest"
)

// pgState is the -state URL of one service process: the test server,
// a fresh schema, and this process's River worker name.
func pgState(t *testing.T, base, schema, workerID string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("schema", schema)
	q.Set("workers", "4")
	q.Set("worker_id", workerID)
	u.RawQuery = q.Encode()
	return u.String()
}

// converged says whether every qualified lead is on the list exactly once
// with every field right (the assertions are checkResult's).
func converged(s *sim.Sim) bool {
	v := verify(s.CRM.Leads(), s.CRM.Owners(), s.Email.Members(sim.DefaultListID), s.Email.Senders())
	return v.Duplicates == 0 && v.Lost == 0 && v.Mismatched == 0 && v.Stray == 0 && v.Members == v.Qualified
}

// TestServiceOnPostgresTwoProcesses is issue 11's "same generated binary
// as N workers": the generated crmemail main (its mapping lists postgres in
// service.state) runs as two real processes on one postgres:// -state URL.
// The syncs are scheduled as River periodic jobs (one per sync and
// interval, inserted by River's elected leader), which either process
// works; the store's one-writer lock keeps a sync's work single. A job
// that waits (a snoozed retry) or fails blocks only its own interval. Afterwards
// every qualified lead is on the list exactly once with every field
// right, an operator command reads the same state, and SIGTERM stops both
// with exit status 0. The CRM rotates its refresh token on every renewal
// and revokes its access tokens four times on the way: neither process
// may have its refresh token refused.
func TestServiceOnPostgresTwoProcesses(t *testing.T) {
	pg := pgtest.URL(t)
	if testing.Short() {
		t.Skip("builds and runs the generated service as two processes")
	}
	schema := pgtest.Schema(t, pg)
	ctx := context.Background()
	// On failure, River's jobs say which unit waited for what.
	t.Cleanup(func() {
		if t.Failed() {
			logJobs(t, pg, schema)
		}
	})
	be := newBackend(t)
	bin := buildService(t)
	env := append(be.env, "CONNECTOR_DRAIN_TIMEOUT="+drainBound.String())
	// -every makes the polls recur, so that both processes insert the
	// same units again and again while the CRM changes.
	args := []string{"-every", "1s", "-retry-attempts", "2", "-retry-base-delay", "20ms"}
	procs := []*proc{
		startService(t, bin, env, append(args, "-state", pgState(t, pg, schema, "w1"))...),
		startService(t, bin, env, append(args, "-state", pgState(t, pg, schema, "w2"))...),
	}
	for _, p := range procs {
		waitFor(t, p, "readiness", func() bool { code, _ := httpGet(t, p.base+"/readyz"); return code == 200 })
		// Readiness can be served a moment before the host logs that its
		// River workers started: wait for the line (the hang guard fails
		// the test if it never comes).
		waitFor(t, p, "River workers to start", func() bool { return strings.Contains(p.log(), "workers started") })
	}
	waitFor(t, procs[0], "both syncs' first success", func() bool {
		st := procs[0].status(t)
		return len(st.Syncs) == 2 && st.Syncs[0].LastSuccess != nil && st.Syncs[1].LastSuccess != nil
	})
	waitFor(t, procs[0], "the first full sync", func() bool { return converged(be.s) })
	checkResult(t, be.s)

	// Changes in the CRM (new, requalified, disqualified and edited leads)
	// reach the list through the recurring polls of either process. Before
	// each batch the CRM revokes every access token: both processes get
	// 401s and renew, and the CRM rotates the refresh token on each
	// renewal — they must take turns with the shared one (the store's
	// token lock) rather than spend the one each loaded at start.
	const revokes = 4
	both := 0 // revocations after which both processes renewed
	for i := range revokes {
		before := make([]int, len(procs))
		for j, p := range procs {
			before[j] = rejected(p)
		}
		be.s.CRM.RevokeTokens()
		be.s.CRM.Mutate(15)
		waitFor(t, procs[0], "the changes on the list", func() bool { return converged(be.s) })
		checkResult(t, be.s)
		// River hands the polls to either process: give the other one a
		// few polls to meet the revocation too (not required).
		renewed := func() bool {
			for j, p := range procs {
				if rejected(p) == before[j] {
					return false
				}
			}
			return true
		}
		for deadline := time.Now().Add(5 * time.Second); !renewed() && time.Now().Before(deadline); {
			time.Sleep(100 * time.Millisecond)
		}
		if renewed() {
			both++
		}
		for j, p := range procs {
			if reauthRefused(p) {
				t.Fatalf("after revocation %d, process %d: the CRM refused its refresh token (spent by the other process):\n%s", i+1, j+1, p.log())
			}
		}
	}
	t.Logf("both processes met %d of the %d revocations", both, revokes)
	// One renewal per revocation at most (and the first at start): the
	// process that did not renew takes the other's token from the store.
	if n := be.s.CRM.TokenRequests()["refresh_token"]; n < 1 || n > 1+revokes {
		t.Errorf("%d refresh token grants for %d revocations: the processes renewed the shared token more than once each time", n, revokes)
	} else {
		t.Logf("%d refresh token grants for %d revocations and the start", n, revokes)
	}

	// The second process reports the same state (one store).
	st := procs[1].status(t)
	if len(st.Syncs) != 2 || st.Syncs[1].Applied == 0 || st.Syncs[1].DeadLetters != 0 {
		t.Fatalf("status of the second process: %+v", st.Syncs)
	}
	// An operator command on the same URL reads it too (in-process, no workers).
	if code, out := cli(t, bin, env, "", "status", "-state", pgState(t, pg, schema, "op")); code != 0 || !strings.Contains(out, "qualified_leads_to_nurture") {
		t.Fatalf("status on postgres: %d %s", code, out)
	}

	// The units ran as River jobs in the shared schema.
	db, err := pgx.Connect(ctx, pg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	var completed int
	var by []string
	if err := db.QueryRow(ctx, `SELECT count(*), coalesce(array_agg(DISTINCT w), '{}') FROM `+pgx.Identifier{schema, "river_job"}.Sanitize()+
		` LEFT JOIN LATERAL unnest(attempted_by) AS w ON true WHERE state = 'completed'`).Scan(&completed, &by); err != nil {
		t.Fatal(err)
	}
	if completed == 0 {
		t.Fatal("no completed River job: the units did not run through riverexec")
	}
	t.Logf("%d completed River jobs, worked by %v", completed, by)

	sent := time.Now()
	for _, p := range procs {
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
	}
	for i, p := range procs {
		select {
		case err := <-p.exited:
			if err != nil {
				t.Fatalf("process %d exit after SIGTERM: %v\n%s", i+1, err, p.log())
			}
		case <-time.After(drainBound + 60*time.Second):
			t.Fatalf("process %d still running after SIGTERM (hang guard)\n%s", i+1, p.log())
		}
		if !strings.Contains(p.log(), `"msg":"stopped"`) {
			t.Errorf("process %d: no clean stop in the log:\n%s", i+1, p.log())
		}
		t.Logf("process %d stopped %s after SIGTERM (drain bound %s)", i+1, time.Since(sent).Round(time.Millisecond), drainBound)
	}
	checkResult(t, be.s)
}

// rejected counts the CRM calls of the process answered 401.
func rejected(p *proc) int {
	n := 0
	for _, line := range strings.Split(p.log(), "\n") {
		if strings.Contains(line, `"system":"crm"`) && strings.Contains(line, `"status":401`) {
			n++
		}
	}
	return n
}

// reauthRefused says whether the process's OAuth refresh token was
// refused (invalid_grant): with the shared token (engine.SharedToken) the
// processes refresh the CRM's rotating refresh token in turn, each from
// the latest one saved, so neither presents one the other has rotated.
func reauthRefused(p *proc) bool {
	return strings.Contains(p.log(), `"kind":"reauthorization_required"`)
}

// logJobs logs the River jobs of schema.
func logJobs(t *testing.T, pg, schema string) {
	ctx := context.Background()
	db, err := pgx.Connect(ctx, pg)
	if err != nil {
		t.Log(err)
		return
	}
	defer db.Close(ctx)
	rows, err := db.Query(ctx, `SELECT id, kind, args::text, state::text, attempt, created_at, coalesce(finalized_at, now()) - created_at, attempted_by, errors::text[], metadata::text FROM `+
		pgx.Identifier{schema, "river_job"}.Sanitize()+` ORDER BY id`)
	if err != nil {
		t.Log(err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var kind, args, state, meta string
		var attempt int
		var created time.Time
		var age time.Duration
		var by, errs []string
		if err := rows.Scan(&id, &kind, &args, &state, &attempt, &created, &age, &by, &errs, &meta); err != nil {
			t.Log(err)
			return
		}
		t.Logf("river job %d %s %s: %s, attempt %d, created %s, for %s, by %v, errors %v, metadata %s",
			id, kind, args, state, attempt, created.Format("15:04:05.000"), age.Round(time.Millisecond), by, errs, meta)
	}
}
