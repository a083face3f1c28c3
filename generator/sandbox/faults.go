package sandbox

import (
	"bytes"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// FaultKind is one kind of injected failure.
type FaultKind int

// Fault kinds.
const (
	// Fault500 answers 500 Internal Server Error.
	Fault500 FaultKind = iota
	// Fault429 answers 429 Too Many Requests with Retry-After (seconds,
	// rounded up) and Retry-After-Ms (the real, short wait).
	Fault429
	// FaultSlow answers only after Faults.SlowDelay, longer than the
	// client's per-attempt timeout.
	FaultSlow
	// FaultReset closes the connection without an answer (TCP RST).
	FaultReset
	// Fault503 answers 503 Service Unavailable with Retry-After.
	Fault503
	numFaultKinds
)

func (k FaultKind) String() string {
	switch k {
	case Fault500:
		return "500"
	case Fault429:
		return "429"
	case FaultSlow:
		return "slow"
	case FaultReset:
		return "reset"
	case Fault503:
		return "503"
	}
	return "fault" + strconv.Itoa(int(k))
}

// Faults configures fault injection of one simulated server. The zero value
// injects nothing.
type Faults struct {
	// Rate is the fraction (0..1) of API requests that fail.
	Rate float64
	// Weights split failures between the kinds, indexed by FaultKind; all
	// zero means equal shares of 500, 429, slow and reset (no 503).
	Weights [numFaultKinds]float64
	// AfterWrite is the fraction of failures of write requests (POST, PUT,
	// PATCH, DELETE) injected after the write was applied: the change is
	// made but its answer is lost (500, a slow answer or a reset; a 429
	// after a write is not realistic and becomes a 500). Default 0.5; set a
	// negative value for none.
	AfterWrite float64
	// SlowDelay is how long a slow answer takes. Default 400 ms.
	SlowDelay time.Duration
	// RetryAfter is the wait a 429 or 503 asks for (sent as Retry-After-Ms,
	// and as Retry-After in whole seconds, at least 1). Default 5 ms.
	RetryAfter time.Duration
	// RetryAfterDate sends Retry-After as an HTTP-date instead of seconds.
	RetryAfterDate bool
}

func (f Faults) withDefaults() Faults {
	if f.AfterWrite == 0 {
		f.AfterWrite = 0.5
	}
	if f.SlowDelay <= 0 {
		f.SlowDelay = 400 * time.Millisecond
	}
	if f.RetryAfter <= 0 {
		f.RetryAfter = 5 * time.Millisecond
	}
	sum := 0.0
	for _, w := range f.Weights {
		sum += w
	}
	if sum <= 0 {
		for i := range f.Weights {
			f.Weights[i] = 1
		}
		f.Weights[Fault503] = 0
	}
	return f
}

// Stats counts what a simulated server saw and did.
type Stats struct {
	// Requests counts every HTTP request, by "METHOD operationId" (token
	// requests as "POST token", unknown routes as "METHOD ?").
	Requests map[string]int64
	// Total is the number of requests.
	Total int64
	// Faults counts injected failures by kind ("500", "429", "slow",
	// "reset"), before and after applying writes together.
	Faults map[string]int64
	// FaultsAfterWrite counts the failures injected after a write was
	// applied.
	FaultsAfterWrite int64
	// Unauthorized counts requests refused for missing or bad credentials.
	Unauthorized int64
	// Down counts requests refused while the system was down.
	Down int64
}

// FaultTotal is the number of injected failures.
func (s Stats) FaultTotal() int64 {
	var n int64
	for _, v := range s.Faults {
		n += v
	}
	return n
}

// injector is the fault-injection and accounting layer of one system.
type injector struct {
	mu     sync.Mutex
	faults Faults
	rng    *rand.Rand
	stats  Stats
	down   atomic.Bool
	// inflight tracks handlers so Close can wait for slow ones.
	closed    chan struct{}
	closeOnce sync.Once
}

func newInjector(seed uint64) *injector {
	return &injector{
		rng:    rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		stats:  Stats{Requests: map[string]int64{}, Faults: map[string]int64{}},
		closed: make(chan struct{}),
	}
}

func (in *injector) setFaults(f Faults) {
	in.mu.Lock()
	in.faults = f.withDefaults()
	if f.Rate <= 0 {
		in.faults.Rate = 0
	}
	in.mu.Unlock()
}

func (in *injector) snapshot() Stats {
	in.mu.Lock()
	defer in.mu.Unlock()
	s := Stats{Requests: map[string]int64{}, Faults: map[string]int64{}, Total: in.stats.Total,
		FaultsAfterWrite: in.stats.FaultsAfterWrite, Unauthorized: in.stats.Unauthorized, Down: in.stats.Down}
	for k, v := range in.stats.Requests {
		s.Requests[k] = v
	}
	for k, v := range in.stats.Faults {
		s.Faults[k] = v
	}
	return s
}

func (in *injector) count(op string) {
	in.mu.Lock()
	in.stats.Requests[op]++
	in.stats.Total++
	in.mu.Unlock()
}

func (in *injector) countUnauthorized() {
	in.mu.Lock()
	in.stats.Unauthorized++
	in.mu.Unlock()
}

// decision is what happens to one request.
type decision struct {
	fault bool
	kind  FaultKind
	after bool
	cfg   Faults
}

func (in *injector) decide(write bool) decision {
	in.mu.Lock()
	defer in.mu.Unlock()
	f := in.faults
	d := decision{cfg: f}
	if f.Rate <= 0 || in.rng.Float64() >= f.Rate {
		return d
	}
	d.fault = true
	sum := 0.0
	for _, w := range f.Weights {
		sum += w
	}
	x := in.rng.Float64() * sum
	for k, w := range f.Weights {
		if x < w {
			d.kind = FaultKind(k)
			break
		}
		x -= w
		d.kind = FaultKind(k)
	}
	if write && f.AfterWrite > 0 && in.rng.Float64() < f.AfterWrite {
		d.after = true
		if d.kind == Fault429 {
			d.kind = Fault500
		}
		in.stats.FaultsAfterWrite++
	}
	in.stats.Faults[d.kind.String()]++
	return d
}

// bufferedWriter captures a handler's answer so that it can be replaced by a
// fault after the handler applied a write.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }
func (b *bufferedWriter) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}
func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

func (b *bufferedWriter) flush(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}

// errorWriter writes the system's error body for a status.
type errorWriter func(w http.ResponseWriter, r *http.Request, status int, code, message string)

// serve runs h for one API request with fault injection around it. write
// says whether the request changes state.
func (in *injector) serve(w http.ResponseWriter, r *http.Request, write bool, h http.HandlerFunc, fail errorWriter) {
	if in.down.Load() {
		in.mu.Lock()
		in.stats.Down++
		in.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		w.Header().Set("Retry-After-Ms", "50")
		fail(w, r, http.StatusServiceUnavailable, "unavailable", "Scheduled maintenance in progress.")
		return
	}
	d := in.decide(write)
	if d.fault && !d.after {
		in.inject(w, r, d, nil, fail)
		return
	}
	buf := &bufferedWriter{header: http.Header{}}
	h(buf, r)
	if d.fault {
		in.inject(w, r, d, buf, fail)
		return
	}
	buf.flush(w)
}

// inject answers with the fault d. buf is the real answer (nil when the
// request was not processed): a slow fault sends it after the delay.
func (in *injector) inject(w http.ResponseWriter, r *http.Request, d decision, buf *bufferedWriter, fail errorWriter) {
	switch d.kind {
	case Fault500:
		fail(w, r, http.StatusInternalServerError, "internal_error", "An unexpected error occurred.")
	case Fault429, Fault503:
		ms := d.cfg.RetryAfter.Milliseconds()
		if ms < 1 {
			ms = 1
		}
		secs := (ms + 999) / 1000
		if d.cfg.RetryAfterDate {
			w.Header().Set("Retry-After", time.Now().Add(time.Duration(secs)*time.Second).UTC().Format(http.TimeFormat))
		} else {
			w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		}
		w.Header().Set("Retry-After-Ms", strconv.FormatInt(ms, 10))
		status, code := http.StatusTooManyRequests, "rate_limited"
		if d.kind == Fault503 {
			status, code = http.StatusServiceUnavailable, "unavailable"
		}
		fail(w, r, status, code, "Too many requests or unavailable; retry later.")
	case FaultSlow:
		t := time.NewTimer(d.cfg.SlowDelay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		case <-in.closed:
			return
		}
		if buf != nil {
			buf.flush(w)
			return
		}
		// The request was not processed: a late 503 the client no longer
		// waits for.
		fail(w, r, http.StatusServiceUnavailable, "unavailable", "The request took too long.")
	case FaultReset:
		hj, ok := w.(http.Hijacker)
		if !ok {
			fail(w, r, http.StatusInternalServerError, "internal_error", "An unexpected error occurred.")
			return
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			return
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // RST instead of FIN
		}
		_ = conn.Close()
	}
}

func (in *injector) close() {
	in.closeOnce.Do(func() { close(in.closed) })
}

func (in *injector) reset() {
	in.mu.Lock()
	in.stats = Stats{Requests: map[string]int64{}, Faults: map[string]int64{}}
	in.mu.Unlock()
}
