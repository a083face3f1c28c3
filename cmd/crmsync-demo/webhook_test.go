package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/cmd/crmsync-demo/sim"
	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/secret"
)

const leadsSync = "qualified_leads_to_nurture"

// newTestEnv starts a simulation without faults and an engine over a
// SQLite file, and runs both syncs once.
func newTestEnv(t *testing.T, leads int) (*sim.Sim, *Env) {
	t.Helper()
	s := sim.New(sim.Options{Seed: 5, Leads: leads})
	t.Cleanup(s.Close)
	c := Config{StatePath: t.TempDir() + "/state.db"}
	c.defaults()
	env, err := NewEnv(context.Background(), c, s.CRM.BaseURL(), s.CRM.TokenURL(), s.Email.BaseURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Close)
	return s, env
}

func runAll(t *testing.T, env *Env) {
	t.Helper()
	for _, name := range syncNames {
		if _, err := env.Engine.RunOnce(context.Background(), name); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

func qualifiedLeads(s *sim.Sim) []sim.Lead {
	var out []sim.Lead
	for _, l := range s.CRM.Leads() {
		if l.Status == sim.StatusQualified {
			out = append(out, l)
		}
	}
	return out
}

func memberOf(t *testing.T, s *sim.Sim, leadID string) sim.Member {
	t.Helper()
	for _, m := range s.Email.Members(sim.DefaultListID) {
		if m.SourceID != nil && *m.SourceID == leadID {
			return m
		}
	}
	t.Fatalf("lead %s has no member", leadID)
	return sim.Member{}
}

// TestWebhooks drives the generated sync's webhook through engine.Webhook
// with the CRM's own signed deliveries: forged or stale signatures get 401
// and queue nothing; a replayed event is processed once; out-of-order
// events leave the newest version.
func TestWebhooks(t *testing.T) {
	s, env := newTestEnv(t, 300)
	ctx := context.Background()
	runAll(t, env)
	checkResult(t, s)
	const whsec = "whsec_demo"
	srv := httptest.NewServer(env.Engine.Webhook(leadsSync, engine.WebhookConfig{
		Header: sim.SignatureHeader, Secret: secret.New(whsec)}))
	defer srv.Close()
	s.CRM.Subscribe(srv.URL, whsec)
	depth := func() int {
		n, err := env.Store.QueueDepth(ctx, leadsSync)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	fetches := func() int64 { return s.CRM.Stats().Requests["GET getLead"] }
	updates := func() int64 { return s.Email.Applied()["updateMember"] }
	q := qualifiedLeads(s)

	// Forged deliveries: wrong secret, no signature, a body that is not the
	// one signed, a stale timestamp.
	ev, _ := s.CRM.Update(q[0].ID, func(l *sim.Lead) { l.LastName = ptrTo("Forged") })
	body, _ := json.Marshal(ev)
	other, _ := json.Marshal(sim.LeadEvent{ID: "evt_other", Type: "lead.updated", LeadID: q[1].ID, Version: 99})
	for name, sig := range map[string]string{
		"wrong secret":  sim.Sign("not-the-secret", time.Now(), body),
		"no signature":  "",
		"other body":    sim.Sign(whsec, time.Now(), other),
		"stale":         sim.Sign(whsec, time.Now().Add(-10*time.Minute), body),
		"garbage":       "t=abc,v1=zz",
		"future":        sim.Sign(whsec, time.Now().Add(10*time.Minute), body),
		"only a v0 sig": "t=1,v0=00",
	} {
		status, err := s.CRM.Post(ctx, body, sig)
		if err != nil {
			t.Fatal(err)
		}
		if status != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", name, status)
		}
	}
	if d := depth(); d != 0 {
		t.Fatalf("forged deliveries queued %d events", d)
	}
	f0 := fetches()
	rep, err := env.Engine.ProcessQueue(ctx, leadsSync)
	if err != nil || rep.Seen != 0 || rep.Updated != 0 {
		t.Fatalf("queue after forged deliveries: %+v %v", rep, err)
	}
	if fetches() != f0 {
		t.Fatal("a forged delivery made the engine fetch a lead")
	}

	// A replayed event (redelivered, and the very same signed request
	// again) is processed once.
	ev, _ = s.CRM.Update(q[2].ID, func(l *sim.Lead) { l.LastName = ptrTo("Replayed") })
	body, _ = json.Marshal(ev)
	sig := sim.Sign(whsec, time.Now(), body)
	for i, want := range []int{http.StatusAccepted, http.StatusOK, http.StatusOK} {
		status, err := s.CRM.Post(ctx, body, sig)
		if err != nil || status != want {
			t.Fatalf("delivery %d: status %d (%v), want %d", i+1, status, err, want)
		}
	}
	if status, err := s.CRM.Deliver(ctx, ev); err != nil || status != http.StatusOK {
		t.Fatalf("redelivery: %d %v", status, err)
	}
	if d := depth(); d != 1 {
		t.Fatalf("queue depth %d after a replayed event, want 1", d)
	}
	f0, u0 := fetches(), updates()
	rep, err = env.Engine.ProcessQueue(ctx, leadsSync)
	if err != nil || rep.Updated != 1 {
		t.Fatalf("processing the replayed event: %+v %v", rep, err)
	}
	if fetches()-f0 != 1 || updates()-u0 != 1 {
		t.Fatalf("replayed event: %d fetches, %d updates, want 1 and 1", fetches()-f0, updates()-u0)
	}
	if m := memberOf(t, s, q[2].ID); m.MergeFields["LNAME"] != "Replayed" {
		t.Fatalf("LNAME %q", m.MergeFields["LNAME"])
	}
	if status, _ := s.CRM.Deliver(ctx, ev); status != http.StatusOK || depth() != 0 {
		t.Fatalf("a redelivery after processing was queued again (status %d, depth %d)", status, depth())
	}

	// Out of order, both queued: the newer event arrives first.
	lead := q[3].ID
	old, _ := s.CRM.Update(lead, func(l *sim.Lead) { l.LastName = ptrTo("Older") })
	newer, _ := s.CRM.Update(lead, func(l *sim.Lead) { l.LastName = ptrTo("Newest") })
	for _, e := range []sim.LeadEvent{newer, old} {
		if status, err := s.CRM.Deliver(ctx, e); err != nil || status != http.StatusAccepted {
			t.Fatalf("delivery of %s: %d %v", e.ID, status, err)
		}
	}
	u0 = updates()
	rep, err = env.Engine.ProcessQueue(ctx, leadsSync)
	if err != nil || rep.Updated != 1 || rep.Skipped != 1 {
		t.Fatalf("out-of-order events: %+v %v", rep, err)
	}
	if m := memberOf(t, s, lead); m.MergeFields["LNAME"] != "Newest" || updates()-u0 != 1 {
		t.Fatalf("LNAME %q after %d updates", m.MergeFields["LNAME"], updates()-u0)
	}

	// Out of order across drains: an old event arriving after a newer one
	// was applied is dropped without fetching the lead.
	lead = q[4].ID
	old, _ = s.CRM.Update(lead, func(l *sim.Lead) { l.CompanyName = ptrTo("Old Co") })
	newer, _ = s.CRM.Update(lead, func(l *sim.Lead) { l.CompanyName = ptrTo("New Co") })
	if status, _ := s.CRM.Deliver(ctx, newer); status != http.StatusAccepted {
		t.Fatalf("delivery: %d", status)
	}
	if _, err := env.Engine.ProcessQueue(ctx, leadsSync); err != nil {
		t.Fatal(err)
	}
	if status, _ := s.CRM.Deliver(ctx, old); status != http.StatusAccepted {
		t.Fatalf("delivery: %d", status)
	}
	f0, u0 = fetches(), updates()
	rep, err = env.Engine.ProcessQueue(ctx, leadsSync)
	if err != nil || rep.Skipped != 1 || rep.Updated != 0 {
		t.Fatalf("late old event: %+v %v", rep, err)
	}
	if fetches() != f0 || updates() != u0 {
		t.Fatalf("late old event: %d fetches, %d updates", fetches()-f0, updates()-u0)
	}
	if m := memberOf(t, s, lead); m.MergeFields["COMPANY"] != "New Co" {
		t.Fatalf("COMPANY %q", m.MergeFields["COMPANY"])
	}

	// A lead qualified by a change arrives through its event alone.
	var fresh sim.Lead
	for _, l := range s.CRM.Leads() {
		if l.Status == sim.StatusContacted {
			fresh = l
			break
		}
	}
	ev, _ = s.CRM.Update(fresh.ID, func(l *sim.Lead) { l.Status = sim.StatusQualified })
	if status, _ := s.CRM.Deliver(ctx, ev); status != http.StatusAccepted {
		t.Fatalf("delivery: %d", status)
	}
	rep, err = env.Engine.ProcessQueue(ctx, leadsSync)
	if err != nil || rep.Created != 1 {
		t.Fatalf("newly qualified lead: %+v %v", rep, err)
	}
	// The forged event's change reaches the list by polling, not by the
	// forged delivery; afterwards everything is consistent.
	runAll(t, env)
	checkResult(t, s)
}

func ptrTo(s string) *string { return &s }
