package main

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/connectorgen/connectorgen/cmd/crmsync-demo/sim"
	"github.com/connectorgen/connectorgen/golden/crmemail"
	"github.com/connectorgen/connectorgen/runtime/engine"
)

// failingStore fails Commit while fail is set, as a crash between a write
// and its commit would leave things.
type failingStore struct {
	engine.Store
	fail atomic.Bool
}

func (f *failingStore) Commit(ctx context.Context, c *engine.Commit) error {
	if f.fail.Load() && c.State != nil {
		return errors.New("injected: the process died before the commit")
	}
	return f.Store.Commit(ctx, c)
}

// TestTargetWinsAfterLostCommit: when the commit after a successful update
// is lost (a crash, or the client giving up on a write whose answer was
// lost), the engine must not read its own write back as a change made in
// the target; a target_wins field (merge_fields.FNAME) keeps following the
// source. The engine records the intended values before such a write.
func TestTargetWinsAfterLostCommit(t *testing.T) {
	s := sim.New(sim.Options{Seed: 5, Leads: 50})
	defer s.Close()
	c := Config{StatePath: t.TempDir() + "/state.db"}
	c.defaults()
	env, err := NewEnv(context.Background(), c, s.CRM.BaseURL(), s.CRM.TokenURL(), s.Email.BaseURL())
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	fs := &failingStore{Store: env.Store}
	e := engine.New(fs)
	if err := crmemail.Register(e, env.Clients); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, n := range syncNames {
		if _, err := e.RunOnce(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	lead := qualifiedLeads(s)[0].ID
	s.CRM.Update(lead, func(l *sim.Lead) { l.FirstName = ptrTo("Second") })
	fs.fail.Store(true)
	_, err = e.RunOnce(ctx, leadsSync) // the update reaches the email system; its commit does not
	if err == nil {
		t.Fatal("the injected commit failure did not stop the run")
	}
	fs.fail.Store(false)
	if m := memberOf(t, s, lead); m.MergeFields["FNAME"] != "Second" {
		t.Fatalf("FNAME %q after the update", m.MergeFields["FNAME"])
	}
	s.CRM.Update(lead, func(l *sim.Lead) { l.FirstName = ptrTo("Third") })
	if _, err := e.RunOnce(ctx, leadsSync); err != nil {
		t.Fatal(err)
	}
	if m := memberOf(t, s, lead); m.MergeFields["FNAME"] != "Third" {
		t.Errorf("FNAME %q, want %q: the engine took its own uncommitted write for a change in the target", m.MergeFields["FNAME"], "Third")
	}
}

// TestClearedSourceFieldClearsTarget: when a mapped source field loses its
// value (a lead's phone number or rating removed), the generated Map marks
// the target fields null and the update clears them in the email system
// (MOBILE, LANDLINE, TIER), instead of leaving stale values.
func TestClearedSourceFieldClearsTarget(t *testing.T) {
	s, env := newTestEnv(t, 100)
	runAll(t, env)
	var lead sim.Lead
	for _, l := range qualifiedLeads(s) {
		if l.Phone != nil && l.Rating != nil {
			lead = l
			break
		}
	}
	s.CRM.Update(lead.ID, func(l *sim.Lead) { l.Phone, l.Rating = nil, nil })
	runAll(t, env)
	m := memberOf(t, s, lead.ID)
	for _, k := range []string{"MOBILE", "LANDLINE", "TIER"} {
		if v := m.MergeFields[k]; v != "" {
			t.Errorf("%s is still %q after the lead's phone and rating were removed", k, v)
		}
	}
}
