package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/connectorgen/connectorgen/cmd/crmsync-demo/sim"
	"github.com/connectorgen/connectorgen/golden/crmemail"
	"github.com/connectorgen/connectorgen/golden/crmemail/crm"
	"github.com/connectorgen/connectorgen/golden/crmemail/email"
	"github.com/connectorgen/connectorgen/runtime/auth"
	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/oas"
	"github.com/connectorgen/connectorgen/runtime/observe"
	"github.com/connectorgen/connectorgen/runtime/rest"
	"github.com/connectorgen/connectorgen/runtime/secret"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

// Config configures one demo run.
type Config struct {
	// Leads, FailRate, Seed and Mutations configure the simulation (when
	// the demo starts the servers itself). Mutations < 0 means Leads/10.
	Leads     int
	FailRate  float64
	Seed      uint64
	Mutations int
	// StatePath is the SQLite state file ("" : a temporary file).
	StatePath string
	// CRMURL, CRMTokenURL and EmailURL address running servers instead of
	// simulated ones (API base URLs; the token URL defaults to
	// <origin of CRMURL>/oauth/token).
	CRMURL, CRMTokenURL, EmailURL string
	// ClientID, ClientSecret and APIKey are the credentials (defaults: the
	// simulation's).
	ClientID, ClientSecret, APIKey string
	// RefreshToken, when set, authenticates to the CRM with the refresh
	// token grant instead of client credentials (env CRM_REFRESH_TOKEN).
	RefreshToken string
	// Concurrency is the engine's per-run parallelism. Default 16.
	Concurrency int
	// MaxRounds bounds the rounds of runs. Default 60.
	MaxRounds int
	// AttemptTimeout is the clients' per-attempt timeout. Default 150 ms
	// (the simulation's slow answers take twice as long).
	AttemptTimeout time.Duration
	// Progress receives progress lines (nil: none).
	Progress io.Writer
	// Logger receives the engine's and clients' logs (nil: none).
	Logger *slog.Logger
	// Sim, when set, is used instead of starting a simulation.
	Sim *sim.Sim
	// BeforeRound, when set, is called before each round (tests use it to
	// change the simulation).
	BeforeRound func(round int)
	// Store, when set, is the engine's store instead of a SQLite file
	// (the scale-out worker passes a pgstore); NewEnv does not close it.
	Store engine.Store
	// EngineOptions are added to the engine's (the worker passes its
	// executor).
	EngineOptions []engine.Option
	// WorkerID, when set, is sent as the X-Worker header of every request
	// (the scale-out test's request log attributes writes to workers with it).
	WorkerID string
}

// Summary is the outcome of a demo run; with -json it is printed as the
// last line of standard output.
type Summary struct {
	Leads      int `json:"leads"`
	Qualified  int `json:"qualified"`
	Members    int `json:"members"`
	Senders    int `json:"senders"`
	Duplicates int `json:"duplicates"`
	Lost       int `json:"lost"`
	Mismatched int `json:"mismatched"`
	// TargetWinsOnly counts mismatched members whose only wrong field is
	// the target_wins FNAME (see TestTargetWinsAfterLostCommit).
	TargetWinsOnly int     `json:"mismatched_target_wins_only"`
	Stray          int     `json:"stray"`
	DeadLettered   int     `json:"dead_lettered"`
	Created        int     `json:"created"`
	Updated        int     `json:"updated"`
	Rounds         int     `json:"rounds"`
	FailedRuns     int     `json:"failed_runs"`
	Converged      bool    `json:"converged"`
	Seconds        float64 `json:"seconds"`
	RecordsPerS    float64 `json:"records_per_second"`
	Requests       int64   `json:"requests"`
	Faults         int64   `json:"faults_injected"`
	FaultsAfter    int64   `json:"faults_after_write"`
	Retries        int64   `json:"retries"`
	Alerts         int     `json:"alerts"`
	// Violations counts requests and answers of either simulated system
	// that did not validate against its spec.
	Violations int      `json:"violations"`
	Problems   []string `json:"problems,omitempty"`
	// State is the canonical email-side state, for comparing runs (not
	// printed).
	State []string `json:"-"`
}

// counter is the clients' observer: it counts attempts and retries.
type counter struct {
	observe.Nop
	requests, retries atomic.Int64
}

func (c *counter) ObserveRequest(observe.Request) { c.requests.Add(1) }
func (c *counter) ObserveRetry(observe.Retry)     { c.retries.Add(1) }

// records counts the engine's record outcomes for progress.
type records struct {
	engine.NopObserver
	n atomic.Int64
}

func (r *records) ObserveRecord(engine.RecordEvent) { r.n.Add(1) }

func (c *Config) defaults() {
	if c.Leads <= 0 {
		c.Leads = 1000
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Mutations < 0 {
		c.Mutations = c.Leads / 10
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 16
	}
	if c.MaxRounds <= 0 {
		c.MaxRounds = 60
	}
	if c.AttemptTimeout <= 0 {
		c.AttemptTimeout = 150 * time.Millisecond
	}
	if c.ClientID == "" {
		c.ClientID = envOr("CRM_CLIENT_ID", sim.DefaultClientID)
	}
	if c.ClientSecret == "" {
		c.ClientSecret = envOr("CRM_CLIENT_SECRET", sim.DefaultClientSecret)
	}
	if c.RefreshToken == "" {
		c.RefreshToken = os.Getenv("CRM_REFRESH_TOKEN")
	}
	if c.APIKey == "" {
		c.APIKey = envOr("POSTBOX_API_KEY", sim.DefaultAPIKey)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// simFaults is the fault mix of -fail-rate: equal shares of 500, 429,
// slow answers and resets, half of the write failures after the write.
func simFaults(rate float64, attemptTimeout time.Duration) sim.Faults {
	return sim.Faults{Rate: rate, SlowDelay: 2 * attemptTimeout, RetryAfter: 5 * time.Millisecond}
}

// newSim starts the simulation a Config describes.
func newSim(c Config) *sim.Sim {
	f := simFaults(c.FailRate, c.AttemptTimeout)
	return sim.New(sim.Options{Seed: c.Seed, Leads: c.Leads, CRMFaults: f, EmailFaults: f})
}

// Env is everything a run needs: clients, engine, store.
type Env struct {
	Clients crmemail.Clients
	Engine  *engine.Engine
	Store   engine.Store
	calls   *counter
	recs    *records
	alerts  atomic.Int64
	alertMu sync.Mutex
	Alerts  []engine.Alert
	cleanup []func()
}

// Close releases the store and temporary files.
func (env *Env) Close() {
	for i := len(env.cleanup) - 1; i >= 0; i-- {
		env.cleanup[i]()
	}
}

// clientOptions are the transport settings of both clients: fast retries
// for a simulation on loopback (12 attempts, so that a call fails for good
// at a 30% fault rate about once in two million), a breaker that tolerates
// the injected fault rate but opens when a system is really down, and as
// many half-open probes as the engine has workers (with one probe, the
// other workers' calls are refused while it is in flight, and the engine
// stops the first run after an outage as "system down" again).
func clientOptions(c Config, hc *http.Client, obs observe.Observer) []rest.Option {
	return []rest.Option{
		rest.WithHTTPClient(hc),
		rest.WithRetry(transport.RetryConfig{MaxAttempts: 12, BaseDelay: 10 * time.Millisecond,
			MaxDelay: 200 * time.Millisecond, MaxWait: 5 * time.Second, AttemptTimeout: c.AttemptTimeout}),
		rest.WithBreaker(transport.BreakerConfig{Threshold: 40, CoolDown: 500 * time.Millisecond,
			HalfOpenProbes: c.Concurrency}),
		rest.WithObserver(obs),
	}
}

// NewEnv builds the generated clients and an engine over a SQLite store.
func NewEnv(ctx context.Context, c Config, crmBase, tokenURL, emailBase string) (*Env, error) {
	env := &Env{calls: &counter{}, recs: &records{}}
	path := c.StatePath
	if c.Store != nil {
		path = "-"
	}
	if path == "" {
		dir, err := os.MkdirTemp("", "crmsync-demo-")
		if err != nil {
			return nil, err
		}
		env.cleanup = append(env.cleanup, func() { _ = os.RemoveAll(dir) })
		path = filepath.Join(dir, "state.db")
	}
	store := c.Store
	if store == nil {
		st, err := openStore(path)
		if err != nil {
			env.Close()
			return nil, err
		}
		store = st
		env.cleanup = append(env.cleanup, func() { _ = st.Close() })
	}
	env.Store = store
	logger := c.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	env.Engine = engine.New(store, append([]engine.Option{
		engine.WithConcurrency(c.Concurrency),
		engine.WithRetryBackoff(10*time.Millisecond, 200*time.Millisecond),
		engine.WithObserver(env.recs),
		engine.WithLogger(logger),
		engine.WithAlertHook(func(_ context.Context, a engine.Alert) {
			env.alertMu.Lock()
			env.Alerts = append(env.Alerts, a)
			env.alertMu.Unlock()
			if !a.Resolved {
				env.alerts.Add(1)
			}
			if c.Progress != nil {
				state := "ALERT"
				if a.Resolved {
					state = "resolved"
				}
				fmt.Fprintf(c.Progress, "  %s [%s] %s\n", state, a.Kind, a.Message)
			}
		}),
	}, c.EngineOptions...)...)
	var rt http.RoundTripper = &http.Transport{MaxIdleConnsPerHost: 4 * c.Concurrency, IdleConnTimeout: 30 * time.Second}
	if c.WorkerID != "" {
		rt = workerHeader{id: c.WorkerID, next: rt}
	}
	hc := &http.Client{Transport: rt}
	env.cleanup = append(env.cleanup, hc.CloseIdleConnections)
	// Tokens are persisted in the state store: a restarted demo reuses the
	// access token, and a rotated refresh token survives the restart.
	tok, err := env.Engine.Token(ctx, "crm")
	if err != nil {
		env.Close()
		return nil, err
	}
	ocfg := auth.OAuthConfig{TokenURL: tokenURL, ClientID: c.ClientID, ClientSecret: secret.New(c.ClientSecret),
		Scopes: []string{"crm.read"}, HTTPClient: hc, Token: tok, OnToken: env.Engine.TokenHook("crm"),
		System: "crm", Observer: env.calls, Logger: logger}
	var o *auth.OAuth
	if c.RefreshToken != "" {
		ocfg.RefreshToken = secret.New(c.RefreshToken)
		// Workers on one state refresh the rotating refresh token in turn.
		ocfg.Shared = env.Engine.SharedToken("crm")
		o, err = auth.RefreshToken(ocfg)
	} else {
		o, err = auth.ClientCredentials(ocfg)
	}
	if err != nil {
		env.Close()
		return nil, err
	}
	crmc, err := crm.NewClient(crmBase, append(clientOptions(c, hc, env.calls), crm.WithOAuth2(o), rest.WithLogger(logger))...)
	if err != nil {
		env.Close()
		return nil, err
	}
	emailc, err := email.NewClient(emailBase, append(clientOptions(c, hc, env.calls),
		email.WithAPIKey(secret.New(c.APIKey)), rest.WithLogger(logger))...)
	if err != nil {
		env.Close()
		return nil, err
	}
	env.Clients = crmemail.Clients{CRM: crmc, Email: emailc}
	if err := crmemail.Register(env.Engine, env.Clients); err != nil {
		env.Close()
		return nil, err
	}
	return env, nil
}

// syncNames are the mapping's syncs, in mapping order.
var syncNames = []string{"owners_to_senders", "qualified_leads_to_nurture"}

// tokenURLFor derives the token endpoint from the CRM's base URL.
func tokenURLFor(crmBase string) (string, error) {
	u, err := url.Parse(crmBase)
	if err != nil {
		return "", err
	}
	return u.Scheme + "://" + u.Host + "/oauth/token", nil
}

// Run runs the demo: it starts the simulation unless URLs are given, runs
// the syncs until a round finds no new work, and verifies the result.
func Run(ctx context.Context, c Config) (Summary, error) {
	c.defaults()
	s := c.Sim
	if s == nil && c.CRMURL == "" && c.StatePath != "" && c.Progress != nil {
		if fi, err := os.Stat(c.StatePath); err == nil && fi.Size() > 0 {
			fmt.Fprintf(c.Progress, "warning: %s holds the state of earlier runs, but this run starts a new simulation; "+
				"reuse a state file only against the same servers (-crm-url, -email-url)\n", c.StatePath)
		}
	}
	if s == nil && c.CRMURL == "" {
		s = newSim(c)
		defer s.Close()
	}
	crmBase, emailBase, tokenURL := c.CRMURL, c.EmailURL, c.CRMTokenURL
	if s != nil {
		crmBase, emailBase, tokenURL = s.CRM.BaseURL(), s.Email.BaseURL(), s.CRM.TokenURL()
	}
	if crmBase == "" || emailBase == "" {
		return Summary{}, errors.New("both -crm-url and -email-url are needed")
	}
	if tokenURL == "" {
		var err error
		if tokenURL, err = tokenURLFor(crmBase); err != nil {
			return Summary{}, err
		}
	}
	env, err := NewEnv(ctx, c, crmBase, tokenURL, emailBase)
	if err != nil {
		return Summary{}, err
	}
	defer env.Close()

	start := time.Now()
	sum := Summary{}
	progress := func(format string, args ...any) {
		if c.Progress != nil {
			fmt.Fprintf(c.Progress, format, args...)
		}
	}
	if s != nil {
		st := s.CRM.Leads()
		q := 0
		for _, l := range st {
			if l.Status == sim.StatusQualified {
				q++
			}
		}
		progress("simulated CRM at %s: %d leads (%d qualified), %d owners; email at %s; fail rate %.0f%%\n",
			s.CRM.BaseURL(), len(st), q, len(s.CRM.Owners()), s.Email.BaseURL(), 100*c.FailRate)
	}
	stopTicker := ticker(c.Progress, env)
	defer stopTicker()
	// Changes in the CRM arrive in three batches, before rounds 2, 3 and 4.
	mutBatches, lastMutRound := 3, 0
	if s != nil && c.Mutations > 0 {
		lastMutRound = 1 + mutBatches
	}
	for round := 1; round <= c.MaxRounds; round++ {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		if c.BeforeRound != nil {
			c.BeforeRound(round)
		}
		if s != nil && c.Mutations > 0 && round >= 2 && round < 2+mutBatches {
			n := c.Mutations / mutBatches
			if round == 1+mutBatches {
				n = c.Mutations - (mutBatches-1)*n
			}
			s.CRM.Mutate(n)
			progress("round %d: %d changes made in the CRM\n", round, n)
		}
		sum.Rounds = round
		quiet := true
		for _, name := range syncNames {
			rep, err := env.Engine.RunOnce(ctx, name)
			sum.Created += rep.Created
			sum.Updated += rep.Updated
			work := rep.Created + rep.Updated + rep.Deferred + rep.Failed + rep.DeadLettered
			if err != nil {
				if ctx.Err() != nil {
					return sum, ctx.Err()
				}
				sum.FailedRuns++
				quiet = false
				progress("round %d %-27s stopped after %s: %v\n", round, name, rep.Duration.Round(time.Millisecond), err)
				if !engine.IsSystemDown(err) && !isSystemDownErr(err) {
					return sum, err
				}
				continue
			}
			if work > 0 {
				quiet = false
			}
			progress("round %d %-27s seen %5d in scope %5d created %5d updated %4d unchanged %5d deferred %3d dead-lettered %d (%s)\n",
				round, name, rep.Seen, rep.InScope, rep.Created, rep.Updated, rep.Unchanged, rep.Deferred, rep.DeadLettered,
				rep.Duration.Round(time.Millisecond))
		}
		if quiet && round >= lastMutRound {
			sum.Converged = true
			break
		}
	}
	sum.Seconds = time.Since(start).Seconds()
	for _, name := range syncNames {
		dls, err := env.Engine.DeadLetters(ctx, name)
		if err != nil {
			return sum, err
		}
		sum.DeadLettered += len(dls)
	}
	sum.Requests = env.calls.requests.Load()
	sum.Retries = env.calls.retries.Load()
	sum.Alerts = int(env.alerts.Load())
	if s != nil {
		cs, es := s.CRM.Stats(), s.Email.Stats()
		sum.Faults = cs.FaultTotal() + es.FaultTotal()
		sum.FaultsAfter = cs.FaultsAfterWrite + es.FaultsAfterWrite
		sum.Violations = len(s.Violations())
	}
	var v Verification
	if s != nil {
		members, senders := s.Email.Members(sim.DefaultListID), s.Email.Senders()
		v = verify(s.CRM.Leads(), s.CRM.Owners(), members, senders)
		sum.State = canonicalState(members, senders, nil)
	} else {
		leads, owners, members, senders, err := readBack(ctx, env.Clients)
		if err != nil {
			return sum, fmt.Errorf("reading the result back: %w", err)
		}
		v = verify(leads, owners, members, senders)
		sum.State = canonicalState(members, senders, nil)
	}
	sum.Leads, sum.Qualified, sum.Members, sum.Senders = v.Leads, v.Qualified, v.Members, v.Senders
	sum.Duplicates, sum.Lost, sum.Mismatched, sum.Stray = v.Duplicates, v.Lost, v.Mismatched, v.Stray
	sum.TargetWinsOnly = v.TargetWinsOnly
	sum.Problems = v.Problems
	if sum.Seconds > 0 {
		sum.RecordsPerS = float64(sum.Created+sum.Updated) / sum.Seconds
	}
	return sum, nil
}

func isSystemDownErr(err error) bool {
	var d *engine.SystemDownError
	return errors.As(err, &d)
}

// ticker prints a progress line every second while a run goes on.
func ticker(w io.Writer, env *Env) func() {
	if w == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		start := time.Now()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintf(w, "  … %4.0fs: %d records applied, %d requests, %d retries\n", time.Since(start).Seconds(),
					env.recs.n.Load(), env.calls.requests.Load(), env.calls.retries.Load())
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// readBack reads both systems through the generated clients (when the
// servers run elsewhere) into the simulation's types for verify.
func readBack(ctx context.Context, c crmemail.Clients) ([]sim.Lead, []sim.Owner, []sim.Member, []sim.Sender, error) {
	var leads []sim.Lead
	for l, err := range c.CRM.ListLeadsItems(ctx, crm.ListLeadsParams{Limit: oas.Some[int32](200)}) {
		if err != nil {
			return nil, nil, nil, nil, err
		}
		sl := sim.Lead{ID: l.ID, Email: l.Email, Status: string(l.Status), FirstName: oas.Ptr(l.FirstName),
			LastName: oas.Ptr(l.LastName), CompanyName: oas.Ptr(l.CompanyName), Phone: oas.Ptr(l.Phone), OwnerID: oas.Ptr(l.OwnerID),
			Version: l.Version, UpdatedAt: l.UpdatedAt}
		if r, ok := l.Rating.Get(); ok {
			rs := string(r)
			sl.Rating = &rs
		}
		sl.EverQualified = sl.Status == sim.StatusQualified // the API does not tell; mutations never leave qualified
		leads = append(leads, sl)
	}
	var owners []sim.Owner
	for o, err := range c.CRM.ListOwnersItems(ctx, crm.ListOwnersParams{Limit: oas.Some[int32](200)}) {
		if err != nil {
			return nil, nil, nil, nil, err
		}
		owners = append(owners, sim.Owner{ID: o.ID, Name: o.Name, Email: o.Email, Active: o.Active})
	}
	var members []sim.Member
	for m, err := range c.Email.ListMembersItems(ctx, email.ListMembersParams{ListID: sim.DefaultListID, Count: oas.Some[int32](1000)}) {
		if err != nil {
			return nil, nil, nil, nil, err
		}
		sm := sim.Member{ID: m.ID, EmailAddress: m.EmailAddress, Status: string(m.Status), SourceID: oas.Ptr(m.SourceID),
			MergeFields: map[string]string{}}
		if mf := m.MergeFields; mf != nil {
			put := func(k string, v string, ok bool) {
				if ok {
					sm.MergeFields[k] = v
				}
			}
			v, ok := mf.Fname.Get()
			put("FNAME", v, ok)
			v, ok = mf.Lname.Get()
			put("LNAME", v, ok)
			v, ok = mf.Company.Get()
			put("COMPANY", v, ok)
			t, ok := mf.Tier.Get()
			put("TIER", string(t), ok)
			v, ok = mf.Sender.Get()
			put("SENDER", v, ok)
			v, ok = mf.Mobile.Get()
			put("MOBILE", v, ok)
			v, ok = mf.Landline.Get()
			put("LANDLINE", v, ok)
		}
		members = append(members, sm)
	}
	var senders []sim.Sender
	for s, err := range c.Email.ListSendersItems(ctx, email.ListSendersParams{Count: oas.Some[int32](1000)}) {
		if err != nil {
			return nil, nil, nil, nil, err
		}
		senders = append(senders, sim.Sender{ID: s.ID, Email: s.Email, Name: s.Name})
	}
	return leads, owners, members, senders, nil
}
