package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

func TestCreateUpdateUnchanged(t *testing.T) {
	f := setup(t, engine.NewMemoryStore())
	f.add(t)
	f.src.put(lead{ID: "a", Email: "A@x.io ", Name: "Ann"})
	f.src.put(lead{ID: "b", Email: "b@x.io", Name: "Bob"})
	f.src.put(lead{ID: "c", Email: "c@x.io", Name: "Cid", Status: "new"})

	rep := f.run(t)
	if rep.Seen != 3 || rep.InScope != 2 || rep.Created != 2 || rep.Skipped != 1 || rep.Updated != 0 {
		t.Fatalf("first run %+v", rep)
	}
	id, m := f.tgt.byEmail("a@x.io")
	if m == nil || m["name"] != `"Ann"` || m["status"] != `"subscribed"` {
		t.Fatalf("member a: %v %v", id, m)
	}
	c, ok := f.cursor(t)
	if !ok || !c.Time.Equal(rep.Cursor.Time) {
		t.Fatalf("cursor %v %v, report %v", c, ok, rep.Cursor)
	}

	// The rerun reads the same records again (lookback) and writes nothing.
	rep = f.run(t)
	if rep.Seen != 3 || rep.Unchanged != 2 || rep.Created+rep.Updated != 0 {
		t.Fatalf("rerun %+v", rep)
	}
	if cr, up, n := f.tgt.counts(); cr != 2 || up != 0 || n != 2 {
		t.Fatalf("target creates=%d updates=%d records=%d", cr, up, n)
	}

	// A change is an update; create-only fields are not written again.
	f.tgt.edit(id, "status", "unsubscribed", f.src.now())
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Anna"})
	rep = f.run(t)
	if rep.Updated != 1 || rep.Unchanged != 1 {
		t.Fatalf("update run %+v", rep)
	}
	_, m = f.tgt.byEmail("a@x.io")
	if m["name"] != `"Anna"` || m["status"] != `"unsubscribed"` {
		t.Fatalf("after update %v", m)
	}
	st, _, _ := f.store.LoadRecord(context.Background(), "leads", "a")
	if st.Version != 2 || !st.In || st.TargetKey != id || st.Snapshot["name"] != `"Anna"` {
		t.Fatalf("state %+v", st)
	}
	if tk, ok, _ := f.store.LookupXref(context.Background(), "leads_members", "a"); !ok || tk != id {
		t.Fatalf("xref %q %v", tk, ok)
	}
}

func TestNaturalKeyMatch(t *testing.T) {
	f := setup(t, engine.NewMemoryStore())
	f.add(t)
	// The member exists already (added by hand): the sync finds it by email
	// and updates it instead of creating a duplicate.
	existing, _ := f.tgt.Create(context.Background(), &write{F: map[string]string{"email": `"a@x.io"`, "name": `"old"`}}, "manual")
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Ann"})
	rep := f.run(t)
	if rep.Updated != 1 || rep.Created != 0 {
		t.Fatalf("%+v", rep)
	}
	if _, _, n := f.tgt.counts(); n != 1 {
		t.Fatalf("duplicate created: %d members", n)
	}
	_, m := f.tgt.byEmail("a@x.io")
	if m["name"] != `"Ann"` || m["status"] != "" {
		t.Fatalf("member %v (create-only status must not be written on a match)", m)
	}
	if tk, ok, _ := f.store.LookupXref(context.Background(), "leads_members", "a"); !ok || tk != existing {
		t.Fatalf("xref after natural-key match %q %v", tk, ok)
	}
}

// TestNaturalKeyMatchTargetWins: on the first write to a target record
// found by its natural key, a field the target wins keeps the value the
// target holds (sales named the contact before billing knew it); an
// empty one is filled; values the target already holds are not written.
func TestNaturalKeyMatchTargetWins(t *testing.T) {
	f := setup(t, engine.NewMemoryStore())
	f.sync.Fields[1].Policy = engine.TargetWins
	f.add(t)
	ctx := context.Background()
	named, _ := f.tgt.Create(ctx, &write{F: map[string]string{"email": `"a@x.io"`, "name": `"Sales name"`}}, "manual-a")
	empty, _ := f.tgt.Create(ctx, &write{F: map[string]string{"email": `"b@x.io"`, "name": `""`}}, "manual-b")
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Billing name"})
	f.src.put(lead{ID: "b", Email: "b@x.io", Name: "Bo"})
	rep := f.run(t)
	if rep.Created != 0 || rep.Updated != 1 || rep.Unchanged != 1 {
		t.Fatalf("want b updated (its empty name filled) and a unchanged (it holds its email, keeps its name): %+v", rep)
	}
	if _, m := f.tgt.byEmail("a@x.io"); m["name"] != `"Sales name"` {
		t.Fatalf("member a: %v, want the target's name kept", m)
	}
	if _, m := f.tgt.byEmail("b@x.io"); m["name"] != `"Bo"` {
		t.Fatalf("member b: %v, want the empty name filled", m)
	}
	for src, tk := range map[string]string{"a": named, "b": empty} {
		if got, ok, _ := f.store.LookupXref(ctx, "leads_members", src); !ok || got != tk {
			t.Fatalf("xref of %s = %q %v, want %s", src, got, ok, tk)
		}
	}
	_, updates, _ := f.tgt.counts()
	f.run(t)
	if _, u, _ := f.tgt.counts(); u != updates {
		t.Fatalf("a second run wrote %d updates", u-updates)
	}
}

// TestLostCreateAnswerFoundByNaturalKey: a create that landed but whose
// answer was lost is found by its natural key on the retry, and, the
// target holding the values already, not written a second time.
func TestLostCreateAnswerFoundByNaturalKey(t *testing.T) {
	f := setup(t, engine.NewMemoryStore())
	f.sync.Fields[1].Policy = engine.TargetWins
	lost := true
	f.sync.Create = func(ctx context.Context, w *write, idem string) (string, error) {
		id, err := f.tgt.Create(ctx, w, idem)
		if err == nil && lost {
			lost = false
			return "", errors.New("500 after the create applied")
		}
		return id, err
	}
	f.add(t)
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Ann"})
	f.run(t)
	creates, updates, n := f.tgt.counts()
	if creates != 1 || updates != 0 || n != 1 {
		t.Fatalf("%d creates, %d updates, %d members; want the one create and no rewrite", creates, updates, n)
	}
	id, _ := f.tgt.byEmail("a@x.io")
	if tk, ok, _ := f.store.LookupXref(context.Background(), "leads_members", "a"); !ok || tk != id {
		t.Fatalf("xref %q %v, want %s", tk, ok, id)
	}
}

func TestTriggerEnterExit(t *testing.T) {
	f := setup(t, engine.NewMemoryStore())
	// Leaving needs status "lost"; "contacted" keeps a record that was in.
	f.sync.Exit = func(l *lead) bool { return l.Status == "lost" }
	f.add(t)
	ctx := context.Background()

	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Ann", Status: "new"})
	if rep := f.run(t); rep.Skipped != 1 || rep.Created != 0 {
		t.Fatalf("out of scope %+v", rep)
	}
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Ann", Status: "qualified"})
	if rep := f.run(t); rep.Created != 1 {
		t.Fatalf("enter %+v", rep)
	}
	// Hysteresis: no longer matching Enter but not Exit either: still in.
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Ann B", Status: "contacted"})
	if rep := f.run(t); rep.Updated != 1 {
		t.Fatalf("stay in %+v", rep)
	}
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Ann C", Status: "lost"})
	if rep := f.run(t); rep.Skipped != 1 || rep.Updated != 0 {
		t.Fatalf("exit %+v", rep)
	}
	st, _, _ := f.store.LoadRecord(ctx, "leads", "a")
	if st.In || st.Version != 4 {
		t.Fatalf("state after exit %+v", st)
	}
	// While out, changes are not written even if Enter would not hold.
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Ann D", Status: "contacted"})
	if rep := f.run(t); rep.Skipped != 1 || rep.Updated != 0 {
		t.Fatalf("out, contacted %+v", rep)
	}
	// Entering again writes the current values to the same member.
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Ann E", Status: "qualified"})
	if rep := f.run(t); rep.Updated != 1 || rep.Created != 0 {
		t.Fatalf("re-enter %+v", rep)
	}
	if _, m := f.tgt.byEmail("a@x.io"); m["name"] != `"Ann E"` {
		t.Fatalf("member %v", m)
	}
	// Soft delete leaves scope.
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Ann E", Status: "qualified", Deleted: true})
	f.run(t)
	if st, _, _ := f.store.LoadRecord(ctx, "leads", "a"); st.In {
		t.Fatal("deleted record still in scope")
	}
}

func TestConflictPolicies(t *testing.T) {
	for _, tc := range []struct {
		policy engine.Policy
		// target edit time relative to the source change
		targetLater bool
		wantName    string
		conflicts   int
	}{
		{engine.SourceWins, true, "Src2", 0},
		{engine.TargetWins, false, "Tgt", 0},
		{engine.LastWriterWins, false, "Src2", 0},
		{engine.LastWriterWins, true, "Tgt", 0},
		{engine.Queue, false, "Tgt", 1},
	} {
		t.Run(fmt.Sprintf("policy%d_later%v", tc.policy, tc.targetLater), func(t *testing.T) {
			f := setup(t, engine.NewMemoryStore())
			f.sync.Fields[1].Policy = tc.policy
			f.add(t)
			ctx := context.Background()
			f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Src1"})
			f.run(t)
			id, _ := f.tgt.byEmail("a@x.io")

			f.src.advance(time.Minute)
			editAt := f.src.now()
			f.src.advance(time.Minute)
			l := f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Src2"})
			if tc.targetLater {
				editAt = l.Updated.Add(time.Minute)
			}
			f.tgt.edit(id, "name", "Tgt", editAt)
			rep := f.run(t)
			if rep.Conflicts != tc.conflicts {
				t.Fatalf("conflicts %d, want %d (%+v)", rep.Conflicts, tc.conflicts, rep)
			}
			_, m := f.tgt.byEmail("a@x.io")
			if m["name"] != strconv.Quote(tc.wantName) {
				t.Fatalf("name %s, want %q", m["name"], tc.wantName)
			}
			cs, _ := f.eng.Conflicts(ctx, "leads")
			if len(cs) != tc.conflicts {
				t.Fatalf("stored conflicts %+v", cs)
			}
			if tc.conflicts > 0 {
				c := cs[0]
				if c.Field != "name" || c.SourceValue != `"Src2"` || c.TargetValue != `"Tgt"` || c.Snapshot != `"Src1"` || c.TargetKey != id {
					t.Fatalf("conflict %+v", c)
				}
				// The conflict stays one entry across runs.
				f.run(t)
				if cs, _ := f.eng.Conflicts(ctx, "leads"); len(cs) != 1 {
					t.Fatalf("conflicts after rerun %d", len(cs))
				}
			}
			// A kept target value stays kept: the next source change to
			// another field does not overwrite it.
			if tc.wantName == "Tgt" {
				f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Src2", Status: "qualified", Owner: "o"})
				f.run(t)
				if _, m := f.tgt.byEmail("a@x.io"); m["name"] != `"Tgt"` {
					t.Fatalf("target value overwritten later: %v", m)
				}
			}
		})
	}
}

func TestCursorHeldByDeferredRecord(t *testing.T) {
	f := setup(t, engine.NewMemoryStore(), engine.WithConcurrency(4))
	inner := f.sync.Map
	f.sync.Map = func(ctx context.Context, l *lead, lk engine.Lookups, create bool) (write, error) {
		if l.Owner == "pending" {
			return write{}, fmt.Errorf("owner not synced yet: %w", engine.ErrDeferred)
		}
		return inner(ctx, l, lk, create)
	}
	f.add(t)
	var held lead
	for i := range 20 {
		l := f.src.put(lead{ID: fmt.Sprint("l", i), Email: fmt.Sprintf("l%d@x.io", i), Name: "N"})
		if i == 7 {
			held = f.src.put(lead{ID: l.ID, Email: l.Email, Name: "N", Owner: "pending"})
		}
	}
	rep := f.run(t)
	if rep.Deferred != 1 || rep.Created != 19 {
		t.Fatalf("%+v", rep)
	}
	c, _ := f.cursor(t)
	if !c.Time.Equal(held.Updated) {
		t.Fatalf("cursor %v, want the deferred record's %v", c.Time, held.Updated)
	}
	// Still deferred: the cursor stays.
	f.src.advance(time.Hour)
	rep = f.run(t)
	if c2, _ := f.cursor(t); !c2.Time.Equal(held.Updated) || rep.Deferred != 1 {
		t.Fatalf("cursor moved past a deferred record: %v (%+v)", c2.Time, rep)
	}
	f.src.put(lead{ID: held.ID, Email: held.Email, Name: "N"})
	rep = f.run(t)
	if rep.Created != 1 {
		t.Fatalf("%+v", rep)
	}
	if c3, _ := f.cursor(t); !c3.Time.After(held.Updated) {
		t.Fatalf("cursor did not move on: %v", c3.Time)
	}
}

func TestCursorNeverPassesFailedRecord(t *testing.T) {
	f := setup(t, engine.NewMemoryStore(), engine.WithConcurrency(8))
	f.sync.DeadLetter = false
	f.add(t)
	for i := range 50 {
		f.src.put(lead{ID: fmt.Sprint("l", i), Email: fmt.Sprintf("l%d@x.io", i), Name: "N"})
	}
	f.tgt.setFail(func(w *write) error {
		if w.F["email"] == `"l20@x.io"` {
			return errors.New("422 rejected")
		}
		return nil
	})
	rep, err := f.eng.RunOnce(context.Background(), "leads")
	var re *engine.RecordError
	if !errors.As(err, &re) || re.SourceKey != "l20" || re.Attempts != 3 {
		t.Fatalf("err %v", err)
	}
	if _, ok := f.cursor(t); ok {
		t.Fatal("checkpoint written although a record failed")
	}
	if rep.Failed == 0 {
		t.Fatalf("%+v", rep)
	}
	// A later successful run writes the rest without duplicates.
	f.tgt.setFail(nil)
	rep = f.run(t)
	if cr, _, n := f.tgt.counts(); cr != 50 || n != 50 {
		t.Fatalf("creates %d members %d (%+v)", cr, n, rep)
	}
	if _, ok := f.cursor(t); !ok {
		t.Fatal("no checkpoint after success")
	}
}

func TestDeadLetterAndReplay(t *testing.T) {
	f := setup(t, engine.NewMemoryStore())
	f.add(t)
	ctx := context.Background()
	f.src.put(lead{ID: "bad", Email: "bad@x.io", Name: "!bad"})
	f.src.put(lead{ID: "flaky", Email: "flaky@x.io", Name: "Flo"})
	f.src.put(lead{ID: "ok", Email: "ok@x.io", Name: "Oki"})
	calls := 0
	f.tgt.setFail(func(w *write) error {
		if w.F["email"] == `"flaky@x.io"` {
			calls++
			return errors.New(`upstream said: {"error":"bad","access_token":"sekrit-token"} Authorization: Bearer abc.def.ghi`)
		}
		return nil
	})
	rep := f.run(t)
	if rep.DeadLettered != 2 || rep.Created != 1 {
		t.Fatalf("%+v", rep)
	}
	if calls != 3 {
		t.Fatalf("flaky record tried %d times, want MaxAttempts=3", calls)
	}
	// Dead letters are durable: the cursor moved past them.
	if c, ok := f.cursor(t); !ok || !c.Time.Equal(rep.Cursor.Time) || c.Time.IsZero() {
		t.Fatal("cursor did not move past dead letters")
	}
	dls, err := f.eng.DeadLetters(ctx, "leads")
	if err != nil || len(dls) != 2 {
		t.Fatalf("%v %+v", err, dls)
	}
	var bad, flaky engine.DeadLetter
	for _, d := range dls {
		switch d.SourceKey {
		case "bad":
			bad = d
		case "flaky":
			flaky = d
		}
	}
	if bad.Attempts != 1 || !strings.Contains(bad.Error, "must not start") {
		t.Fatalf("permanent error dead letter %+v", bad)
	}
	if flaky.Attempts != 3 || strings.Contains(flaky.Error, "sekrit") || strings.Contains(flaky.Error, "abc.def.ghi") || !strings.Contains(flaky.Error, "upstream said") {
		t.Fatalf("dead letter error not redacted or wrong: %q", flaky.Error)
	}
	var payload lead
	if err := json.Unmarshal(flaky.Payload, &payload); err != nil || payload.ID != "flaky" || payload.Name != "Flo" {
		t.Fatalf("payload %s: %v", flaky.Payload, err)
	}
	// A rerun does not retry dead letters (unchanged records are re-read
	// but the version is the same, so the dead letter stays).
	// Replay while still failing: the dead letter is updated.
	if err := f.eng.Replay(ctx, "leads", flaky.ID); err == nil {
		t.Fatal("replay of a still failing record succeeded")
	}
	d, ok, _ := f.store.DeadLetter(ctx, "leads", flaky.ID)
	if !ok || d.Attempts != 6 {
		t.Fatalf("dead letter after failed replay %+v %v", d, ok)
	}
	// Fixed: replay applies it and removes the dead letter.
	f.tgt.setFail(nil)
	if err := f.eng.Replay(ctx, "leads", flaky.ID); err != nil {
		t.Fatal(err)
	}
	if _, m := f.tgt.byEmail("flaky@x.io"); m == nil {
		t.Fatal("replayed record not written")
	}
	f.src.put(lead{ID: "bad", Email: "bad@x.io", Name: "Good now"})
	if err := f.eng.Replay(ctx, "leads", bad.ID); err != nil {
		t.Fatal(err)
	}
	if dls, _ := f.eng.DeadLetters(ctx, "leads"); len(dls) != 0 {
		t.Fatalf("dead letters left %+v", dls)
	}
	if err := f.eng.Replay(ctx, "leads", bad.ID); !errors.Is(err, engine.ErrNoDeadLetter) {
		t.Fatalf("replaying a resolved dead letter: %v", err)
	}
	if cr, _, n := f.tgt.counts(); cr != 3 || n != 3 {
		t.Fatalf("creates %d members %d", cr, n)
	}
}

func TestDeadLetterResolvedByNewerVersion(t *testing.T) {
	f := setup(t, engine.NewMemoryStore())
	f.add(t)
	f.src.put(lead{ID: "bad", Email: "bad@x.io", Name: "!bad"})
	f.run(t)
	if n, _ := f.store.DeadLetterCount(context.Background(), "leads"); n != 1 {
		t.Fatal("no dead letter")
	}
	f.src.put(lead{ID: "bad", Email: "bad@x.io", Name: "fixed at the source"})
	f.run(t)
	if n, _ := f.store.DeadLetterCount(context.Background(), "leads"); n != 0 {
		t.Fatal("dead letter not resolved by a newer applied version")
	}
}

func TestDryRun(t *testing.T) {
	store := engine.NewMemoryStore()
	f := setup(t, store, engine.WithDryRun())
	f.add(t)
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Ann"})
	f.src.put(lead{ID: "b", Email: "b@x.io", Name: "Bob"})
	existing, _ := f.tgt.Create(context.Background(), &write{F: map[string]string{"email": `"b@x.io"`}}, "manual")
	creates, _, _ := f.tgt.counts()
	rep := f.run(t)
	if !rep.DryRun || rep.Created != 1 || rep.Updated != 1 || len(rep.Writes) != 2 {
		t.Fatalf("%+v", rep)
	}
	for _, w := range rep.Writes {
		switch w.SourceKey {
		case "a":
			if w.Action != "create" || w.TargetKey != "" || w.Fields["name"] != `"Ann"` || w.Fields["status"] != `"subscribed"` {
				t.Fatalf("planned %+v", w)
			}
		case "b":
			if w.Action != "update" || w.TargetKey != existing || w.Fields["status"] != "" {
				t.Fatalf("planned %+v", w)
			}
		}
	}
	if c, _, n := f.tgt.counts(); c != creates || n != 1 {
		t.Fatal("dry run wrote to the target")
	}
	ctx := context.Background()
	if _, ok, _ := store.LoadCursor(ctx, "leads"); ok {
		t.Fatal("dry run stored a cursor")
	}
	if _, ok, _ := store.LoadRecord(ctx, "leads", "a"); ok {
		t.Fatal("dry run stored record state")
	}
	if runs, _ := store.Runs(ctx, "leads", 0); len(runs) != 0 {
		t.Fatal("dry run stored run history")
	}
	b, _ := json.Marshal(rep)
	if !strings.Contains(string(b), `"dry_run":true`) || !strings.Contains(string(b), `"source_key":"a"`) {
		t.Fatalf("report JSON %s", b)
	}
}

func down(kind transport.Kind) error {
	return &transport.Error{Kind: kind, Method: "POST", OperationID: "addMember", Attempts: 4, Err: errors.New("connection refused")}
}

func TestTargetDownOneAlertCatchUp(t *testing.T) {
	f := setup(t, engine.NewMemoryStore(), engine.WithConcurrency(4))
	f.sync.Alerts = engine.AlertRules{ConsecutiveFailures: 2}
	f.add(t)
	ctx := context.Background()
	for i := range 30 {
		f.src.put(lead{ID: fmt.Sprint("l", i), Email: fmt.Sprintf("l%d@x.io", i), Name: "N"})
	}
	f.run(t)
	c0, _ := f.cursor(t)
	for i := range 30 {
		f.src.put(lead{ID: fmt.Sprint("l", i), Email: fmt.Sprintf("l%d@x.io", i), Name: "M"})
	}
	calls := 0
	f.tgt.setFail(func(*write) error { calls++; return down(transport.ErrUnavailable) })
	for run := 1; run <= 3; run++ {
		rep, err := f.eng.RunOnce(ctx, "leads")
		var sd *engine.SystemDownError
		if !errors.As(err, &sd) || sd.System != "email" || sd.Auth {
			t.Fatalf("run %d: err %v", run, err)
		}
		if rep.DeadLettered != 0 || rep.Updated != 0 {
			t.Fatalf("run %d: %+v", run, rep)
		}
	}
	// No attempts burned: at most one call per worker per run, no retries.
	if calls > 3*4 {
		t.Fatalf("%d target calls while down", calls)
	}
	if c, _ := f.cursor(t); !c.Time.Equal(c0.Time) {
		t.Fatalf("cursor moved while the target was down: %v -> %v", c0.Time, c.Time)
	}
	if n, _ := f.store.DeadLetterCount(ctx, "leads"); n != 0 {
		t.Fatal("dead letters while down")
	}
	if n := f.alerts.count(engine.AlertSystemDown, false); n != 1 {
		t.Fatalf("%d system_down alerts, want 1: %+v", n, f.alerts.get())
	}
	if n := f.alerts.count(engine.AlertConsecutiveFailures, false); n != 1 {
		t.Fatalf("%d consecutive_failures alerts, want 1", n)
	}
	st, _ := f.store.LoadStatus(ctx, "leads")
	if st.ConsecutiveFailures != 3 || st.LastError == "" {
		t.Fatalf("status %+v", st)
	}
	// Back up: the next run catches up.
	f.tgt.setFail(nil)
	rep := f.run(t)
	if rep.Updated != 30 {
		t.Fatalf("catch-up %+v", rep)
	}
	if _, up, n := f.tgt.counts(); up != 30 || n != 30 {
		t.Fatalf("updates %d members %d", up, n)
	}
	if c, _ := f.cursor(t); !c.Time.After(c0.Time) {
		t.Fatal("cursor did not move after catch-up")
	}
	if f.alerts.count(engine.AlertSystemDown, true) != 1 || f.alerts.count(engine.AlertConsecutiveFailures, true) != 1 {
		t.Fatalf("alerts not resolved: %+v", f.alerts.get())
	}
	if st, _ := f.store.LoadStatus(ctx, "leads"); st.ConsecutiveFailures != 0 {
		t.Fatalf("status %+v", st)
	}
}

func TestSourceDownAndReauthorize(t *testing.T) {
	f := setup(t, engine.NewMemoryStore())
	f.add(t)
	ctx := context.Background()
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Ann"})
	f.src.pollErr = &transport.RetryLaterError{Status: 429, Wait: time.Hour, RetryAt: time.Now().Add(time.Hour)}
	_, err := f.eng.RunOnce(ctx, "leads")
	var sd *engine.SystemDownError
	if !errors.As(err, &sd) || sd.System != "crm" || sd.RetryAt.IsZero() {
		t.Fatalf("err %v", err)
	}
	if _, ok := f.cursor(t); ok {
		t.Fatal("cursor set after an incomplete poll")
	}
	f.src.pollErr = nil
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Ann 2"})
	f.tgt.setDown(fmt.Errorf("oauth2: invalid_grant: %w", transport.ErrAuth))
	_, err = f.eng.RunOnce(ctx, "leads")
	if !errors.As(err, &sd) || !sd.Auth {
		t.Fatalf("err %v", err)
	}
	f.eng.RunOnce(ctx, "leads")
	if n := f.alerts.count(engine.AlertReauthorize, false); n != 1 {
		t.Fatalf("%d reauthorization alerts: %+v", n, f.alerts.get())
	}
}

func TestPauseAfterFailures(t *testing.T) {
	f := setup(t, engine.NewMemoryStore(), engine.WithPauseAfter(2))
	f.add(t)
	ctx := context.Background()
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Ann"})
	f.tgt.setDown(down(transport.ErrServer))
	for range 2 {
		if _, err := f.eng.RunOnce(ctx, "leads"); err == nil {
			t.Fatal("run succeeded with the target down")
		}
	}
	if _, err := f.eng.RunOnce(ctx, "leads"); !errors.Is(err, engine.ErrPaused) {
		t.Fatalf("third run: %v", err)
	}
	if f.alerts.count(engine.AlertPaused, false) != 1 {
		t.Fatalf("alerts %+v", f.alerts.get())
	}
	st, _ := f.eng.Status(ctx, "leads")
	if !st.Paused {
		t.Fatalf("status %+v", st)
	}
	f.tgt.setDown(nil)
	if _, err := f.eng.RunOnce(ctx, "leads"); !errors.Is(err, engine.ErrPaused) {
		t.Fatal("paused sync ran before Resume")
	}
	if err := f.eng.Resume("leads"); err != nil {
		t.Fatal(err)
	}
	if rep := f.run(t); rep.Created != 1 {
		t.Fatalf("%+v", rep)
	}
	if f.alerts.count(engine.AlertPaused, true) != 1 {
		t.Fatal("paused alert not resolved")
	}
}

func TestFreshnessAndDeadLetterAlerts(t *testing.T) {
	f := setup(t, engine.NewMemoryStore())
	f.sync.Alerts = engine.AlertRules{Freshness: time.Hour, DeadLetters: 2}
	f.add(t)
	ctx := context.Background()
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "!bad"})
	f.src.put(lead{ID: "b", Email: "b@x.io", Name: "!bad"})
	f.run(t)
	if f.alerts.count(engine.AlertDeadLetters, false) != 1 {
		t.Fatalf("alerts %+v", f.alerts.get())
	}
	f.src.advance(2 * time.Hour)
	_ = f.eng.CheckAlerts(ctx)
	_ = f.eng.CheckAlerts(ctx)
	if f.alerts.count(engine.AlertFreshness, false) != 1 {
		t.Fatalf("alerts %+v", f.alerts.get())
	}
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "fixed"})
	f.run(t)
	if f.alerts.count(engine.AlertFreshness, true) != 1 || f.alerts.count(engine.AlertDeadLetters, true) != 1 {
		t.Fatalf("alerts %+v", f.alerts.get())
	}
}

func TestConcurrentApplies(t *testing.T) {
	f := setup(t, engine.NewMemoryStore(), engine.WithConcurrency(100))
	f.tgt.delay = 5 * time.Millisecond
	f.add(t)
	for i := range 100 {
		f.src.put(lead{ID: fmt.Sprint("l", i), Email: fmt.Sprintf("l%d@x.io", i), Name: "N"})
	}
	rep := f.run(t)
	if rep.Created != 100 || rep.Seen != 100 {
		t.Fatalf("%+v", rep)
	}
	if m := f.tgt.maxFlight.Load(); m < 10 || m > 100 {
		t.Fatalf("max concurrent writes %d", m)
	}
	if cr, _, n := f.tgt.counts(); cr != 100 || n != 100 {
		t.Fatalf("creates %d members %d", cr, n)
	}
	// Two concurrent runs of the same sync plus a queue drain: no
	// duplicates.
	for i := range 100 {
		f.src.put(lead{ID: fmt.Sprint("l", i), Email: fmt.Sprintf("l%d@x.io", i), Name: "M"})
	}
	done := make(chan error, 3)
	for range 2 {
		go func() { _, err := f.eng.RunOnce(context.Background(), "leads"); done <- err }()
	}
	go func() { _, err := f.eng.ProcessQueue(context.Background(), "leads"); done <- err }()
	for range 3 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if cr, up, n := f.tgt.counts(); cr != 100 || up != 100 || n != 100 {
		t.Fatalf("creates %d updates %d members %d", cr, up, n)
	}
}

func TestIntCursor(t *testing.T) {
	f := setup(t, engine.NewMemoryStore())
	var seq []lead
	f.sync.CursorKind = engine.CursorInt
	f.sync.Cursor = func(l *lead) engine.Cursor { return engine.Cursor{Int: l.Version} }
	f.sync.Poll = func(_ context.Context, since engine.Cursor) iter.Seq2[lead, error] {
		return func(yield func(lead, error) bool) {
			for _, l := range seq {
				if l.Version >= since.Int && !yield(l, nil) {
					return
				}
			}
		}
	}
	f.add(t)
	for i := 1; i <= 5; i++ {
		seq = append(seq, lead{ID: fmt.Sprint("l", i), Email: fmt.Sprintf("l%d@x.io", i), Name: "N", Status: "qualified", Version: int64(i * 10)})
	}
	rep := f.run(t)
	if rep.Created != 5 || rep.Cursor.Int != 50 {
		t.Fatalf("%+v", rep)
	}
	seq = append(seq, lead{ID: "l6", Email: "l6@x.io", Name: "!bad", Status: "qualified", Version: 60})
	rep = f.run(t)
	if rep.Seen != 2 || rep.DeadLettered != 1 || rep.Cursor.Int != 60 {
		t.Fatalf("%+v", rep)
	}
}

func TestTokenHook(t *testing.T) {
	store := engine.NewMemoryStore()
	e := engine.New(store)
	ctx := context.Background()
	if tok, err := e.Token(ctx, "crm"); tok != nil || err != nil {
		t.Fatalf("%v %v", tok, err)
	}
	exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := e.TokenHook("crm")(ctx, &oauth2.Token{AccessToken: "at", RefreshToken: "rotated-2", Expiry: exp, TokenType: "Bearer"}); err != nil {
		t.Fatal(err)
	}
	tok, err := e.Token(ctx, "crm")
	if err != nil || tok.RefreshToken != "rotated-2" || !tok.Expiry.Equal(exp) {
		t.Fatalf("%+v %v", tok, err)
	}
}

func TestAddValidates(t *testing.T) {
	e := engine.New(engine.NewMemoryStore())
	s := newSync("x", newSource(), newTarget())
	s.Create = nil
	if err := engine.Add(e, s); err == nil || !strings.Contains(err.Error(), "Create") {
		t.Fatalf("Add without Create: %v", err)
	}
	s = newSync("x", newSource(), newTarget())
	if err := engine.Add(e, s); err != nil {
		t.Fatal(err)
	}
	if err := engine.Add(e, s); err == nil {
		t.Fatal("duplicate name accepted")
	}
	if _, err := e.RunOnce(context.Background(), "nope"); !errors.Is(err, engine.ErrUnknownSync) {
		t.Fatal(err)
	}
}

func TestRunLoop(t *testing.T) {
	f := setup(t, engine.NewMemoryStore(), engine.WithClock(time.Now))
	f.sync.Every = 5 * time.Millisecond
	f.add(t)
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Ann"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- f.eng.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, m := f.tgt.byEmail("a@x.io"); m != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run did not sync")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestReportJSON(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	rep := engine.Report{Sync: "s", Created: 2, DeadLettered: 1, Cursor: engine.Cursor{Time: at}, DryRun: true}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"sync":"s"`, `"created":2`, `"dead_lettered":1`, `"in_scope":0`, `"cursor":{"time":"2025-01-02T03:04:05.000000006Z"}`, `"dry_run":true`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	var back engine.Report
	if err := json.Unmarshal(b, &back); err != nil || !back.Cursor.Time.Equal(at) {
		t.Fatalf("%v %+v", err, back)
	}
	b, _ = json.Marshal(engine.Cursor{Int: 42})
	if string(b) != `{"int":42}` {
		t.Fatal(string(b))
	}
}
