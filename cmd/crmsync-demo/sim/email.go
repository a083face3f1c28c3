package sim

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Member is a member of a list in the simulated email system.
type Member struct {
	ID           string
	ListID       string
	EmailAddress string
	Status       string
	MergeFields  map[string]string
	Tags         []string
	SourceID     *string
	LastChanged  time.Time
	Version      int64
}

func (m *Member) clone() Member {
	c := *m
	c.MergeFields = make(map[string]string, len(m.MergeFields))
	for k, v := range m.MergeFields {
		c.MergeFields[k] = v
	}
	c.Tags = slices.Clone(m.Tags)
	c.SourceID = clonePtr(m.SourceID)
	return c
}

// Sender is a sender identity in the simulated email system.
type Sender struct {
	ID    string
	Email string
	Name  string
}

// MemberID is the spec's member ID: the lower-case hex MD5 of the lower-cased
// email address.
func MemberID(email string) string {
	s := md5.Sum([]byte(strings.ToLower(email)))
	return hex.EncodeToString(s[:])
}

type idemEntry struct {
	hash   string
	status int
	body   []byte
}

// Email is the simulated Postbox Email (specs/email/openapi.yaml): lists,
// members and senders under /3.0, authenticated with X-API-Key.
type Email struct {
	srv    *httptest.Server
	in     *injector
	apiKey string

	mu        sync.Mutex
	lists     map[string]map[string]*Member // list → member id → member
	senders   []*Sender
	senderSeq int
	idemMu    sync.Mutex
	idem      map[string]idemEntry // guarded by idemMu
	lastT     time.Time
	// applied counts the writes that changed state, by operation.
	applied map[string]int64
	// writes is the write request log (Options.LogWrites).
	logWrites bool
	writesMu  sync.Mutex
	writes    []Write
}

// Write is one write request as the server saw it: who sent it (the
// X-Worker header a test's workers set), what it wrote and when it arrived
// and was answered. Scale-out tests read the log to prove that no record
// was written by two workers at once.
type Write struct {
	Worker string
	Op     string
	// Key identifies the record written: "member:<member id>" or
	// "sender:<email>" / "sender:<id>".
	Key        string
	Start, End time.Time
	Status     int
}

// Writes returns the write request log (empty unless Options.LogWrites).
func (e *Email) Writes() []Write {
	e.writesMu.Lock()
	defer e.writesMu.Unlock()
	return append([]Write(nil), e.writes...)
}

// writeKey names the record a write request targets.
func writeKey(r *http.Request) string {
	if id := r.PathValue("member_id"); id != "" {
		return "member:" + id
	}
	if id := r.PathValue("sender_id"); id != "" {
		return "sender:" + id
	}
	body, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return "?"
	}
	var b struct {
		EmailAddress string `json:"email_address"`
		Email        string `json:"email"`
	}
	_ = json.Unmarshal(body, &b)
	if b.EmailAddress != "" {
		return "member:" + MemberID(b.EmailAddress)
	}
	return "sender:" + strings.ToLower(b.Email)
}

// statusWriter remembers the status of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// URL is the server's root URL.
func (e *Email) URL() string { return e.srv.URL }

// BaseURL is the API base URL to give email.NewClient.
func (e *Email) BaseURL() string { return e.srv.URL + "/3.0" }

// Client returns an http.Client for the server.
func (e *Email) Client() *http.Client { return e.srv.Client() }

// SetFaults replaces the fault configuration.
func (e *Email) SetFaults(f Faults) { e.in.setFaults(f) }

// SetDown makes every API request fail with 503 while down is true.
func (e *Email) SetDown(down bool) { e.in.down.Store(down) }

// Stats returns the request and fault counters.
func (e *Email) Stats() Stats { return e.in.snapshot() }

// Applied returns how many writes changed state, by operation ID.
func (e *Email) Applied() map[string]int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]int64{}
	for k, v := range e.applied {
		out[k] = v
	}
	return out
}

func newEmail(o Options, in *injector) *Email {
	e := &Email{in: in, apiKey: o.EmailAPIKey, lists: map[string]map[string]*Member{o.ListID: {}},
		idem: map[string]idemEntry{}, applied: map[string]int64{}, logWrites: o.LogWrites}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /3.0/ping", func(w http.ResponseWriter, r *http.Request) {
		in.count("GET ping")
		writeJSON(w, http.StatusOK, "application/json", map[string]string{"health_status": "Everything's Chimpy!"})
	})
	e.api(mux, "GET /3.0/lists/{list_id}/members", "listMembers", false, e.listMembers)
	e.api(mux, "POST /3.0/lists/{list_id}/members", "addMember", true, e.idempotent("addMember", e.addMember))
	e.api(mux, "GET /3.0/lists/{list_id}/members/search", "findMembers", false, e.findMembers)
	e.api(mux, "GET /3.0/lists/{list_id}/members/{member_id}", "getMember", false, e.getMember)
	e.api(mux, "PATCH /3.0/lists/{list_id}/members/{member_id}", "updateMember", true, e.updateMember)
	e.api(mux, "GET /3.0/senders", "listSenders", false, e.listSenders)
	e.api(mux, "POST /3.0/senders", "createSender", true, e.idempotent("createSender", e.createSender))
	e.api(mux, "PATCH /3.0/senders/{sender_id}", "updateSender", true, e.updateSender)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		in.count(r.Method + " ?")
		problem(w, r, http.StatusNotFound, "resource-not-found", "The requested resource could not be found.")
	})
	e.srv = httptest.NewServer(mux)
	return e
}

func (e *Email) api(mux *http.ServeMux, pattern, op string, write bool, h http.HandlerFunc) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		e.in.count(r.Method + " " + op)
		if r.Header.Get("X-API-Key") != e.apiKey {
			e.in.countUnauthorized()
			problem(w, r, http.StatusUnauthorized, "api-key-invalid",
				"The X-API-Key header does not contain an active key for this account.")
			return
		}
		if !write || !e.logWrites {
			e.in.serve(w, r, write, h, problem)
			return
		}
		wr := Write{Worker: r.Header.Get("X-Worker"), Op: op, Key: writeKey(r), Start: time.Now()}
		sw := &statusWriter{ResponseWriter: w}
		e.in.serve(sw, r, write, h, problem)
		wr.End, wr.Status = time.Now(), sw.status
		e.writesMu.Lock()
		e.writes = append(e.writes, wr)
		e.writesMu.Unlock()
	})
}

var problemTitles = map[int]string{400: "Invalid Resource", 401: "Invalid API Key", 404: "Resource Not Found",
	409: "Member Exists", 422: "Invalid Resource", 429: "Too Many Requests", 500: "Internal Server Error",
	503: "Service Unavailable"}

// problem writes an RFC 7807 problem (the spec's ApiError).
func problem(w http.ResponseWriter, r *http.Request, status int, code, detail string) {
	title := problemTitles[status]
	if title == "" {
		title = http.StatusText(status)
	}
	writeJSON(w, status, "application/problem+json", map[string]any{
		"type": "https://postbox.example/docs/errors/" + code, "title": title, "status": status,
		"detail": detail, "instance": r.URL.Path})
}

func validationProblem(w http.ResponseWriter, r *http.Request, field, msg string) {
	writeJSON(w, http.StatusUnprocessableEntity, "application/problem+json", map[string]any{
		"type": "https://postbox.example/docs/errors/invalid-resource", "title": "Invalid Resource", "status": 422,
		"detail": "1 field failed validation; see errors.", "instance": r.URL.Path,
		"errors": []map[string]string{{"field": field, "message": msg}}})
}

// idempotent implements the Idempotency-Key header: a repeated key with the
// same request returns the first answer without acting again; with a
// different request it is rejected with 422. Only answers the handler gave
// are remembered (not injected faults), as a real server that lost the
// answer on the way would still have stored it.
func (e *Email) idempotent(op string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			h(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			problem(w, r, http.StatusBadRequest, "invalid-json", "The request body could not be read.")
			return
		}
		sum := sha256.Sum256(append([]byte(r.Method+" "+r.URL.Path+"\n"), body...))
		hash := hex.EncodeToString(sum[:])
		e.idemMu.Lock() // serialises requests with keys: a key is never in flight twice
		defer e.idemMu.Unlock()
		if prev, ok := e.idem[op+" "+key]; ok {
			if prev.hash != hash {
				validationProblem(w, r, "Idempotency-Key", "was already used with a different request")
				return
			}
			w.Header().Set("Content-Type", "application/json")
			if prev.status >= 400 {
				w.Header().Set("Content-Type", "application/problem+json")
			}
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(prev.status)
			_, _ = w.Write(prev.body)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &bufferedWriter{header: http.Header{}}
		h(rec, r)
		if rec.status < 500 {
			e.idem[op+" "+key] = idemEntry{hash: hash, status: rec.status, body: rec.body.Bytes()}
		}
		rec.flush(w)
	}
}

func (e *Email) tickLocked() time.Time {
	t := time.Now().UTC().Truncate(time.Microsecond)
	if !t.After(e.lastT) {
		t = e.lastT.Add(time.Microsecond)
	}
	e.lastT = t
	return t
}

type memberTagJSON struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

type memberJSON struct {
	ID           string            `json:"id"`
	ListID       string            `json:"list_id"`
	EmailAddress string            `json:"email_address"`
	Status       string            `json:"status"`
	MergeFields  map[string]string `json:"merge_fields"`
	Tags         []memberTagJSON   `json:"tags"`
	SourceID     *string           `json:"source_id"`
	LastChanged  string            `json:"last_changed"`
	Version      int64             `json:"version"`
}

func tagID(name string) int64 {
	s := md5.Sum([]byte(name))
	return int64(s[0])<<16 | int64(s[1])<<8 | int64(s[2])
}

func toMemberJSON(m *Member) memberJSON {
	j := memberJSON{ID: m.ID, ListID: m.ListID, EmailAddress: m.EmailAddress, Status: m.Status,
		MergeFields: m.MergeFields, Tags: []memberTagJSON{}, SourceID: m.SourceID,
		LastChanged: m.LastChanged.Format(timeLayout), Version: m.Version}
	if j.MergeFields == nil {
		j.MergeFields = map[string]string{}
	}
	for _, t := range m.Tags {
		j.Tags = append(j.Tags, memberTagJSON{ID: tagID(t), Name: t})
	}
	return j
}

// memberWrite is the MemberWrite schema; present records which fields the
// body has (PATCH changes only those).
type memberWrite struct {
	EmailAddress *string           `json:"email_address"`
	Status       *string           `json:"status"`
	StatusIfNew  *string           `json:"status_if_new"`
	MergeFields  map[string]string `json:"merge_fields"`
	Tags         []string          `json:"tags"`
	Language     *string           `json:"language"`
	Vip          *bool             `json:"vip"`
	SourceID     *string           `json:"source_id"`
	present      map[string]json.RawMessage
}

var memberStatuses = []string{"subscribed", "unsubscribed", "cleaned", "pending", "transactional"}
var tiers = []string{"gold", "silver", "bronze"}

// validEmail is the server's (strict) check of an address: no blanks, one
// @, something on both sides.
func validEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	return at > 0 && at == strings.LastIndexByte(s, '@') && at < len(s)-1 &&
		!strings.ContainsAny(s, " \t\r\n") && strings.Contains(s[at:], ".")
}

func decodeMemberWrite(w http.ResponseWriter, r *http.Request) (*memberWrite, bool) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		problem(w, r, http.StatusBadRequest, "invalid-json", "The request body could not be read.")
		return nil, false
	}
	var mw memberWrite
	if err := json.Unmarshal(body, &mw); err != nil || json.Unmarshal(body, &mw.present) != nil {
		problem(w, r, http.StatusBadRequest, "invalid-json", "The request body is not valid JSON.")
		return nil, false
	}
	if mw.EmailAddress != nil && !validEmail(*mw.EmailAddress) {
		validationProblem(w, r, "email_address", "is not a valid email address")
		return nil, false
	}
	for _, s := range []*string{mw.Status, mw.StatusIfNew} {
		if s != nil && !slices.Contains(memberStatuses, *s) {
			validationProblem(w, r, "status", "must be one of "+strings.Join(memberStatuses, ", "))
			return nil, false
		}
	}
	// An empty merge field clears it, as in the email platforms this
	// simulates.
	if t, ok := mw.MergeFields["TIER"]; ok && t != "" && !slices.Contains(tiers, t) {
		validationProblem(w, r, "merge_fields.TIER", "must be one of gold, silver, bronze or empty")
		return nil, false
	}
	return &mw, true
}

func (e *Email) list(w http.ResponseWriter, r *http.Request) (map[string]*Member, bool) {
	l, ok := e.lists[r.PathValue("list_id")]
	if !ok {
		problem(w, r, http.StatusNotFound, "resource-not-found", "The requested resource could not be found.")
	}
	return l, ok
}

func (e *Email) addMember(w http.ResponseWriter, r *http.Request) {
	mw, ok := decodeMemberWrite(w, r)
	if !ok {
		return
	}
	if mw.EmailAddress == nil || mw.Status == nil {
		validationProblem(w, r, "email_address", "email_address and status are required")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	members, ok := e.list(w, r)
	if !ok {
		return
	}
	id := MemberID(*mw.EmailAddress)
	if _, exists := members[id]; exists {
		problem(w, r, http.StatusConflict, "member-exists",
			*mw.EmailAddress+" is already on list "+r.PathValue("list_id")+"; use upsertMember (PUT) to change it.")
		return
	}
	m := &Member{ID: id, ListID: r.PathValue("list_id"), EmailAddress: *mw.EmailAddress, Status: *mw.Status,
		MergeFields: map[string]string{}, Tags: mw.Tags, SourceID: mw.SourceID, LastChanged: e.tickLocked(), Version: 1}
	for k, v := range mw.MergeFields {
		m.MergeFields[k] = v
	}
	members[id] = m
	e.applied["addMember"]++
	writeJSON(w, http.StatusCreated, "application/json", toMemberJSON(m))
}

func (e *Email) updateMember(w http.ResponseWriter, r *http.Request) {
	mw, ok := decodeMemberWrite(w, r)
	if !ok {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	members, ok := e.list(w, r)
	if !ok {
		return
	}
	m, ok := members[r.PathValue("member_id")]
	if !ok {
		problem(w, r, http.StatusNotFound, "resource-not-found", "The requested resource could not be found.")
		return
	}
	if mw.EmailAddress != nil && MemberID(*mw.EmailAddress) != m.ID {
		nid := MemberID(*mw.EmailAddress)
		if _, exists := members[nid]; exists {
			problem(w, r, http.StatusConflict, "member-exists", *mw.EmailAddress+" is already on the list.")
			return
		}
		delete(members, m.ID)
		m.ID = nid
		members[nid] = m
	}
	if mw.EmailAddress != nil {
		m.EmailAddress = *mw.EmailAddress
	}
	if mw.Status != nil {
		m.Status = *mw.Status
	}
	for k, v := range mw.MergeFields {
		if v == "" {
			delete(m.MergeFields, k)
			continue
		}
		m.MergeFields[k] = v
	}
	if _, ok := mw.present["source_id"]; ok {
		m.SourceID = mw.SourceID
	}
	m.Version++
	m.LastChanged = e.tickLocked()
	e.applied["updateMember"]++
	writeJSON(w, http.StatusOK, "application/json", toMemberJSON(m))
}

func (e *Email) getMember(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	members, ok := e.list(w, r)
	if !ok {
		return
	}
	m, ok := members[r.PathValue("member_id")]
	if !ok {
		problem(w, r, http.StatusNotFound, "resource-not-found", "The requested resource could not be found.")
		return
	}
	writeJSON(w, http.StatusOK, "application/json", toMemberJSON(m))
}

func (e *Email) findMembers(w http.ResponseWriter, r *http.Request) {
	addr := r.URL.Query().Get("email_address")
	if addr == "" {
		problem(w, r, http.StatusBadRequest, "invalid-parameter", "email_address is required.")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	members, ok := e.list(w, r)
	if !ok {
		return
	}
	out := map[string]any{"members": []memberJSON{}, "total_items": 0}
	if m, ok := members[MemberID(addr)]; ok && strings.EqualFold(m.EmailAddress, addr) {
		out["members"] = []memberJSON{toMemberJSON(m)}
		out["total_items"] = 1
	}
	writeJSON(w, http.StatusOK, "application/json", out)
}

func offsetCount(w http.ResponseWriter, r *http.Request) (int, int, bool) {
	q := r.URL.Query()
	off, count := 0, 10
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			problem(w, r, http.StatusBadRequest, "invalid-parameter", "offset must be a non-negative integer.")
			return 0, 0, false
		}
		off = n
	}
	if v := q.Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			problem(w, r, http.StatusBadRequest, "invalid-parameter", "count must be between 1 and 1000.")
			return 0, 0, false
		}
		count = n
	}
	return off, count, true
}

func (e *Email) listMembers(w http.ResponseWriter, r *http.Request) {
	off, count, ok := offsetCount(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	var since time.Time
	if v := q.Get("since_last_changed"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			problem(w, r, http.StatusBadRequest, "invalid-parameter", "since_last_changed must be a date-time.")
			return
		}
		since = t
	}
	status, desc := q.Get("status"), q.Get("sort_dir") != "ASC"
	e.mu.Lock()
	defer e.mu.Unlock()
	members, ok := e.list(w, r)
	if !ok {
		return
	}
	var all []*Member
	for _, m := range members {
		if (status == "" || m.Status == status) && !m.LastChanged.Before(since) {
			all = append(all, m)
		}
	}
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if !a.LastChanged.Equal(b.LastChanged) {
			return a.LastChanged.Before(b.LastChanged) != desc
		}
		return a.ID < b.ID
	})
	page := []memberJSON{}
	for i := off; i < len(all) && i < off+count; i++ {
		page = append(page, toMemberJSON(all[i]))
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]any{"members": page,
		"list_id": r.PathValue("list_id"), "total_items": len(all), "_links": []any{}})
}

type senderJSON struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

func decodeSenderWrite(w http.ResponseWriter, r *http.Request) (senderJSON, bool) {
	var sw senderJSON
	if err := json.NewDecoder(r.Body).Decode(&sw); err != nil {
		problem(w, r, http.StatusBadRequest, "invalid-json", "The request body is not valid JSON.")
		return sw, false
	}
	if !validEmail(sw.Email) {
		validationProblem(w, r, "email", "is not a valid email address")
		return sw, false
	}
	if sw.Name == "" {
		validationProblem(w, r, "name", "is required")
		return sw, false
	}
	return sw, true
}

func (e *Email) senderByEmailLocked(addr string) *Sender {
	for _, s := range e.senders {
		if strings.EqualFold(s.Email, addr) {
			return s
		}
	}
	return nil
}

func (e *Email) createSender(w http.ResponseWriter, r *http.Request) {
	sw, ok := decodeSenderWrite(w, r)
	if !ok {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.senderByEmailLocked(sw.Email) != nil {
		problem(w, r, http.StatusConflict, "sender-exists", sw.Email+" is already a sender.")
		return
	}
	e.senderSeq++
	s := &Sender{ID: fmt.Sprintf("snd_%04d", e.senderSeq), Email: sw.Email, Name: sw.Name}
	e.senders = append(e.senders, s)
	e.applied["createSender"]++
	writeJSON(w, http.StatusCreated, "application/json", senderJSON{ID: s.ID, Email: s.Email, Name: s.Name})
}

func (e *Email) updateSender(w http.ResponseWriter, r *http.Request) {
	sw, ok := decodeSenderWrite(w, r)
	if !ok {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	id := r.PathValue("sender_id")
	var s *Sender
	for _, x := range e.senders {
		if x.ID == id {
			s = x
		}
	}
	if s == nil {
		problem(w, r, http.StatusNotFound, "resource-not-found", "The requested resource could not be found.")
		return
	}
	if o := e.senderByEmailLocked(sw.Email); o != nil && o != s {
		problem(w, r, http.StatusConflict, "sender-exists", sw.Email+" is already a sender.")
		return
	}
	s.Email, s.Name = sw.Email, sw.Name
	e.applied["updateSender"]++
	writeJSON(w, http.StatusOK, "application/json", senderJSON{ID: s.ID, Email: s.Email, Name: s.Name})
}

func (e *Email) listSenders(w http.ResponseWriter, r *http.Request) {
	off, count, ok := offsetCount(w, r)
	if !ok {
		return
	}
	addr := r.URL.Query().Get("email")
	e.mu.Lock()
	defer e.mu.Unlock()
	var all []senderJSON
	for _, s := range e.senders {
		if addr == "" || strings.EqualFold(s.Email, addr) {
			all = append(all, senderJSON{ID: s.ID, Email: s.Email, Name: s.Name})
		}
	}
	page := []senderJSON{}
	for i := off; i < len(all) && i < off+count; i++ {
		page = append(page, all[i])
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]any{"senders": page, "total_items": len(all)})
}

// Members returns a copy of every member of the list, ordered by email
// address.
func (e *Email) Members(listID string) []Member {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Member
	for _, m := range e.lists[listID] {
		out = append(out, m.clone())
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.EmailAddress, b.EmailAddress) })
	return out
}

// CountsByEmail returns how many members of the list have each
// (lower-cased, trimmed) email address.
func (e *Email) CountsByEmail(listID string) map[string]int {
	out := map[string]int{}
	for _, m := range e.Members(listID) {
		out[strings.ToLower(strings.TrimSpace(m.EmailAddress))]++
	}
	return out
}

// CountsBySourceID returns how many members of the list carry each
// source_id (members without one are counted under "").
func (e *Email) CountsBySourceID(listID string) map[string]int {
	out := map[string]int{}
	for _, m := range e.Members(listID) {
		k := ""
		if m.SourceID != nil {
			k = *m.SourceID
		}
		out[k]++
	}
	return out
}

// Senders returns a copy of every sender.
func (e *Email) Senders() []Sender {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Sender, len(e.senders))
	for i, s := range e.senders {
		out[i] = *s
	}
	return out
}

// EditMember changes a member as a user of the email system would (for
// conflict tests): f edits it, then its version and last_changed move.
func (e *Email) EditMember(listID, id string, f func(m *Member)) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	m, ok := e.lists[listID][id]
	if !ok {
		return false
	}
	f(m)
	m.Version++
	m.LastChanged = e.tickLocked()
	return true
}
