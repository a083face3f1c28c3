package service

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// This file holds the operator commands that work on the state store:
// status, dead-letters, conflicts, reauthorize and audit.

func (h *host) printJSON(v any) {
	enc := json.NewEncoder(h.io.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// openOnly parses common flags and opens the store.
func (h *host) openOnly(ctx context.Context, c *common) (engine.Store, error) {
	return h.openStore(ctx, c.state)
}

func (h *host) cmdStatus(ctx context.Context, args []string) int {
	fs := h.flagSet("status")
	var c common
	h.commonFlags(fs, &c)
	var from string
	h.str(fs, &from, "url", "", "base URL of a running service: read its /status (live breaker states and alerts) instead of the store")
	if err := h.parse(fs, args); err != nil {
		return h.usageErr(err)
	}
	var rep StatusReport
	if from != "" {
		u, err := checkURL(strings.TrimRight(from, "/") + "/status")
		if err != nil {
			return h.usageErr(fmt.Errorf("-url: %w", err))
		}
		resp, err := http.Get(u.String())
		if err != nil {
			return h.fail(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return h.fail(fmt.Errorf("%s: %s", u, resp.Status))
		}
		if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
			return h.fail(fmt.Errorf("%s: %w", u, err))
		}
	} else {
		st, err := h.openOnly(ctx, &c)
		if err != nil {
			return h.fail(err)
		}
		defer st.Close()
		if rep, err = h.collect(ctx, st, nil, time.Now()); err != nil {
			return h.fail(err)
		}
	}
	if c.jsonOut {
		h.printJSON(rep)
	} else {
		printStatus(h.io.Stdout, rep)
	}
	return ExitOK
}

func (h *host) cmdDeadLetters(ctx context.Context, args []string) int {
	if len(args) == 0 {
		return h.usageErr(errors.New("dead-letters: want list, show, replay or discard"))
	}
	verb, args := args[0], args[1:]
	fs := h.flagSet("dead-letters " + verb)
	var ef engineFlags
	h.engineFlagSet(fs, &ef)
	var syncName, key string
	var all bool
	fs.StringVar(&syncName, "sync", "", "the sync (all syncs when empty, for list and -all)")
	fs.StringVar(&key, "key", "", "only dead letters of this source key")
	fs.BoolVar(&all, "all", false, "replay or discard every matching dead letter")
	if err := h.parse(fs, args); err != nil {
		return h.usageErr(err)
	}
	if err := h.checkSync(syncName); err != nil {
		return h.usageErr(err)
	}
	var ids []int64
	for _, a := range fs.Args() {
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			return h.usageErr(fmt.Errorf("dead letter ID %q is not a number", a))
		}
		ids = append(ids, id)
	}
	switch verb {
	case "list", "show", "discard":
	case "replay":
	default:
		return h.usageErr(fmt.Errorf("dead-letters: unknown action %q (want list, show, replay or discard)", verb))
	}
	if verb != "list" && len(ids) == 0 && !all && key == "" {
		return h.usageErr(fmt.Errorf("dead-letters %s: name IDs, -key KEY or -all", verb))
	}
	if (verb == "show" || len(ids) > 0) && syncName == "" {
		return h.usageErr(fmt.Errorf("dead-letters %s: -sync is required with IDs", verb))
	}
	var st engine.Store
	var s *started
	var err error
	if verb == "replay" {
		// A replay re-fetches the record and writes it: it needs the
		// clients, like a run.
		if s, err = h.start(ctx, &ef); err != nil {
			return h.fail(err)
		}
		defer s.close()
		st = s.store
	} else {
		if st, err = h.openOnly(ctx, &ef.common); err != nil {
			return h.fail(err)
		}
		defer st.Close()
	}
	// Select the dead letters.
	var sel []engine.DeadLetter
	for _, sy := range h.c.Syncs {
		if syncName != "" && sy.Name != syncName {
			continue
		}
		dls, err := st.DeadLetters(ctx, sy.Name)
		if err != nil {
			return h.fail(err)
		}
		for _, d := range dls {
			if key != "" && d.SourceKey != key {
				continue
			}
			if len(ids) > 0 && !containsID(ids, d.ID) {
				continue
			}
			sel = append(sel, d)
		}
	}
	if len(ids) > 0 && len(sel) < len(ids) {
		return h.fail(fmt.Errorf("sync %s has no dead letter with some of the IDs %v", syncName, ids))
	}
	switch verb {
	case "list":
		if ef.jsonOut {
			for i := range sel {
				sel[i].Payload = nil
			}
			if sel == nil {
				sel = []engine.DeadLetter{}
			}
			h.printJSON(sel)
			return ExitOK
		}
		tw := tabwriter.NewWriter(h.io.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SYNC\tID\tSOURCE KEY\tVERSION\tATTEMPTS\tUPDATED\tERROR")
		for _, d := range sel {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%d\t%s\t%s\n", d.Sync, d.ID, d.SourceKey, d.Version, d.Attempts, d.UpdatedAt.UTC().Format(time.RFC3339), oneLine(d.Error))
		}
		tw.Flush()
	case "show":
		if ef.jsonOut {
			h.printJSON(sel)
			return ExitOK
		}
		for _, d := range sel {
			fmt.Fprintf(h.io.Stdout, "sync:       %s\nid:         %d\nsource key: %s\nversion:    %d\nattempts:   %d\ncreated:    %s\nupdated:    %s\nerror:      %s\npayload:    %s\n\n",
				d.Sync, d.ID, d.SourceKey, d.Version, d.Attempts, d.CreatedAt.UTC().Format(time.RFC3339), d.UpdatedAt.UTC().Format(time.RFC3339), d.Error, d.Payload)
		}
	case "discard":
		for _, d := range sel {
			if err := st.DeleteDeadLetter(ctx, d.Sync, d.ID); err != nil {
				return h.fail(err)
			}
			fmt.Fprintf(h.io.Stdout, "discarded %s/%d (source key %s)\n", d.Sync, d.ID, d.SourceKey)
		}
	case "replay":
		code := ExitOK
		for _, d := range sel {
			if err := s.eng.Replay(ctx, d.Sync, d.ID); err != nil {
				code = ExitFailed
				fmt.Fprintf(h.io.Stdout, "replay %s/%d (source key %s) failed: %v\n", d.Sync, d.ID, d.SourceKey, err)
				continue
			}
			fmt.Fprintf(h.io.Stdout, "replayed %s/%d (source key %s)\n", d.Sync, d.ID, d.SourceKey)
		}
		return code
	}
	return ExitOK
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

func (h *host) cmdConflicts(ctx context.Context, args []string) int {
	if len(args) == 0 {
		return h.usageErr(errors.New("conflicts: want list or resolve"))
	}
	verb, args := args[0], args[1:]
	fs := h.flagSet("conflicts " + verb)
	var c common
	h.commonFlags(fs, &c)
	var syncName, take string
	fs.StringVar(&syncName, "sync", "", "the sync")
	fs.StringVar(&take, "take", "target", "resolve: target keeps the target's value; source writes the source's on the next run")
	if err := h.parse(fs, args); err != nil {
		return h.usageErr(err)
	}
	if err := h.checkSync(syncName); err != nil {
		return h.usageErr(err)
	}
	st, err := h.openOnly(ctx, &c)
	if err != nil {
		return h.fail(err)
	}
	defer st.Close()
	switch verb {
	case "list":
		var out []engine.Conflict
		for _, sy := range h.c.Syncs {
			if syncName != "" && sy.Name != syncName {
				continue
			}
			cs, err := st.Conflicts(ctx, sy.Name)
			if err != nil {
				return h.fail(err)
			}
			out = append(out, cs...)
		}
		if c.jsonOut {
			if out == nil {
				out = []engine.Conflict{}
			}
			h.printJSON(out)
			return ExitOK
		}
		tw := tabwriter.NewWriter(h.io.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SYNC\tID\tSOURCE KEY\tTARGET KEY\tFIELD\tSOURCE VALUE\tTARGET VALUE\tLAST WRITTEN")
		for _, cf := range out {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", cf.Sync, cf.ID, cf.SourceKey, cf.TargetKey, cf.Field, cf.SourceValue, cf.TargetValue, cf.Snapshot)
		}
		tw.Flush()
		return ExitOK
	case "resolve":
		if syncName == "" || fs.NArg() == 0 {
			return h.usageErr(errors.New("conflicts resolve: -sync SYNC ID..."))
		}
		if take != "target" && take != "source" {
			return h.usageErr(fmt.Errorf("-take %q: want target or source", take))
		}
		cs, err := st.Conflicts(ctx, syncName)
		if err != nil {
			return h.fail(err)
		}
		for _, a := range fs.Args() {
			id, err := strconv.ParseInt(a, 10, 64)
			if err != nil {
				return h.usageErr(fmt.Errorf("conflict ID %q is not a number", a))
			}
			var cf *engine.Conflict
			for i := range cs {
				if cs[i].ID == id {
					cf = &cs[i]
				}
			}
			if cf == nil {
				return h.fail(fmt.Errorf("sync %s has no conflict %d", syncName, id))
			}
			if take == "source" {
				// Record the target's value as what this sync last wrote:
				// the next run sees no change in the target and writes the
				// source's value.
				rs, ok, err := st.LoadRecord(ctx, syncName, cf.SourceKey)
				if err != nil {
					return h.fail(err)
				}
				if ok {
					if rs.Snapshot == nil {
						rs.Snapshot = map[string]string{}
					}
					rs.Snapshot[cf.Field] = cf.TargetValue
					// Version 0 lets the next run apply the record again.
					rs.Version = 0
					if err := st.Commit(ctx, &engine.Commit{Sync: syncName, SourceKey: cf.SourceKey, State: &rs}); err != nil {
						return h.fail(err)
					}
				}
			}
			if err := st.DeleteConflict(ctx, syncName, id); err != nil {
				return h.fail(err)
			}
			fmt.Fprintf(h.io.Stdout, "resolved %s/%d (%s of %s): %s wins\n", syncName, id, cf.Field, cf.SourceKey, take)
		}
		return ExitOK
	}
	return h.usageErr(fmt.Errorf("conflicts: unknown action %q (want list or resolve)", verb))
}

// cmdReauthorize stores a new OAuth refresh token. The token is read from
// stdin or a file, never from the command line, and never printed.
func (h *host) cmdReauthorize(ctx context.Context, args []string) int {
	fs := h.flagSet("reauthorize")
	var c common
	h.commonFlags(fs, &c)
	var from string
	fs.StringVar(&from, "from-file", "", "read the refresh token from this file instead of stdin")
	if err := h.parse(fs, args); err != nil {
		return h.usageErr(err)
	}
	if fs.NArg() != 1 {
		if fs.NArg() > 1 {
			return h.usageErr(errors.New("reauthorize SYSTEM takes one argument; the token is read from stdin or -from-file, never from the command line"))
		}
		return h.usageErr(errors.New("reauthorize SYSTEM: name the system"))
	}
	sys := fs.Arg(0)
	var found *System
	for i := range h.c.Systems {
		if h.c.Systems[i].Name == sys {
			found = &h.c.Systems[i]
		}
	}
	if found == nil {
		return h.usageErr(fmt.Errorf("unknown system %q (systems: %s)", sys, strings.Join(h.systemNames(), ", ")))
	}
	if !found.OAuth {
		return h.usageErr(fmt.Errorf("system %s does not use OAuth 2.0; its credentials come from the mapping's references", sys))
	}
	var r io.Reader = h.io.Stdin
	if from != "" {
		f, err := os.Open(from)
		if err != nil {
			return h.fail(err)
		}
		defer f.Close()
		r = f
	} else {
		fmt.Fprintf(h.io.Stderr, "paste the new refresh token of %s and press Enter (it is not echoed back): ", sys)
	}
	line, err := bufio.NewReader(io.LimitReader(r, 64<<10)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return h.fail(err)
	}
	tok := strings.TrimSpace(line)
	if tok == "" || strings.ContainsAny(tok, " \t") {
		return h.fail(errors.New("no refresh token read (want one line)"))
	}
	st, err := h.openOnly(ctx, &c)
	if err != nil {
		return h.fail(err)
	}
	defer st.Close()
	// No access token: the next start exchanges the refresh token at once,
	// which also checks it.
	b, _ := json.Marshal(map[string]any{"refresh_token": tok, "expiry": time.Unix(1, 0).UTC()})
	if err := st.SaveToken(ctx, sys, b); err != nil {
		return h.fail(err)
	}
	fmt.Fprintf(h.io.Stdout, "stored a new refresh token for %s (%d characters); restart the service so that it loads it\n", sys, len(tok))
	return ExitOK
}

func (h *host) cmdAudit(ctx context.Context, args []string) int {
	fs := h.flagSet("audit")
	var c common
	h.commonFlags(fs, &c)
	var q engine.AuditQuery
	var since time.Duration
	fs.StringVar(&q.Sync, "sync", "", "only this sync")
	fs.StringVar(&q.SourceKey, "key", "", "only this source key")
	fs.StringVar(&q.RunID, "run", "", "only this run ID")
	fs.DurationVar(&since, "since", 0, "only entries newer than this (e.g. 24h)")
	fs.IntVar(&q.Limit, "limit", 100, "at most this many entries, newest first")
	if err := h.parse(fs, args); err != nil {
		return h.usageErr(err)
	}
	if err := h.checkSync(q.Sync); err != nil {
		return h.usageErr(err)
	}
	if since > 0 {
		q.Since = time.Now().Add(-since)
	}
	st, err := h.openOnly(ctx, &c)
	if err != nil {
		return h.fail(err)
	}
	defer st.Close()
	es, err := st.Audit(ctx, q)
	if err != nil {
		return h.fail(err)
	}
	if c.jsonOut {
		if es == nil {
			es = []engine.AuditEntry{}
		}
		h.printJSON(es)
		return ExitOK
	}
	tw := tabwriter.NewWriter(h.io.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tSYNC\tRUN\tSOURCE KEY\tTARGET KEY\tOUTCOME\tFIELDS")
	for _, e := range es {
		out := string(e.Outcome)
		if e.Error != "" {
			out += ": " + oneLine(e.Error)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.At.UTC().Format(time.RFC3339), e.Sync, orDash(e.RunID), e.SourceKey, orDash(e.TargetKey), out, strings.Join(e.Fields, ","))
	}
	tw.Flush()
	return ExitOK
}
