package keys

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/golden/syncs/keys/desk"
	"github.com/connectorgen/connectorgen/golden/syncs/keys/tracker"
	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/oas"
	"github.com/connectorgen/connectorgen/runtime/secret"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

const issueID = "0b7c6f3e-3d2a-4c1e-9f55-7a1d2c3b4e5f"

// recorder is a fake desk + tracker on loopback HTTP that records every
// request it gets.
type recorder struct {
	mu   sync.Mutex
	seen []string
	// tickets, when set, is the body GET /tickets answers.
	tickets string
}

func (rec *recorder) handler(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.seen = append(rec.seen, r.Method+" "+r.URL.Path+" "+string(body))
		rec.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == "GET" && r.URL.Path == "/v2/tickets/42":
			_, _ = w.Write([]byte(`{"ticket":{"id":42,"subject":"Printer on fire","priority":4,"updated_at":"2026-01-02T03:04:05Z"}}`))
		case r.Method == "GET" && r.URL.Path == "/v2/tickets/43":
			_, _ = w.Write([]byte(`{}`)) // an envelope without the ticket
		case r.Method == "GET" && r.URL.Path == "/tickets/42":
			_, _ = w.Write([]byte(`{"id":42,"subject":"Printer on fire","priority":4,"updated_at":"2026-01-02T03:04:05Z"}`))
		case r.Method == "POST" && r.URL.Path == "/issues/search":
			_, _ = w.Write([]byte(`{"issues":[{"id":"` + issueID + `","summary":"Printer on fire","external_ref":"42"}]}`))
		case r.Method == "GET" && r.URL.Path == "/tickets":
			rec.mu.Lock()
			page := rec.tickets
			rec.mu.Unlock()
			if page == "" {
				page = `{"data":[{"id":42,"subject":"Printer on fire","priority":4,"updated_at":"2026-01-02T03:04:05Z"}]}`
			}
			_, _ = w.Write([]byte(page))
		case r.Method == "POST" && r.URL.Path == "/issues":
			_, _ = w.Write([]byte(`{"id":"` + issueID + `","summary":"Printer on fire"}`))
		case r.Method == "DELETE" && r.URL.Path == "/issues/"+issueID:
			w.WriteHeader(http.StatusNoContent)
		case r.Method == "PUT" && r.URL.Path == "/issues/bulk":
			// An async job: the answer names no record.
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write([]byte(`{"job_id":"job-1"}`))
		case (r.Method == "PATCH" && r.URL.Path == "/issues/"+issueID) || (r.Method == "PUT" && r.URL.Path == "/issues"):
			_, _ = w.Write([]byte(`{"id":"` + issueID + `","summary":"Printer on fire"}`))
		default:
			t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
			w.WriteHeader(http.StatusNotFound)
		}
	})
}

func (rec *recorder) last() string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.seen) == 0 {
		return ""
	}
	return rec.seen[len(rec.seen)-1]
}

func clients(t *testing.T, rec *recorder) Clients {
	srv := httptest.NewServer(rec.handler(t))
	t.Cleanup(srv.Close)
	d, err := desk.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := tracker.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return Clients{Desk: d, Tracker: tr}
}

// TestIntegerAndUUIDKeys: integer source keys and UUID target keys travel
// as the engine's strings and are parsed back for path parameters; a key
// that does not parse is a permanent error, never a request.
func TestIntegerAndUUIDKeys(t *testing.T) {
	rec := &recorder{}
	s := TicketsToIssues(clients(t, rec))
	ctx := context.Background()
	ticket, err := s.Fetch(ctx, "42")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Key(&ticket); got != "42" {
		t.Errorf("Key = %q, want 42", got)
	}
	var perm *engine.PermanentError
	if _, err := s.Fetch(ctx, "forty-two"); !errors.As(err, &perm) {
		t.Errorf("unparsable integer key: err = %v, want permanent", err)
	}
	w, err := s.Map(ctx, &ticket, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, issueID, &w, ""); err != nil {
		t.Fatal(err)
	}
	if got := rec.last(); got[:len("PATCH /issues/"+issueID)] != "PATCH /issues/"+issueID {
		t.Errorf("update sent %q", got)
	}
	n := len(rec.seen)
	if err := s.Update(ctx, "not-a-uuid", &w, ""); !errors.As(err, &perm) || len(rec.seen) != n {
		t.Errorf("unparsable UUID key: err = %v, requests %d → %d; want permanent and no request", err, n, len(rec.seen))
	}
}

// TestFindByBodyFilter: the natural key goes into the search body at
// filter.external_ref, and the match's UUID comes back as the key.
func TestFindByBodyFilter(t *testing.T) {
	rec := &recorder{}
	s := TicketsToIssues(clients(t, rec))
	key, found, err := s.Find(context.Background(), "42")
	if err != nil || !found || key != issueID {
		t.Fatalf("Find = %q, %v, %v", key, found, err)
	}
	var body struct {
		Filter struct {
			ExternalRef string `json:"external_ref"`
		} `json:"filter"`
	}
	last := rec.last()
	if err := json.Unmarshal([]byte(last[len("POST /issues/search "):]), &body); err != nil || body.Filter.ExternalRef != "42" {
		t.Errorf("search request %q", last)
	}
}

// TestUpsertTarget: an upsert entity creates and updates with the same
// call, which carries the natural key in its body and no key in its path.
func TestUpsertTarget(t *testing.T) {
	rec := &recorder{}
	s := TicketsUpserted(clients(t, rec))
	ticket := desk.Ticket{ID: 42, Subject: "Printer on fire", Priority: oas.Some[int64](4)}
	w, err := s.Map(context.Background(), &ticket, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	key, err := s.Create(context.Background(), &w, "idem")
	if err != nil || key != issueID {
		t.Fatalf("Create = %q, %v", key, err)
	}
	want := `PUT /issues {"summary":"Printer on fire","external_ref":"42"}`
	if got := rec.last(); got != want {
		t.Errorf("create sent %q, want %q", got, want)
	}
	if err := s.Update(context.Background(), key, &w, "idem"); err != nil {
		t.Fatal(err)
	}
	if got := rec.last(); got != want {
		t.Errorf("update sent %q, want %q", got, want)
	}
}

// TestBulkTarget: a bulk upsert (write.bulk) sends the record as the only
// element of the body's list, answers with an async job id, and the
// engine records the record's natural key as its target key; a second
// run updates through the same list.
func TestBulkTarget(t *testing.T) {
	rec := &recorder{}
	c := clients(t, rec)
	e := engine.New(engine.NewMemoryStore())
	if err := engine.Add(e, TicketsBulk(c)); err != nil {
		t.Fatal(err)
	}
	rep, err := e.RunOnce(context.Background(), "tickets_bulk")
	if err != nil {
		t.Fatal(err)
	}
	want := `PUT /issues/bulk {"issues":[{"summary":"Printer on fire","external_ref":"42"}]}`
	if got := rec.last(); got != want {
		t.Errorf("bulk write sent %q, want %q", got, want)
	}
	if rep.Created != 1 {
		t.Errorf("report = %+v, want one created", rep)
	}
	tk, ok, err := e.Store().LookupXref(context.Background(), "tickets_bulk", "42")
	if err != nil || !ok || tk != "42" {
		t.Errorf("xref 42 = %q, %v, %v; want the natural key 42", tk, ok, err)
	}
	w, err := TicketsBulk(c).Map(context.Background(), &desk.Ticket{ID: 42, Subject: "Printer melted"}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := TicketsBulk(c).Update(context.Background(), "42", &w, "idem"); err != nil {
		t.Fatal(err)
	}
	want = `PUT /issues/bulk {"issues":[{"summary":"Printer melted","external_ref":"42"}]}`
	if got := rec.last(); got != want {
		t.Errorf("bulk update sent %q, want %q", got, want)
	}
}

// TestBulkTargetBatches: the records of one poll go in one bulk request
// (write.bulk's batch), each committed with its natural key as target key
// and the answer's job id in its audit entry.
func TestBulkTargetBatches(t *testing.T) {
	rec := &recorder{tickets: `{"data":[{"id":41,"subject":"Paper jam","priority":4,"updated_at":"2026-01-02T03:04:05Z"},` +
		`{"id":42,"subject":"Printer on fire","priority":4,"updated_at":"2026-01-02T03:04:06Z"},` +
		`{"id":43,"subject":"Toner low","priority":4,"updated_at":"2026-01-02T03:04:07Z"}]}`}
	c := clients(t, rec)
	e := engine.New(engine.NewMemoryStore())
	if err := engine.Add(e, TicketsBulk(c)); err != nil {
		t.Fatal(err)
	}
	rep, err := e.RunOnce(context.Background(), "tickets_bulk")
	if err != nil {
		t.Fatal(err)
	}
	var puts []string
	rec.mu.Lock()
	for _, r := range rec.seen {
		if strings.HasPrefix(r, "PUT ") {
			puts = append(puts, r)
		}
	}
	rec.mu.Unlock()
	want := `PUT /issues/bulk {"issues":[{"summary":"Paper jam","external_ref":"41"},{"summary":"Printer on fire","external_ref":"42"},{"summary":"Toner low","external_ref":"43"}]}`
	if len(puts) != 1 || puts[0] != want {
		t.Fatalf("bulk writes %q, want one: %q", puts, want)
	}
	if rep.Created != 3 {
		t.Errorf("report = %+v, want three created", rep)
	}
	au, err := e.Store().Audit(context.Background(), engine.AuditQuery{Sync: "tickets_bulk"})
	if err != nil || len(au) != 3 {
		t.Fatalf("audit %v %+v", err, au)
	}
	for _, a := range au {
		if a.Job != "job-1" || a.TargetKey != a.SourceKey {
			t.Errorf("audit entry %+v: want job-1 and the natural key as target", a)
		}
	}
}

// TestExitActions: a ticket that closes leaves the scope (enter: status
// open); the mapping's exit action runs once on its issue — a final write
// of state: done, or a delete — and a later run with the ticket still
// closed does not repeat it.
func TestExitActions(t *testing.T) {
	for _, tc := range []struct {
		sync, first string
		want        string
	}{
		{"open_tickets_bulk", "PUT /issues/bulk", `PUT /issues/bulk {"issues":[{"summary":"Closed in the desk","external_ref":"42","state":"done"}]}`},
		{"open_tickets", "POST /issues", `PATCH /issues/` + issueID + ` {"summary":"Closed in the desk","state":"done"}`},
		{"open_tickets_only", "POST /issues", `DELETE /issues/` + issueID + ` `},
	} {
		t.Run(tc.sync, func(t *testing.T) {
			rec := &recorder{tickets: `{"data":[{"id":42,"subject":"Printer on fire","status":"open","updated_at":"2026-01-02T03:04:05Z"}]}`}
			c := clients(t, rec)
			e := engine.New(engine.NewMemoryStore())
			if err := Register(e, c); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if _, err := e.RunOnce(ctx, tc.sync); err != nil {
				t.Fatal(err)
			}
			if got := rec.last(); !strings.HasPrefix(got, tc.first) {
				t.Fatalf("first run sent %q, want the issue created", got)
			}
			rec.mu.Lock()
			rec.tickets = `{"data":[{"id":42,"subject":"Printer on fire","status":"closed","updated_at":"2026-01-02T04:00:00Z"}]}`
			rec.mu.Unlock()
			if _, err := e.RunOnce(ctx, tc.sync); err != nil {
				t.Fatal(err)
			}
			if got := rec.last(); got != tc.want {
				t.Errorf("on leaving the scope sent %q, want %q", got, tc.want)
			}
			n := len(rec.seen)
			rec.mu.Lock()
			rec.tickets = `{"data":[{"id":42,"subject":"Printer on fire","status":"closed","updated_at":"2026-01-02T05:00:00Z"}]}`
			rec.mu.Unlock()
			if _, err := e.RunOnce(ctx, tc.sync); err != nil {
				t.Fatal(err)
			}
			if got := rec.seen[n:]; len(got) != 1 || got[0][:12] != "GET /tickets" {
				t.Errorf("a run with the ticket still out sent %q, want only the poll", got)
			}
		})
	}
}

// TestExitActionCondition: open_tickets_only deletes the issue only of a
// ticket that leaves the scope closed (on_exit when); a ticket leaving as
// merged keeps its issue, and closing it later, already out, deletes
// nothing either.
func TestExitActionCondition(t *testing.T) {
	rec := &recorder{tickets: `{"data":[{"id":42,"subject":"Printer on fire","status":"open","updated_at":"2026-01-02T03:04:05Z"}]}`}
	c := clients(t, rec)
	e := engine.New(engine.NewMemoryStore())
	if err := Register(e, c); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := e.RunOnce(ctx, "open_tickets_only"); err != nil {
		t.Fatal(err)
	}
	for i, status := range []string{"merged", "closed"} {
		n := len(rec.seen)
		rec.mu.Lock()
		rec.tickets = `{"data":[{"id":42,"subject":"Printer on fire","status":"` + status + `","updated_at":"2026-01-02T0` + strconv.Itoa(4+i) + `:00:00Z"}]}`
		rec.mu.Unlock()
		if _, err := e.RunOnce(ctx, "open_tickets_only"); err != nil {
			t.Fatal(err)
		}
		if got := rec.seen[n:]; len(got) != 1 || !strings.HasPrefix(got[0], "GET /tickets") {
			t.Errorf("ticket %s: sent %q, want only the poll (no delete)", status, got)
		}
	}
}

// TestDeclaredLimitsSharedBySyncs: the desk's declared budget (one
// request an hour) is one limiter for the desk client NewClients builds,
// so after one sync's request the other sync's request is refused for
// later instead of sent.
func TestDeclaredLimitsSharedBySyncs(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(rec.handler(t))
	defer srv.Close()
	c, err := NewClients(context.Background(), secret.NewResolver(), Endpoints{Desk: srv.URL, Tracker: srv.URL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TicketsToIssues(c).Fetch(context.Background(), "42"); err != nil {
		t.Fatal(err)
	}
	_, err = TicketsUpserted(c).Fetch(context.Background(), "42")
	var later *transport.RetryLaterError
	if !errors.As(err, &later) || later.Wait < 50*time.Minute {
		t.Errorf("second request of the hour: err = %v, want a retry-later of about an hour", err)
	}
	if len(rec.seen) != 1 {
		t.Errorf("desk got %d requests, want 1", len(rec.seen))
	}
}

// TestRecordBodyWebhook: a webhook whose body is the ticket itself,
// signed Shopify's way, is named by its X-Shopify-Webhook-Id header: the
// generated configuration verifies the signature, queues the delivery
// once (a redelivery is a duplicate; one without the header or with a
// forged signature is refused), and applying it re-fetches the ticket
// through the get's envelope and writes it.
func TestRecordBodyWebhook(t *testing.T) {
	t.Setenv("DESK_WEBHOOK_SECRET", "shpss_test")
	rec := &recorder{}
	c := clients(t, rec)
	e := engine.New(engine.NewMemoryStore())
	if err := engine.Add(e, PushedTickets(c)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cfg, err := PushedTicketsWebhook(ctx, secret.NewResolver())
	if err != nil {
		t.Fatal(err)
	}
	h := e.Webhook("pushed_tickets", cfg)
	body := []byte(`{"id":42,"subject":"Printer on fire","priority":4,"updated_at":"2026-01-02T03:04:05Z"}`)
	sig := engine.SignWebhookScheme(engine.SchemeShopify, secret.New("shpss_test"), time.Time{}, body)
	post := func(sig, id string) int {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/pushed_tickets", strings.NewReader(string(body)))
		req.Header.Set("X-Shopify-Hmac-Sha256", sig)
		if id != "" {
			req.Header.Set("X-Shopify-Webhook-Id", id)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	forged := engine.SignWebhookScheme(engine.SchemeShopify, secret.New("other"), time.Time{}, body)
	for i, s := range []struct {
		sig, id string
		want    int
	}{
		{sig, "", http.StatusBadRequest},
		{forged, "w-1", http.StatusUnauthorized},
		{sig, "w-1", http.StatusAccepted},
		{sig, "w-1", http.StatusOK},
	} {
		if got := post(s.sig, s.id); got != s.want {
			t.Errorf("delivery %d (id %q): %d, want %d", i, s.id, got, s.want)
		}
	}
	if len(rec.seen) != 0 {
		t.Fatalf("deliveries made requests before the queue was processed: %v", rec.seen)
	}
	rep, err := e.ProcessQueue(ctx, "pushed_tickets")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"GET /v2/tickets/42 ", `PUT /issues {"summary":"Printer on fire","external_ref":"42"}`}
	if rep.Created != 1 || strings.Join(rec.seen, "\n") != strings.Join(want, "\n") {
		t.Errorf("queue applied: %+v, requests %q; want one created by %q", rep, rec.seen, want)
	}
	// An envelope without the ticket is an error, not an empty ticket.
	if _, err := PushedTickets(clients(t, rec)).Fetch(ctx, "43"); err == nil || !strings.Contains(err.Error(), "no record") {
		t.Errorf("Fetch of an empty envelope: %v", err)
	}
}
