package sandbox

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const crmemail = "../../specs/crmemail/connector.yaml"

func start(t *testing.T, opts Options) *Sandbox {
	t.Helper()
	if opts.Credentials == nil {
		opts.Credentials = map[string]Credentials{"crm": {ClientID: "cid", ClientSecret: "csecret"}, "email": {APIKey: "key"}}
	}
	sb, err := Load(crmemail, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	return sb
}

type answer struct {
	status int
	header http.Header
	body   string
}

func call(t *testing.T, method, u, ctype, body string, hdr map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

var apiKey = map[string]string{"X-API-Key": "key"}

// TestRejectsWrongRequests: a missing required parameter, a wrong content
// type and a body violating the schema are each answered 400 naming the
// violation, counted per operation, and nothing is stored.
func TestRejectsWrongRequests(t *testing.T) {
	sb := start(t, Options{})
	em := sb.System("email")
	members := em.BaseURL() + "/lists/lst_nurture/members"
	cases := []struct {
		name, method, url, ctype, body, op, want string
	}{
		{"missing required parameter", "GET", members + "/search", "", "", "findMembers", `parameter "email_address" in query has an error: value is required`},
		{"wrong content type", "POST", members, "text/plain", "email_address=a@b.example", "addMember", `header Content-Type has unexpected value "text/plain"`},
		{"body violating the schema", "POST", members, "application/json", `{"email_address":"a@b.example","status":"bogus"}`, "addMember", `Error at "/status": value is not one of the allowed values`},
		{"malformed email", "POST", members, "application/json", `{"email_address":" a@b.example","status":"subscribed"}`, "addMember", `Error at "/email_address"`},
	}
	for _, c := range cases {
		a := call(t, c.method, c.url, c.ctype, c.body, apiKey)
		if a.status != 400 || !strings.Contains(strings.ReplaceAll(a.body, `\"`, `"`), c.want) {
			t.Errorf("%s: %d %s; want 400 naming %q", c.name, a.status, a.body, c.want)
		}
		if ct := a.header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("%s: error content type %q, want the spec's application/problem+json", c.name, ct)
		}
	}
	vs := em.Violations()
	if len(vs) != len(cases) {
		t.Fatalf("%d violations recorded, want %d: %v", len(vs), len(cases), vs)
	}
	for i, c := range cases {
		if vs[i].Operation != c.op || vs[i].Kind != "request" || !strings.Contains(vs[i].Message, c.want) {
			t.Errorf("violation %d: %+v; want %s naming %q", i, vs[i], c.op, c.want)
		}
	}
	if got := em.ViolationsByOperation(); got["addMember"] != 3 || got["findMembers"] != 1 {
		t.Errorf("per operation: %v", got)
	}
	if recs, _ := em.Records("Member"); len(recs) != 0 {
		t.Errorf("a rejected request stored %d members", len(recs))
	}
	// An unknown route is a violation too (a client calling what the spec
	// does not have).
	if a := call(t, "GET", em.BaseURL()+"/nope", "", "", apiKey); a.status != 404 {
		t.Errorf("unknown route: %d", a.status)
	}
	if n := len(em.Violations()); n != len(cases)+1 {
		t.Errorf("unknown route not counted: %d", n)
	}
	// The admin API lists them.
	a := call(t, "GET", em.AdminURL()+"/violations", "", "", nil)
	var listed []Violation
	if err := json.Unmarshal([]byte(a.body), &listed); err != nil || len(listed) != len(cases)+1 {
		t.Errorf("admin violations: %v %s", err, a.body)
	}
}

// TestMembersBehaviour: member ids from the hint, 409 on a duplicate
// address (the mapping's natural key), find by parameter, PATCH merge with
// clearing merge fields, PUT replace, Idempotency-Key replay, and answers
// that validate.
func TestMembersBehaviour(t *testing.T) {
	sb := start(t, Options{Hints: map[string]Hint{"email.Member": {KeyFrom: "md5_lower:email_address", ClearOnEmpty: []string{"merge_fields"}}}})
	em := sb.System("email")
	members := em.BaseURL() + "/lists/lst_nurture/members"
	a := call(t, "POST", members, "application/json", `{"email_address":"Grace@Navy.example","status":"subscribed","merge_fields":{"FNAME":"Grace","TIER":"gold"},"tags":["nurture"]}`, apiKey)
	if a.status != 201 {
		t.Fatalf("add: %d %s", a.status, a.body)
	}
	var m map[string]any
	_ = json.Unmarshal([]byte(a.body), &m)
	id, _ := m["id"].(string)
	if id != "b5e6b1f9e2ca7ee0cf9d1b2ea4c1d3b2" && len(id) != 32 {
		t.Fatalf("id %q", id)
	}
	if m["list_id"] != "lst_nurture" || m["version"] != float64(1) || m["last_changed"] == nil {
		t.Errorf("server-set fields: %v", m)
	}
	if tags, _ := m["tags"].([]any); len(tags) != 1 || tags[0].(map[string]any)["name"] != "nurture" {
		t.Errorf("tags in the read shape: %v", m["tags"])
	}
	if a := call(t, "POST", members, "application/json", `{"email_address":"grace@navy.example","status":"subscribed"}`, apiKey); a.status != 409 {
		t.Errorf("duplicate address: %d %s", a.status, a.body)
	}
	a = call(t, "GET", members+"/search?email_address=GRACE@navy.example", "", "", apiKey)
	if a.status != 200 || !strings.Contains(a.body, `"total_items":1`) || !strings.Contains(a.body, id) {
		t.Errorf("find: %d %s", a.status, a.body)
	}
	a = call(t, "PATCH", members+"/"+id, "application/json", `{"merge_fields":{"TIER":"","LNAME":"Hopper"}}`, apiKey)
	_ = json.Unmarshal([]byte(a.body), &m)
	mf, _ := m["merge_fields"].(map[string]any)
	if a.status != 200 || mf["FNAME"] != "Grace" || mf["LNAME"] != "Hopper" || mf["TIER"] != nil || m["version"] != float64(2) {
		t.Errorf("patch merge: %d %s", a.status, a.body)
	}
	a = call(t, "PUT", members+"/"+id, "application/json", `{"email_address":"grace@navy.example","status_if_new":"subscribed","merge_fields":{"COMPANY":"Navy"}}`, apiKey)
	_ = json.Unmarshal([]byte(a.body), &m)
	mf, _ = m["merge_fields"].(map[string]any)
	if a.status != 200 || mf["FNAME"] != nil || mf["COMPANY"] != "Navy" {
		t.Errorf("put replace: %d %s", a.status, a.body)
	}
	key := map[string]string{"X-API-Key": "key", "Idempotency-Key": "k1"}
	first := call(t, "POST", members, "application/json", `{"email_address":"ada@x.example","status":"subscribed"}`, key)
	again := call(t, "POST", members, "application/json", `{"email_address":"ada@x.example","status":"subscribed"}`, key)
	if first.status != 201 || again.status != 201 || first.body != again.body || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("idempotent replay: %d %d %q", first.status, again.status, again.header.Get("Idempotent-Replayed"))
	}
	if a := call(t, "POST", members, "application/json", `{"email_address":"other@x.example","status":"subscribed"}`, key); a.status != 422 {
		t.Errorf("key reused with another body: %d", a.status)
	}
	if n := em.Applied()["addMember"]; n != 2 {
		t.Errorf("addMember applied %d times, want 2", n)
	}
	if v := sb.Violations(); len(v) != 0 {
		t.Errorf("violations: %v", v)
	}
}

func token(t *testing.T, u string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// TestOAuthAndCursorPagination: the CRM's OAuth token endpoint (client
// credentials; refresh tokens rotate and a used one is invalid_grant),
// bearer enforcement, and cursor pagination with updated_since walking
// every lead exactly once.
func TestOAuthAndCursorPagination(t *testing.T) {
	sb := start(t, Options{})
	crm := sb.System("crm")
	if st, m := token(t, crm.TokenURL(), url.Values{"grant_type": {"client_credentials"}, "client_id": {"cid"}, "client_secret": {"wrong"}}); st != 401 || m["error"] != "invalid_client" {
		t.Errorf("wrong secret: %d %v", st, m)
	}
	rt := crm.IssueRefreshToken()
	st, m := token(t, crm.TokenURL(), url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"cid"}, "client_secret": {"csecret"}})
	next, _ := m["refresh_token"].(string)
	if st != 200 || next == "" || next == rt {
		t.Fatalf("refresh: %d %v", st, m)
	}
	if st, m := token(t, crm.TokenURL(), url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"cid"}, "client_secret": {"csecret"}}); st != 400 || m["error"] != "invalid_grant" {
		t.Errorf("reused refresh token: %d %v", st, m)
	}
	crm.RevokeRefreshToken(next)
	if st, m := token(t, crm.TokenURL(), url.Values{"grant_type": {"refresh_token"}, "refresh_token": {next}, "client_id": {"cid"}, "client_secret": {"csecret"}}); st != 400 || m["error"] != "invalid_grant" {
		t.Errorf("revoked refresh token: %d %v", st, m)
	}
	_, m = token(t, crm.TokenURL(), url.Values{"grant_type": {"client_credentials"}, "client_id": {"cid"}, "client_secret": {"csecret"}})
	bearer := map[string]string{"Authorization": "Bearer " + m["access_token"].(string)}

	if err := crm.Generate("Lead", 23); err != nil {
		t.Fatal(err)
	}
	if a := call(t, "GET", crm.BaseURL()+"/leads", "", "", nil); a.status != 401 {
		t.Errorf("no token: %d", a.status)
	}
	if a := call(t, "GET", crm.BaseURL()+"/leads", "", "", map[string]string{"Authorization": "Bearer forged"}); a.status != 401 {
		t.Errorf("forged token: %d", a.status)
	}
	walk := func(since string) []string {
		var ids []string
		cursor := ""
		for page := 0; page < 20; page++ {
			q := url.Values{"limit": {"5"}}
			if since != "" {
				q.Set("updated_since", since)
			}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			a := call(t, "GET", crm.BaseURL()+"/leads?"+q.Encode(), "", "", bearer)
			var p struct {
				Data []struct {
					ID        string `json:"id"`
					UpdatedAt string `json:"updated_at"`
				} `json:"data"`
				NextCursor *string `json:"next_cursor"`
				HasMore    bool    `json:"has_more"`
			}
			if a.status != 200 || json.Unmarshal([]byte(a.body), &p) != nil {
				t.Fatalf("list: %d %s", a.status, a.body)
			}
			for _, d := range p.Data {
				ids = append(ids, d.ID)
			}
			if !p.HasMore {
				return ids
			}
			cursor = *p.NextCursor
		}
		t.Fatal("pagination did not end")
		return nil
	}
	all := walk("")
	seen := map[string]bool{}
	for _, id := range all {
		if seen[id] {
			t.Errorf("%s twice", id)
		}
		seen[id] = true
	}
	if len(all) != 23 {
		t.Errorf("walked %d leads, want 23", len(all))
	}
	// A change moves the lead to the end and updated_since finds it alone.
	before := time.Now().UTC()
	time.Sleep(2 * time.Millisecond)
	rec, _, err := crm.Update("Lead", all[3], func(r Record) { r["first_name"] = "Changed" })
	if err != nil {
		t.Fatal(err)
	}
	if rec["version"].(json.Number).String() != "2" {
		t.Errorf("version after a change: %v", rec["version"])
	}
	if got := walk(before.Format(time.RFC3339Nano)); len(got) != 1 || got[0] != all[3] {
		t.Errorf("updated_since: %v", got)
	}
	if v := sb.Violations(); len(v) != 0 {
		t.Errorf("violations: %v", v)
	}
}

// TestFaults: 429 with Retry-After in seconds or as an HTTP-date, 503,
// resets, and 500s after the write was applied.
func TestFaults(t *testing.T) {
	sb := start(t, Options{})
	em := sb.System("email")
	members := em.BaseURL() + "/lists/lst_nurture/members"
	em.SetFaults(Faults{Rate: 1, Weights: [5]float64{Fault429: 1}, RetryAfter: 1500 * time.Millisecond})
	a := call(t, "GET", members+"/search?email_address=a@b.example", "", "", apiKey)
	if a.status != 429 || a.header.Get("Retry-After") != "2" || a.header.Get("Retry-After-Ms") != "1500" {
		t.Errorf("429: %d %v", a.status, a.header)
	}
	em.SetFaults(Faults{Rate: 1, Weights: [5]float64{Fault429: 1}, RetryAfterDate: true})
	a = call(t, "GET", members+"/search?email_address=a@b.example", "", "", apiKey)
	if when, err := http.ParseTime(a.header.Get("Retry-After")); a.status != 429 || err != nil || when.Before(time.Now().Add(-time.Minute)) {
		t.Errorf("429 with an HTTP-date: %d %q %v", a.status, a.header.Get("Retry-After"), err)
	}
	em.SetFaults(Faults{Rate: 1, Weights: [5]float64{Fault503: 1}})
	if a := call(t, "GET", members+"/search?email_address=a@b.example", "", "", apiKey); a.status != 503 || a.header.Get("Retry-After") == "" {
		t.Errorf("503: %d", a.status)
	}
	em.SetFaults(Faults{Rate: 1, Weights: [5]float64{FaultReset: 1}})
	req, _ := http.NewRequest("GET", members+"/search?email_address=a@b.example", nil)
	req.Header.Set("X-API-Key", "key")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("reset: got an answer %d", resp.StatusCode)
	}
	em.SetFaults(Faults{Rate: 1, AfterWrite: 1, Weights: [5]float64{Fault500: 1}})
	if a := call(t, "POST", members, "application/json", `{"email_address":"lost@x.example","status":"subscribed"}`, apiKey); a.status != 500 {
		t.Errorf("fault after write: %d", a.status)
	}
	if recs, _ := em.Records("Member"); len(recs) != 1 {
		t.Errorf("the write behind a lost answer was not applied: %d members", len(recs))
	}
	st := em.Stats()
	if st.FaultsAfterWrite != 1 || st.Faults["429"] != 2 || st.Faults["503"] != 1 || st.Faults["reset"] == 0 {
		t.Errorf("stats: %+v", st)
	}
	em.SetFaults(Faults{})
	em.SetDown(true)
	if a := call(t, "GET", members+"/search?email_address=a@b.example", "", "", apiKey); a.status != 503 {
		t.Errorf("down: %d", a.status)
	}
}

// TestWebhooks: a change is delivered signed in the connector's default
// scheme (checked the way runtime/engine checks it), Stripe's and
// Shopify's.
func TestWebhooks(t *testing.T) {
	sb := start(t, Options{})
	crm := sb.System("crm")
	type got struct {
		header http.Header
		body   []byte
	}
	ch := make(chan got, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ch <- got{r.Header.Clone(), b}
	}))
	defer srv.Close()
	if err := crm.Generate("Lead", 1); err != nil {
		t.Fatal(err)
	}
	recs, _ := crm.Records("Lead")
	id := recs[0]["id"].(string)
	mac := func(parts ...[]byte) []byte {
		m := hmac.New(sha256.New, []byte("whsec"))
		for _, p := range parts {
			m.Write(p)
		}
		return m.Sum(nil)
	}
	for _, scheme := range []string{SignDefault, SignStripe, SignShopify} {
		crm.Subscribe(Subscription{URL: srv.URL, Secret: "whsec", Scheme: scheme})
		if _, _, err := crm.Update("Lead", id, func(r Record) { r["last_name"] = scheme }); err != nil {
			t.Fatal(err)
		}
		if n, err := crm.Flush(context.Background()); n != 1 || err != nil {
			t.Fatalf("%s: flush %d %v", scheme, n, err)
		}
		g := <-ch
		var ev map[string]any
		if err := json.Unmarshal(g.body, &ev); err != nil || ev["lead_id"] != id || ev["type"] != "lead.updated" {
			t.Errorf("%s: event %s", scheme, g.body)
		}
		switch scheme {
		case SignShopify:
			want := base64.StdEncoding.EncodeToString(mac(g.body))
			if g.header.Get("X-Shopify-Hmac-Sha256") != want || g.header.Get("X-Shopify-Webhook-Id") == "" {
				t.Errorf("shopify signature: %v", g.header)
			}
		default:
			h := "X-Acme-Signature" // the connector's declared header
			if scheme == SignStripe {
				h = "Stripe-Signature"
			}
			sig := g.header.Get(h)
			ts, v1, _ := strings.Cut(strings.TrimPrefix(sig, "t="), ",v1=")
			sec, _ := strconv.ParseInt(ts, 10, 64)
			if hex.EncodeToString(mac([]byte(ts), []byte("."), g.body)) != v1 || time.Since(time.Unix(sec, 0)) > time.Minute {
				t.Errorf("%s signature %q in %s", scheme, sig, h)
			}
		}
	}
}

// TestWebhookRecordBody: when an entity's webhook event schema is its own
// record schema (Shopify posts the customer itself), the body delivered
// is the changed record, not a generated value, and the event ID travels
// in a header: X-Shopify-Webhook-Id for the Shopify scheme (with its
// topic), or the one the mapping's id: header.NAME names.
func TestWebhookRecordBody(t *testing.T) {
	spec, err := filepath.Abs("../../specs/crm/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ id, scheme, header string }{
		{"", SignShopify, "X-Shopify-Webhook-Id"},
		{"id: header.X-Delivery-Id,", SignDefault, "X-Delivery-Id"},
	} {
		dir := t.TempDir()
		rel, err := filepath.Rel(dir, spec) // spec paths are relative to the config
		if err != nil {
			t.Fatal(err)
		}
		cfg := fmt.Sprintf(`version: 1
package: hooks
systems:
  crm: { spec: %q }
entities:
  crm.Lead:
    key: id
    read: { list: listLeads, get: getLead }
    webhook: { event: Lead, key: id, %s signature: { scheme: %s, secret: env://HOOK_SECRET } }
`, filepath.ToSlash(rel), tc.id, tc.scheme)
		path := filepath.Join(dir, "connector.yaml")
		if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		sb, err := Load(path, Options{Credentials: map[string]Credentials{"crm": {ClientID: "cid", ClientSecret: "csecret"}}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(sb.Close)
		crm := sb.System("crm")
		type got struct {
			header http.Header
			body   []byte
		}
		ch := make(chan got, 10)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			ch <- got{r.Header.Clone(), b}
		}))
		defer srv.Close()
		if err := crm.Generate("Lead", 1); err != nil {
			t.Fatal(err)
		}
		recs, _ := crm.Records("Lead")
		id := recs[0]["id"].(string)
		crm.Subscribe(Subscription{URL: srv.URL, Secret: "whsec", Scheme: tc.scheme})
		for _, name := range []string{"Ada", "Grace"} {
			if _, _, err := crm.Update("Lead", id, func(r Record) { r["last_name"] = name }); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := crm.Flush(context.Background()); n != 2 || err != nil {
			t.Fatalf("%s: flush %d %v", tc.scheme, n, err)
		}
		recs, _ = crm.Records("Lead")
		var ids []string
		for i, want := range []string{"Ada", "Grace"} {
			g := <-ch
			var body map[string]any
			if err := json.Unmarshal(g.body, &body); err != nil {
				t.Fatal(err)
			}
			if body["id"] != id || body["last_name"] != want || body["email"] != recs[0]["email"] {
				t.Errorf("%s: delivery %d is not the changed lead: %s", tc.scheme, i, g.body)
			}
			ids = append(ids, g.header.Get(tc.header))
			if tc.scheme == SignShopify && g.header.Get("X-Shopify-Topic") != "leads/update" {
				t.Errorf("shopify topic %q", g.header.Get("X-Shopify-Topic"))
			}
		}
		if ids[0] == "" || ids[0] == ids[1] {
			t.Errorf("%s: event ids in %s: %q, want two distinct", tc.scheme, tc.header, ids)
		}
	}
}

// TestAdminHTTP: create, change and read records, reset, over HTTP.
func TestAdminHTTP(t *testing.T) {
	sb := start(t, Options{})
	crm := sb.System("crm")
	a := call(t, "POST", crm.AdminURL()+"/records/Lead", "application/json", `{"email":"x@y.example","status":"new"}`, nil)
	var rec Record
	if a.status != 201 || json.Unmarshal([]byte(a.body), &rec) != nil {
		t.Fatalf("create: %d %s", a.status, a.body)
	}
	id := rec["id"].(string)
	a = call(t, "PATCH", crm.AdminURL()+"/records/Lead/"+id, "application/json", `{"status":"qualified"}`, nil)
	if a.status != 200 || !strings.Contains(a.body, `"status":"qualified"`) || !strings.Contains(a.body, `"version":2`) {
		t.Errorf("patch: %d %s", a.status, a.body)
	}
	a = call(t, "GET", crm.AdminURL()+"/records/Lead", "", "", nil)
	if a.status != 200 || !strings.Contains(a.body, id) {
		t.Errorf("read: %d %s", a.status, a.body)
	}
	if a := call(t, "POST", crm.AdminURL()+"/generate/Owner?n=3", "", "", nil); a.status != 204 {
		t.Errorf("generate: %d %s", a.status, a.body)
	}
	if owners, _ := crm.Records("Owner"); len(owners) != 3 {
		t.Errorf("%d owners generated", len(owners))
	}
	if a := call(t, "POST", crm.AdminURL()+"/reset", "", "", nil); a.status != 204 {
		t.Errorf("reset: %d", a.status)
	}
	if recs, _ := crm.Records("Lead"); len(recs) != 0 {
		t.Errorf("reset left %d leads", len(recs))
	}
	if a := call(t, "GET", crm.AdminURL()+"/records/Nope", "", "", nil); a.status != 404 || !strings.Contains(a.body, "crm.Lead") {
		t.Errorf("unknown entity: %d %s", a.status, a.body)
	}
}

// TestRefusesNonLoopback: the sandbox speaks plain HTTP, so only loopback.
func TestRefusesNonLoopback(t *testing.T) {
	if _, err := Load(crmemail, Options{Listen: "0.0.0.0:0"}); err == nil || !strings.Contains(err.Error(), "not loopback") {
		t.Errorf("err = %v", err)
	}
}

// TestWebhookRetries: a target answering 5xx or 429 gets the same event
// again after a backoff until it accepts it, at most MaxAttempts times; a
// 4xx refusal is final; Auto delivery retries too.
func TestWebhookRetries(t *testing.T) {
	sb := start(t, Options{})
	crm := sb.System("crm")
	var mu sync.Mutex
	var statuses []int // what the target answers, in order; then 200
	var got [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, b)
		st := http.StatusOK
		if len(statuses) > 0 {
			st, statuses = statuses[0], statuses[1:]
		}
		mu.Unlock()
		w.WriteHeader(st)
	}))
	defer srv.Close()
	if err := crm.Generate("Lead", 1); err != nil {
		t.Fatal(err)
	}
	recs, _ := crm.Records("Lead")
	id := recs[0]["id"].(string)
	change := func() {
		t.Helper()
		if _, _, err := crm.Update("Lead", id, func(r Record) { r["last_name"] = "x" }); err != nil {
			t.Fatal(err)
		}
	}
	reset := func(s ...int) {
		mu.Lock()
		statuses, got = s, nil
		mu.Unlock()
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(got)
	}
	crm.Subscribe(Subscription{URL: srv.URL, Secret: "s", MaxAttempts: 4, Backoff: time.Millisecond})

	reset(503, 500, 429)
	change()
	before := crm.DeliveryAttempts()
	if n, err := crm.Flush(context.Background()); n != 1 || err != nil {
		t.Fatalf("flush after 3 failures: %d %v", n, err)
	}
	if count() != 4 || string(got[0]) != string(got[3]) || crm.DeliveryAttempts()-before != 4 {
		t.Errorf("%d deliveries (%d counted), want 4 of the same event", count(), crm.DeliveryAttempts()-before)
	}

	reset(500, 500, 500, 500, 500)
	change()
	if n, err := crm.Flush(context.Background()); n != 0 || err == nil || !strings.Contains(err.Error(), "4 attempts") {
		t.Errorf("flush against a failing target: %d %v", n, err)
	}
	if count() != 4 {
		t.Errorf("%d deliveries, want the bound, 4", count())
	}

	reset(400)
	change()
	if n, err := crm.Flush(context.Background()); n != 0 || err == nil || count() != 1 {
		t.Errorf("a 400 is final: %d %v after %d deliveries", n, err, count())
	}

	reset(503)
	crm.Subscribe(Subscription{URL: srv.URL, Secret: "s", Auto: true, Backoff: time.Millisecond})
	change()
	for deadline := time.Now().Add(10 * time.Second); count() < 2 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if count() != 2 {
		t.Errorf("auto delivery: %d deliveries, want 2 (a 503, then the redelivery)", count())
	}
}

// TestWebhookNestedKey: a webhook key that is a path (Stripe's
// data.object.id) is written nested in the event, not as one flat key.
func TestWebhookNestedKey(t *testing.T) {
	const cfg = "../../specs/stripe-hubspot/connector.yaml"
	if _, err := os.Stat("../../../shared/corpus/stripe__api__2023-09-12.yaml"); err != nil {
		t.Skip("no ../shared/corpus")
	}
	sb, err := Load(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	st := sb.System("stripe")
	ch := make(chan []byte, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ch <- b
	}))
	defer srv.Close()
	c, err := st.Create("Customer", Record{"object": "customer", "email": "a@b.example"})
	if err != nil {
		t.Fatal(err)
	}
	id := c["id"].(string)
	st.Subscribe(Subscription{URL: srv.URL, Secret: "whsec", Scheme: SignStripe})
	if _, _, err := st.Update("Customer", id, func(r Record) { r["name"] = "Ann Lee" }); err != nil {
		t.Fatal(err)
	}
	if n, err := st.Flush(context.Background()); n != 1 || err != nil {
		t.Fatalf("flush %d %v", n, err)
	}
	body := <-ch
	var ev struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		Data struct {
			Object map[string]any `json:"object"`
		} `json:"data"`
	}
	var flat map[string]any
	if err := json.Unmarshal(body, &ev); err != nil || json.Unmarshal(body, &flat) != nil {
		t.Fatalf("event %s: %v", body, err)
	}
	if ev.Data.Object["id"] != id || ev.Type != "customer.updated" || ev.ID == "" {
		t.Errorf("event %s: want data.object.id %s, type customer.updated", body, id)
	}
	if _, ok := flat["data.object.id"]; ok {
		t.Errorf("event %s has a flat key data.object.id", body)
	}
}
