package crmemail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/golden/crmemail/crm"
	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/oas"
	"github.com/connectorgen/connectorgen/runtime/rest"
	"github.com/connectorgen/connectorgen/runtime/secret"
	"github.com/connectorgen/connectorgen/runtime/syncutil"
)

// lookups is a fixed xref table for Map.
type lookups map[string]string

func (l lookups) Lookup(_ context.Context, name, key string) (string, bool, error) {
	v, ok := l[name+"/"+key]
	return v, ok, nil
}

func qualifiedLead() crm.Lead {
	return crm.Lead{
		ID:          "led_1",
		Email:       "  Grace.Hopper@Navy.example ",
		FirstName:   oas.Some("Grace"),
		LastName:    oas.Some("Hopper"),
		CompanyName: oas.Some("Naval Systems"),
		Phone:       oas.Value("+1 202 555 0100"),
		OwnerID:     oas.Value("own_1"),
		Status:      crm.LeadStatusQualified,
		Rating:      oas.Value(crm.LeadRatingWarm),
		Version:     3,
		UpdatedAt:   time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC),
	}
}

func TestMapLead(t *testing.T) {
	lead := qualifiedLead()
	w, err := qualifiedLeadsToNurtureMap(context.Background(), &lead, lookups{"owners/own_1": "snd_9"}, true)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(qualifiedLeadsToNurtureCreateBody(&w))
	want := `{"email_address":"grace.hopper@navy.example","status":"subscribed","merge_fields":{"FNAME":"Grace","LNAME":"Hopper","COMPANY":"Naval Systems","MOBILE":"","LANDLINE":"+12025550100","TIER":"silver","SENDER":"snd_9"},"source_id":"led_1"}`
	if string(body) != want {
		t.Errorf("create body\n got %s\nwant %s", body, want)
	}
	// MOBILE is set to "" (the number is a landline): an update clears a
	// stale mobile number rather than leaving it.
	if v, ok := w.MergeFieldsMobile.Get(); !ok || v != "" {
		t.Errorf("MOBILE = %q, %v; want set and empty", v, ok)
	}

	w, err = qualifiedLeadsToNurtureMap(context.Background(), &lead, lookups{"owners/own_1": "snd_9"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if !w.Status.IsZero() {
		t.Error("status is create-only but was set for an update")
	}
	upd, _ := json.Marshal(qualifiedLeadsToNurtureUpdateBody(&w))
	if strings.Contains(string(upd), `"status"`) {
		t.Errorf("update body carries status: %s", upd)
	}
}

func TestMapLeadFailures(t *testing.T) {
	ctx := context.Background()
	lead := qualifiedLead()
	if _, err := qualifiedLeadsToNurtureMap(ctx, &lead, lookups{}, true); !errors.Is(err, engine.ErrDeferred) {
		t.Errorf("owner without xref: err = %v, want ErrDeferred", err)
	}
	lead.OwnerID = oas.Null[string]()
	if _, err := qualifiedLeadsToNurtureMap(ctx, &lead, lookups{}, true); err != nil {
		t.Errorf("null owner: %v (the field should be left unset)", err)
	}
	var perm *engine.PermanentError
	lead.Rating = oas.Value(crm.LeadRating("Lukewarm"))
	if _, err := qualifiedLeadsToNurtureMap(ctx, &lead, lookups{}, true); !errors.As(err, &perm) || !strings.Contains(err.Error(), "Lukewarm") {
		t.Errorf("unknown rating: err = %v, want a permanent error naming the value", err)
	}
	lead = qualifiedLead()
	lead.OwnerID = oas.Null[string]()
	lead.Phone = oas.Value("call me")
	if _, err := qualifiedLeadsToNurtureMap(ctx, &lead, lookups{}, true); !errors.As(err, &perm) {
		t.Errorf("bad phone: err = %v, want permanent", err)
	}
}

func TestEnterTrigger(t *testing.T) {
	for _, tc := range []struct {
		status crm.LeadStatus
		email  string
		want   bool
	}{
		{crm.LeadStatusQualified, "a@b.example", true},
		{crm.LeadStatusNew, "a@b.example", false},
		{crm.LeadStatusQualified, "", false},
	} {
		l := crm.Lead{Status: tc.status, Email: tc.email}
		if got := qualifiedLeadsToNurtureEnter(&l); got != tc.want {
			t.Errorf("Enter(%s, %q) = %v, want %v", tc.status, tc.email, got, tc.want)
		}
	}
}

func TestFieldsAndEvents(t *testing.T) {
	lead := qualifiedLead()
	w, _ := qualifiedLeadsToNurtureMap(context.Background(), &lead, lookups{"owners/own_1": "snd_9"}, true)
	fields := qualifiedLeadsToNurtureFields()
	byPath := map[string]engine.Field[QualifiedLeadsToNurtureWrite]{}
	for _, f := range fields {
		byPath[f.Path] = f
	}
	tier := byPath["merge_fields.TIER"]
	if v, ok := tier.Value(&w); !ok || v != `"silver"` {
		t.Errorf("TIER value = %s, %v", v, ok)
	}
	tier.Clear(&w)
	if _, ok := tier.Value(&w); ok {
		t.Error("Clear left TIER set")
	}
	if byPath["merge_fields.FNAME"].Policy != engine.TargetWins || !byPath["status"].CreateOnly {
		t.Error("policy or create-only flag not carried into the field table")
	}
	s := QualifiedLeadsToNurture(Clients{})
	ev, err := s.ParseEvent([]byte(`{"id":"evt_1","type":"lead.updated","occurred_at":"2026-11-01T09:00:00Z","lead_id":"led_1","version":4}`))
	if err != nil || ev.ID != "evt_1" || ev.Key != "led_1" || ev.Version != 4 {
		t.Errorf("ParseEvent = %+v, %v", ev, err)
	}
	if _, err := s.ParseEvent([]byte(`{"type":"lead.updated"}`)); err == nil {
		t.Error("ParseEvent accepted an event without id")
	}
}

// fakeAPIs is a minimal CRM and email platform for driving the generated
// syncs through the engine.
type fakeAPIs struct {
	mu      sync.Mutex
	grants  []string // grant_type/refresh_token of each token request
	apiKeys map[string]bool
	leads   []crm.Lead
	owners  []crm.Owner
	members map[string]map[string]any // id → body
	senders map[string]map[string]any
	posts   int
}

func (f *fakeAPIs) crm(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/oauth/token":
		r.ParseForm()
		f.grants = append(f.grants, r.PostForm.Get("grant_type")+"/"+r.PostForm.Get("refresh_token"))
		fmt.Fprint(w, `{"access_token":"at-1","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-rotated"}`)
	case r.URL.Path == "/leads":
		json.NewEncoder(w).Encode(map[string]any{"data": f.leads, "next_cursor": nil, "has_more": false})
	case r.URL.Path == "/owners":
		json.NewEncoder(w).Encode(map[string]any{"data": f.owners, "next_cursor": nil, "has_more": false})
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeAPIs) email(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	f.apiKeys[r.Header.Get("X-API-Key")] = true
	var body map[string]any
	if r.Body != nil {
		json.NewDecoder(r.Body).Decode(&body)
	}
	switch {
	case r.URL.Path == "/senders" && r.Method == http.MethodGet:
		var out []any
		for id, s := range f.senders {
			if s["email"] == r.URL.Query().Get("email") {
				out = append(out, map[string]any{"id": id, "email": s["email"], "name": s["name"]})
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"senders": out, "total_items": len(out)})
	case r.URL.Path == "/senders" && r.Method == http.MethodPost:
		id := fmt.Sprintf("snd_%d", len(f.senders)+1)
		f.senders[id] = body
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"id": id, "email": body["email"], "name": body["name"]})
	case r.URL.Path == "/lists/lst_nurture/members/search":
		var out []any
		for id, m := range f.members {
			if m["email_address"] == r.URL.Query().Get("email_address") {
				out = append(out, map[string]any{"id": id, "email_address": m["email_address"], "status": "subscribed", "last_changed": "2026-11-01T00:00:00Z", "version": 1})
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"members": out, "total_items": len(out)})
	case r.URL.Path == "/lists/lst_nurture/members" && r.Method == http.MethodPost:
		f.posts++
		id := fmt.Sprintf("m%d", len(f.members)+1)
		f.members[id] = body
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"id": id, "email_address": body["email_address"], "status": "subscribed", "last_changed": "2026-11-01T00:00:00Z", "version": 1})
	case strings.HasPrefix(r.URL.Path, "/lists/lst_nurture/members/"):
		id := strings.TrimPrefix(r.URL.Path, "/lists/lst_nurture/members/")
		m, ok := f.members[id]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.Method == http.MethodPatch {
			for k, v := range body {
				m[k] = v
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"id": id, "email_address": m["email_address"], "status": "subscribed", "merge_fields": m["merge_fields"], "last_changed": "2026-11-01T00:00:00Z", "version": 2})
	default:
		http.NotFound(w, r)
	}
}

// TestSyncThroughEngine runs both generated syncs on the engine with a
// memory store: owners become senders, qualified leads become members
// with the sender looked up through the owners xref, and a second run
// writes nothing new.
func TestSyncThroughEngine(t *testing.T) {
	f := &fakeAPIs{members: map[string]map[string]any{}, senders: map[string]map[string]any{}, apiKeys: map[string]bool{}}
	crmSrv := httptest.NewServer(http.HandlerFunc(f.crm))
	defer crmSrv.Close()
	emailSrv := httptest.NewServer(http.HandlerFunc(f.email))
	defer emailSrv.Close()
	f.owners = []crm.Owner{{ID: "own_1", Name: "Dorothy Vaughan", Email: "Dorothy@Acme.example", Active: true}}
	a, b := qualifiedLead(), qualifiedLead()
	b.ID, b.Email, b.Status = "led_2", "other@x.example", crm.LeadStatusNew
	f.leads = []crm.Lead{a, b}

	t.Setenv("CRM_CLIENT_ID", "client-1")
	t.Setenv("CRM_CLIENT_SECRET", "client-secret-1")
	t.Setenv("CRM_REFRESH_TOKEN", "rt-initial")
	t.Setenv("POSTBOX_API_KEY", "key-123456")
	e := engine.New(engine.NewMemoryStore())
	clients, err := NewClients(context.Background(), secret.NewResolver(),
		Endpoints{CRM: crmSrv.URL, CRMTokenURL: crmSrv.URL + "/oauth/token", Email: emailSrv.URL}, e)
	if err != nil {
		t.Fatal(err)
	}
	if err := Register(e, clients); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for round := range 2 {
		for _, name := range []string{"owners_to_senders", "qualified_leads_to_nurture"} {
			if _, err := e.RunOnce(ctx, name); err != nil {
				t.Fatalf("round %d: %s: %v", round, name, err)
			}
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.senders) != 1 || len(f.members) != 1 || f.posts != 1 {
		t.Fatalf("senders %d, members %d, member POSTs %d; want 1, 1, 1", len(f.senders), len(f.members), f.posts)
	}
	m := f.members["m1"]
	mf, _ := m["merge_fields"].(map[string]any)
	if m["email_address"] != "grace.hopper@navy.example" || mf["SENDER"] != "snd_1" || mf["TIER"] != "silver" {
		t.Errorf("member = %v", m)
	}
	if s := f.senders["snd_1"]; s["email"] != "dorothy@acme.example" {
		t.Errorf("sender = %v", s)
	}
	// The credentials came from the variables the mapping file names, and
	// the rotated refresh token is in the engine's store.
	if len(f.grants) != 1 || f.grants[0] != "refresh_token/rt-initial" {
		t.Errorf("token requests %v, want one refresh with the configured token", f.grants)
	}
	if len(f.apiKeys) != 1 || !f.apiKeys["key-123456"] {
		t.Errorf("email API keys seen: %v", f.apiKeys)
	}
	if tok, err := e.Token(ctx, "crm"); err != nil || tok == nil || tok.RefreshToken != "rt-rotated" {
		t.Errorf("persisted token = %+v, %v", tok, err)
	}
}

func TestNewClientsNamesTheMissingVariable(t *testing.T) {
	t.Setenv("CRM_CLIENT_ID", "client-1")
	t.Setenv("CRM_CLIENT_SECRET", "")
	os.Unsetenv("CRM_CLIENT_SECRET")
	_, err := NewClients(context.Background(), secret.NewResolver(), Endpoints{CRM: "https://crm.example", Email: "https://email.example"}, nil)
	if err == nil || !strings.Contains(err.Error(), "CRM_CLIENT_SECRET") || !strings.Contains(err.Error(), "system crm") {
		t.Errorf("err = %v, want one naming CRM_CLIENT_SECRET and the system", err)
	}
}

func TestRejectedWritesArePermanent(t *testing.T) {
	var perm *engine.PermanentError
	for _, tc := range []struct {
		status int
		want   bool
	}{{400, true}, {409, true}, {422, true}, {401, false}, {403, false}, {408, false}, {429, false}, {500, false}, {503, false}} {
		err := syncutil.Rejected(fmt.Errorf("write: %w", &rest.Error{StatusCode: tc.status}))
		if got := errors.As(err, &perm); got != tc.want {
			t.Errorf("status %d: permanent = %v, want %v", tc.status, got, tc.want)
		}
	}
	if err := syncutil.Rejected(errors.New("connection reset")); errors.As(err, &perm) {
		t.Error("a network error became permanent")
	}
}

// TestWebhookConfigFromMapping: the generated webhook configuration
// carries the declared header and scheme and the secret resolved from its
// source; an unset source is an error naming the sync.
func TestWebhookConfigFromMapping(t *testing.T) {
	t.Setenv("CRM_WEBHOOK_SECRET", "whsec_123")
	cfg, err := QualifiedLeadsToNurtureWebhook(context.Background(), secret.NewResolver())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Header != "X-Acme-Signature" || cfg.Scheme != engine.SchemeTimestamped || cfg.Secret.Reveal() != "whsec_123" {
		t.Errorf("config = header %q scheme %d secret set %v", cfg.Header, cfg.Scheme, !cfg.Secret.IsZero())
	}
	os.Unsetenv("CRM_WEBHOOK_SECRET")
	if _, err := QualifiedLeadsToNurtureWebhook(context.Background(), secret.NewResolver()); err == nil || !strings.Contains(err.Error(), "qualified_leads_to_nurture") {
		t.Errorf("unset secret: err = %v", err)
	}
}
