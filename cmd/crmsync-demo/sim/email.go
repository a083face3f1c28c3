package sim

import (
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/connectorgen/connectorgen/generator/sandbox"
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

// Email is the simulated Postbox Email: a sandbox of
// specs/email/openapi.yaml.
type Email struct {
	sys    *sandbox.System
	listID string
}

// System is the sandbox serving the email system.
func (e *Email) System() *sandbox.System { return e.sys }

// URL is the server's root URL.
func (e *Email) URL() string { return e.sys.URL() }

// BaseURL is the API base URL to give email.NewClient.
func (e *Email) BaseURL() string { return e.sys.BaseURL() }

// Client returns an http.Client for the server.
func (e *Email) Client() *http.Client { return &http.Client{} }

// SetFaults replaces the fault configuration.
func (e *Email) SetFaults(f Faults) { e.sys.SetFaults(f) }

// SetDown makes every API request fail with 503 while down is true.
func (e *Email) SetDown(down bool) { e.sys.SetDown(down) }

// Stats returns the request and fault counters.
func (e *Email) Stats() Stats { return e.sys.Stats() }

// Applied returns how many writes changed state, by operation ID.
func (e *Email) Applied() map[string]int64 { return e.sys.Applied() }

func toMember(r sandbox.Record) Member {
	m := Member{ID: str(r, "id"), ListID: str(r, "list_id"), EmailAddress: str(r, "email_address"), Status: str(r, "status"),
		MergeFields: map[string]string{}, SourceID: strPtr(r, "source_id"), Version: num(r, "version")}
	if mf, ok := r["merge_fields"].(map[string]any); ok {
		for k, v := range mf {
			if s, ok := v.(string); ok {
				m.MergeFields[k] = s
			}
		}
	}
	if tags, ok := r["tags"].([]any); ok {
		for _, t := range tags {
			switch x := t.(type) {
			case string:
				m.Tags = append(m.Tags, x)
			case map[string]any:
				if n, ok := x["name"].(string); ok {
					m.Tags = append(m.Tags, n)
				}
			}
		}
	}
	m.LastChanged, _ = time.Parse(time.RFC3339Nano, str(r, "last_changed"))
	return m
}

// Members returns a copy of every member of the list, ordered by email
// address.
func (e *Email) Members(listID string) []Member {
	recs, _ := e.sys.Records("Member")
	var out []Member
	for _, r := range recs {
		if m := toMember(r); m.ListID == listID {
			out = append(out, m)
		}
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
	recs, _ := e.sys.Records("Sender")
	out := make([]Sender, 0, len(recs))
	for _, r := range recs {
		out = append(out, Sender{ID: str(r, "id"), Email: str(r, "email"), Name: str(r, "name")})
	}
	slices.SortFunc(out, func(a, b Sender) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// EditMember changes a member as a user of the email system would (for
// conflict tests): f edits it, then its version and last_changed move.
func (e *Email) EditMember(listID, id string, f func(m *Member)) bool {
	r, ok := e.sys.Record("Member", id)
	if !ok || toMember(r).ListID != listID {
		return false
	}
	_, _, err := e.sys.Update("Member", id, func(r sandbox.Record) {
		m := toMember(r)
		f(&m)
		mf := map[string]any{}
		for k, v := range m.MergeFields {
			mf[k] = v
		}
		r["merge_fields"] = mf
		r["email_address"] = m.EmailAddress
		r["status"] = m.Status
		if m.SourceID != nil {
			r["source_id"] = *m.SourceID
		} else {
			r["source_id"] = nil
		}
	})
	return err == nil
}
