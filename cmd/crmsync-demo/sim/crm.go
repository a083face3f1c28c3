package sim

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// CRM is the simulated Acme CRM (specs/crm/openapi.yaml): leads and owners
// under /v1, the OAuth 2.0 token endpoint at /oauth/token, and a webhook
// sender.
type CRM struct {
	srv *httptest.Server
	in  *injector

	clientID, clientSecret string
	tokenTTL               time.Duration

	reqSeq atomic.Int64

	mu      sync.Mutex
	owners  []*Owner // by id
	leads   map[string]*Lead
	order   []*Lead // by (UpdatedAt, ID)
	lastT   time.Time
	tokens  map[string]time.Time // access token → expiry
	refresh map[string]bool      // live refresh tokens
	mutRng  *mrand.Rand
	tokReqs map[string]int64 // grant type → count

	hooks webhooks
}

// URL is the server's root URL (scheme://host:port).
func (c *CRM) URL() string { return c.srv.URL }

// BaseURL is the API base URL to give crm.NewClient.
func (c *CRM) BaseURL() string { return c.srv.URL + "/v1" }

// TokenURL is the OAuth 2.0 token endpoint.
func (c *CRM) TokenURL() string { return c.srv.URL + "/oauth/token" }

// Client returns an http.Client for the server (plain loopback HTTP).
func (c *CRM) Client() *http.Client { return c.srv.Client() }

// SetFaults replaces the fault configuration.
func (c *CRM) SetFaults(f Faults) { c.in.setFaults(f) }

// SetDown makes every API request fail with 503 while down is true.
func (c *CRM) SetDown(down bool) { c.in.down.Store(down) }

// Stats returns the request and fault counters.
func (c *CRM) Stats() Stats { return c.in.snapshot() }

// TokenRequests returns the number of token requests by grant type.
func (c *CRM) TokenRequests() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int64{}
	for k, v := range c.tokReqs {
		out[k] = v
	}
	return out
}

func newCRM(o Options, in *injector) *CRM {
	c := &CRM{
		in:           in,
		clientID:     o.CRMClientID,
		clientSecret: o.CRMClientSecret,
		tokenTTL:     o.TokenTTL,
		leads:        map[string]*Lead{},
		tokens:       map[string]time.Time{},
		refresh:      map[string]bool{},
		tokReqs:      map[string]int64{},
		mutRng:       mrand.New(mrand.NewPCG(o.Seed, 0x5eed)),
	}
	base := time.Now().Add(-72 * time.Hour).UTC().Truncate(time.Second)
	owners, leads := generate(o, base)
	c.owners = owners
	for _, l := range leads {
		c.leads[l.ID] = l
		c.order = append(c.order, l)
	}
	c.lastT = base.Add(time.Duration(len(leads)) * time.Millisecond)
	c.sortLocked()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", c.token)
	c.api(mux, "GET /v1/leads", "listLeads", false, c.listLeads)
	c.api(mux, "GET /v1/leads/{lead_id}", "getLead", false, c.getLead)
	c.api(mux, "GET /v1/owners", "listOwners", false, c.listOwners)
	c.api(mux, "GET /v1/owners/{owner_id}", "getOwner", false, c.getOwner)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		in.count(r.Method + " ?")
		c.crmError(w, r, http.StatusNotFound, "not_found", "No such endpoint.")
	})
	c.srv = httptest.NewServer(mux)
	return c
}

func (c *CRM) sortLocked() {
	sort.Slice(c.order, func(i, j int) bool { return leadLess(c.order[i], c.order[j]) })
}

func leadLess(a, b *Lead) bool {
	if !a.UpdatedAt.Equal(b.UpdatedAt) {
		return a.UpdatedAt.Before(b.UpdatedAt)
	}
	return a.ID < b.ID
}

// api registers an authenticated, fault-injected API route.
func (c *CRM) api(mux *http.ServeMux, pattern, op string, write bool, h http.HandlerFunc) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		c.in.count(r.Method + " " + op)
		if !c.authorized(r) {
			c.in.countUnauthorized()
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			c.crmError(w, r, http.StatusUnauthorized, "unauthorized", "The access token is missing, expired or revoked.")
			return
		}
		c.in.serve(w, r, write, h, c.crmError)
	})
}

func (c *CRM) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	exp, ok := c.tokens[tok]
	return ok && time.Now().Before(exp)
}

// RevokeTokens invalidates every access token (the API then answers 401
// until the client fetches a new one).
func (c *CRM) RevokeTokens() {
	c.mu.Lock()
	c.tokens = map[string]time.Time{}
	c.mu.Unlock()
}

// IssueRefreshToken returns a new refresh token, as the authorization-code
// flow would hand out.
func (c *CRM) IssueRefreshToken() string {
	t := "rt_" + randomHex(16)
	c.mu.Lock()
	c.refresh[t] = true
	c.mu.Unlock()
	return t
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// token implements the client credentials and refresh token grants; refresh
// tokens rotate on every refresh (the old one is revoked).
func (c *CRM) token(w http.ResponseWriter, r *http.Request) {
	c.in.count("POST token")
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	id, sec, ok := r.BasicAuth()
	if !ok {
		id, sec = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != c.clientID || sec != c.clientSecret {
		oauthError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	grant := r.PostForm.Get("grant_type")
	c.mu.Lock()
	c.tokReqs[grant]++
	resp := map[string]any{"token_type": "Bearer", "expires_in": int(c.tokenTTL / time.Second)}
	switch grant {
	case "client_credentials":
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		if !c.refresh[rt] {
			c.mu.Unlock()
			oauthError(w, http.StatusBadRequest, "invalid_grant")
			return
		}
		delete(c.refresh, rt)
		next := "rt_" + randomHex(16)
		c.refresh[next] = true
		resp["refresh_token"] = next
	default:
		c.mu.Unlock()
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	at := "at_" + randomHex(16)
	c.tokens[at] = time.Now().Add(c.tokenTTL)
	c.mu.Unlock()
	resp["access_token"] = at
	if s := r.PostForm.Get("scope"); s != "" {
		resp["scope"] = s
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, "application/json", resp)
}

func oauthError(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, "application/json", map[string]string{"error": code})
}

func writeJSON(w http.ResponseWriter, status int, ctype string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// crmError writes the CRM's Error body, with a request ID numbered per
// simulator.
func (c *CRM) crmError(w http.ResponseWriter, _ *http.Request, status int, code, message string) {
	id := fmt.Sprintf("req_%08x", c.reqSeq.Add(1))
	writeJSON(w, status, "application/json", map[string]any{"code": code, "message": message, "request_id": id})
}

const timeLayout = time.RFC3339Nano

// leadJSON is the Lead schema on the wire.
type leadJSON struct {
	ID          string  `json:"id"`
	FirstName   *string `json:"first_name,omitempty"`
	LastName    *string `json:"last_name,omitempty"`
	Email       string  `json:"email"`
	Phone       *string `json:"phone"`
	CompanyName *string `json:"company_name,omitempty"`
	CompanyID   *string `json:"company_id"`
	OwnerID     *string `json:"owner_id"`
	Status      string  `json:"status"`
	Rating      *string `json:"rating"`
	Source      string  `json:"source,omitempty"`
	CreatedAt   string  `json:"created_at"`
	UpdatedAt   string  `json:"updated_at"`
	Version     int64   `json:"version"`
	Deleted     bool    `json:"deleted"`
}

func toLeadJSON(l *Lead) leadJSON {
	return leadJSON{ID: l.ID, FirstName: l.FirstName, LastName: l.LastName, Email: l.Email, Phone: l.Phone,
		CompanyName: l.CompanyName, OwnerID: l.OwnerID, Status: l.Status, Rating: l.Rating, Source: l.Source,
		CreatedAt: l.CreatedAt.Format(timeLayout), UpdatedAt: l.UpdatedAt.Format(timeLayout), Version: l.Version,
		Deleted: l.Deleted}
}

type ownerJSON struct {
	ID     string  `json:"id"`
	Name   string  `json:"name"`
	Email  string  `json:"email"`
	Team   *string `json:"team"`
	Active bool    `json:"active"`
}

type pageJSON[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
	HasMore    bool    `json:"has_more"`
}

type leadCursor struct {
	U int64  `json:"u"`
	I string `json:"i"`
}

func parseLimit(r *http.Request) (int, bool) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 50, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 200 {
		return 0, false
	}
	return n, true
}

func rateHeaders(w http.ResponseWriter) {
	w.Header().Set("X-RateLimit-Remaining", "99")
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(10*time.Second).Unix(), 10))
}

func (c *CRM) listLeads(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := parseLimit(r)
	if !ok {
		c.crmError(w, r, http.StatusBadRequest, "invalid_parameter", "limit must be between 1 and 200.")
		return
	}
	var since time.Time
	if v := q.Get("updated_since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			c.crmError(w, r, http.StatusBadRequest, "invalid_parameter", "updated_since must be an RFC 3339 date-time.")
			return
		}
		since = t
	}
	var after *leadCursor
	if v := q.Get("cursor"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		var cur leadCursor
		if err != nil || json.Unmarshal(b, &cur) != nil {
			c.crmError(w, r, http.StatusBadRequest, "invalid_cursor", "The cursor is malformed or has expired.")
			return
		}
		after = &cur
	}
	status, owner := q.Get("status"), q.Get("owner_id")
	includeDeleted := q.Get("include_deleted") == "true"

	c.mu.Lock()
	start := 0
	if !since.IsZero() {
		start = sort.Search(len(c.order), func(i int) bool { return !c.order[i].UpdatedAt.Before(since) })
	}
	if after != nil {
		pivot := &Lead{UpdatedAt: time.Unix(0, after.U), ID: after.I}
		if s := sort.Search(len(c.order), func(i int) bool { return leadLess(pivot, c.order[i]) }); s > start {
			start = s
		}
	}
	page := pageJSON[leadJSON]{Data: []leadJSON{}}
	var last *Lead
	i := start
	for ; i < len(c.order) && len(page.Data) < limit; i++ {
		l := c.order[i]
		if (l.Deleted && !includeDeleted) || (status != "" && l.Status != status) ||
			(owner != "" && (l.OwnerID == nil || *l.OwnerID != owner)) {
			continue
		}
		page.Data = append(page.Data, toLeadJSON(l))
		last = l
	}
	// Another page follows when a matching record remains.
	for ; i < len(c.order); i++ {
		l := c.order[i]
		if (l.Deleted && !includeDeleted) || (status != "" && l.Status != status) ||
			(owner != "" && (l.OwnerID == nil || *l.OwnerID != owner)) {
			continue
		}
		page.HasMore = true
		break
	}
	c.mu.Unlock()
	if page.HasMore && last != nil {
		b, _ := json.Marshal(leadCursor{U: last.UpdatedAt.UnixNano(), I: last.ID})
		s := base64.RawURLEncoding.EncodeToString(b)
		page.NextCursor = &s
	}
	rateHeaders(w)
	writeJSON(w, http.StatusOK, "application/json", page)
}

func (c *CRM) getLead(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("lead_id")
	c.mu.Lock()
	l, ok := c.leads[id]
	var out leadJSON
	if ok {
		out = toLeadJSON(l)
	}
	c.mu.Unlock()
	if !ok {
		c.crmError(w, r, http.StatusNotFound, "not_found", "Lead "+id+" was not found.")
		return
	}
	w.Header().Set("ETag", strconv.Quote(strconv.FormatInt(out.Version, 10)))
	writeJSON(w, http.StatusOK, "application/json", out)
}

func toOwnerJSON(o *Owner) ownerJSON {
	return ownerJSON{ID: o.ID, Name: o.Name, Email: o.Email, Team: o.Team, Active: o.Active}
}

func (c *CRM) listOwners(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := parseLimit(r)
	if !ok {
		c.crmError(w, r, http.StatusBadRequest, "invalid_parameter", "limit must be between 1 and 200.")
		return
	}
	after := ""
	if v := q.Get("cursor"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil {
			c.crmError(w, r, http.StatusBadRequest, "invalid_cursor", "The cursor is malformed or has expired.")
			return
		}
		after = string(b)
	}
	active := q.Get("active")
	c.mu.Lock()
	page := pageJSON[ownerJSON]{Data: []ownerJSON{}}
	for _, o := range c.owners { // ordered by id
		if o.ID <= after || (active != "" && strconv.FormatBool(o.Active) != active) {
			continue
		}
		if len(page.Data) == limit {
			page.HasMore = true
			break
		}
		page.Data = append(page.Data, toOwnerJSON(o))
	}
	c.mu.Unlock()
	if page.HasMore {
		s := base64.RawURLEncoding.EncodeToString([]byte(page.Data[len(page.Data)-1].ID))
		page.NextCursor = &s
	}
	rateHeaders(w)
	writeJSON(w, http.StatusOK, "application/json", page)
}

func (c *CRM) getOwner(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("owner_id")
	c.mu.Lock()
	var out *ownerJSON
	for _, o := range c.owners {
		if o.ID == id {
			j := toOwnerJSON(o)
			out = &j
		}
	}
	c.mu.Unlock()
	if out == nil {
		c.crmError(w, r, http.StatusNotFound, "not_found", "Owner "+id+" was not found.")
		return
	}
	writeJSON(w, http.StatusOK, "application/json", out)
}

// Leads returns a copy of every lead, ordered by id.
func (c *CRM) Leads() []Lead {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Lead, 0, len(c.leads))
	for _, l := range c.leads {
		out = append(out, l.clone())
	}
	slices.SortFunc(out, func(a, b Lead) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Lead returns a copy of one lead.
func (c *CRM) Lead(id string) (Lead, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.leads[id]
	if !ok {
		return Lead{}, false
	}
	return l.clone(), true
}

// Owners returns a copy of every owner, ordered by id.
func (c *CRM) Owners() []Owner {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Owner, len(c.owners))
	for i, o := range c.owners {
		out[i] = *o
		out[i].Team = clonePtr(o.Team)
	}
	return out
}

// tickLocked returns a fresh, strictly increasing change time.
func (c *CRM) tickLocked() time.Time {
	t := time.Now().UTC().Truncate(time.Microsecond)
	if !t.After(c.lastT) {
		t = c.lastT.Add(time.Microsecond)
	}
	c.lastT = t
	return t
}

// touchLocked records a change of l: a new version and updated_at, its new
// place in the cursor order, and a webhook event.
func (c *CRM) touchLocked(l *Lead, typ string) LeadEvent {
	l.Version++
	l.UpdatedAt = c.tickLocked()
	if l.Status == StatusQualified {
		l.EverQualified = true
	}
	if i := slices.Index(c.order, l); i >= 0 {
		c.order = slices.Delete(c.order, i, i+1)
	}
	c.order = append(c.order, l) // the newest updated_at sorts last
	return c.hooks.recordLocked(typ, l.ID, l.Version, l.UpdatedAt)
}

// Update applies f to lead id as one change (new version, updated_at and
// webhook event) and returns the event.
func (c *CRM) Update(id string, f func(l *Lead)) (LeadEvent, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.leads[id]
	if !ok {
		return LeadEvent{}, false
	}
	f(l)
	return c.touchLocked(l, "lead.updated"), true
}

// Mutate applies n seeded random changes, as sales reps would over time:
// leads are contacted, get qualified, have their names, company, phone,
// rating or owner edited. Qualified leads stay qualified, email addresses
// do not change, and no field that has a value loses it (a phone number
// stays of the same kind, a rating is never removed): the mapping has no
// way to clear a target field, so the end state of a sync is easy to state.
// It returns the events of the changes.
func (c *CRM) Mutate(n int) []LeadEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	rng := c.mutRng
	ids := make([]string, 0, len(c.leads))
	for id := range c.leads {
		ids = append(ids, id)
	}
	slices.Sort(ids) // map order is random; the choice must not be
	var evs []LeadEvent
	for k := 0; k < n && len(ids) > 0; k++ {
		l := c.leads[ids[rng.IntN(len(ids))]]
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
		case r < 9 && len(c.owners) > 0:
			l.OwnerID = ptr(c.owners[rng.IntN(len(c.owners))].ID)
		default:
			l.LastName = ptr(lastNames[rng.IntN(len(lastNames))])
		}
		evs = append(evs, c.touchLocked(l, "lead.updated"))
	}
	return evs
}
