package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/connectorgen/connectorgen/cmd/crmsync-demo/sim"
	"github.com/connectorgen/connectorgen/runtime/pgstore/pgtest"
)

var scaleoutLeads = flag.Int("scaleout-leads", 10000, "leads in TestScaleOutChaos (-short: 2000)")

// workerProc is one incarnation of a worker process.
type workerProc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error
	log  string
}

// startProc starts one worker process ("crmsync-demo worker") against the
// servers and the schema, logging to dir/name.log.
func startProc(tb testing.TB, ctx context.Context, bin, dir, name, url, schema, crmBase, tokenURL, emailBase, rescue string, extra ...string) *workerProc {
	tb.Helper()
	p := &workerProc{name: name, done: make(chan struct{})}
	p.log = filepath.Join(dir, p.name+".log")
	f, err := os.Create(p.log)
	if err != nil {
		tb.Fatal(err)
	}
	args := append([]string{"worker", "-postgres", url, "-schema", schema,
		"-crm-url", crmBase, "-crm-token-url", tokenURL, "-email-url", emailBase,
		"-id", p.name, "-every", "500ms", "-rescue-after", rescue, "-v"}, extra...)
	p.cmd = exec.CommandContext(ctx, bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	if err := p.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p
}

// TestScaleOutChaos is the scale-out acceptance test: the demo's syncs with
// 10,000 leads and 30% faults run on three worker processes
// ("crmsync-demo worker") sharing one PostgreSQL (pgstore + River); ten
// times a random worker is SIGKILLed and restarted, while changes keep
// arriving in the CRM. Afterwards every
// qualified lead is on the list exactly once with every field right, and
// the log of the email server's write requests shows no record written by two workers
// at once.
func TestScaleOutChaos(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGKILL semantics")
	}
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	leads := *scaleoutLeads
	if testing.Short() {
		leads = 2000
	}
	bin := buildDemo(t)
	const seed = 11
	const workers, kills = 3, 10
	faults := simFaults(0.3, 150*time.Millisecond)
	s := sim.New(sim.Options{Seed: seed, Leads: leads, CRMFaults: faults, EmailFaults: faults})
	defer s.Close()
	wl := &writeLog{next: s.Email.System()}
	emailSrv := httptest.NewServer(wl)
	defer emailSrv.Close()
	emailBase := emailSrv.URL + strings.TrimPrefix(s.Email.BaseURL(), s.Email.URL())
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	dir := t.TempDir()

	starts := map[int]int{}
	start := func(i int) *workerProc {
		starts[i]++
		return startProc(t, ctx, bin, dir, fmt.Sprintf("w%d.%d", i, starts[i]), url, schema, s.CRM.BaseURL(), s.CRM.TokenURL(), emailBase, "30s")
	}
	procs := make([]*workerProc, workers)
	for i := range procs {
		procs[i] = start(i)
	}
	defer func() {
		for _, p := range procs {
			_ = p.cmd.Process.Signal(syscall.SIGKILL)
			<-p.done
		}
		if t.Failed() {
			for _, p := range procs {
				b, _ := os.ReadFile(p.log)
				if len(b) > 3000 {
					b = b[len(b)-3000:]
				}
				t.Logf("last log of %s:\n%s", p.name, b)
			}
		}
	}()

	// busy names the worker incarnations River has running jobs on (read
	// from River's table), to count the kills that hit work in progress.
	db, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	busy := func() map[string]bool {
		out := map[string]bool{}
		rows, err := db.Query(ctx, `SELECT attempted_by[array_length(attempted_by, 1)] FROM `+schema+`.river_job WHERE state = 'running'`)
		if err != nil {
			t.Logf("reading River's jobs: %v", err)
			return out
		}
		for rows.Next() {
			var n string
			if rows.Scan(&n) == nil {
				out[n] = true
			}
		}
		rows.Close()
		return out
	}
	busyKills := 0
	rng := rand.New(rand.NewPCG(seed, 3))
	for k := 0; k < kills; k++ {
		select {
		case <-time.After(time.Duration(1000+rng.IntN(2500)) * time.Millisecond):
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
		// Changes keep arriving, so that kills find work in progress.
		s.CRM.Mutate(leads / 50)
		i := rng.IntN(workers)
		p := procs[i]
		select {
		case <-p.done:
			b, _ := os.ReadFile(p.log)
			t.Fatalf("worker %s exited by itself: %v\n%s", p.name, p.err, b)
		default:
		}
		if busy()[p.name] {
			busyKills++
		}
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-p.done
		procs[i] = start(i)
	}
	t.Logf("%d kills done (%d of them of a worker running a job); members so far: %d", kills, busyKills, len(s.Email.Members(sim.DefaultListID)))

	// Wait until the list is right, then let the workers run a while
	// longer: later runs must not disturb it.
	converged := func() bool {
		v := verify(s.CRM.Leads(), s.CRM.Owners(), s.Email.Members(sim.DefaultListID), s.Email.Senders())
		return v.OK() && v.Members == v.Qualified
	}
	for !converged() {
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			v := verify(s.CRM.Leads(), s.CRM.Owners(), s.Email.Members(sim.DefaultListID), s.Email.Senders())
			t.Fatalf("not converged: %d members for %d qualified, %d lost, %d duplicates, %d mismatched: %s",
				v.Members, v.Qualified, v.Lost, v.Duplicates, v.Mismatched, strings.Join(v.Problems, "; "))
		}
	}
	time.Sleep(2 * time.Second)
	for _, p := range procs {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range procs {
		select {
		case <-p.done:
		case <-time.After(time.Minute):
			t.Errorf("worker %s did not stop on SIGTERM", p.name)
		}
	}
	checkResult(t, s)
	checkOneWriter(t, wl.writes())
}

// checkOneWriter fails when two different worker incarnations had write
// requests for the same record in flight at the same time.
func checkOneWriter(t *testing.T, writes []write) {
	t.Helper()
	byKey := map[string][]write{}
	writers := map[string]int{}
	for _, w := range writes {
		if w.Worker == "" {
			t.Errorf("write %s %s without an X-Worker header", w.Op, w.Key)
			continue
		}
		byKey[w.Key] = append(byKey[w.Key], w)
		writers[w.Worker]++
	}
	overlaps := 0
	for key, ws := range byKey {
		sort.Slice(ws, func(i, j int) bool { return ws[i].Start.Before(ws[j].Start) })
		for i := range ws {
			for j := i + 1; j < len(ws) && ws[j].Start.Before(ws[i].End); j++ {
				if ws[j].Worker != ws[i].Worker {
					overlaps++
					if overlaps <= 5 {
						t.Errorf("%s written by %s (%s..%s) and %s (%s..%s) at once", key,
							ws[i].Worker, ws[i].Start.Format("15:04:05.000"), ws[i].End.Format("15:04:05.000"),
							ws[j].Worker, ws[j].Start.Format("15:04:05.000"), ws[j].End.Format("15:04:05.000"))
					}
				}
			}
		}
	}
	var b bytes.Buffer
	names := make([]string, 0, len(writers))
	for n := range writers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, " %s:%d", n, writers[n])
	}
	t.Logf("%d write requests on %d records by %d worker incarnations:%s; %d overlaps", len(writes), len(byKey), len(writers), b.String(), overlaps)
	if len(writers) < 2 {
		t.Errorf("only %d worker incarnation wrote: the work was not shared or taken over", len(writers))
	}
}

// write is one write request as the email server saw it: who sent it (the
// X-Worker header the workers set), the record it wrote, and when it
// arrived and was answered.
type write struct {
	Worker, Op, Key string
	Start, End      time.Time
}

// writeLog is the email server's request log: it records every write
// request passing to the simulated server behind it.
type writeLog struct {
	next http.Handler
	mu   sync.Mutex
	log  []write
}

func (l *writeLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		l.next.ServeHTTP(w, r)
		return
	}
	wr := write{Worker: r.Header.Get("X-Worker"), Op: r.Method + " " + r.URL.Path, Key: writeKey(r), Start: time.Now()}
	l.next.ServeHTTP(w, r)
	wr.End = time.Now()
	l.mu.Lock()
	l.log = append(l.log, wr)
	l.mu.Unlock()
}

func (l *writeLog) writes() []write {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]write(nil), l.log...)
}

// writeKey names the record a write targets: the member or sender in the
// path, or for a create the one the body's address names.
func writeKey(r *http.Request) string {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch n := len(parts); {
	case n >= 2 && parts[n-2] == "members":
		return "member:" + parts[n-1]
	case n >= 2 && parts[n-2] == "senders":
		return "sender:" + parts[n-1]
	}
	body, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return "?"
	}
	var b struct {
		EmailAddress string `json:"email_address"`
		Email        string `json:"email"`
	}
	_ = json.Unmarshal(body, &b)
	if b.EmailAddress != "" {
		return "member:" + sim.MemberID(b.EmailAddress)
	}
	return "sender-email:" + strings.ToLower(b.Email)
}
