package transport

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/runtime/observe"
)

// TestChainSurvivesMixedFaults drives the full chain through a server that
// fails in every way before it recovers, within the attempt budget.
func TestChainSurvivesMixedFaults(t *testing.T) {
	clock := newFakeClock()
	var h hits
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch h.inc() {
		case 1:
			w.WriteHeader(503)
		case 2:
			w.Header().Set("Retry-After", clock.Now().Add(3500*time.Millisecond).Format(http.TimeFormat))
			w.WriteHeader(429)
		case 3:
			hijackClose(w)
		case 4:
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
		case 5:
			w.WriteHeader(502)
		default:
			_, _ = w.Write([]byte("recovered"))
		}
	}))
	defer srv.Close()
	mem := observe.NewMemory(observe.MemoryOptions{})
	var baseCalls atomic.Int64
	inner := http.DefaultTransport.(*http.Transport).Clone()
	inner.DisableKeepAlives = true
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		baseCalls.Add(1)
		return inner.RoundTrip(r)
	})
	cfg := Config{System: "crm", Clock: clock, Observer: mem,
		Retry:   RetryConfig{MaxAttempts: 6, AttemptTimeout: 100 * time.Millisecond, Rand: constRand(0.5)},
		Breaker: BreakerConfig{Threshold: 10}}
	c := &http.Client{Transport: Chain(cfg, base)}
	req, info := newReq(t, context.Background(), getOp, srv.URL, "")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, resp); got != "recovered" || info.Attempts != 6 || baseCalls.Load() != 6 {
		t.Fatalf("body %q attempts %d base calls %d", got, info.Attempts, baseCalls.Load())
	}
	// backoff(1)=0.5s, Retry-After date 3.5s, backoff(3)=2s, backoff(4)=4s, backoff(5)=8s
	want := []time.Duration{500 * time.Millisecond, 3500 * time.Millisecond, 2 * time.Second, 4 * time.Second, 8 * time.Second}
	got := clock.Sleeps()
	if len(got) != len(want) {
		t.Fatalf("sleeps %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("sleep %d = %v, want %v", i, got[i], want[i])
		}
	}
	st := mem.Snapshot().Operation("crm", "getLead")
	if st.Retries["503"] != 1 || st.Retries["429"] != 1 || st.Retries["network"] != 1 || st.Retries["timeout"] != 1 || st.Retries["502"] != 1 {
		t.Errorf("retries %v", st.Retries)
	}
	if st.Calls[observe.OutcomeSuccess] != 1 || st.Attempts[observe.OutcomeSuccess] != 1 || st.Attempts[observe.OutcomeTimeout] != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestChainMiddlewareSharesStateAcrossBases(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
	}))
	defer srv.Close()
	mw := ChainMiddleware(Config{System: "s", Retry: RetryConfig{Disabled: true}, Breaker: BreakerConfig{Threshold: 2}})
	a := &http.Client{Transport: mw(nil)}
	b := &http.Client{Transport: mw(http.DefaultTransport)}
	for _, c := range []*http.Client{a, b} {
		req, _ := newReq(t, context.Background(), getOp, srv.URL, "")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	req, _ := newReq(t, context.Background(), getOp, srv.URL, "")
	if _, err := a.Do(req); err == nil {
		t.Fatal("breaker shared by the middleware did not open")
	}
}
