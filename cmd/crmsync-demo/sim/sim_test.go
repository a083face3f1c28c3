package sim_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"net/http/httptest"

	"github.com/connectorgen/connectorgen/cmd/crmsync-demo/sim"
	"github.com/connectorgen/connectorgen/golden/crmemail/crm"
	"github.com/connectorgen/connectorgen/golden/crmemail/email"
	"github.com/connectorgen/connectorgen/runtime/auth"
	"github.com/connectorgen/connectorgen/runtime/oas"
	"github.com/connectorgen/connectorgen/runtime/rest"
	"github.com/connectorgen/connectorgen/runtime/secret"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

func fastRetry() rest.Option {
	return rest.WithRetry(transport.RetryConfig{MaxAttempts: 10, BaseDelay: time.Millisecond,
		MaxDelay: 20 * time.Millisecond, AttemptTimeout: 100 * time.Millisecond})
}

func noBreaker() rest.Option { return rest.WithBreaker(transport.BreakerConfig{Disabled: true}) }

func clients(t *testing.T, s *sim.Sim) (*crm.Client, *email.Client) {
	t.Helper()
	o, err := auth.ClientCredentials(auth.OAuthConfig{TokenURL: s.CRM.TokenURL(), ClientID: sim.DefaultClientID,
		ClientSecret: secret.New(sim.DefaultClientSecret), Scopes: []string{"crm.read"}, HTTPClient: s.CRM.Client()})
	if err != nil {
		t.Fatal(err)
	}
	c, err := crm.NewClient(s.CRM.BaseURL(), crm.WithOAuth2(o), fastRetry(), noBreaker())
	if err != nil {
		t.Fatal(err)
	}
	e, err := email.NewClient(s.Email.BaseURL(), email.WithAPIKey(secret.New(sim.DefaultAPIKey)), fastRetry(), noBreaker())
	if err != nil {
		t.Fatal(err)
	}
	return c, e
}

func TestLeadsPaginationAndUpdatedSince(t *testing.T) {
	s := sim.New(sim.Options{Leads: 1234, Seed: 7})
	defer s.Close()
	c, _ := clients(t, s)
	ctx := context.Background()
	seen := map[string]bool{}
	var prev time.Time
	for l, err := range c.ListLeadsItems(ctx, crm.ListLeadsParams{Limit: oas.Some[int32](100)}) {
		if err != nil {
			t.Fatal(err)
		}
		if seen[l.ID] {
			t.Fatalf("lead %s twice", l.ID)
		}
		if l.UpdatedAt.Before(prev) {
			t.Fatalf("not ordered by updated_at")
		}
		prev = l.UpdatedAt
		seen[l.ID] = true
	}
	if len(seen) != 1234 {
		t.Fatalf("saw %d leads, want 1234", len(seen))
	}
	mark := time.Now()
	evs := s.CRM.Mutate(50)
	changed := map[string]bool{}
	for _, ev := range evs {
		changed[ev.LeadID] = true
	}
	n := 0
	for l, err := range c.ListLeadsItems(ctx, crm.ListLeadsParams{UpdatedSince: oas.Some(mark)}) {
		if err != nil {
			t.Fatal(err)
		}
		if !changed[l.ID] {
			t.Fatalf("unchanged lead %s returned", l.ID)
		}
		n++
	}
	if n != len(changed) {
		t.Fatalf("got %d changed leads, want %d", n, len(changed))
	}
	// Inclusive lower bound: since = a lead's updated_at returns it.
	last := evs[len(evs)-1]
	got, err := c.GetLead(ctx, crm.GetLeadParams{LeadID: last.LeadID})
	if err != nil || got.Version != last.Version {
		t.Fatalf("GetLead: %v %+v", err, got)
	}
	found := false
	for l, err := range c.ListLeadsItems(ctx, crm.ListLeadsParams{UpdatedSince: oas.Some(got.UpdatedAt)}) {
		if err != nil {
			t.Fatal(err)
		}
		found = found || l.ID == got.ID
	}
	if !found {
		t.Fatal("updated_since is not inclusive")
	}
	if _, err := c.GetLead(ctx, crm.GetLeadParams{LeadID: "led_nope"}); err == nil {
		t.Fatal("missing lead: no error")
	}
	owners := 0
	for _, err := range c.ListOwnersItems(ctx, crm.ListOwnersParams{Limit: oas.Some[int32](3)}) {
		if err != nil {
			t.Fatal(err)
		}
		owners++
	}
	if owners != 8 {
		t.Fatalf("owners = %d", owners)
	}
}

func TestOAuthRefreshRotation(t *testing.T) {
	s := sim.New(sim.Options{Leads: 10, TokenTTL: time.Hour})
	defer s.Close()
	rt := s.CRM.IssueRefreshToken()
	var got []string
	o, err := auth.RefreshToken(auth.OAuthConfig{TokenURL: s.CRM.TokenURL(), ClientID: sim.DefaultClientID,
		ClientSecret: secret.New(sim.DefaultClientSecret), RefreshToken: secret.New(rt), HTTPClient: s.CRM.Client(),
		OnToken: func(_ context.Context, tok *oauth2Token) error { got = append(got, tok.RefreshToken); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	c, err := crm.NewClient(s.CRM.BaseURL(), crm.WithOAuth2(o), fastRetry())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.GetOwner(ctx, crm.GetOwnerParams{OwnerID: "own_0001"}); err != nil {
		t.Fatal(err)
	}
	s.CRM.RevokeTokens() // next call gets 401, refreshes with the rotated token
	if _, err := c.GetOwner(ctx, crm.GetOwnerParams{OwnerID: "own_0001"}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] == rt || got[1] == got[0] {
		t.Fatalf("refresh tokens did not rotate: %v", got)
	}
	if n := s.CRM.TokenRequests()["refresh_token"]; n != 2 {
		t.Fatalf("refresh requests = %d", n)
	}
	// The first refresh token is revoked.
	o2, _ := auth.RefreshToken(auth.OAuthConfig{TokenURL: s.CRM.TokenURL(), ClientID: sim.DefaultClientID,
		ClientSecret: secret.New(sim.DefaultClientSecret), RefreshToken: secret.New(rt), HTTPClient: s.CRM.Client()})
	c2, _ := crm.NewClient(s.CRM.BaseURL(), crm.WithOAuth2(o2), fastRetry())
	if _, err := c2.GetOwner(ctx, crm.GetOwnerParams{OwnerID: "own_0001"}); err == nil ||
		!strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("reused refresh token: %v", err)
	}
}

func TestAPIKey(t *testing.T) {
	s := sim.New(sim.Options{Leads: 10})
	defer s.Close()
	e, _ := email.NewClient(s.Email.BaseURL(), email.WithAPIKey(secret.New("wrong")), fastRetry())
	_, err := e.ListSenders(context.Background(), email.ListSendersParams{})
	var re *rest.Error
	if !errors.As(err, &re) || re.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong key: %v", err)
	}
}

func TestMembersIdempotencyAndConflicts(t *testing.T) {
	s := sim.New(sim.Options{Leads: 10})
	defer s.Close()
	_, e := clients(t, s)
	ctx := context.Background()
	list := sim.DefaultListID
	add := func(key, addr string) (*email.Member, error) {
		p := email.AddMemberParams{ListID: list}
		if key != "" {
			p.IdempotencyKey = oas.Some(key)
		}
		return e.AddMember(ctx, p, email.AddMemberRequest{EmailAddress: addr, Status: email.MemberStatusSubscribed,
			MergeFields: &email.MemberMergeFields{Fname: oas.Some("Grace"), Tier: oas.Some(email.MemberMergeFieldsTierGold)},
			SourceID:    oas.Value("led_1")})
	}
	m1, err := add("k1", "Grace.Hopper@Navy.example")
	if err != nil {
		t.Fatal(err)
	}
	if m1.ID != sim.MemberID("grace.hopper@navy.example") {
		t.Fatalf("id %s", m1.ID)
	}
	m2, err := add("k1", "Grace.Hopper@Navy.example") // replay
	if err != nil || m2.ID != m1.ID {
		t.Fatalf("replay: %v", err)
	}
	if _, err := add("k1", "other@navy.example"); !isStatus(err, 422) {
		t.Fatalf("key reuse with another body: %v", err)
	}
	if _, err := add("k2", "grace.hopper@navy.example"); !isStatus(err, 409) {
		t.Fatalf("duplicate address: %v", err)
	}
	if _, err := add("", " untrimmed@navy.example"); !isStatus(err, 400) {
		t.Fatalf("untrimmed address: %v", err)
	}
	if n := s.Email.Applied()["addMember"]; n != 1 {
		t.Fatalf("applied %d", n)
	}
	res, err := e.FindMembers(ctx, email.FindMembersParams{ListID: list, EmailAddress: "GRACE.hopper@navy.example"})
	if err != nil || len(res.Members) != 1 {
		t.Fatalf("find: %v %+v", err, res)
	}
	up, err := e.UpdateMember(ctx, email.UpdateMemberParams{ListID: list, MemberID: m1.ID},
		email.MemberWrite{MergeFields: &email.MemberMergeFields{Lname: oas.Some("Hopper")}})
	if err != nil {
		t.Fatal(err)
	}
	mf := up.MergeFields
	if mf == nil {
		t.Fatal("merge fields absent")
	}
	if v, _ := mf.Fname.Get(); v != "Grace" {
		t.Fatalf("merge fields not merged: %+v", mf)
	}
	if v, _ := mf.Lname.Get(); v != "Hopper" {
		t.Fatalf("merge fields not merged: %+v", mf)
	}
	got, err := e.GetMember(ctx, email.GetMemberParams{ListID: list, MemberID: m1.ID})
	if err != nil || got.Version != 2 {
		t.Fatalf("get: %v %+v", err, got)
	}
	n := 0
	for _, err := range e.ListMembersItems(ctx, email.ListMembersParams{ListID: list}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 1 {
		t.Fatalf("members %d", n)
	}
	// Senders.
	snd, err := e.CreateSender(ctx, email.CreateSenderParams{IdempotencyKey: oas.Some("s1")},
		email.SenderWrite{Email: "dorothy@acme.example", Name: "Dorothy"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.CreateSender(ctx, email.CreateSenderParams{}, email.SenderWrite{Email: "DOROTHY@acme.example", Name: "D"}); !isStatus(err, 409) {
		t.Fatalf("duplicate sender: %v", err)
	}
	ls, err := e.ListSenders(ctx, email.ListSendersParams{Email: oas.Some("Dorothy@Acme.example")})
	if err != nil || len(ls.Senders) != 1 || ls.Senders[0].ID != snd.ID {
		t.Fatalf("list senders: %v %+v", err, ls)
	}
	if _, err := e.UpdateSender(ctx, email.UpdateSenderParams{SenderID: snd.ID},
		email.SenderWrite{Email: "dorothy@acme.example", Name: "Dorothy Vaughan"}); err != nil {
		t.Fatal(err)
	}
}

func isStatus(err error, status int) bool {
	var re *rest.Error
	return errors.As(err, &re) && re.StatusCode == status
}

// TestFaultsAfterWrite: with every request failing after the write was
// applied, a keyed addMember retried by the client still adds one member,
// and the counters show the lost answers.
func TestFaultsAfterWrite(t *testing.T) {
	s := sim.New(sim.Options{Leads: 10, EmailFaults: sim.Faults{Rate: 0.5, AfterWrite: 1,
		SlowDelay: 300 * time.Millisecond}})
	defer s.Close()
	_, e := clients(t, s)
	ctx := context.Background()
	for i := 0; i < 40; i++ {
		addr := "m" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "@x.example"
		_, err := e.AddMember(ctx, email.AddMemberParams{ListID: sim.DefaultListID, IdempotencyKey: oas.Some("key-" + addr)},
			email.AddMemberRequest{EmailAddress: addr, Status: email.MemberStatusSubscribed})
		if err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
	}
	if n := len(s.Email.Members(sim.DefaultListID)); n != 40 {
		t.Fatalf("members %d", n)
	}
	st := s.Email.Stats()
	if st.FaultsAfterWrite == 0 || st.Faults["slow"] == 0 || st.Faults["reset"] == 0 || st.Faults["500"] == 0 {
		t.Fatalf("faults: %+v", st)
	}
	if n := s.Email.Applied()["addMember"]; n != 40 {
		t.Fatalf("applied %d", n)
	}
	// Without a key the same faults make a naive client fail or see 409.
	s.Email.SetFaults(sim.Faults{Rate: 1, AfterWrite: 1, Weights: [5]float64{1, 0, 0, 0, 0}})
	_, err := e.AddMember(ctx, email.AddMemberParams{ListID: sim.DefaultListID},
		email.AddMemberRequest{EmailAddress: "naive@x.example", Status: email.MemberStatusSubscribed})
	if !isStatus(err, 500) {
		t.Fatalf("naive add: %v", err)
	}
	if len(s.Email.Members(sim.DefaultListID)) != 41 {
		t.Fatal("the write was not applied before the fault")
	}
}

func TestFaultKindsOnReads(t *testing.T) {
	s := sim.New(sim.Options{Leads: 500, CRMFaults: sim.Faults{Rate: 0.3, SlowDelay: 300 * time.Millisecond}})
	defer s.Close()
	c, _ := clients(t, s)
	n := 0
	for _, err := range c.ListLeadsItems(context.Background(), crm.ListLeadsParams{Limit: oas.Some[int32](10)}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 500 {
		t.Fatalf("leads %d", n)
	}
	st := s.CRM.Stats()
	for _, k := range []string{"500", "429", "slow", "reset"} {
		if st.Faults[k] == 0 {
			t.Fatalf("no %s faults: %+v", k, st)
		}
	}
}

func TestWebhookSignature(t *testing.T) {
	s := sim.New(sim.Options{Leads: 5})
	defer s.Close()
	got := make(chan *http.Request, 10)
	srv := httptestServer(t, func(w http.ResponseWriter, r *http.Request) { got <- r; w.WriteHeader(204) })
	s.CRM.Subscribe(srv, "whsec")
	ev, ok := s.CRM.Update("led_0000001", func(l *sim.Lead) { l.Status = sim.StatusQualified })
	if !ok {
		t.Fatal("no lead")
	}
	if n, err := s.CRM.Flush(context.Background()); err != nil || n != 1 {
		t.Fatalf("flush %d %v", n, err)
	}
	r := <-got
	sig := r.Header.Get(sim.SignatureHeader)
	if !strings.HasPrefix(sig, "t=") || !strings.Contains(sig, ",v1=") {
		t.Fatalf("signature %q", sig)
	}
	if ev.Version != 2 || ev.LeadID != "led_0000001" {
		t.Fatalf("event %+v", ev)
	}
}

type oauth2Token = oauth2.Token

func httptestServer(t *testing.T, h http.HandlerFunc) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
