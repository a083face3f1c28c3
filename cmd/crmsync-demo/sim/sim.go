// Package sim runs the two systems of the example connector — the Acme
// CRM (specs/crm/openapi.yaml) and Postbox Email (specs/email/openapi.yaml)
// — as generic sandboxes (generator/sandbox) built from those specs and
// the connector config specs/crmemail/connector.yaml, and adds what is
// particular to the demo: its seeded data set (owners and leads), the
// changes sales reps make over time (Mutate), and typed views of the
// records for the demo's checks.
//
// Everything an API does — OAuth 2.0 tokens with rotating refresh tokens
// on the CRM, the email system's API key, cursor and offset pagination,
// updated_since, Idempotency-Key, 409 on a duplicate address, faults
// before and after applied writes, signed webhooks, and validation of
// every request and answer against the spec — is the sandbox's, derived
// from the specs and the mapping. The two sandbox hints the email system
// needs (a member's id is the MD5 of its lower-cased address; an empty
// merge field clears it) are in Options.Hints below: the spec says both
// only in prose.
package sim

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/connectorgen/connectorgen/generator/sandbox"
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
}

// Defaults for the credentials and the list.
const (
	DefaultClientID     = "crm-sync-demo"
	DefaultClientSecret = "demo-client-secret"
	DefaultAPIKey       = "demo-postbox-key"
	DefaultListID       = "lst_nurture"
)

// Faults, Stats and the fault kinds are the sandbox's.
type (
	Faults    = sandbox.Faults
	Stats     = sandbox.Stats
	FaultKind = sandbox.FaultKind
)

// Fault kinds.
const (
	Fault500   = sandbox.Fault500
	Fault429   = sandbox.Fault429
	FaultSlow  = sandbox.FaultSlow
	FaultReset = sandbox.FaultReset
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
	SB    *sandbox.Sandbox
	opts  Options
}

// ConfigPath finds specs/crmemail/connector.yaml in the working directory
// or one of its parents (the demo runs from within the repository).
func ConfigPath() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "specs", "crmemail", "connector.yaml")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("sim: specs/crmemail/connector.yaml not found above the working directory")
		}
		dir = parent
	}
}

// New starts both servers on loopback. It panics when the connector config
// cannot be found or served: the simulation is for tests and the demo,
// which cannot run without it.
func New(o Options) *Sim {
	s, err := Start(o)
	if err != nil {
		panic(err)
	}
	return s
}

// Start is New returning the error.
func Start(o Options) (*Sim, error) {
	o = o.withDefaults()
	path, err := ConfigPath()
	if err != nil {
		return nil, err
	}
	sb, err := sandbox.Load(path, sandbox.Options{
		Seed:     o.Seed,
		TokenTTL: o.TokenTTL,
		Credentials: map[string]sandbox.Credentials{
			"crm":   {ClientID: o.CRMClientID, ClientSecret: o.CRMClientSecret},
			"email": {APIKey: o.EmailAPIKey},
		},
		Hints: map[string]sandbox.Hint{
			"email.Member": {KeyFrom: "md5_lower:email_address", ClearOnEmpty: []string{"merge_fields"}},
		},
	})
	if err != nil {
		return nil, err
	}
	s := &Sim{SB: sb, opts: o,
		CRM:   &CRM{sys: sb.System("crm")},
		Email: &Email{sys: sb.System("email"), listID: o.ListID}}
	s.CRM.sys.SetFaults(o.CRMFaults)
	s.Email.sys.SetFaults(o.EmailFaults)
	if err := s.CRM.seed(o); err != nil {
		sb.Close()
		return nil, err
	}
	return s, nil
}

// Options returns the options in force (defaults filled in).
func (s *Sim) Options() Options { return s.opts }

// SetFaults sets the same fault configuration on both servers.
func (s *Sim) SetFaults(f Faults) {
	s.CRM.SetFaults(f)
	s.Email.SetFaults(f)
}

// Violations returns every request or answer of either system that did
// not validate against its spec.
func (s *Sim) Violations() []sandbox.Violation { return s.SB.Violations() }

// Close stops both servers, cutting slow answers short.
func (s *Sim) Close() { s.SB.Close() }
