package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// runner is a registered sync with its record types.
type runner[S, W any] struct {
	e        *Engine
	s        *Sync[S, W]
	b        *syncBase
	steps    map[MatchStep]bool
	policies bool
	// keyFromFirst: MatchKeyFrom is listed before MatchXref.
	keyFromFirst bool
	xref         string
}

func (r *runner[S, W]) base() *syncBase { return r.b }

// maxAttempts bounds the attempts at one record (or batch, or exit
// action): the sync's retry policy, 5 when it sets none.
func (r *runner[S, W]) maxAttempts() int {
	if n := r.s.Retry.MaxAttempts; n > 0 {
		return n
	}
	return 5
}

func (r *runner[S, W]) updatedFields() []string {
	var out []string
	for _, f := range r.s.Fields {
		if !f.CreateOnly {
			out = append(out, f.Path)
		}
	}
	return out
}

func (r *runner[S, W]) parseEvent(body []byte) (Event, error) {
	if r.s.ParseEvent == nil {
		return Event{}, errors.New("engine: sync takes no webhooks")
	}
	return r.s.ParseEvent(body)
}

// tally accumulates a report from concurrent workers, and the cursors of
// records that are not durable yet.
type tally struct {
	mu         sync.Mutex
	rep        *Report
	pending    bool
	minPending Cursor
	seen       bool
	maxSeen    Cursor
	kind       CursorKind
}

func less(k CursorKind, a, b Cursor) bool {
	if k == CursorInt {
		return a.Int < b.Int
	}
	return a.Time.Before(b.Time)
}

func (t *tally) see(c Cursor) {
	t.mu.Lock()
	t.rep.Seen++
	if !t.seen || less(t.kind, t.maxSeen, c) {
		t.maxSeen = c
	}
	t.seen = true
	t.mu.Unlock()
}

func (t *tally) hold(c Cursor) {
	t.mu.Lock()
	if !t.pending || less(t.kind, c, t.minPending) {
		t.minPending = c
	}
	t.pending = true
	t.mu.Unlock()
}

func (t *tally) do(f func(r *Report)) {
	t.mu.Lock()
	f(t.rep)
	t.mu.Unlock()
}

func (t *tally) count(o Outcome) {
	t.mu.Lock()
	switch o {
	case OutcomeCreated:
		t.rep.Created++
	case OutcomeUpdated:
		t.rep.Updated++
	case OutcomeUnchanged:
		t.rep.Unchanged++
	case OutcomeSkipped:
		t.rep.Skipped++
	case OutcomeDeferred:
		t.rep.Deferred++
	case OutcomeFailed:
		t.rep.Failed++
	case OutcomeDeadLettered:
		t.rep.DeadLettered++
	}
	t.mu.Unlock()
}

// stopper stops a run: no new record starts once a system is down or a
// record failed for good.
type stopper struct {
	once sync.Once
	ch   chan struct{}
	mu   sync.Mutex
	err  error
	// failing holds the keys of records whose calls failed with an error
	// that may be the record's own (a 5xx, a 403) since the last successful
	// write of this run: downAfter distinct keys in a row mean the system
	// is down rather than those records.
	failing map[string]struct{}
}

// downAfter is how many distinct records must fail in a row, with no write
// succeeding in between, before a 5xx or 403 is taken for the system being
// down rather than for those records' own failures.
const downAfter = 3

func newStopper() *stopper { return &stopper{ch: make(chan struct{})} }

// wrote notes a successful write: the target is answering, so failures
// until the next one are judged afresh.
func (s *stopper) wrote() {
	s.mu.Lock()
	clear(s.failing)
	s.mu.Unlock()
}

// recordFailure notes that record key failed with a record-level-looking
// error and reports whether the system is still taken to be up (fewer than
// downAfter distinct records failing in a row).
func (s *stopper) recordFailure(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failing == nil {
		s.failing = map[string]struct{}{}
	}
	s.failing[key] = struct{}{}
	return len(s.failing) < downAfter
}

// systemUp reports whether fewer than downAfter distinct records are
// failing in a row.
func (s *stopper) systemUp() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.failing) < downAfter
}

func (s *stopper) stop(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
	s.once.Do(func() { close(s.ch) })
}

func (s *stopper) stopped() bool {
	select {
	case <-s.ch:
		return true
	default:
		return false
	}
}

func (s *stopper) error() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// sleep waits d; false when the run stopped or ctx ended first.
func (s *stopper) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ch:
		return false
	case <-ctx.Done():
		return false
	}
}

// origin says where a record came from: its queue entry and dead letter
// are removed in the transaction that settles it.
type origin struct {
	// key and version are the source key and version the work is about
	// when known before the record is read (a webhook event, a dead
	// letter): a record that cannot be fetched is dead-lettered under
	// them.
	key        string
	version    int64
	event      int64
	deadLetter DeadLetter
	replay     bool
	// batch, a *batcher[S, W] of the runner's types, collects the write
	// instead of making it (batch.go).
	batch any
}

func (o origin) done(c *Commit) *Commit {
	if o.event != 0 {
		c.DoneEvents = append(c.DoneEvents, o.event)
	}
	if o.replay {
		c.DeleteDeadLetter = o.deadLetter.ID
	}
	return c
}

func (o origin) pending() bool { return o.event != 0 || o.replay }

type lookups struct{ store Store }

func (l lookups) Lookup(ctx context.Context, name, sourceKey string) (string, bool, error) {
	t, ok, err := l.store.LookupXref(ctx, name, sourceKey)
	return t, ok, tag(stageStore, err)
}

func (r *runner[S, W]) backoff(attempt int) time.Duration {
	d := r.e.cfg.backoffBase
	for i := 1; i < attempt && d < r.e.cfg.backoffMax; i++ {
		d *= 2
	}
	d = min(d, r.e.cfg.backoffMax)
	return time.Duration(rand.Int64N(int64(d))) + 1
}

// process applies one record with retries. get returns the record (it is
// called again for each attempt, so webhooks and replays re-fetch). The
// outcome is durable (created, updated, unchanged, skipped, dead_lettered)
// or not (deferred, failed); err is the last error of a record that was
// not applied.
func (r *runner[S, W]) process(ctx context.Context, get func(context.Context) (*S, error), o origin, t *tally, st *stopper) (Outcome, error) {
	s := r.s
	maxAttempts := r.maxAttempts()
	var rec *S
	var key string
	var ver int64
	for attempt := 1; ; attempt++ {
		start := r.e.cfg.now()
		var out Outcome
		rec2, err := get(ctx)
		if err == nil {
			rec = rec2
			key, ver = s.Key(rec), s.Version(rec)
			out, err = r.apply(ctx, rec, o, t)
		}
		if errors.Is(err, errExitQueued) || err == nil && out == outcomeQueued {
			return outcomeQueued, nil // counted when its batch is written
		}
		if err == nil {
			switch out {
			case OutcomeCreated, OutcomeUpdated:
				st.wrote()
				r.echo(ctx, rec)
			case outcomeAbsorbed:
				// The target held the values already (the write landed
				// before, or came from the other direction): the reverse
				// sync must learn them as it would after a write.
				r.echo(ctx, rec)
				out = OutcomeUnchanged
			case OutcomeUnchanged:
				// An echo lost with its process (a crash between the
				// write's commit and the echo's) left the reverse sync
				// without the link; restore it when the record is seen
				// again.
				r.relink(ctx, rec)
			}
			t.count(out)
			r.observe(out, start)
			return out, nil
		}
		if canceled(ctx) {
			t.count(OutcomeFailed)
			return OutcomeFailed, ctx.Err()
		}
		cl := classify(err)
		if cl == classDown && recordLevel(err) {
			// A 5xx or 403 answering this record's call while the system
			// otherwise works is this record's failure (a poison record):
			// retried, then dead-lettered, never stopping the sync. Only
			// several distinct records failing in a row (or the breaker
			// opening) mean the system is down.
			fk := key
			if fk == "" {
				fk = o.key
			}
			if st.recordFailure(fk) {
				cl = classRetry
			}
		}
		switch cl {
		case classDeferred:
			t.count(OutcomeDeferred)
			r.observe(OutcomeDeferred, start)
			r.e.cfg.logger.LogAttrs(ctx, slog.LevelDebug, "engine: record deferred", slog.String("sync", s.Name), slog.String("key", key), slog.String("reason", redactError(err)))
			return OutcomeDeferred, err
		case classDown:
			t.count(OutcomeFailed)
			r.observe(OutcomeFailed, start)
			st.stop(r.b.downError(err))
			return OutcomeFailed, err
		case classRetry:
			if attempt < maxAttempts {
				r.e.cfg.logger.LogAttrs(ctx, slog.LevelDebug, "engine: record attempt failed", slog.String("sync", s.Name), slog.String("key", key), slog.Int("attempt", attempt), slog.String("error", redactError(err)))
				if st.sleep(ctx, r.backoff(attempt)) {
					continue
				}
				t.count(OutcomeFailed)
				r.observe(OutcomeFailed, start)
				return OutcomeFailed, err
			}
		case classPermanent:
		}
		// Exhausted or permanent.
		if cl == classRetry && recordLevel(err) && !st.systemUp() {
			// Meanwhile other records failed the same way: the system is
			// down after all; keep the record for the next run.
			t.count(OutcomeFailed)
			r.observe(OutcomeFailed, start)
			st.stop(r.b.downError(err))
			return OutcomeFailed, err
		}
		if !s.DeadLetter {
			t.count(OutcomeFailed)
			r.observe(OutcomeFailed, start)
			st.stop(&RecordError{Sync: s.Name, SourceKey: key, Attempts: attempt, Err: err})
			return OutcomeFailed, err
		}
		if r.e.cfg.dryRun {
			t.count(OutcomeDeadLettered)
			return OutcomeDeadLettered, err
		}
		dl := &DeadLetter{Sync: s.Name, SourceKey: key, Version: ver, Attempts: attempt, Error: redactError(err),
			CreatedAt: r.e.cfg.now(), UpdatedAt: r.e.cfg.now()}
		if rec != nil {
			dl.Payload, _ = json.Marshal(rec)
		} else if o.replay {
			dl.SourceKey, dl.Version, dl.Payload = o.deadLetter.SourceKey, o.deadLetter.Version, o.deadLetter.Payload
		} else if o.key != "" {
			// The record could not be read (a failed or lagging fetch):
			// keep the event's key and version so that replay can fetch it.
			dl.SourceKey = o.key
		}
		if dl.SourceKey == o.key && o.version > dl.Version {
			dl.Version = o.version
		}
		if dl.SourceKey == "" {
			dl.SourceKey = "?"
		}
		if cerr := r.commitDeadLetter(ctx, dl, o, "engine: record dead-lettered", t, st, start); cerr != nil {
			return OutcomeFailed, cerr
		}
		return OutcomeDeadLettered, err
	}
}

// commitDeadLetter records dl (a replay's dead letter updated in place, a
// webhook event consumed with it), logs it with msg and counts the
// outcome: dead-lettered, or failed when the store refused the commit
// (the run stops; the error is returned).
func (r *runner[S, W]) commitDeadLetter(ctx context.Context, dl *DeadLetter, o origin, msg string, t *tally, st *stopper, start time.Time) error {
	s := r.s
	if o.replay {
		dl.ID = o.deadLetter.ID
		dl.Attempts += o.deadLetter.Attempts
	}
	c := &Commit{Sync: s.Name, SourceKey: dl.SourceKey, DeadLetter: dl}
	c.Audit = []AuditEntry{{Sync: s.Name, RunID: RunID(ctx), SourceKey: dl.SourceKey, Outcome: AuditFailed, Error: dl.Error, At: dl.UpdatedAt}}
	if o.event != 0 {
		c.DoneEvents = []int64{o.event}
	}
	if cerr := r.e.store.Commit(ctx, c); cerr != nil {
		t.count(OutcomeFailed)
		st.stop(r.b.downError(tag(stageStore, cerr)))
		return cerr
	}
	r.e.cfg.logger.LogAttrs(ctx, slog.LevelWarn, msg, slog.String("sync", s.Name), slog.String("key", dl.SourceKey), slog.Int("attempts", dl.Attempts), slog.String("error", dl.Error))
	t.count(OutcomeDeadLettered)
	r.observe(OutcomeDeadLettered, start)
	return nil
}

func (r *runner[S, W]) observe(o Outcome, start time.Time) {
	r.e.cfg.observer.ObserveRecord(RecordEvent{Sync: r.s.Name, Outcome: o, Duration: r.e.cfg.now().Sub(start)})
}

// inScope evaluates the trigger with the record's memory.
func (r *runner[S, W]) inScope(rec *S, wasIn bool) bool {
	s := r.s
	if s.Deleted != nil && s.Deleted(rec) {
		return false
	}
	if s.Enter == nil {
		return true
	}
	if wasIn {
		if s.Exit != nil {
			return !s.Exit(rec)
		}
		return s.Enter(rec)
	}
	return s.Enter(rec)
}

// apply maps and writes one record and commits its state. It holds the
// record's key lock throughout.
func (r *runner[S, W]) apply(ctx context.Context, rec *S, o origin, t *tally) (Outcome, error) {
	s, e := r.s, r.e
	key := s.Key(rec)
	ver := s.Version(rec)
	dry := e.cfg.dryRun
	var unlock func()
	if b, ok := o.batch.(*batcher[S, W]); ok {
		// The batch holds the record's lock until it is settled.
		unlock = b.lock(e.stripe(s.Name, key))
	} else {
		unlock = e.lockKey(s.Name, key)
	}
	defer unlock()

	var (
		st             RecordState
		found          bool
		err            error
		xrefTK         string
		xrefOK, xrefIn bool
	)
	if l, ok := e.store.(RecordXrefLoader); ok && r.steps[MatchXref] {
		st, found, xrefTK, xrefOK, err = l.LoadRecordXref(ctx, s.Name, key, r.xref)
		xrefIn = true
	} else {
		st, found, err = e.store.LoadRecord(ctx, s.Name, key)
	}
	if err != nil {
		return "", tag(stageStore, err)
	}
	commit := func(c *Commit) error {
		if dry {
			return nil
		}
		return tag(stageStore, e.store.Commit(ctx, o.done(c)))
	}
	base := func() *Commit { return &Commit{Sync: s.Name, SourceKey: key} }

	if found && ver < st.Version {
		// Older than what was applied: drop it.
		if o.pending() {
			if err := commit(base()); err != nil {
				return "", err
			}
		}
		r.logSkip(ctx, key, "older than the version applied")
		return OutcomeSkipped, nil
	}
	in := r.inScope(rec, found && st.In)
	if !in {
		c := base()
		if found && st.In && s.OnExit != nil && !dry {
			if err := r.exit(ctx, rec, o, key, st.TargetKey); err != nil {
				return "", err
			}
		}
		if found && st.In {
			ns := st
			ns.In, ns.Version, ns.UpdatedAt = false, ver, e.cfg.now()
			c.State = &ns
			c.ResolveDeadLetters = true
		}
		if c.State != nil || o.pending() {
			if err := commit(c); err != nil {
				return "", err
			}
		}
		r.logSkip(ctx, key, "out of scope")
		return OutcomeSkipped, nil
	}
	t.do(func(r *Report) { r.InScope++ })

	targetKey := st.TargetKey
	var keyFrom string
	if r.steps[MatchKeyFrom] {
		keyFrom = s.KeyFrom(rec)
		if keyFrom != "" && r.keyFromFirst {
			targetKey = keyFrom
		}
	}
	if targetKey == "" && r.steps[MatchXref] {
		tk, ok := xrefTK, xrefOK
		if !xrefIn {
			if tk, ok, err = e.store.LookupXref(ctx, r.xref, key); err != nil {
				return "", tag(stageStore, err)
			}
		}
		if ok {
			targetKey = tk
		}
	}
	if targetKey == "" {
		targetKey = keyFrom
	}
	create := targetKey == ""
	l := lookups{e.store}
	w, err := s.Map(ctx, rec, l, create)
	if err != nil {
		return "", err
	}
	if create && r.steps[MatchNaturalKey] {
		if nk := s.NaturalKey(&w); nk != "" {
			tk, ok, err := s.Find(ctx, nk)
			if err != nil {
				return "", tag(stageTarget, err)
			}
			if ok && tk != "" {
				targetKey, create = tk, false
				if w, err = s.Map(ctx, rec, l, false); err != nil {
					return "", err
				}
			}
		}
	}
	if create && !r.steps[MatchCreate] {
		// Update-only sync and no target record: nothing to do. The reverse
		// of a two-way pair remembers that it saw the record in scope with
		// no link (In, no target key): the link may be on its way (the
		// other direction's write whose answer was lost, found again
		// later), and the echo that brings it asks for the record to be
		// read again (echo.go), or a change made meanwhile is never
		// applied.
		c := base()
		if s.Echo != nil && (!found || !st.In || st.Version != ver) {
			c.State = &RecordState{Sync: s.Name, SourceKey: key, In: true, Version: ver, UpdatedAt: e.cfg.now()}
		}
		if c.State != nil || o.pending() {
			if err := commit(c); err != nil {
				return "", err
			}
		}
		r.logSkip(ctx, key, "no target record matched and the sync does not create")
		return OutcomeSkipped, nil
	}

	vals := make(map[string]string, len(s.Fields))
	for _, f := range s.Fields {
		if !create && f.CreateOnly {
			f.Clear(&w)
			continue
		}
		if v, set := f.Value(&w); set {
			vals[f.Path] = v
		}
	}
	// snap and pend are the record's snapshot and pending write-ahead
	// values; reading the target (conflict policies) resolves pending values
	// into snap (the target shows the write landed) or drops them (it shows
	// something else). resolved says they differ from the stored ones.
	snap, pend, resolved, absorbed := st.Snapshot, st.Pending, false, false
	newState := func() *RecordState {
		var ns map[string]string
		var np map[string]string
		if found && st.TargetKey == targetKey {
			ns = maps.Clone(snap)
			for p, v := range pend {
				if _, written := vals[p]; !written {
					if np == nil {
						np = map[string]string{}
					}
					np[p] = v
				}
			}
		}
		if ns == nil {
			ns = make(map[string]string, len(vals))
		}
		maps.Copy(ns, vals)
		return &RecordState{Sync: s.Name, SourceKey: key, TargetKey: targetKey, In: true, Version: ver, Snapshot: ns, Pending: np, UpdatedAt: e.cfg.now()}
	}
	sameTarget := found && st.TargetKey == targetKey && targetKey != ""
	// read says the target is read before this write: conflict policies,
	// or the first write to a record the source names (key_from) whose
	// values this sync does not know yet.
	read := r.policies || !sameTarget && keyFrom != "" && targetKey == keyFrom && s.Current != nil
	// compared says snap holds what the target is known to hold: this
	// sync's last write to the same target, or what reading the target
	// showed (conflict policies, below).
	compared := sameTarget
	changed := func() bool {
		if !compared {
			return true
		}
		for p, v := range vals {
			if sv, ok := snap[p]; !ok || sv != v {
				return true
			}
			// A pending write of another value may have reached the
			// target: write again.
			if pv, ok := pend[p]; ok && pv != v {
				return true
			}
		}
		return false
	}
	unchanged := func(conflicts []Conflict) (Outcome, error) {
		if !found || !st.In || st.Version != ver || st.TargetKey != targetKey || len(conflicts) > 0 || resolved || o.pending() {
			ns := st
			ns.Sync, ns.SourceKey, ns.TargetKey, ns.In, ns.Version, ns.UpdatedAt = s.Name, key, targetKey, true, ver, e.cfg.now()
			ns.Snapshot, ns.Pending = snap, pend
			c := base()
			c.State = &ns
			c.Conflicts = conflicts
			c.ResolveDeadLetters = true
			if !found || st.TargetKey != targetKey {
				c.Xref = &Xref{Table: r.xref, SourceKey: key, TargetKey: targetKey}
			}
			if err := commit(c); err != nil {
				return "", err
			}
		}
		return OutcomeUnchanged, nil
	}
	if !create && !changed() {
		return unchanged(nil)
	}

	// Conflict policies: a field the target changed since this sync last
	// wrote it (its current value differs from the snapshot, and from a
	// pending write of this sync whose commit was lost), or, on the first
	// write to a target record found by match (a natural key), a field the
	// target already holds another value of.
	var conflicts []Conflict
	if !create && read {
		cur, changedAt, err := s.Current(ctx, targetKey)
		if err != nil {
			return "", tag(stageTarget, err)
		}
		if !sameTarget && st.TargetKey != "" {
			// Linked to another target record before: its snapshot and
			// pending values say nothing about this one. (A create whose
			// answer was lost left no target key and its values pending:
			// they are checked against this record below.)
			snap, pend = nil, nil
		}
		compared = true
		if len(pend) > 0 {
			snap, pend = maps.Clone(snap), maps.Clone(pend)
			if snap == nil {
				snap = map[string]string{}
			}
			for p, pv := range pend {
				tv, has := cur[p]
				if !has {
					continue
				}
				if tv == pv {
					// This sync's own write, whose commit was lost.
					snap[p] = pv
				}
				delete(pend, p)
				resolved = true
			}
			if len(pend) == 0 {
				pend = nil
			}
		}
		// A value the target already holds needs no write, whoever put it
		// there: the other direction's write coming back before its echo
		// was recorded (echo.go), or this sync's own write whose answer
		// was lost and is now retried. It becomes the snapshot.
		for p, v := range vals {
			if tv, has := cur[p]; has && tv == v && snap[p] != v {
				if !resolved {
					snap = maps.Clone(snap)
					if snap == nil {
						snap = map[string]string{}
					}
				}
				snap[p] = v
				resolved, absorbed = true, true
			}
		}
		for _, f := range s.Fields {
			if f.Policy == SourceWins || f.CreateOnly {
				continue
			}
			v, set := vals[f.Path]
			base, had := snap[f.Path]
			tv, has := cur[f.Path]
			if !set || !has || tv == v || had && tv == base || !had && isEmptyJSON(tv) {
				continue
			}
			keep := false
			switch f.Policy {
			case TargetWins:
				keep = true
			case LastWriterWins:
				keep = s.SourceTime == nil || !s.SourceTime(rec).After(changedAt)
			case Queue:
				keep = true
				conflicts = append(conflicts, Conflict{Sync: s.Name, SourceKey: key, TargetKey: targetKey, Field: f.Path,
					SourceValue: v, TargetValue: tv, Snapshot: base, DetectedAt: e.cfg.now()})
			}
			if keep {
				f.Clear(&w)
				delete(vals, f.Path)
			}
		}
		if len(conflicts) > 0 {
			t.do(func(r *Report) { r.Conflicts += len(conflicts) })
		}
		if !changed() {
			out, err := unchanged(conflicts)
			if err == nil && absorbed {
				out = outcomeAbsorbed
			}
			return out, err
		}
	}

	action, out := "update", OutcomeUpdated
	if create {
		action, out = "create", OutcomeCreated
	}
	if dry {
		t.do(func(r *Report) {
			r.Writes = append(r.Writes, PlannedWrite{Sync: s.Name, SourceKey: key, TargetKey: targetKey, Action: action, Fields: vals})
		})
		return out, nil
	}
	if !create && r.policies && sameTarget {
		// Write-ahead intent: should the commit after the write be lost,
		// the next run recognises the written values as this sync's own
		// rather than as changes made in the target. Syncs whose fields are
		// all SourceWins never look at the target and skip this.
		np := maps.Clone(pend)
		if np == nil {
			np = make(map[string]string, len(vals))
		}
		maps.Copy(np, vals)
		if !maps.Equal(np, st.Pending) || !maps.Equal(snap, st.Snapshot) {
			if err := e.store.Commit(ctx, &Commit{Sync: s.Name, SourceKey: key, Intent: &Intent{Snapshot: snap, Pending: np}}); err != nil {
				return "", tag(stageStore, err)
			}
		}
	}
	// finish is the commit that follows a successful write to target key
	// tk (job: the target's job id of a bulk write).
	finish := func(tk, job string) *Commit {
		targetKey = tk
		c := base()
		c.State = newState()
		c.Conflicts = conflicts
		c.ResolveDeadLetters = true
		c.Audit = []AuditEntry{{Sync: s.Name, RunID: RunID(ctx), SourceKey: key, TargetKey: targetKey, Fields: fieldPaths(vals), Outcome: AuditOutcome(out), Job: job, At: e.cfg.now()}}
		if !found || st.TargetKey != targetKey {
			c.Xref = &Xref{Table: r.xref, SourceKey: key, TargetKey: targetKey}
		}
		return o.done(c)
	}
	r.logWrite(ctx, action, key, targetKey, vals, snap, sameTarget)
	if b, ok := o.batch.(*batcher[S, W]); ok && !r.policies {
		b.add(&batchItem[S, W]{key: key, w: w, create: create, targetKey: targetKey, out: out, finish: finish})
		return outcomeQueued, nil
	}
	idem := IdempotencyKey(s.Name, key, ver)
	if create {
		// A create whose commit was lost before (a crash, a store error)
		// left this write-ahead state: no target key, the values it sent
		// as pending.
		retried := found && st.TargetKey == "" && len(st.Pending) > 0
		if !retried || !maps.Equal(st.Pending, vals) {
			// Write-ahead create intent: should the commit after the create
			// be lost, the next attempt knows a create may have landed and
			// makes sure the target ends with the current values.
			ns := RecordState{Sync: s.Name, SourceKey: key, In: found && st.In, Version: st.Version,
				Pending: maps.Clone(vals), UpdatedAt: e.cfg.now()}
			if err := e.store.Commit(ctx, &Commit{Sync: s.Name, SourceKey: key, State: &ns}); err != nil {
				return "", tag(stageStore, err)
			}
		}
		// The create's key does not depend on the version, so a target
		// honouring idempotency keys answers a retried create (at any
		// version) with the record the first attempt created.
		tk, err := s.Create(ctx, &w, CreateIdempotencyKey(s.Name, key))
		if err != nil {
			return "", tag(stageTarget, err)
		}
		if tk == "" {
			return "", Permanent(fmt.Errorf("engine: %s: Create returned no target key", s.Name))
		}
		targetKey = tk
		if retried && !maps.Equal(st.Pending, vals) {
			// The target may have answered from its idempotency record
			// with the earlier values: write the current ones.
			uw, err := s.Map(ctx, rec, l, false)
			if err != nil {
				return "", err
			}
			for _, f := range s.Fields {
				if f.CreateOnly {
					f.Clear(&uw)
				}
			}
			if err := s.Update(ctx, targetKey, &uw, idem); err != nil {
				return "", tag(stageTarget, err)
			}
		}
	} else if err := s.Update(ctx, targetKey, &w, idem); err != nil {
		return "", tag(stageTarget, err)
	}
	c := finish(targetKey, "")
	// The write happened: its commit must not be dropped because the run
	// is being cancelled (a graceful shutdown), or the next run would not
	// know the target record. It is bounded on its own instead.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	if err := tag(stageStore, e.store.Commit(cctx, c)); err != nil {
		return "", err
	}
	return out, nil
}

// isEmptyJSON says a canonical JSON value holds nothing a conflict policy
// would keep: null or the empty string.
func isEmptyJSON(v string) bool { return v == "null" || v == `""` }

// logWrite says at debug level why a record is written: the fields whose
// values differ from what this sync last wrote (all of them for a create
// or a newly linked target), so that an operator can tell a real change
// from a rewrite of equal values.
func (r *runner[S, W]) logWrite(ctx context.Context, action, key, targetKey string, vals, snap map[string]string, sameTarget bool) {
	lg := r.e.cfg.logger
	if !lg.Enabled(ctx, slog.LevelDebug) {
		return
	}
	var changed []string
	for p, v := range vals {
		if sv, ok := snap[p]; !sameTarget || !ok || sv != v {
			changed = append(changed, p)
		}
	}
	slices.Sort(changed)
	lg.LogAttrs(ctx, slog.LevelDebug, "engine: writing record", slog.String("sync", r.s.Name), slog.String("action", action),
		slog.String("key", key), slog.String("target_key", targetKey), slog.Any("changed_fields", changed))
}

// logSkip says at debug level why a record was skipped: a record that
// never reaches its target is diagnosed from this line.
func (r *runner[S, W]) logSkip(ctx context.Context, key, reason string) {
	r.e.cfg.logger.LogAttrs(ctx, slog.LevelDebug, "engine: record skipped", slog.String("sync", r.s.Name),
		slog.String("key", key), slog.String("reason", reason))
}

// commitTimeout bounds the commit that follows a successful write, which
// does not end with the run's context.
const commitTimeout = 30 * time.Second

// poll runs one poll pass and returns the new checkpoint, or nil when the
// pass did not complete.
func (r *runner[S, W]) poll(ctx context.Context, rep *Report) (*Cursor, error) {
	s, e := r.s, r.e
	if s.Poll == nil && s.Feed == nil {
		return nil, nil
	}
	cp, hasCP, err := e.store.LoadCursor(ctx, s.Name)
	if err != nil {
		return nil, r.b.downError(tag(stageStore, err))
	}
	since := Cursor{}
	if hasCP {
		since = cp
		if s.CursorKind == CursorTime && !cp.Time.IsZero() {
			since.Time = cp.Time.Add(-s.Lookback)
		}
	}
	upper := Cursor{Time: e.cfg.now()}
	t := &tally{rep: rep, kind: s.CursorKind}
	st := newStopper()

	type job = pollJob[S]
	jobs := make(chan *job)
	var wg sync.WaitGroup
	if r.batching() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.batchPoll(ctx, jobs, t, st)
		}()
	}
	fl := newInflight()
	for range e.cfg.concurrency * r.unbatched() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				r.applyJob(ctx, j, t, st)
				fl.done(j.key)
			}
		}()
	}
	// The poll reads under its own deadline (records are applied under the
	// run's context): a listing that never ends must not hold the sync
	// forever. A cycle of page cursors is caught sooner, by the generated
	// iterator's page guard.
	pctx, cancelPoll := context.WithTimeout(ctx, e.cfg.pollTimeout)
	defer cancelPoll()
	var pollErr error
	for ch, err := range r.changes(pctx, since) {
		if err != nil {
			pollErr = err
			break
		}
		if st.stopped() || canceled(ctx) {
			break
		}
		if pctx.Err() != nil {
			pollErr = pctx.Err()
			break
		}
		j := &job{rec: ch.Record, cur: ch.Cursor, gone: ch.Gone, key: ch.Gone}
		if j.key == "" {
			j.key = s.Key(&j.rec)
		}
		t.see(j.cur)
		if !r.batching() {
			// (batchPoll applies a poll's records in order.)
			if j.gone != "" {
				fl.wait(j.key)
			}
			fl.add(j.key)
		}
		jobs <- j
	}
	close(jobs)
	wg.Wait()
	if err := st.error(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if pollErr != nil {
		if pctx.Err() != nil && ctx.Err() == nil {
			// The poll's own deadline, not the source's failure.
			return nil, fmt.Errorf("engine: sync %s: polling %s: %w after %s (WithPollTimeout): %w", s.Name, s.Source, ErrPollTimeout, e.cfg.pollTimeout, pollErr)
		}
		if IsSystemDown(pollErr) {
			return nil, r.b.downError(tag(stageSource, pollErr))
		}
		return nil, fmt.Errorf("engine: sync %s: polling %s: %w", s.Name, s.Source, pollErr)
	}
	// Every record seen is durable, dead-lettered, out of scope, or held.
	// The checkpoint is the largest cursor read from the source's own
	// records, never the engine's clock: source clocks drift and their
	// timestamps are coarse, so a clock-based checkpoint would pass changes
	// the source stamps later with an earlier time. For time cursors the
	// run's start is only an upper bound (a source clock running ahead is
	// read again next run, not skipped).
	var next Cursor
	switch {
	case !t.seen && !hasCP:
		return nil, nil
	case !t.seen:
		next = cp
	default:
		next = t.maxSeen
		if s.CursorKind == CursorTime && next.Time.After(upper.Time) {
			next = upper
		}
		if hasCP && less(s.CursorKind, next, cp) {
			// The lookback re-read only older records: keep the checkpoint.
			next = cp
		}
	}
	if t.pending && less(s.CursorKind, t.minPending, next) {
		next = t.minPending
	}
	rep.Cursor = next
	if e.cfg.dryRun {
		return nil, nil
	}
	return &next, nil
}

// applyJob applies one record (or deletion) of a poll that does not batch,
// holding its cursor when it is not durable.
func (r *runner[S, W]) applyJob(ctx context.Context, j *pollJob[S], t *tally, st *stopper) {
	s, e := r.s, r.e
	if st.stopped() || canceled(ctx) {
		t.hold(j.cur)
		t.count(OutcomeFailed)
		return
	}
	if j.gone != "" {
		if out := r.gone(ctx, j.gone, origin{}, t, st); out == OutcomeFailed {
			t.hold(j.cur)
		}
		return
	}
	get := func(context.Context) (*S, error) { return &j.rec, nil }
	var out Outcome
	_ = e.cfg.executor.Execute(ctx, Unit{Kind: UnitApply, Sync: s.Name,
		Key: s.Name + "/" + j.key + "/" + fmt.Sprint(s.Version(&j.rec)),
		Run: func(ctx context.Context) error {
			var err error
			out, err = r.process(ctx, get, origin{}, t, st)
			return err
		}})
	switch out {
	case OutcomeCreated, OutcomeUpdated, OutcomeUnchanged, OutcomeSkipped, OutcomeDeadLettered:
	default:
		t.hold(j.cur)
	}
}

// drain applies queued webhook events: events of one key in order, keys in
// parallel.
func (r *runner[S, W]) drain(ctx context.Context, rep *Report) error {
	s, e := r.s, r.e
	if !r.b.requeue {
		return nil
	}
	r.b.queueMu.Lock()
	defer r.b.queueMu.Unlock()
	t := &tally{rep: rep, kind: s.CursorKind}
	st := newStopper()
	var after int64
	for !st.stopped() && !canceled(ctx) {
		evs, err := e.store.Queued(ctx, s.Name, after, 256)
		if err != nil {
			return r.b.downError(tag(stageStore, err))
		}
		if len(evs) == 0 {
			break
		}
		after = evs[len(evs)-1].ID
		groups := map[string][]QueuedEvent{}
		var order []string
		for _, ev := range evs {
			if _, ok := groups[ev.SourceKey]; !ok {
				order = append(order, ev.SourceKey)
			}
			groups[ev.SourceKey] = append(groups[ev.SourceKey], ev)
		}
		keys := make(chan string)
		var wg sync.WaitGroup
		for range min(e.cfg.concurrency, len(order)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := range keys {
					for _, ev := range groups[k] {
						if st.stopped() || canceled(ctx) {
							break
						}
						r.event(ctx, ev, t, st)
					}
				}
			}()
		}
		for _, k := range order {
			keys <- k
		}
		close(keys)
		wg.Wait()
	}
	if err := st.error(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := e.store.PruneDedupe(ctx, e.cfg.now().Add(-e.cfg.dedupeTTL)); err != nil {
		return r.b.downError(tag(stageStore, err))
	}
	return nil
}

// event applies one queued event.
func (r *runner[S, W]) event(ctx context.Context, ev QueuedEvent, t *tally, st *stopper) {
	s, e := r.s, r.e
	if ev.Version > 0 && !ev.Deleted {
		cur, found, err := e.store.LoadRecord(ctx, s.Name, ev.SourceKey)
		if err != nil {
			st.stop(r.b.downError(tag(stageStore, err)))
			return
		}
		if found && cur.Version >= ev.Version {
			// Already applied this version or a newer one.
			if err := e.store.Commit(ctx, &Commit{Sync: s.Name, SourceKey: ev.SourceKey, DoneEvents: []int64{ev.ID}}); err != nil {
				st.stop(r.b.downError(tag(stageStore, err)))
				return
			}
			t.count(OutcomeSkipped)
			return
		}
	}
	gone := false
	get := func(ctx context.Context) (*S, error) {
		rec, err := s.Fetch(ctx, ev.SourceKey)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				gone = true
				return nil, nil
			}
			return nil, tag(stageSource, err)
		}
		if !ev.Deleted {
			if err := stale(s.Version(&rec), ev.Version); err != nil {
				// A lagging read must not consume the event: retried
				// with backoff, then dead-lettered at the event's version.
				return nil, err
			}
		}
		t.see(Cursor{})
		return &rec, nil
	}
	// Fetch first so that a record that is gone is handled here.
	rec, err := get(ctx)
	if err == nil && gone {
		r.gone(ctx, ev.SourceKey, origin{event: ev.ID}, t, st)
		return
	}
	o := origin{key: ev.SourceKey, version: ev.Version, event: ev.ID}
	first := true
	getOnce := func(ctx context.Context) (*S, error) {
		if first {
			first = false
			return rec, err
		}
		rec, err := get(ctx)
		if err == nil && gone {
			return nil, Permanent(fmt.Errorf("engine: record %q disappeared", ev.SourceKey))
		}
		return rec, err
	}
	_, _ = r.process(ctx, getOnce, o, t, st)
}

// stale returns an error when a fetched record's version is older than
// the version the event (or dead letter) announced: the source answered
// from a replica that has not caught up yet.
func stale(got, want int64) error {
	if want > 0 && got < want {
		return fmt.Errorf("engine: the source returned version %d, older than the announced version %d (a lagging read); retrying", got, want)
	}
	return nil
}

// gone handles a source record that no longer exists (a fetch answered
// not found, a webhook's or an events feed's deletion): it leaves scope.
// When it was in scope, the exit action (Sync.OnExit) runs first on its
// target record, with no record (a conditioned action does not run, see
// exit). A failing action is retried with backoff. When the system is
// down, or the sync keeps no dead letters, nothing is committed and gone
// answers OutcomeFailed: the caller keeps the poll's cursor (or the webhook
// event) so that the deletion is read and tried again. An action that
// fails permanently or exhausts its attempts is dead-lettered
// (OutcomeDeadLettered; replay runs it again). Once the state says out, the
// same deletion read again does nothing. It answers OutcomeSkipped when
// done.
func (r *runner[S, W]) gone(ctx context.Context, key string, o origin, t *tally, st *stopper) Outcome {
	s, e := r.s, r.e
	var unlock func()
	if b, ok := o.batch.(*batcher[S, W]); ok {
		// The batch holds the record's lock (batchPoll took it).
		unlock = b.lock(e.stripe(s.Name, key))
	} else {
		unlock = e.lockKey(s.Name, key)
	}
	defer unlock()
	maxAttempts := r.maxAttempts()
	start := e.cfg.now()
	fail := func() Outcome {
		t.count(OutcomeFailed)
		r.observe(OutcomeFailed, start)
		return OutcomeFailed
	}
	cur, found, err := e.store.LoadRecord(ctx, s.Name, key)
	if err != nil {
		st.stop(r.b.downError(tag(stageStore, err)))
		return fail()
	}
	in := found && cur.In
	if in && s.OnExit != nil && !e.cfg.dryRun {
		for attempt := 1; ; attempt++ {
			err := r.exit(ctx, nil, o, key, cur.TargetKey)
			if err == nil {
				st.wrote()
				break
			}
			if canceled(ctx) {
				return fail()
			}
			cl := classify(err)
			if cl == classDown && !recordLevel(err) {
				st.stop(r.b.downError(err))
				return fail()
			}
			if cl == classDeferred || (cl == classPermanent || attempt >= maxAttempts) && (!s.DeadLetter || e.cfg.dryRun) {
				e.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "engine: exit action of a deleted record failed; retried on the next run", slog.String("sync", s.Name), slog.String("key", key), slog.Int("attempts", attempt), slog.String("error", redactError(err)))
				return fail()
			}
			if cl == classPermanent || attempt >= maxAttempts {
				// Dead-lettered like a record: the deletion no longer holds
				// the sync's cursor (a contact deleted in the target by hand
				// answers 404 forever). The record stays in scope in its
				// state, so that a replay runs the exit action again.
				return r.deadLetterGone(ctx, key, o, attempt, err, t, st, start)
			}
			e.cfg.logger.LogAttrs(ctx, slog.LevelDebug, "engine: exit action of a deleted record failed", slog.String("sync", s.Name), slog.String("key", key), slog.Int("attempt", attempt), slog.String("error", redactError(err)))
			if !st.sleep(ctx, r.backoff(attempt)) {
				return fail()
			}
		}
	}
	if e.cfg.dryRun {
		t.count(OutcomeSkipped)
		return OutcomeSkipped
	}
	c := o.done(&Commit{Sync: s.Name, SourceKey: key})
	if in {
		cur.In = false
		cur.UpdatedAt = e.cfg.now()
		c.State = &cur
		c.ResolveDeadLetters = true
	}
	if err := e.store.Commit(ctx, c); err != nil {
		st.stop(r.b.downError(tag(stageStore, err)))
		return fail()
	}
	if in {
		e.cfg.logger.LogAttrs(ctx, slog.LevelDebug, "engine: deleted record left the scope", slog.String("sync", s.Name), slog.String("key", key), slog.Bool("exit_action", s.OnExit != nil))
	}
	t.count(OutcomeSkipped)
	r.observe(OutcomeSkipped, start)
	return OutcomeSkipped
}

// deadLetterGone records the deletion of key whose exit action failed
// for good as a dead letter with no payload (replay finds the record gone
// and runs the exit action again).
func (r *runner[S, W]) deadLetterGone(ctx context.Context, key string, o origin, attempt int, err error, t *tally, st *stopper, start time.Time) Outcome {
	now := r.e.cfg.now()
	dl := &DeadLetter{Sync: r.s.Name, SourceKey: key, Attempts: attempt, Error: "deleted at the source; exit action: " + redactError(err), CreatedAt: now, UpdatedAt: now}
	if o.replay {
		dl.Version = o.deadLetter.Version
	}
	if r.commitDeadLetter(ctx, dl, o, "engine: exit action of a deleted record dead-lettered", t, st, start) != nil {
		r.observe(OutcomeFailed, start)
		return OutcomeFailed
	}
	return OutcomeDeadLettered
}

// replay re-applies a dead letter.
func (r *runner[S, W]) replay(ctx context.Context, dl DeadLetter, rep *Report) error {
	s := r.s
	t := &tally{rep: rep, kind: s.CursorKind}
	st := newStopper()
	o := origin{key: dl.SourceKey, version: dl.Version, deadLetter: dl, replay: true}
	// The first attempt's fetch, made up front: a record deleted at the
	// source since (or a deletion whose exit action was dead-lettered)
	// leaves the scope as a deletion does.
	var first S
	var firstErr error
	fetched := false
	if s.Fetch != nil {
		first, firstErr = s.Fetch(ctx, dl.SourceKey)
		if errors.Is(firstErr, ErrNotFound) {
			if r.gone(ctx, dl.SourceKey, o, t, st) == OutcomeSkipped {
				return nil
			}
			if serr := st.error(); serr != nil {
				return serr
			}
			return fmt.Errorf("engine: replay %s/%d: the record is deleted at the source and its exit action failed again", s.Name, dl.ID)
		}
		fetched = true
	}
	get := func(ctx context.Context) (*S, error) {
		if s.Fetch != nil {
			rec, err := first, firstErr
			if !fetched {
				rec, err = s.Fetch(ctx, dl.SourceKey)
			}
			fetched = false
			if err != nil {
				if errors.Is(err, ErrNotFound) {
					return nil, Permanent(err)
				}
				return nil, tag(stageSource, err)
			}
			if err := stale(s.Version(&rec), dl.Version); err != nil {
				// Applying the older version would remove the dead letter
				// of the newer one.
				return nil, err
			}
			t.see(Cursor{})
			return &rec, nil
		}
		var rec S
		if err := json.Unmarshal(dl.Payload, &rec); err != nil {
			return nil, Permanent(fmt.Errorf("engine: decoding the dead letter's payload: %w", err))
		}
		t.see(Cursor{})
		return &rec, nil
	}
	out, err := r.process(ctx, get, o, t, st)
	if serr := st.error(); serr != nil {
		return serr
	}
	switch out {
	case OutcomeCreated, OutcomeUpdated, OutcomeUnchanged, OutcomeSkipped:
		return nil
	case OutcomeDeferred:
		return fmt.Errorf("engine: replay %s/%d: %w", s.Name, dl.ID, err)
	}
	if err == nil {
		err = errors.New("record not applied")
	}
	return fmt.Errorf("engine: replay %s/%d failed again: %w", s.Name, dl.ID, err)
}
