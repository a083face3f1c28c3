package features

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/golden/syncs/features/crm"
	"github.com/connectorgen/connectorgen/golden/syncs/features/email"
	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/oas"
)

type lookups map[string]string

func (l lookups) Lookup(_ context.Context, name, key string) (string, bool, error) {
	v, ok := l[name+"/"+key]
	return v, ok, nil
}

func TestEveryRuleKind(t *testing.T) {
	lead := crm.Lead{
		ID: "led_1", Email: "  Ada   Lovelace@Example.COM ", Status: crm.LeadStatusContacted,
		FirstName: oas.Some("Ada"), LastName: oas.Some("Lovelace"),
		EmployeeCount: oas.Some[int32](42), AnnualRevenue: oas.Value(1.5e6),
		Rating: oas.Value(crm.LeadRatingWarm), OwnerID: oas.Value("own_1"), CompanyID: oas.Value("cmp_1"),
	}
	w, err := leadsEverythingMap(context.Background(), &lead, lookups{"owners/cmp_1": "snd_7"}, true)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(leadsEverythingCreateBody(&w))
	want := `{"email_address":"ada lovelace@example.com","status":"pending","merge_fields":{"FNAME":"Ada Lovelace","LNAME":"1500000","COMPANY":"Unknown","MOBILE":"AL","LANDLINE":"Example.COM ","TIER":"bronze","ACCOUNT":"42"},"language":"en","vip":false,"location":{"latitude":42},"source_id":"snd_7"}`
	if string(body) != want {
		t.Errorf("create body\n got %s\nwant %s", body, want)
	}
	// A missing owner is skipped (SENDER absent above); a missing company
	// fails the record permanently.
	var perm *engine.PermanentError
	if _, err := leadsEverythingMap(context.Background(), &lead, lookups{}, true); !errors.As(err, &perm) {
		t.Errorf("missing: fail lookup gave %v, want a permanent error", err)
	}
	// status is create-only; the update body leaves it out.
	w, _ = leadsEverythingMap(context.Background(), &lead, lookups{"owners/cmp_1": "snd_7"}, false)
	if upd, _ := json.Marshal(leadsEverythingUpdateBody(&w)); json.Valid(upd) && !w.Status.IsZero() {
		t.Errorf("status set on update: %s", upd)
	}
}

func TestPredicates(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lead  crm.Lead
		enter bool
	}{
		{"status in list", crm.Lead{Status: crm.LeadStatusQualified, Source: oas.Some(crm.LeadSourceWeb)}, true},
		{"not web and not cold", crm.Lead{Status: crm.LeadStatusNew, Source: oas.Some(crm.LeadSourceEvent), Rating: oas.Value(crm.LeadRatingHot)}, true},
		{"web source", crm.Lead{Status: crm.LeadStatusNew, Source: oas.Some(crm.LeadSourceWeb)}, false},
		{"cold rating", crm.Lead{Status: crm.LeadStatusNew, Rating: oas.Value(crm.LeadRatingCold)}, false},
		{"absent source and rating", crm.Lead{Status: crm.LeadStatusNew}, true},
		{"tagged vip (contains)", crm.Lead{Status: crm.LeadStatusNew, Source: oas.Some(crm.LeadSourceWeb), Tags: []string{"a", "vip"}}, true},
		{"tags without vip", crm.Lead{Status: crm.LeadStatusNew, Source: oas.Some(crm.LeadSourceWeb), Tags: []string{"vipx"}}, false},
	} {
		if got := leadsEverythingEnter(&tc.lead); got != tc.enter {
			t.Errorf("%s: enter = %v, want %v", tc.name, got, tc.enter)
		}
	}
	if !leadsEverythingExit(&crm.Lead{Status: crm.LeadStatusConverted}) || leadsEverythingExit(&crm.Lead{Status: crm.LeadStatusQualified}) {
		t.Error("exit predicate wrong")
	}
}

func TestConflictPoliciesAndIntegerCursor(t *testing.T) {
	policies := map[string]engine.Policy{}
	for _, f := range leadsEverythingFields() {
		policies[f.Path] = f.Policy
	}
	if policies["merge_fields.COMPANY"] != engine.Queue || policies["language"] != engine.LastWriterWins {
		t.Errorf("policies = %v", policies)
	}
	s := MembersBack(Clients{})
	m := email.Member{ID: "m1", EmailAddress: "a@b.example", Version: 9, LastChanged: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		MergeFields: &email.MemberMergeFields{Account: oas.Some("12"), Lname: oas.Some("Byron")}}
	if s.CursorKind != engine.CursorInt || s.Cursor(&m).Int != 9 || s.Version(&m) != 9 {
		t.Errorf("integer cursor/version not taken from version: %+v, %d", s.Cursor(&m), s.Version(&m))
	}
	w, err := membersBackMap(context.Background(), &m, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(membersBackCreateBody(&w))
	if want := `{"first_name":"2026-01-02T03:04:05Z","last_name":"Byron","email":"a@b.example","employee_count":12}`; string(body) != want {
		t.Errorf("create body\n got %s\nwant %s", body, want)
	}
	m.MergeFields = &email.MemberMergeFields{Account: oas.Some("twelve")}
	var perm *engine.PermanentError
	if _, err := membersBackMap(context.Background(), &m, nil, true); !errors.As(err, &perm) {
		t.Errorf("unparsable number: err = %v, want permanent", err)
	}
	m.MergeFields = nil
	w, _ = membersBackMap(context.Background(), &m, nil, true)
	if v, _ := w.LastName.Get(); v != "(unknown)" {
		t.Errorf("default last_name = %q", v)
	}
}

// TestLastWriterWinsReadsTargetChangeTime: Current reports the target's
// own change time (email.Member's changed: last_changed), so
// last_writer_wins compares real times instead of a zero time that lets
// the source always win (issue 7, defect 8).
func TestLastWriterWinsReadsTargetChangeTime(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"m1","email_address":"a@b.example","status":"subscribed","last_changed":"2026-03-04T05:06:07Z","version":3,"merge_fields":{"FNAME":"Ada"}}`))
	}))
	defer srv.Close()
	ec, err := email.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	s := LeadsEverything(Clients{Email: ec})
	fields, changed, err := s.Current(context.Background(), "m1")
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC); !changed.Equal(want) {
		t.Errorf("target change time = %v, want %v", changed, want)
	}
	if fields["merge_fields.FNAME"] != `"Ada"` {
		t.Errorf("current fields = %v", fields)
	}
}

// TestReadPageSize: read.page_size goes in the list's limit parameter on
// every page, beside the cursor's lower bound.
func TestReadPageSize(t *testing.T) {
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.RawQuery)
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("cursor") == "" {
			_, _ = w.Write([]byte(`{"data":[{"id":"led_1","email":"a@b.example","status":"qualified","version":1,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}],"next_cursor":"c2","has_more":true}`))
			return
		}
		_, _ = w.Write([]byte(`{"data":[],"has_more":false}`))
	}))
	defer srv.Close()
	cc, err := crm.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	s := LeadsEverything(Clients{CRM: cc})
	n := 0
	for _, err := range s.Poll(context.Background(), engine.Cursor{Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 1 || len(queries) != 2 {
		t.Fatalf("%d leads in %d requests (%v), want 1 in 2", n, len(queries), queries)
	}
	for _, q := range queries {
		if v, _ := url.ParseQuery(q); v.Get("limit") != "200" || v.Get("updated_since") == "" {
			t.Errorf("page request %q: want limit=200 and updated_since", q)
		}
	}
}

// TestMapKeyPaths: a key of a source map (the lead's custom_fields) is
// read as a field and an absent key is "absent" (the target is cleared,
// not failed); a target map key (custom_fields["member.tier"]) and an
// undeclared merge tag (merge_fields.REGION, an additional property) are
// written into their maps, created on first use.
func TestMapKeyPaths(t *testing.T) {
	lead := crm.Lead{ID: "led_1", Email: "a@b.example", Status: crm.LeadStatusQualified, CustomFields: map[string]string{"region": "EMEA"}}
	w, err := leadsEverythingMap(context.Background(), &lead, lookups{"owners/cmp_1": "snd_7"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := w.MergeFieldsRegion.Get(); v != "EMEA" {
		t.Errorf("REGION = %q, want EMEA", v)
	}
	body, _ := json.Marshal(leadsEverythingCreateBody(&w))
	var got struct {
		MergeFields map[string]any `json:"merge_fields"`
	}
	if err := json.Unmarshal(body, &got); err != nil || got.MergeFields["REGION"] != "EMEA" {
		t.Errorf("create body merge_fields = %v (%v); body %s", got.MergeFields, err, body)
	}
	lead.CustomFields = nil
	w, err = leadsEverythingMap(context.Background(), &lead, lookups{"owners/cmp_1": "snd_7"}, false)
	if err != nil {
		t.Fatalf("absent key: %v", err)
	}
	if !w.MergeFieldsRegion.IsNull() {
		t.Errorf("absent source key: REGION = %+v, want null (cleared)", w.MergeFieldsRegion)
	}

	m := email.Member{ID: "m1", EmailAddress: "a@b.example", MergeFields: &email.MemberMergeFields{Tier: oas.Some(email.MemberMergeFieldsTierGold)}}
	bw, err := membersBackMap(context.Background(), &m, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	lc := membersBackCreateBody(&bw)
	if lc.CustomFields["member.tier"] != "gold" {
		t.Errorf("target map key: custom_fields = %v", lc.CustomFields)
	}
}

// TestMergeOptionalInputs: a merge whose function takes oas.Opt inputs
// runs when an input is absent (Initials of a lead with only a first
// name), while a merge of required inputs is skipped and its target
// cleared.
func TestMergeOptionalInputs(t *testing.T) {
	lead := crm.Lead{ID: "led_1", Email: "a@b.example", Status: crm.LeadStatusQualified, FirstName: oas.Some("ada")}
	w, err := leadsEverythingMap(context.Background(), &lead, lookups{"owners/cmp_1": "snd_7"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := w.MergeFieldsMobile.Get(); !ok || v != "A" {
		t.Errorf("Initials with an absent last name = %q, %v; want A", v, ok)
	}
	if !w.MergeFieldsFname.IsNull() {
		t.Errorf("Join with an absent input: FNAME = %+v, want cleared", w.MergeFieldsFname)
	}
}
