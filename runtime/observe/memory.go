package observe

import (
	"bufio"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultBuckets are the latency histogram upper bounds in seconds.
func DefaultBuckets() []float64 {
	return []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}
}

// MemoryOptions configures NewMemory.
type MemoryOptions struct {
	// Namespace prefixes every metric name; default "connectorgen".
	Namespace string
	// Buckets are the latency histogram upper bounds in seconds, ascending;
	// default DefaultBuckets().
	Buckets []float64
}

// Memory is an Observer that aggregates everything in memory: attempt and
// call counters by outcome, attempt latency histograms, retries by reason and
// rate-limit waits per system and operation, breaker states and token
// refreshes. It serves them in the Prometheus text exposition format
// (ServeHTTP / WritePrometheus) and as a Snapshot. The zero value is not
// usable; call NewMemory.
type Memory struct {
	ns      string
	buckets []float64

	mu       sync.RWMutex
	ops      map[opKey]*opSeries
	retries  map[retryKey]*atomic.Int64
	breakers map[string]*breakerSeries
	tokens   map[tokenKey]*atomic.Int64
}

type opKey struct{ system, operation string }

type retryKey struct {
	opKey
	reason string
}

type tokenKey struct {
	system, scheme string
	outcome        TokenOutcome
}

const numOutcomes = 11

func outcomeOrder() [numOutcomes]Outcome {
	return [numOutcomes]Outcome{OutcomeSuccess, OutcomeClientError, OutcomeServerError, OutcomeRateLimited,
		OutcomeTimeout, OutcomeNetwork, OutcomeValidation, OutcomeUnavailable, OutcomeAuth, OutcomeCanceled, OutcomeOther}
}

func outcomeIndex(o Outcome) int {
	switch o {
	case OutcomeSuccess:
		return 0
	case OutcomeClientError:
		return 1
	case OutcomeServerError:
		return 2
	case OutcomeRateLimited:
		return 3
	case OutcomeTimeout:
		return 4
	case OutcomeNetwork:
		return 5
	case OutcomeValidation:
		return 6
	case OutcomeUnavailable:
		return 7
	case OutcomeAuth:
		return 8
	case OutcomeCanceled:
		return 9
	}
	return 10
}

type opSeries struct {
	attempts  [numOutcomes]atomic.Int64
	calls     [numOutcomes]atomic.Int64
	counts    []atomic.Int64 // per bucket (not cumulative); last is +Inf
	sumNanos  atomic.Int64
	waits     atomic.Int64
	waitNanos atomic.Int64
}

type breakerSeries struct {
	state       atomic.Value // BreakerState
	transitions map[[2]BreakerState]*atomic.Int64
}

// NewMemory returns an empty in-memory observer.
func NewMemory(opts MemoryOptions) *Memory {
	m := &Memory{
		ns:       opts.Namespace,
		buckets:  append([]float64(nil), opts.Buckets...),
		ops:      map[opKey]*opSeries{},
		retries:  map[retryKey]*atomic.Int64{},
		breakers: map[string]*breakerSeries{},
		tokens:   map[tokenKey]*atomic.Int64{},
	}
	if m.ns == "" {
		m.ns = "connectorgen"
	}
	if len(m.buckets) == 0 {
		m.buckets = DefaultBuckets()
	}
	sort.Float64s(m.buckets)
	return m
}

func (m *Memory) op(system, operation string) *opSeries {
	k := opKey{system, operation}
	m.mu.RLock()
	s := m.ops[k]
	m.mu.RUnlock()
	if s != nil {
		return s
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s = m.ops[k]; s == nil {
		s = &opSeries{counts: make([]atomic.Int64, len(m.buckets)+1)}
		m.ops[k] = s
	}
	return s
}

// ObserveRequest counts the attempt and records its latency.
func (m *Memory) ObserveRequest(e Request) {
	s := m.op(e.System, e.Operation)
	s.attempts[outcomeIndex(e.Outcome)].Add(1)
	sec := e.Duration.Seconds()
	i := sort.SearchFloat64s(m.buckets, sec) // first bound >= sec
	s.counts[i].Add(1)
	s.sumNanos.Add(int64(e.Duration))
}

// ObserveCall counts the call by outcome.
func (m *Memory) ObserveCall(e Call) {
	m.op(e.System, e.Operation).calls[outcomeIndex(e.Outcome)].Add(1)
}

// ObserveRetry counts the retry by reason.
func (m *Memory) ObserveRetry(e Retry) {
	m.op(e.System, e.Operation) // the operation appears in snapshots
	k := retryKey{opKey{e.System, e.Operation}, e.Reason}
	m.mu.RLock()
	c := m.retries[k]
	m.mu.RUnlock()
	if c == nil {
		m.mu.Lock()
		if c = m.retries[k]; c == nil {
			c = new(atomic.Int64)
			m.retries[k] = c
		}
		m.mu.Unlock()
	}
	c.Add(1)
}

// ObserveRateLimitWait counts the wait and its duration.
func (m *Memory) ObserveRateLimitWait(e RateLimitWait) {
	s := m.op(e.System, e.Operation)
	s.waits.Add(1)
	s.waitNanos.Add(int64(e.Wait))
}

// ObserveBreaker records the new state and counts the transition.
func (m *Memory) ObserveBreaker(e BreakerChange) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.breakers[e.System]
	if b == nil {
		b = &breakerSeries{transitions: map[[2]BreakerState]*atomic.Int64{}}
		m.breakers[e.System] = b
	}
	b.state.Store(e.To)
	k := [2]BreakerState{e.From, e.To}
	c := b.transitions[k]
	if c == nil {
		c = new(atomic.Int64)
		b.transitions[k] = c
	}
	c.Add(1)
}

// ObserveTokenRefresh counts the refresh by outcome.
func (m *Memory) ObserveTokenRefresh(e TokenRefresh) {
	k := tokenKey{e.System, e.Scheme, e.Outcome}
	m.mu.Lock()
	c := m.tokens[k]
	if c == nil {
		c = new(atomic.Int64)
		m.tokens[k] = c
	}
	m.mu.Unlock()
	c.Add(1)
}

// OperationStats is the snapshot of one system/operation pair.
type OperationStats struct {
	System, Operation string
	// Attempts and Calls count by outcome; outcomes never seen are absent.
	Attempts map[Outcome]int64
	Calls    map[Outcome]int64
	// Retries counts retries by reason.
	Retries map[string]int64
	// LatencyCount and LatencySum summarise attempt latency.
	LatencyCount int64
	LatencySum   time.Duration
	// RateLimitWaits and RateLimitWaited summarise local rate-limit waits.
	RateLimitWaits  int64
	RateLimitWaited time.Duration
}

// SuccessRate is the share of successful calls, or of successful attempts
// when no call was reported (the observer middleware used without the retry
// middleware). It is 0 when nothing was observed.
func (s OperationStats) SuccessRate() float64 {
	src := s.Calls
	if len(src) == 0 {
		src = s.Attempts
	}
	var total int64
	for _, n := range src {
		total += n
	}
	if total == 0 {
		return 0
	}
	return float64(src[OutcomeSuccess]) / float64(total)
}

// Snapshot is a point-in-time copy of a Memory observer's data.
type Snapshot struct {
	Operations []OperationStats
	// Breakers maps a system to its breaker's current state.
	Breakers map[string]BreakerState
	// BreakerTransitions counts transitions per system as "from->to".
	BreakerTransitions map[string]map[string]int64
	// TokenRefreshes counts refreshes per "system/scheme" by outcome.
	TokenRefreshes map[string]map[TokenOutcome]int64
}

// Operation returns the stats for system/operation (zero stats when none).
func (s Snapshot) Operation(system, operation string) OperationStats {
	for _, o := range s.Operations {
		if o.System == system && o.Operation == operation {
			return o
		}
	}
	return OperationStats{System: system, Operation: operation}
}

// Snapshot copies the current values.
func (m *Memory) Snapshot() Snapshot {
	m.mu.RLock()
	defer m.mu.RUnlock()
	snap := Snapshot{
		Breakers:           map[string]BreakerState{},
		BreakerTransitions: map[string]map[string]int64{},
		TokenRefreshes:     map[string]map[TokenOutcome]int64{},
	}
	snap.Operations = m.snapshotOpsLocked(m.sortedOps())
	for sys, b := range m.breakers {
		if st, ok := b.state.Load().(BreakerState); ok {
			snap.Breakers[sys] = st
		}
		t := map[string]int64{}
		for k, c := range b.transitions {
			t[string(k[0])+"->"+string(k[1])] = c.Load()
		}
		snap.BreakerTransitions[sys] = t
	}
	for k, c := range m.tokens {
		key := k.system + "/" + k.scheme
		if snap.TokenRefreshes[key] == nil {
			snap.TokenRefreshes[key] = map[TokenOutcome]int64{}
		}
		snap.TokenRefreshes[key][k.outcome] = c.Load()
	}
	return snap
}

func (m *Memory) sortedOps() []opKey {
	keys := make([]opKey, 0, len(m.ops))
	for k := range m.ops {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].system != keys[j].system {
			return keys[i].system < keys[j].system
		}
		return keys[i].operation < keys[j].operation
	})
	return keys
}

// ServeHTTP serves the metrics in the Prometheus text exposition format
// (version 0.0.4).
func (m *Memory) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	if r.Method == http.MethodHead {
		return
	}
	_ = m.WritePrometheus(w)
}

// WritePrometheus writes every metric in the Prometheus text exposition
// format, families in a fixed order and series sorted by labels.
func (m *Memory) WritePrometheus(w io.Writer) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	bw := bufio.NewWriter(w)
	p := promWriter{w: bw, ns: m.ns}
	ops := m.sortedOps()
	order := outcomeOrder()

	p.family("requests_total", "counter", "HTTP attempts sent (or refused locally), by outcome.")
	for _, k := range ops {
		s := m.ops[k]
		for i, o := range order {
			if n := s.attempts[i].Load(); n > 0 {
				p.sample("requests_total", []string{"system", k.system, "operation", k.operation, "outcome", string(o)}, float64(n))
			}
		}
	}
	p.family("calls_total", "counter", "Logical calls (all attempts of one request), by final outcome.")
	for _, k := range ops {
		s := m.ops[k]
		for i, o := range order {
			if n := s.calls[i].Load(); n > 0 {
				p.sample("calls_total", []string{"system", k.system, "operation", k.operation, "outcome", string(o)}, float64(n))
			}
		}
	}
	p.family("success_ratio", "gauge", "Share of successful calls (or attempts when calls are not reported).")
	snap := map[opKey]OperationStats{}
	for _, st := range m.snapshotOpsLocked(ops) {
		snap[opKey{st.System, st.Operation}] = st
	}
	for _, k := range ops {
		p.sample("success_ratio", []string{"system", k.system, "operation", k.operation}, snap[k].SuccessRate())
	}
	p.family("request_duration_seconds", "histogram", "Latency of one attempt until response headers.")
	for _, k := range ops {
		s := m.ops[k]
		var cum int64
		for i := range s.counts {
			cum += s.counts[i].Load()
			le := "+Inf"
			if i < len(m.buckets) {
				le = formatFloat(m.buckets[i])
			}
			p.sample("request_duration_seconds_bucket", []string{"system", k.system, "operation", k.operation, "le", le}, float64(cum))
		}
		p.sample("request_duration_seconds_sum", []string{"system", k.system, "operation", k.operation}, time.Duration(s.sumNanos.Load()).Seconds())
		p.sample("request_duration_seconds_count", []string{"system", k.system, "operation", k.operation}, float64(cum))
	}
	p.family("retries_total", "counter", "Retries, by reason (status code, network, timeout).")
	rk := make([]retryKey, 0, len(m.retries))
	for k := range m.retries {
		rk = append(rk, k)
	}
	sort.Slice(rk, func(i, j int) bool {
		a, b := rk[i], rk[j]
		if a.system != b.system {
			return a.system < b.system
		}
		if a.operation != b.operation {
			return a.operation < b.operation
		}
		return a.reason < b.reason
	})
	for _, k := range rk {
		p.sample("retries_total", []string{"system", k.system, "operation", k.operation, "reason", k.reason}, float64(m.retries[k].Load()))
	}
	p.family("rate_limit_waits_total", "counter", "Requests that waited for the local rate limiter.")
	for _, k := range ops {
		if n := m.ops[k].waits.Load(); n > 0 {
			p.sample("rate_limit_waits_total", []string{"system", k.system, "operation", k.operation}, float64(n))
		}
	}
	p.family("rate_limit_wait_seconds_total", "counter", "Time spent waiting for the local rate limiter.")
	for _, k := range ops {
		if n := m.ops[k].waits.Load(); n > 0 {
			p.sample("rate_limit_wait_seconds_total", []string{"system", k.system, "operation", k.operation}, time.Duration(m.ops[k].waitNanos.Load()).Seconds())
		}
	}
	systems := make([]string, 0, len(m.breakers))
	for s := range m.breakers {
		systems = append(systems, s)
	}
	sort.Strings(systems)
	p.family("breaker_state", "gauge", "Circuit breaker state per system: 1 for the current state.")
	states := []BreakerState{BreakerClosed, BreakerOpen, BreakerHalfOpen}
	for _, sys := range systems {
		cur, _ := m.breakers[sys].state.Load().(BreakerState)
		for _, st := range states {
			v := 0.0
			if st == cur {
				v = 1
			}
			p.sample("breaker_state", []string{"system", sys, "state", string(st)}, v)
		}
	}
	p.family("breaker_transitions_total", "counter", "Circuit breaker state changes.")
	for _, sys := range systems {
		b := m.breakers[sys]
		tk := make([][2]BreakerState, 0, len(b.transitions))
		for k := range b.transitions {
			tk = append(tk, k)
		}
		sort.Slice(tk, func(i, j int) bool {
			if tk[i][0] != tk[j][0] {
				return tk[i][0] < tk[j][0]
			}
			return tk[i][1] < tk[j][1]
		})
		for _, k := range tk {
			p.sample("breaker_transitions_total", []string{"system", sys, "from", string(k[0]), "to", string(k[1])}, float64(b.transitions[k].Load()))
		}
	}
	p.family("token_refreshes_total", "counter", "OAuth token endpoint exchanges, by outcome.")
	tks := make([]tokenKey, 0, len(m.tokens))
	for k := range m.tokens {
		tks = append(tks, k)
	}
	sort.Slice(tks, func(i, j int) bool {
		a, b := tks[i], tks[j]
		if a.system != b.system {
			return a.system < b.system
		}
		if a.scheme != b.scheme {
			return a.scheme < b.scheme
		}
		return a.outcome < b.outcome
	})
	for _, k := range tks {
		p.sample("token_refreshes_total", []string{"system", k.system, "scheme", k.scheme, "outcome", string(k.outcome)}, float64(m.tokens[k].Load()))
	}
	if p.err != nil {
		return p.err
	}
	return bw.Flush()
}

func (m *Memory) snapshotOpsLocked(ops []opKey) []OperationStats {
	out := make([]OperationStats, 0, len(ops))
	index := make(map[opKey]int, len(ops))
	order := outcomeOrder()
	for _, k := range ops {
		s := m.ops[k]
		st := OperationStats{System: k.system, Operation: k.operation,
			Attempts: map[Outcome]int64{}, Calls: map[Outcome]int64{}, Retries: map[string]int64{}}
		for i, o := range order {
			if n := s.attempts[i].Load(); n > 0 {
				st.Attempts[o] = n
			}
			if n := s.calls[i].Load(); n > 0 {
				st.Calls[o] = n
			}
		}
		for i := range s.counts {
			st.LatencyCount += s.counts[i].Load()
		}
		st.LatencySum = time.Duration(s.sumNanos.Load())
		st.RateLimitWaits = s.waits.Load()
		st.RateLimitWaited = time.Duration(s.waitNanos.Load())
		index[k] = len(out)
		out = append(out, st)
	}
	for k, c := range m.retries {
		if i, ok := index[k.opKey]; ok {
			out[i].Retries[k.reason] = c.Load()
		}
	}
	return out
}

type promWriter struct {
	w   *bufio.Writer
	ns  string
	err error
}

func (p *promWriter) write(s string) {
	if p.err == nil {
		_, p.err = p.w.WriteString(s)
	}
}

func (p *promWriter) family(name, typ, help string) {
	p.write("# HELP " + p.ns + "_" + name + " " + escapeHelp(help) + "\n")
	p.write("# TYPE " + p.ns + "_" + name + " " + typ + "\n")
}

// sample writes one line; labels alternate name, value.
func (p *promWriter) sample(name string, labels []string, v float64) {
	var b strings.Builder
	b.WriteString(p.ns)
	b.WriteByte('_')
	b.WriteString(name)
	if len(labels) > 0 {
		b.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(labels[i])
			b.WriteString(`="`)
			b.WriteString(escapeLabel(labels[i+1]))
			b.WriteByte('"')
		}
		b.WriteByte('}')
	}
	b.WriteByte(' ')
	b.WriteString(formatFloat(v))
	b.WriteByte('\n')
	p.write(b.String())
}

func escapeLabel(s string) string {
	if !strings.ContainsAny(s, "\\\"\n") {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

func escapeHelp(s string) string {
	if !strings.ContainsAny(s, "\\\n") {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
