package sim

import (
	"context"
	"encoding/json"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/connectorgen/connectorgen/generator/sandbox"
)

// CRM is the simulated Acme CRM: a sandbox of specs/crm/openapi.yaml with
// the demo's owners and leads.
type CRM struct {
	sys *sandbox.System

	mu     sync.Mutex
	mutRng *mrand.Rand
	ever   map[string]bool // leads that have been qualified
	secret string
}

// System is the sandbox serving the CRM.
func (c *CRM) System() *sandbox.System { return c.sys }

// URL is the server's root URL (scheme://host:port).
func (c *CRM) URL() string { return c.sys.URL() }

// BaseURL is the API base URL to give crm.NewClient.
func (c *CRM) BaseURL() string { return c.sys.BaseURL() }

// TokenURL is the OAuth 2.0 token endpoint.
func (c *CRM) TokenURL() string { return c.sys.TokenURL() }

// Client returns an http.Client for the server (plain loopback HTTP).
func (c *CRM) Client() *http.Client { return &http.Client{} }

// SetFaults replaces the fault configuration.
func (c *CRM) SetFaults(f Faults) { c.sys.SetFaults(f) }

// SetDown makes every API request fail with 503 while down is true.
func (c *CRM) SetDown(down bool) { c.sys.SetDown(down) }

// Stats returns the request and fault counters.
func (c *CRM) Stats() Stats { return c.sys.Stats() }

// TokenRequests returns the number of token requests by grant type.
func (c *CRM) TokenRequests() map[string]int64 { return c.sys.TokenRequests() }

// RevokeTokens invalidates every access token.
func (c *CRM) RevokeTokens() { c.sys.RevokeTokens() }

// IssueRefreshToken returns a new refresh token, as the authorization-code
// flow would hand out.
func (c *CRM) IssueRefreshToken() string { return c.sys.IssueRefreshToken() }

func (c *CRM) seed(o Options) error {
	c.mutRng = mrand.New(mrand.NewPCG(o.Seed, 0x5eed))
	c.ever = map[string]bool{}
	base := time.Now().Add(-72 * time.Hour).UTC().Truncate(time.Second)
	owners, leads := generate(o, base)
	for _, ow := range owners {
		if _, err := c.sys.Create("Owner", ownerRecord(ow)); err != nil {
			return err
		}
	}
	for _, l := range leads {
		if l.EverQualified {
			c.ever[l.ID] = true
		}
		if _, err := c.sys.Create("Lead", leadRecord(l)); err != nil {
			return err
		}
	}
	return nil
}

func ownerRecord(o *Owner) sandbox.Record {
	return sandbox.Record{"id": o.ID, "name": o.Name, "email": o.Email, "team": o.Team, "active": o.Active}
}

const timeLayout = time.RFC3339Nano

// leadRecord is the Lead schema on the wire (optional fields omitted when
// nil, nullable ones null).
func leadRecord(l *Lead) sandbox.Record {
	r := sandbox.Record{"id": l.ID, "email": l.Email, "phone": l.Phone, "company_id": nil, "owner_id": l.OwnerID,
		"status": l.Status, "rating": l.Rating, "created_at": l.CreatedAt.Format(timeLayout), "deleted": l.Deleted}
	if l.FirstName != nil {
		r["first_name"] = *l.FirstName
	}
	if l.LastName != nil {
		r["last_name"] = *l.LastName
	}
	if l.CompanyName != nil {
		r["company_name"] = *l.CompanyName
	}
	if l.Source != "" {
		r["source"] = l.Source
	}
	return r
}

func str(r sandbox.Record, k string) string {
	s, _ := r[k].(string)
	return s
}

func strPtr(r sandbox.Record, k string) *string {
	s, ok := r[k].(string)
	if !ok {
		return nil
	}
	return &s
}

func num(r sandbox.Record, k string) int64 {
	switch v := r[k].(type) {
	case json.Number:
		n, _ := v.Int64()
		return n
	case float64:
		return int64(v)
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}

func toLead(r sandbox.Record) Lead {
	l := Lead{ID: str(r, "id"), FirstName: strPtr(r, "first_name"), LastName: strPtr(r, "last_name"), Email: str(r, "email"),
		Phone: strPtr(r, "phone"), CompanyName: strPtr(r, "company_name"), OwnerID: strPtr(r, "owner_id"),
		Status: str(r, "status"), Rating: strPtr(r, "rating"), Source: str(r, "source"), Version: num(r, "version")}
	l.CreatedAt, _ = time.Parse(timeLayout, str(r, "created_at"))
	l.UpdatedAt, _ = time.Parse(timeLayout, str(r, "updated_at"))
	l.Deleted, _ = r["deleted"].(bool)
	return l
}

// writeLead stores l's editable fields into r.
func writeLead(r sandbox.Record, l Lead) {
	for k, v := range leadRecord(&l) {
		if k == "created_at" || k == "id" {
			continue
		}
		r[k] = v
	}
	for _, k := range []string{"first_name", "last_name", "company_name"} {
		if _, ok := leadRecord(&l)[k]; !ok {
			delete(r, k)
		}
	}
}

// Leads returns a copy of every lead, ordered by id.
func (c *CRM) Leads() []Lead {
	recs, _ := c.sys.Records("Lead")
	out := make([]Lead, 0, len(recs))
	c.mu.Lock()
	for _, r := range recs {
		l := toLead(r)
		l.EverQualified = c.ever[l.ID]
		out = append(out, l)
	}
	c.mu.Unlock()
	slices.SortFunc(out, func(a, b Lead) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Lead returns a copy of one lead.
func (c *CRM) Lead(id string) (Lead, bool) {
	r, ok := c.sys.Record("Lead", id)
	if !ok {
		return Lead{}, false
	}
	l := toLead(r)
	c.mu.Lock()
	l.EverQualified = c.ever[id]
	c.mu.Unlock()
	return l, true
}

// Owners returns a copy of every owner, ordered by id.
func (c *CRM) Owners() []Owner {
	recs, _ := c.sys.Records("Owner")
	out := make([]Owner, 0, len(recs))
	for _, r := range recs {
		a, _ := r["active"].(bool)
		out = append(out, Owner{ID: str(r, "id"), Name: str(r, "name"), Email: str(r, "email"), Team: strPtr(r, "team"), Active: a})
	}
	slices.SortFunc(out, func(a, b Owner) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Update applies f to lead id as one change (new version, updated_at and
// webhook event) and returns the event.
func (c *CRM) Update(id string, f func(l *Lead)) (LeadEvent, bool) {
	_, ev, err := c.sys.Update("Lead", id, func(r sandbox.Record) {
		l := toLead(r)
		f(&l)
		writeLead(r, l)
		if l.Status == StatusQualified {
			c.mu.Lock()
			c.ever[id] = true
			c.mu.Unlock()
		}
	})
	if err != nil {
		return LeadEvent{}, false
	}
	var le LeadEvent
	_ = json.Unmarshal(ev.Body, &le)
	return le, true
}

// Mutate applies n seeded random changes, as sales reps would over time:
// leads are contacted, get qualified, have their names, company, phone,
// rating or owner edited. Qualified leads stay qualified, email addresses
// do not change, and no field that has a value loses it (a phone number
// stays of the same kind, a rating is never removed): the mapping has no
// way to clear a target field, so the end state of a sync is easy to state.
// It returns the events of the changes.
func (c *CRM) Mutate(n int) []LeadEvent {
	leads := c.Leads() // ordered by id: the choice must not depend on map order
	owners := c.Owners()
	rng := c.mutRng
	var evs []LeadEvent
	for k := 0; k < n && len(leads) > 0; k++ {
		id := leads[rng.IntN(len(leads))].ID
		ev, ok := c.Update(id, func(l *Lead) {
			switch r := rng.IntN(10); {
			case r < 4 && slices.Contains(editable, l.Status):
				// Progress through qualification.
				if l.Status == StatusNew {
					l.Status = StatusContacted
				} else if rng.IntN(3) == 0 {
					l.Status = StatusUnqualified
				} else {
					l.Status = StatusQualified
				}
			case r < 5:
				l.FirstName = ptr(firstNames[rng.IntN(len(firstNames))])
			case r < 6:
				l.CompanyName = ptr(companies[rng.IntN(len(companies))])
			case r < 7 && l.Phone != nil:
				// A new number of the same kind (mobile stays mobile).
				landline := strings.HasSuffix(*l.Phone, "00")
				for {
					p := phone(rng)
					if strings.HasSuffix(p, "00") == landline {
						l.Phone = ptr(p)
						break
					}
				}
			case r < 8:
				l.Rating = ptr(ratings[rng.IntN(len(ratings))])
			case r < 9 && len(owners) > 0:
				l.OwnerID = ptr(owners[rng.IntN(len(owners))].ID)
			default:
				l.LastName = ptr(lastNames[rng.IntN(len(lastNames))])
			}
		})
		if ok {
			evs = append(evs, ev)
		}
	}
	return evs
}

// LeadEvent is the spec's webhook payload.
type LeadEvent struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	OccurredAt time.Time `json:"occurred_at"`
	LeadID     string    `json:"lead_id"`
	Version    int64     `json:"version"`
}

// SignatureHeader is the header the CRM signs webhook deliveries with (the
// connector's declared signature header).
const SignatureHeader = "X-Acme-Signature"

// Sign returns the X-Acme-Signature value for body sent at t:
// "t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">".
func Sign(secret string, t time.Time, body []byte) string {
	return sandbox.Sign(sandbox.SignDefault, secret, t, body)
}

// Subscribe makes the CRM deliver lead events to url, signed with secret.
// Events recorded before the subscription are not delivered.
func (c *CRM) Subscribe(url, secret string) {
	c.mu.Lock()
	c.secret = secret
	c.mu.Unlock()
	c.sys.Subscribe(sandbox.Subscription{URL: url, Secret: secret, Header: SignatureHeader})
}

// Events returns every lead event recorded so far.
func (c *CRM) Events() []LeadEvent {
	var out []LeadEvent
	for _, ev := range c.sys.Events() {
		if ev.Entity != "crm.Lead" {
			continue
		}
		var le LeadEvent
		if json.Unmarshal(ev.Body, &le) == nil {
			out = append(out, le)
		}
	}
	return out
}

// Flush delivers, in order, the events recorded since the last Flush.
func (c *CRM) Flush(ctx context.Context) (int, error) { return c.sys.Flush(ctx) }

// Deliver posts one event, correctly signed, to the subscription and
// returns the status.
func (c *CRM) Deliver(ctx context.Context, ev LeadEvent) (int, error) {
	body, err := json.Marshal(ev)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	secret := c.secret
	c.mu.Unlock()
	return c.sys.Post(ctx, body, Sign(secret, time.Now(), body))
}

// Post sends body with the given signature header to the subscription (for
// forged or replayed deliveries) and returns the status.
func (c *CRM) Post(ctx context.Context, body []byte, signature string) (int, error) {
	return c.sys.Post(ctx, body, signature)
}
