package service

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/observe"
)

// StatusReport is the connector's health: what `status -json` prints and
// GET /status serves. status.schema.json describes it (a test keeps the
// two in step).
type StatusReport struct {
	Connector   string    `json:"connector"`
	GeneratedAt time.Time `json:"generated_at"`
	// Live is true when a running service produced the report (breaker
	// states and firing alerts are known only there).
	Live bool `json:"live"`
	// NonProduction lists the systems running against an environment
	// that is not production.
	NonProduction []string       `json:"non_production"`
	Systems       []SystemStatus `json:"systems"`
	Syncs         []SyncHealth   `json:"syncs"`
	// NeverRan lists the syncs that have not run yet.
	NeverRan []string `json:"never_ran"`
}

// Credential states.
const (
	CredValid         = "valid"
	CredReauthorize   = "needs_reauthorization"
	CredExpiring      = "expiring"
	CredStatic        = "static"
	breakerUnknown    = "unknown"
	expiryWarning     = 7 * 24 * time.Hour
	recentRunsDefault = 10
)

// SystemStatus is one system's state.
type SystemStatus struct {
	Name        string `json:"name"`
	Environment string `json:"environment,omitempty"`
	URL         string `json:"url,omitempty"`
	Production  bool   `json:"production"`
	// Credential is valid, needs_reauthorization, expiring or static (an
	// API key or password the connector cannot check by itself).
	Credential       string `json:"credential"`
	CredentialDetail string `json:"credential_detail,omitempty"`
	// Breaker is closed, open, half_open or unknown (not running).
	Breaker     string `json:"breaker"`
	SpecVersion string `json:"spec_version,omitempty"`
	SpecHash    string `json:"spec_hash,omitempty"`
}

// SyncHealth is one sync's state.
type SyncHealth struct {
	Name   string `json:"name"`
	Source string `json:"source"`
	Target string `json:"target"`
	// LastSuccess and LastRun are null before the first (successful) run.
	LastSuccess *time.Time `json:"last_success"`
	LastRun     *time.Time `json:"last_run"`
	// FreshnessSeconds is the time since the last success (null before
	// it).
	FreshnessSeconds *float64 `json:"freshness_seconds"`
	NeverRan         bool     `json:"never_ran"`
	// RecentRuns counts the runs looked at (the latest ten); Applied and
	// Failed sum their records written and failed; ErrorRate is the share
	// of those runs that failed.
	RecentRuns          int            `json:"recent_runs"`
	Applied             int            `json:"applied"`
	Failed              int            `json:"failed"`
	ErrorRate           float64        `json:"error_rate"`
	ConsecutiveFailures int            `json:"consecutive_failures"`
	Paused              bool           `json:"paused"`
	LastError           string         `json:"last_error,omitempty"`
	QueueDepth          int            `json:"queue_depth"`
	DeadLetters         int            `json:"dead_letters"`
	Conflicts           int            `json:"conflicts"`
	Alerts              []engine.Alert `json:"alerts"`
}

// live is what only a running service knows.
type live struct {
	envs   []Selected
	alerts []engine.Alert
	mem    *observe.Memory
}

// collect builds the report from the store (and, when l is not nil, the
// running service).
func (h *host) collect(ctx context.Context, st engine.Store, l *live, now time.Time) (StatusReport, error) {
	rep := StatusReport{Connector: h.c.Name, GeneratedAt: now.UTC(), Live: l != nil, NonProduction: []string{}, NeverRan: []string{}}
	refused := map[string]string{}
	for _, s := range h.c.Syncs {
		sh := SyncHealth{Name: s.Name, Source: s.Source, Target: s.Target, Alerts: []engine.Alert{}}
		ss, err := st.LoadStatus(ctx, s.Name)
		if err != nil {
			return rep, err
		}
		if !ss.LastSuccess.IsZero() {
			t := ss.LastSuccess.UTC()
			sh.LastSuccess = &t
			f := now.Sub(ss.LastSuccess).Seconds()
			sh.FreshnessSeconds = &f
		}
		if !ss.LastRun.IsZero() {
			t := ss.LastRun.UTC()
			sh.LastRun = &t
		} else {
			sh.NeverRan = true
			rep.NeverRan = append(rep.NeverRan, s.Name)
		}
		sh.ConsecutiveFailures, sh.Paused, sh.LastError = ss.ConsecutiveFailures, ss.Paused, ss.LastError
		for _, sys := range []string{s.SourceSystem, s.TargetSystem} {
			if sys != "" && ss.ConsecutiveFailures > 0 && strings.Contains(ss.LastError, " "+sys+" refused the credentials") {
				refused[sys] = "sync " + s.Name + ": " + ss.LastError
			}
		}
		runs, err := st.Runs(ctx, s.Name, recentRunsDefault)
		if err != nil {
			return rep, err
		}
		failedRuns := 0
		for _, r := range runs {
			if !r.OK {
				failedRuns++
			}
			var rr engine.Report
			if json.Unmarshal(r.Report, &rr) == nil {
				sh.Applied += rr.Created + rr.Updated
				sh.Failed += rr.Failed + rr.DeadLettered
			}
		}
		sh.RecentRuns = len(runs)
		if len(runs) > 0 {
			sh.ErrorRate = float64(failedRuns) / float64(len(runs))
		}
		if sh.QueueDepth, err = st.QueueDepth(ctx, s.Name); err != nil {
			return rep, err
		}
		if sh.DeadLetters, err = st.DeadLetterCount(ctx, s.Name); err != nil {
			return rep, err
		}
		cs, err := st.Conflicts(ctx, s.Name)
		if err != nil {
			return rep, err
		}
		sh.Conflicts = len(cs)
		if l != nil {
			for _, a := range l.alerts {
				if a.Sync == s.Name {
					sh.Alerts = append(sh.Alerts, a)
					if a.Kind == engine.AlertReauthorize && a.System != "" {
						refused[a.System] = a.Message
					}
				}
			}
		}
		rep.Syncs = append(rep.Syncs, sh)
	}
	var snap observe.Snapshot
	if l != nil && l.mem != nil {
		snap = l.mem.Snapshot()
	}
	for _, sys := range h.c.Systems {
		ss := SystemStatus{Name: sys.Name, Breaker: breakerUnknown, SpecVersion: sys.SpecVersion, SpecHash: sys.SpecHash, Credential: CredStatic}
		if l != nil {
			ss.Breaker = string(observe.BreakerClosed)
			if b, ok := snap.Breakers[sys.Name]; ok {
				ss.Breaker = string(b)
			}
			for _, e := range l.envs {
				if e.System == sys.Name {
					ss.Environment, ss.URL, ss.Production = e.Environment, e.URL, e.Production
					if !e.Production {
						rep.NonProduction = append(rep.NonProduction, sys.Name)
					}
				}
			}
		}
		if sys.OAuth {
			ss.Credential = CredValid
			if b, ok, err := st.LoadToken(ctx, sys.Name); err != nil {
				return rep, err
			} else if ok {
				ss.Credential, ss.CredentialDetail = tokenState(b, now)
			}
		}
		if why, ok := refused[sys.Name]; ok {
			ss.Credential, ss.CredentialDetail = CredReauthorize, why
		}
		rep.Systems = append(rep.Systems, ss)
	}
	return rep, nil
}

// tokenState judges a stored OAuth token (the JSON engine.TokenHook
// saves) without revealing any of it.
func tokenState(b []byte, now time.Time) (string, string) {
	var t struct {
		RefreshToken string    `json:"refresh_token"`
		Expiry       time.Time `json:"expiry"`
	}
	if json.Unmarshal(b, &t) != nil {
		return CredReauthorize, "the stored token cannot be decoded"
	}
	if t.RefreshToken != "" || t.Expiry.IsZero() {
		return CredValid, ""
	}
	if !now.Before(t.Expiry) {
		return CredReauthorize, "the access token expired and there is no refresh token"
	}
	if t.Expiry.Sub(now) < expiryWarning {
		return CredExpiring, fmt.Sprintf("the access token expires at %s and there is no refresh token", t.Expiry.UTC().Format(time.RFC3339))
	}
	return CredValid, ""
}

// printStatus writes the report as a table.
func printStatus(w io.Writer, r StatusReport) {
	fmt.Fprintf(w, "connector %s at %s", r.Connector, r.GeneratedAt.Format(time.RFC3339))
	if !r.Live {
		fmt.Fprint(w, " (from the state store; breaker states and alerts need -url of a running service)")
	}
	fmt.Fprintln(w)
	if len(r.NonProduction) > 0 {
		fmt.Fprintf(w, "NOT PRODUCTION: %s\n", strings.Join(r.NonProduction, ", "))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nSYSTEM\tENVIRONMENT\tCREDENTIAL\tBREAKER\tSPEC")
	for _, s := range r.Systems {
		env := s.Environment
		if env == "" {
			env = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, env, s.Credential, s.Breaker, orDash(s.SpecVersion))
	}
	tw.Flush()
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nSYNC\tLAST SUCCESS\tFRESHNESS\tAPPLIED\tFAILED\tERROR RATE\tQUEUE\tDEAD LETTERS\tCONFLICTS\tSTATE")
	for _, s := range r.Syncs {
		last, fresh := "never", "-"
		if s.LastSuccess != nil {
			last = s.LastSuccess.Format(time.RFC3339)
		}
		if s.FreshnessSeconds != nil {
			fresh = (time.Duration(*s.FreshnessSeconds) * time.Second).String()
		}
		state := "ok"
		switch {
		case s.NeverRan:
			state = "never ran"
		case s.Paused:
			state = "PAUSED"
		case s.ConsecutiveFailures > 0:
			state = fmt.Sprintf("FAILING (%d in a row)", s.ConsecutiveFailures)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%.0f%%\t%d\t%d\t%d\t%s\n", s.Name, last, fresh, s.Applied, s.Failed, 100*s.ErrorRate, s.QueueDepth, s.DeadLetters, s.Conflicts, state)
	}
	tw.Flush()
	for _, s := range r.Syncs {
		if s.LastError != "" {
			fmt.Fprintf(w, "\n%s: last error: %s", s.Name, s.LastError)
		}
		for _, a := range s.Alerts {
			fmt.Fprintf(w, "\n%s: ALERT %s: %s", s.Name, a.Kind, a.Message)
		}
	}
	for _, s := range r.Systems {
		if s.CredentialDetail != "" {
			fmt.Fprintf(w, "\n%s: credential %s: %s", s.Name, s.Credential, s.CredentialDetail)
		}
	}
	fmt.Fprintln(w)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
