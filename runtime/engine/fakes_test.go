package engine_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// lead is a fake source record.
type lead struct {
	ID      string    `json:"id"`
	Email   string    `json:"email"`
	Name    string    `json:"name"`
	Status  string    `json:"status"`
	Owner   string    `json:"owner,omitempty"`
	Version int64     `json:"version"`
	Updated time.Time `json:"updated"`
	Deleted bool      `json:"deleted,omitempty"`
}

// write is a fake target write: field path → canonical JSON.
type write struct{ F map[string]string }

// source is an in-memory source system.
type source struct {
	mu      sync.Mutex
	recs    map[string]lead
	pollErr error // returned after yielding the records
	fetchN  atomic.Int64
	clock   time.Time
}

func newSource() *source {
	return &source{recs: map[string]lead{}, clock: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// put stores a change: version and updated time move on.
func (s *source) put(l lead) lead {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.recs[l.ID]
	if ok {
		l.Version = old.Version + 1
	} else if l.Version == 0 {
		l.Version = 1
	}
	s.clock = s.clock.Add(time.Second)
	if l.Updated.IsZero() {
		l.Updated = s.clock
	}
	if l.Status == "" {
		l.Status = "qualified"
	}
	s.recs[l.ID] = l
	return l
}

// now is the engine's clock in tests: just after the last change.
func (s *source) now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clock.Add(time.Second)
}

// advance moves the clock.
func (s *source) advance(d time.Duration) {
	s.mu.Lock()
	s.clock = s.clock.Add(d)
	s.mu.Unlock()
}

func (s *source) get(id string) lead {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recs[id]
}

func (s *source) Poll(_ context.Context, since engine.Cursor) iter.Seq2[lead, error] {
	s.mu.Lock()
	var out []lead
	for _, l := range s.recs { // map order: records come in any order
		if !l.Updated.Before(since.Time) {
			out = append(out, l)
		}
	}
	err := s.pollErr
	s.mu.Unlock()
	return func(yield func(lead, error) bool) {
		for _, l := range out {
			if !yield(l, nil) {
				return
			}
		}
		if err != nil {
			yield(lead{}, err)
		}
	}
}

func (s *source) Fetch(_ context.Context, key string) (lead, error) {
	s.fetchN.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.recs[key]
	if !ok {
		return lead{}, fmt.Errorf("lead %s: %w", key, engine.ErrNotFound)
	}
	return l, nil
}

// target is an in-memory target system that honours idempotency keys.
type target struct {
	mu      sync.Mutex
	recs    map[string]map[string]string
	changed map[string]time.Time
	byIdem  map[string]string
	next    int
	creates int
	updates int
	writes  []string // "create:id" / "update:id"
	// down, when set, fails every call.
	down error
	// fail returns an error for a write of a record (by email) or nil.
	fail func(w *write) error
	// afterWrite runs after a successful write (crash injection).
	afterWrite func()
	delay      time.Duration
	now        func() time.Time
	inflight   atomic.Int64
	maxFlight  atomic.Int64
}

func newTarget() *target {
	return &target{now: time.Now, recs: map[string]map[string]string{}, changed: map[string]time.Time{}, byIdem: map[string]string{}}
}

func (t *target) enter() func() {
	n := t.inflight.Add(1)
	for {
		m := t.maxFlight.Load()
		if n <= m || t.maxFlight.CompareAndSwap(m, n) {
			break
		}
	}
	if t.delay > 0 {
		time.Sleep(t.delay)
	}
	return func() { t.inflight.Add(-1) }
}

func (t *target) check(w *write) error {
	if t.down != nil {
		return t.down
	}
	if t.fail != nil && w != nil {
		return t.fail(w)
	}
	return nil
}

func (t *target) Create(_ context.Context, w *write, idem string) (string, error) {
	defer t.enter()()
	t.mu.Lock()
	if err := t.check(w); err != nil {
		t.mu.Unlock()
		return "", err
	}
	if id, ok := t.byIdem[idem]; ok {
		t.mu.Unlock()
		return id, nil
	}
	t.next++
	id := "m" + strconv.Itoa(t.next)
	t.recs[id] = maps.Clone(w.F)
	t.changed[id] = t.now()
	t.byIdem[idem] = id
	t.creates++
	t.writes = append(t.writes, "create:"+id)
	aw := t.afterWrite
	t.mu.Unlock()
	if aw != nil {
		aw()
	}
	return id, nil
}

func (t *target) Update(_ context.Context, id string, w *write, idem string) error {
	defer t.enter()()
	t.mu.Lock()
	if err := t.check(w); err != nil {
		t.mu.Unlock()
		return err
	}
	r, ok := t.recs[id]
	if !ok {
		t.mu.Unlock()
		return engine.Permanent(fmt.Errorf("no member %s", id))
	}
	maps.Copy(r, w.F)
	t.changed[id] = t.now()
	t.updates++
	t.writes = append(t.writes, "update:"+id)
	aw := t.afterWrite
	t.mu.Unlock()
	if aw != nil {
		aw()
	}
	return nil
}

func (t *target) Find(_ context.Context, email string) (string, bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.down != nil {
		return "", false, t.down
	}
	for id, r := range t.recs {
		if r["email"] == strconv.Quote(email) {
			return id, true, nil
		}
	}
	return "", false, nil
}

func (t *target) Current(_ context.Context, id string) (map[string]string, time.Time, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.down != nil {
		return nil, time.Time{}, t.down
	}
	return maps.Clone(t.recs[id]), t.changed[id], nil
}

// edit changes a field in the target as a person would.
func (t *target) edit(id, field, value string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.recs[id][field] = strconv.Quote(value)
	t.changed[id] = at
}

func (t *target) byEmail(email string) (string, map[string]string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	var id string
	for k, r := range t.recs {
		if r["email"] == strconv.Quote(email) {
			n++
			id = k
		}
	}
	if n != 1 {
		return "", nil
	}
	return id, maps.Clone(t.recs[id])
}

func (t *target) counts() (creates, updates, total int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.creates, t.updates, len(t.recs)
}

func strField(path string, p engine.Policy) engine.Field[write] {
	return engine.Field[write]{
		Path:   path,
		Policy: p,
		Value: func(w *write) (string, bool) {
			v, ok := w.F[path]
			return v, ok
		},
		Clear: func(w *write) { delete(w.F, path) },
	}
}

// newSync returns a sync from src to tgt: qualified leads with an email
// become members.
func newSync(name string, src *source, tgt *target) *engine.Sync[lead, write] {
	status := strField("status", engine.SourceWins)
	status.CreateOnly = true
	return &engine.Sync[lead, write]{
		Name:         name,
		SourceSystem: "crm",
		TargetSystem: "email",
		Source:       "crm.Lead",
		Target:       "email.Member",
		Poll:         src.Poll,
		Fetch:        src.Fetch,
		Key:          func(l *lead) string { return l.ID },
		Version:      func(l *lead) int64 { return l.Version },
		CursorKind:   engine.CursorTime,
		Cursor:       func(l *lead) engine.Cursor { return engine.Cursor{Time: l.Updated} },
		Lookback:     time.Minute,
		Deleted:      func(l *lead) bool { return l.Deleted },
		Enter:        func(l *lead) bool { return l.Status == "qualified" && l.Email != "" },
		Map: func(_ context.Context, l *lead, _ engine.Lookups, create bool) (write, error) {
			if strings.HasPrefix(l.Name, "!") {
				return write{}, engine.Permanent(errors.New("name must not start with !"))
			}
			w := write{F: map[string]string{
				"email": strconv.Quote(strings.ToLower(strings.TrimSpace(l.Email))),
				"name":  strconv.Quote(l.Name),
			}}
			if create {
				w.F["status"] = strconv.Quote("subscribed")
			}
			return w, nil
		},
		Fields:     []engine.Field[write]{strField("email", engine.SourceWins), strField("name", engine.SourceWins), status},
		Match:      []engine.MatchStep{engine.MatchXref, engine.MatchNaturalKey, engine.MatchCreate},
		Xref:       name + "_members",
		NaturalKey: func(w *write) string { s, _ := strconv.Unquote(w.F["email"]); return s },
		Find:       tgt.Find,
		Create:     tgt.Create,
		Update:     tgt.Update,
		Current:    tgt.Current,
		SourceTime: func(l *lead) time.Time { return l.Updated },
		ParseEvent: parseEvent,
		Retry:      engine.RetryPolicy{MaxAttempts: 3},
		DeadLetter: true,
	}
}

// parseEvent decodes "id=<event>;key=<lead>;version=<n>".
func parseEvent(body []byte) (engine.Event, error) {
	var ev engine.Event
	for _, part := range strings.Split(string(body), ";") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "id":
			ev.ID = v
		case "key":
			ev.Key = v
		case "version":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return ev, err
			}
			ev.Version = n
		case "deleted":
			ev.Deleted = v == "true"
		}
	}
	// No id: the engine takes it from WebhookConfig.IDHeader, or refuses
	// the event.
	return ev, nil
}

// alerts records alerts.
type alerts struct {
	mu   sync.Mutex
	list []engine.Alert
}

func (a *alerts) hook(_ context.Context, al engine.Alert) {
	a.mu.Lock()
	a.list = append(a.list, al)
	a.mu.Unlock()
}

func (a *alerts) get() []engine.Alert {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]engine.Alert(nil), a.list...)
}

func (a *alerts) count(kind engine.AlertKind, resolved bool) int {
	n := 0
	for _, al := range a.get() {
		if al.Kind == kind && al.Resolved == resolved {
			n++
		}
	}
	return n
}

type fixture struct {
	src    *source
	tgt    *target
	store  engine.Store
	eng    *engine.Engine
	sync   *engine.Sync[lead, write]
	alerts *alerts
}

func setup(t testing.TB, store engine.Store, opts ...engine.Option) *fixture {
	t.Helper()
	f := &fixture{src: newSource(), tgt: newTarget(), store: store, alerts: &alerts{}}
	f.tgt.now = f.src.now
	f.sync = newSync("leads", f.src, f.tgt)
	opts = append([]engine.Option{engine.WithRetryBackoff(time.Millisecond, 5*time.Millisecond), engine.WithAlertHook(f.alerts.hook), engine.WithClock(f.src.now)}, opts...)
	f.eng = engine.New(store, opts...)
	return f
}

func (f *fixture) add(t testing.TB) {
	t.Helper()
	if err := engine.Add(f.eng, f.sync); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) run(t testing.TB) engine.Report {
	t.Helper()
	rep, err := f.eng.RunOnce(context.Background(), f.sync.Name)
	if err != nil {
		t.Fatalf("RunOnce: %v (report %+v)", err, rep)
	}
	return rep
}

func (f *fixture) cursor(t testing.TB) (engine.Cursor, bool) {
	t.Helper()
	c, ok, err := f.store.LoadCursor(context.Background(), f.sync.Name)
	if err != nil {
		t.Fatal(err)
	}
	return c, ok
}

func (t *target) setDown(err error) {
	t.mu.Lock()
	t.down = err
	t.mu.Unlock()
}

func (t *target) setFail(f func(w *write) error) {
	t.mu.Lock()
	t.fail = f
	t.mu.Unlock()
}
