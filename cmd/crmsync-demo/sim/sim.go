// Package sim runs in-process simulations of the two systems of the example
// connector — the Acme CRM (specs/crm/openapi.yaml) and Postbox Email
// (specs/email/openapi.yaml) — on loopback httptest servers, for the
// operations the seed mapping (specs/crmemail/connector.yaml) uses.
//
// The CRM serves leads (cursor pagination, updated_since, limit) and owners,
// issues OAuth 2.0 tokens (client credentials; refresh tokens that rotate on
// every use) and sends signed webhooks. The email system serves members
// (addMember with Idempotency-Key and 409 on a duplicate address,
// updateMember, findMembers, getMember, listMembers) and senders, and checks
// the API key. Data are generated from a seed; Mutate changes leads over
// time. Faults (500, 429 with Retry-After, answers slower than the client's
// per-attempt timeout, connection resets) are injected at a configurable
// rate, for writes both before and after the write is applied — the answer
// of a successful write gets lost, which is what makes naive syncs create
// duplicates. Inspection methods report members, counts per address and per
// source record, and request and fault counters.
package sim

import (
	"time"
)

// Options configure a simulation. Zero fields take the defaults noted.
type Options struct {
	// Seed makes the data set and the mutations reproducible. Default 1.
	Seed uint64
	// Leads is the number of leads. Default 1000.
	Leads int
	// QualifiedRate is the fraction of leads generated in status qualified.
	// Default 0.3.
	QualifiedRate float64
	// Owners is the number of sales reps. Default 8.
	Owners int
	// CRMFaults and EmailFaults configure fault injection.
	CRMFaults, EmailFaults Faults
	// CRMClientID and CRMClientSecret are the OAuth client's credentials.
	// Defaults DefaultClientID and DefaultClientSecret.
	CRMClientID, CRMClientSecret string
	// TokenTTL is the lifetime of access tokens. Default 1 h.
	TokenTTL time.Duration
	// EmailAPIKey is the email system's API key. Default DefaultAPIKey.
	EmailAPIKey string
	// ListID is the email list that exists. Default DefaultListID.
	ListID string
	// LogWrites keeps a log of the email server's write requests
	// (Email.Writes).
	LogWrites bool
}

// Defaults for the credentials and the list.
const (
	DefaultClientID     = "crm-sync-demo"
	DefaultClientSecret = "demo-client-secret"
	DefaultAPIKey       = "demo-postbox-key"
	DefaultListID       = "lst_nurture"
)

func (o Options) withDefaults() Options {
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Leads == 0 {
		o.Leads = 1000
	}
	if o.QualifiedRate == 0 {
		o.QualifiedRate = 0.3
	}
	if o.Owners == 0 {
		o.Owners = 8
	}
	if o.CRMClientID == "" {
		o.CRMClientID = DefaultClientID
	}
	if o.CRMClientSecret == "" {
		o.CRMClientSecret = DefaultClientSecret
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = time.Hour
	}
	if o.EmailAPIKey == "" {
		o.EmailAPIKey = DefaultAPIKey
	}
	if o.ListID == "" {
		o.ListID = DefaultListID
	}
	return o
}

// Sim is a running pair of simulated systems.
type Sim struct {
	CRM   *CRM
	Email *Email
	opts  Options
}

// New starts both servers on loopback.
func New(o Options) *Sim {
	o = o.withDefaults()
	ci, ei := newInjector(o.Seed^0xc4), newInjector(o.Seed^0xe3)
	ci.setFaults(o.CRMFaults)
	ei.setFaults(o.EmailFaults)
	return &Sim{CRM: newCRM(o, ci), Email: newEmail(o, ei), opts: o}
}

// Options returns the options in force (defaults filled in).
func (s *Sim) Options() Options { return s.opts }

// SetFaults sets the same fault configuration on both servers.
func (s *Sim) SetFaults(f Faults) {
	s.CRM.SetFaults(f)
	s.Email.SetFaults(f)
}

// Close stops both servers, cutting slow answers short.
func (s *Sim) Close() {
	close(s.CRM.in.closed)
	close(s.Email.in.closed)
	s.CRM.srv.CloseClientConnections()
	s.Email.srv.CloseClientConnections()
	s.CRM.srv.Close()
	s.Email.srv.Close()
}
