package transport

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/runtime/observe"
)

func benchServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":1,"name":"lead"}`))
	}))
}

func benchRoundTrip(b *testing.B, rt http.RoundTripper, url string) {
	info := &CallInfo{}
	ctx := WithCallInfo(WithOperation(context.Background(), getOp), info)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := rt.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatal(resp.Status)
		}
	}
}

func newBenchTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	return t
}

// BenchmarkRawTransport is the baseline: a bare http.Transport.
func BenchmarkRawTransport(b *testing.B) {
	srv := benchServer()
	defer srv.Close()
	base := newBenchTransport()
	defer base.CloseIdleConnections()
	benchRoundTrip(b, base, srv.URL)
}

// BenchmarkChain is the full chain (retries with the default per-attempt
// timeout, a token bucket with a high rate, breaker, in-memory observer)
// over the same transport.
func BenchmarkChain(b *testing.B) {
	srv := benchServer()
	defer srv.Close()
	base := newBenchTransport()
	defer base.CloseIdleConnections()
	rt := Chain(Config{System: "crm", RateLimit: RateLimitConfig{Rate: 1e9, Burst: 1 << 20},
		Observer: observe.NewMemory(observe.MemoryOptions{})}, base)
	benchRoundTrip(b, rt, srv.URL)
}

// BenchmarkChainNoAttemptTimeout is BenchmarkChain without the per-attempt
// timer, to show its share of the overhead.
func BenchmarkChainNoAttemptTimeout(b *testing.B) {
	srv := benchServer()
	defer srv.Close()
	base := newBenchTransport()
	defer base.CloseIdleConnections()
	rt := Chain(Config{System: "crm", RateLimit: RateLimitConfig{Rate: 1e9, Burst: 1 << 20},
		Observer: observe.NewMemory(observe.MemoryOptions{}), Retry: RetryConfig{AttemptTimeout: -1}}, base)
	benchRoundTrip(b, rt, srv.URL)
}

// BenchmarkChainOverheadPaired alternates raw and chained requests within
// one loop, so that machine noise affects both alike, and reports each one's
// mean time and the ratio.
func BenchmarkChainOverheadPaired(b *testing.B) {
	srv := benchServer()
	defer srv.Close()
	rawBase, chainBase := newBenchTransport(), newBenchTransport()
	defer rawBase.CloseIdleConnections()
	defer chainBase.CloseIdleConnections()
	chain := Chain(Config{System: "crm", RateLimit: RateLimitConfig{Rate: 1e9, Burst: 1 << 20},
		Observer: observe.NewMemory(observe.MemoryOptions{})}, chainBase)
	ctx := WithCallInfo(WithOperation(context.Background(), getOp), &CallInfo{})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	if err != nil {
		b.Fatal(err)
	}
	one := func(rt http.RoundTripper) time.Duration {
		start := time.Now()
		resp, err := rt.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return time.Since(start)
	}
	var raw, chained time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			raw += one(rawBase)
			chained += one(chain)
		} else {
			chained += one(chain)
			raw += one(rawBase)
		}
	}
	b.ReportMetric(float64(raw.Nanoseconds())/float64(b.N), "raw-ns/op")
	b.ReportMetric(float64(chained.Nanoseconds())/float64(b.N), "chain-ns/op")
	b.ReportMetric(float64(chained)/float64(raw), "ratio")
}
