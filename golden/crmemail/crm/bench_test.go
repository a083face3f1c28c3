package crm_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/golden/crmemail/crm"
	"github.com/connectorgen/connectorgen/runtime/auth"
	"github.com/connectorgen/connectorgen/runtime/observe"
	"github.com/connectorgen/connectorgen/runtime/rest"
	"github.com/connectorgen/connectorgen/runtime/secret"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

// The generated client's cost over hand-written net/http + encoding/json
// code for the same call (GET /v1/leads/{id} with a bearer token, decoded
// into crm.Lead), both over a keep-alive connection to an httptest server:
//
//	go test -run '^$' -bench 'Call' -benchmem ./crmemail/crm
//
// The generated client runs its whole transport chain: auth, a token bucket
// (with a rate high enough never to throttle), retries with the per-attempt
// timeout, the circuit breaker and an in-memory observer (observe.Memory).
// Targets: ≤ 1.15× raw ns/op and ≤ 1.3× raw allocs/op. TestCallOverhead
// checks the allocation target on every run and, with CONNECTORGEN_BENCH=1,
// the time target too (timing is too noisy for shared CI machines).

const benchToken = "bench-token"

// benchAPI serves leadJSON for every request, checking the bearer token.
func benchAPI(tb testing.TB) *httptest.Server {
	body := []byte(leadJSON)
	length := strconv.Itoa(len(body))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+benchToken || r.URL.Path != "/v1/leads/ld_42" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		h := w.Header()
		h["Content-Type"] = []string{"application/json"}
		h["Content-Length"] = []string{length}
		_, _ = w.Write(body)
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// benchTransport is the connection pool both sides use (a fresh one each,
// configured alike).
func benchTransport(tb testing.TB) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 16
	tb.Cleanup(tr.CloseIdleConnections)
	return tr
}

// generatedCall returns one GetLead through the generated client with the
// full chain enabled.
func generatedCall(tb testing.TB, srv *httptest.Server) func(context.Context) error {
	c, err := crm.NewClient(srv.URL+"/v1",
		rest.WithHTTPClient(&http.Client{Transport: benchTransport(tb)}),
		rest.WithCredential(crm.SecurityOAuth2, auth.Bearer(secret.New(benchToken))),
		rest.WithRetry(transport.RetryConfig{}), // defaults: 4 attempts, 30 s per-attempt timeout
		rest.WithRateLimit(transport.RateLimitConfig{Rate: 1e9, Burst: 1 << 20}),
		rest.WithObserver(observe.NewMemory(observe.MemoryOptions{})),
	)
	if err != nil {
		tb.Fatal(err)
	}
	p := crm.GetLeadParams{LeadID: "ld_42"}
	return func(ctx context.Context) error {
		lead, err := c.GetLead(ctx, p)
		if err == nil && lead.ID != "ld_42" {
			tb.Fatalf("lead %+v", lead)
		}
		return err
	}
}

// rawCall returns the same request written by hand with net/http and
// encoding/json, as a careful programmer would without a runtime.
func rawCall(tb testing.TB, srv *httptest.Server) func(context.Context) error {
	hc := &http.Client{Transport: benchTransport(tb)}
	base := srv.URL + "/v1"
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/leads/"+"ld_42", nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+benchToken)
		req.Header.Set("Accept", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return &rest.Error{StatusCode: resp.StatusCode}
		}
		var lead crm.Lead
		if err := json.NewDecoder(resp.Body).Decode(&lead); err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		if lead.ID != "ld_42" {
			tb.Fatalf("lead %+v", lead)
		}
		return nil
	}
}

func runCall(b *testing.B, call func(context.Context) error) {
	ctx := context.Background()
	if err := call(ctx); err != nil { // warm the connection
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := call(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGeneratedCall is crm.Client.GetLead with retries, rate limiter,
// breaker and observer enabled.
func BenchmarkGeneratedCall(b *testing.B) {
	runCall(b, generatedCall(b, benchAPI(b)))
}

// BenchmarkRawCall is the same request with net/http and encoding/json.
func BenchmarkRawCall(b *testing.B) {
	runCall(b, rawCall(b, benchAPI(b)))
}

// BenchmarkCallPaired alternates generated and raw calls in one loop, so
// that machine noise (CPU frequency, other processes) affects both alike,
// and reports each one's mean time and the ratio.
func BenchmarkCallPaired(b *testing.B) {
	srv := benchAPI(b)
	gen, raw := generatedCall(b, srv), rawCall(b, srv)
	ctx := context.Background()
	one := func(call func(context.Context) error) time.Duration {
		start := time.Now()
		if err := call(ctx); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	one(gen)
	one(raw)
	var g, r time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			g += one(gen)
			r += one(raw)
		} else {
			r += one(raw)
			g += one(gen)
		}
	}
	b.ReportMetric(float64(g.Nanoseconds())/float64(b.N), "generated-ns/op")
	b.ReportMetric(float64(r.Nanoseconds())/float64(b.N), "raw-ns/op")
	b.ReportMetric(float64(g)/float64(r), "ratio")
}

// TestCallOverhead measures both calls with testing.Benchmark and checks
// the targets: allocations always (they are deterministic), time only
// when CONNECTORGEN_BENCH=1 (it is not, on a busy machine).
func TestCallOverhead(t *testing.T) {
	if testing.Short() {
		t.Skip("benchmark comparison skipped in -short mode")
	}
	if raceEnabled {
		t.Skip("the race detector distorts time and allocations")
	}
	srv := benchAPI(t)
	gen, raw := generatedCall(t, srv), rawCall(t, srv)
	measure := func(call func(context.Context) error) testing.BenchmarkResult {
		return testing.Benchmark(func(b *testing.B) { runCall(b, call) })
	}
	// For timing, interleave several rounds and keep each side's best, which
	// is the least disturbed by other work on the machine; allocations need
	// one round.
	timing := os.Getenv("CONNECTORGEN_BENCH") == "1"
	rounds := 1
	if timing {
		rounds = 3
	}
	var best [2]testing.BenchmarkResult
	for round := 0; round < rounds; round++ {
		for i, call := range []func(context.Context) error{gen, raw} {
			r := measure(call)
			if r.N == 0 {
				t.Fatal("benchmark failed")
			}
			if best[i].N == 0 || r.NsPerOp() < best[i].NsPerOp() {
				best[i] = r
			}
		}
	}
	g, r := best[0], best[1]
	nsRatio := float64(g.NsPerOp()) / float64(r.NsPerOp())
	allocRatio := float64(g.AllocsPerOp()) / float64(r.AllocsPerOp())
	t.Logf("generated: %d ns/op %d B/op %d allocs/op", g.NsPerOp(), g.AllocedBytesPerOp(), g.AllocsPerOp())
	t.Logf("raw:       %d ns/op %d B/op %d allocs/op", r.NsPerOp(), r.AllocedBytesPerOp(), r.AllocsPerOp())
	t.Logf("ratio:     %.3f× ns/op, %.3f× allocs/op", nsRatio, allocRatio)
	if allocRatio > 1.3 {
		t.Errorf("the generated call allocates %.2f× as often as raw net/http (target ≤ 1.3×)", allocRatio)
	}
	if timing && nsRatio > 1.15 {
		t.Errorf("the generated call takes %.2f× as long as raw net/http (target ≤ 1.15×)", nsRatio)
	}
}
