package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// fakeTarget is a target system in memory; reject makes every write fail
// permanently.
type fakeTarget struct {
	mu     sync.Mutex
	recs   map[string]string
	reject bool
}

type rec struct{ ID, Name string }
type wr struct{ Name string }

// keepOpen hands the same store to every command (a memory store would
// otherwise lose its state between commands).
type keepOpen struct{ engine.Store }

func (keepOpen) Close() error { return nil }

func fakeConnector(t *testing.T, src []rec, tgt *fakeTarget) (Connector, engine.Store) {
	st := engine.NewMemoryStore()
	c := Connector{
		Name:    "fake",
		Systems: []System{{Name: "crm", OAuth: true, RefreshToken: true, Environments: []Environment{{Name: "production", URL: "https://crm.example", Production: true}, {Name: "sandbox", URL: "https://sandbox.crm.example"}}}, {Name: "mail", Environments: []Environment{{Name: "production", URL: "https://mail.example", Production: true}}}},
		Syncs:   []SyncInfo{{Name: "people", Source: "crm.Person", Target: "mail.Contact", SourceSystem: "crm", TargetSystem: "mail"}},
		Stores:  map[string]StoreOpener{"mem": func(context.Context, *url.URL) (engine.Store, error) { return keepOpen{st}, nil }},
		Register: func(ctx context.Context, s *Setup) error {
			return engine.Add(s.Engine, &engine.Sync[rec, wr]{
				Name: "people", SourceSystem: "crm", TargetSystem: "mail",
				Poll: func(context.Context, engine.Cursor) iter.Seq2[rec, error] {
					return func(yield func(rec, error) bool) {
						for _, r := range src {
							if !yield(r, nil) {
								return
							}
						}
					}
				},
				Fetch: func(_ context.Context, k string) (rec, error) {
					for _, r := range src {
						if r.ID == k {
							return r, nil
						}
					}
					return rec{}, engine.ErrNotFound
				},
				Key:     func(r *rec) string { return r.ID },
				Version: func(*rec) int64 { return 1 },
				Cursor:  func(*rec) engine.Cursor { return engine.Cursor{} },
				Map:     func(_ context.Context, r *rec, _ engine.Lookups, _ bool) (wr, error) { return wr{Name: r.Name}, nil },
				Fields:  []engine.Field[wr]{{Path: "name", Value: func(w *wr) (string, bool) { b, _ := json.Marshal(w.Name); return string(b), true }, Clear: func(w *wr) {}}},
				Create: func(_ context.Context, w *wr, _ string) (string, error) {
					tgt.mu.Lock()
					defer tgt.mu.Unlock()
					if tgt.reject {
						return "", engine.Permanent(errors.New("422 rejected"))
					}
					k := fmt.Sprintf("t%d", len(tgt.recs)+1)
					tgt.recs[k] = w.Name
					return k, nil
				},
				Update:     func(context.Context, string, *wr, string) error { return nil },
				DeadLetter: true,
			})
		},
	}
	return c, st
}

func run(c Connector, stdin string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Main(c, args, IO{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
	return code, out.String(), errb.String()
}

// TestOperatorCommands drives once, status, dead-letters, audit through
// Main against a store shared between commands.
func TestOperatorCommands(t *testing.T) {
	tgt := &fakeTarget{recs: map[string]string{}, reject: true}
	c, _ := fakeConnector(t, []rec{{"1", "Ann"}, {"2", "Bob"}}, tgt)
	state := "-state=mem://x"

	code, out, errs := run(c, "", "status", state, "-json")
	if code != 0 {
		t.Fatalf("status: %d %s", code, errs)
	}
	checkAgainstSchema(t, loadSchema(t), []byte(out))
	var rep StatusReport
	_ = json.Unmarshal([]byte(out), &rep)
	if len(rep.NeverRan) != 1 || rep.Syncs[0].LastRun != nil || rep.Systems[0].Credential != CredValid || rep.Systems[1].Credential != CredStatic {
		t.Fatalf("status before any run: %s", out)
	}

	// Every write is rejected: two dead letters, and the run still
	// succeeds (dead letters on).
	if code, out, errs := run(c, "", "once", state); code != 0 || !strings.Contains(out, "dead-lettered 2") {
		t.Fatalf("once: %d %q %q", code, out, errs)
	}
	code, out, _ = run(c, "", "dead-letters", "list", state, "-json")
	var dls []engine.DeadLetter
	if err := json.Unmarshal([]byte(out), &dls); code != 0 || err != nil || len(dls) != 2 {
		t.Fatalf("dead-letters list: %d %s", code, out)
	}
	if code, out, _ := run(c, "", "dead-letters", "show", state, "-sync", "people", fmt.Sprint(dls[0].ID)); code != 0 || !strings.Contains(out, "422 rejected") {
		t.Fatalf("show: %d %s", code, out)
	}
	if code, _, _ := run(c, "", "dead-letters", "replay", state, "-sync", "people", "999"); code != 1 {
		t.Fatalf("replay of an unknown ID exited %d, want 1", code)
	}
	// The target accepts writes again: replay one by ID, discard the other.
	tgt.mu.Lock()
	tgt.reject = false
	tgt.mu.Unlock()
	if code, out, errs := run(c, "", "dead-letters", "replay", state, "-sync", "people", fmt.Sprint(dls[0].ID)); code != 0 || !strings.Contains(out, "replayed") {
		t.Fatalf("replay: %d %s %s", code, out, errs)
	}
	if code, _, _ := run(c, "", "dead-letters", "discard", state, "-sync", "people", "-key", dls[1].SourceKey); code != 0 {
		t.Fatal("discard failed")
	}
	if _, out, _ := run(c, "", "dead-letters", "list", state, "-json"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("dead letters left: %s", out)
	}
	if len(tgt.recs) != 1 {
		t.Fatalf("target has %d records after one replay, want 1", len(tgt.recs))
	}
	code, out, _ = run(c, "", "audit", state, "-json")
	var au []engine.AuditEntry
	if err := json.Unmarshal([]byte(out), &au); code != 0 || err != nil || len(au) != 3 || au[0].Outcome != engine.AuditCreated || au[1].Outcome != engine.AuditFailed {
		t.Fatalf("audit: %s", out)
	}
	code, out, _ = run(c, "", "status", state)
	if code != 0 || !strings.Contains(out, "people") || !strings.Contains(out, "crm") {
		t.Fatalf("status table: %s", out)
	}
}

// TestOnceExitsOneOnFailure: a sync that fails makes once exit 1.
func TestOnceExitsOneOnFailure(t *testing.T) {
	c, _ := fakeConnector(t, nil, &fakeTarget{recs: map[string]string{}})
	reg := c.Register
	c.Register = func(ctx context.Context, s *Setup) error {
		if err := reg(ctx, s); err != nil {
			return err
		}
		return s.Engine.Store().SaveStatus(ctx, engine.SyncStatus{Sync: "people", Paused: true})
	}
	if code, _, errs := run(c, "", "once", "-state=mem://x"); code != 1 || !strings.Contains(errs, "paused") {
		t.Fatalf("once with a paused sync exited %d (%s), want 1", code, errs)
	}
}

// TestSecretsNeverOnCommandLine: flags named like credentials are refused
// by every command, reauthorize refuses a token argument, reads it from
// stdin, stores it, and prints it nowhere.
func TestSecretsNeverOnCommandLine(t *testing.T) {
	c, st := fakeConnector(t, nil, &fakeTarget{recs: map[string]string{}})
	const tok = "rt-very-secret-value-123"
	for _, args := range [][]string{
		{"reauthorize", "-state=mem://x", "-token=" + tok, "crm"},
		{"reauthorize", "-state=mem://x", "-refresh-token", tok, "crm"},
		{"run", "-client-secret=" + tok},
		{"once", "--api-key", tok},
		{"reauthorize", "-state=mem://x", "crm", tok},
	} {
		code, out, errs := run(c, "", args...)
		if code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, ExitUsage)
		}
		if strings.Contains(out+errs, tok) {
			t.Errorf("%v: output repeats the secret: %q %q", args, out, errs)
		}
	}
	if _, ok, _ := st.LoadToken(context.Background(), "crm"); ok {
		t.Fatal("a refused command stored a token")
	}
	code, out, errs := run(c, tok+"\n", "reauthorize", "-state=mem://x", "crm")
	if code != 0 || strings.Contains(out+errs, tok) {
		t.Fatalf("reauthorize: %d, output %q %q", code, out, errs)
	}
	b, ok, _ := st.LoadToken(context.Background(), "crm")
	if !ok || !strings.Contains(string(b), tok) {
		t.Fatalf("token not stored: %s", b)
	}
	// Status reports the credential without any of it.
	_, out, _ = run(c, "", "status", "-state=mem://x", "-json")
	if strings.Contains(out, tok) {
		t.Fatal("status prints the token")
	}
	if code, _, _ := run(c, "x\n", "reauthorize", "-state=mem://x", "mail"); code != ExitUsage {
		t.Fatal("reauthorize of a system without OAuth accepted")
	}
}

// TestEnvironmentSelection: precedence flag > env > mapping > spec, an
// unknown environment names the known ones, and a non-production choice is
// reported.
func TestEnvironmentSelection(t *testing.T) {
	c, _ := fakeConnector(t, nil, &fakeTarget{})
	env := map[string]string{}
	h := &host{c: c, io: IO{Getenv: func(k string) string { return env[k] }}}
	pick := func(f *envFlags) Selected {
		t.Helper()
		sel, err := h.selectEnvironments(f)
		if err != nil {
			t.Fatal(err)
		}
		return sel[0]
	}
	empty := func() *envFlags { return &envFlags{env: pairs{}, baseURL: pairs{}, tokenURL: pairs{}} }
	if s := pick(empty()); s.Environment != "production" || !s.Production {
		t.Fatalf("default %+v", s)
	}
	h.c.Systems[0].DefaultEnvironment = "sandbox"
	if s := pick(empty()); s.Environment != "sandbox" || s.Production || s.Source != "mapping environment" {
		t.Fatalf("mapping %+v", s)
	}
	env["CRM_ENVIRONMENT"] = "production"
	if s := pick(empty()); s.Environment != "production" {
		t.Fatalf("env %+v", s)
	}
	f := empty()
	f.env["crm"] = "sandbox"
	if s := pick(f); s.URL != "https://sandbox.crm.example" {
		t.Fatalf("flag %+v", s)
	}
	f.baseURL["crm"] = "http://127.0.0.1:9/v1"
	if s := pick(f); s.URL != "http://127.0.0.1:9/v1" || s.Environment != "custom" || s.Production {
		t.Fatalf("base-url %+v", s)
	}
	f = empty()
	f.env["crm"] = "staging"
	if _, err := h.selectEnvironments(f); err == nil || !strings.Contains(err.Error(), "production, sandbox") {
		t.Fatalf("unknown environment: %v", err)
	}
}

// TestTokenState: a stored token with a refresh token is valid; without
// one, an access token expiring within a week is "expiring" and an expired
// one needs re-authorisation; the detail never holds the token.
func TestTokenState(t *testing.T) {
	now := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		json, want string
	}{
		{`{"access_token":"at-1","refresh_token":"rt-1","expiry":"2026-01-09T00:00:00Z"}`, CredValid},
		{`{"access_token":"at-1","expiry":"2026-01-12T00:00:00Z"}`, CredExpiring},
		{`{"access_token":"at-1","expiry":"2026-03-12T00:00:00Z"}`, CredValid},
		{`{"access_token":"at-1","expiry":"2026-01-09T00:00:00Z"}`, CredReauthorize},
		{`not json`, CredReauthorize},
	} {
		got, detail := tokenState([]byte(tc.json), now)
		if got != tc.want || strings.Contains(detail, "at-1") || strings.Contains(detail, "rt-1") {
			t.Errorf("%s: %s (%s), want %s", tc.json, got, detail, tc.want)
		}
	}
}
