package transport

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/runtime/observe"
)

func TestBreakerOpensAndRecovers(t *testing.T) {
	var status atomic.Int64
	status.Store(500)
	var h hits
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.inc()
		w.WriteHeader(int(status.Load()))
	}))
	defer srv.Close()
	clock := newFakeClock()
	rec := &recorder{}
	cfg := Config{System: "crm", Clock: clock, Observer: rec, Retry: RetryConfig{Disabled: true},
		Breaker: BreakerConfig{Threshold: 3, CoolDown: time.Minute}}
	b := NewBreaker("crm", cfg.breakerConfig())
	cfg.SharedBreaker = b
	c := &http.Client{Transport: Chain(cfg, http.DefaultTransport)}
	call := func() (*http.Response, error) {
		req, _ := newReq(t, context.Background(), getOp, srv.URL, "")
		resp, err := c.Do(req)
		if resp != nil {
			resp.Body.Close()
		}
		return resp, err
	}
	// 4xx does not count as failure.
	status.Store(404)
	for i := 0; i < 5; i++ {
		_, _ = call()
	}
	if b.State() != observe.BreakerClosed {
		t.Fatal("opened on 4xx")
	}
	status.Store(500)
	for i := 0; i < 3; i++ {
		if _, err := call(); err != nil {
			t.Fatal(err)
		}
	}
	if b.State() != observe.BreakerOpen {
		t.Fatalf("state %s after 3 failures", b.State())
	}
	before := h.get()
	_, err := call()
	var te *Error
	if !errors.Is(err, ErrUnavailable) || !errors.As(err, &te) || te.OperationID != "getLead" || !te.RetryAt.Equal(clock.Now().Add(time.Minute)) {
		t.Fatalf("err %v", err)
	}
	if h.get() != before {
		t.Fatal("open breaker let a request through")
	}
	// After the cool-down a failing probe re-opens it.
	clock.Advance(time.Minute)
	if b.State() != observe.BreakerHalfOpen {
		t.Fatalf("state %s after cool-down", b.State())
	}
	if _, err := call(); err != nil {
		t.Fatal(err)
	}
	if b.State() != observe.BreakerOpen || h.get() != before+1 {
		t.Fatalf("state %s hits %d", b.State(), h.get()-before)
	}
	// Next cool-down: the server recovered, the probe closes the breaker.
	clock.Advance(time.Minute)
	status.Store(200)
	if resp, err := call(); err != nil || resp.StatusCode != 200 {
		t.Fatalf("probe: %v", err)
	}
	if b.State() != observe.BreakerClosed {
		t.Fatalf("state %s after successful probe", b.State())
	}
	want := []string{"closed->open", "open->half_open", "half_open->open", "open->half_open", "half_open->closed"}
	if len(rec.breakers) != len(want) {
		t.Fatalf("transitions %+v", rec.breakers)
	}
	for i, w := range want {
		if got := string(rec.breakers[i].From) + "->" + string(rec.breakers[i].To); got != w || rec.breakers[i].System != "crm" {
			t.Errorf("transition %d = %s, want %s", i, got, w)
		}
	}
}

func TestBreakerHalfOpenAllowsOneProbe(t *testing.T) {
	clock := newFakeClock()
	b := NewBreaker("s", BreakerConfig{Threshold: 1, CoolDown: time.Second, Clock: clock})
	p, _, ok := b.allow()
	if !ok || p {
		t.Fatal("closed breaker refused")
	}
	b.record(p, resultFailure)
	if _, _, ok := b.allow(); ok {
		t.Fatal("open breaker allowed")
	}
	clock.Advance(time.Second)
	p1, _, ok1 := b.allow()
	_, _, ok2 := b.allow()
	if !ok1 || !p1 || ok2 {
		t.Fatalf("half-open: first %v/%v second %v", ok1, p1, ok2)
	}
	// A neutral result (caller canceled) frees the slot without a change.
	b.record(p1, resultNeutral)
	if b.State() != observe.BreakerHalfOpen {
		t.Fatalf("state %s", b.State())
	}
	p3, _, ok3 := b.allow()
	if !ok3 || !p3 {
		t.Fatal("probe slot not released")
	}
}

func TestBreakerCountsNetworkErrorsAndTimeouts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hijackClose(w) }))
	defer srv.Close()
	b := NewBreaker("s", BreakerConfig{Threshold: 2})
	c := &http.Client{Transport: Chain(Config{SharedBreaker: b, Retry: RetryConfig{Disabled: true}}, nil)}
	for i := 0; i < 2; i++ {
		req, _ := newReq(t, context.Background(), getOp, srv.URL, "")
		if _, err := c.Do(req); !errors.Is(err, ErrNetwork) {
			t.Fatalf("err %v", err)
		}
	}
	if b.State() != observe.BreakerOpen {
		t.Fatalf("state %s", b.State())
	}
	// Caller cancellation is neutral.
	b2 := NewBreaker("s2", BreakerConfig{Threshold: 1})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer slow.Close()
	c2 := &http.Client{Transport: Chain(Config{SharedBreaker: b2, Retry: RetryConfig{Disabled: true}}, nil)}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	req, _ := newReq(t, ctx, getOp, slow.URL, "")
	_, _ = c2.Do(req)
	if b2.State() != observe.BreakerClosed {
		t.Fatal("caller cancellation opened the breaker")
	}
	// A per-attempt timeout is a failure.
	c3 := &http.Client{Transport: Chain(Config{SharedBreaker: b2, Retry: RetryConfig{Disabled: true, AttemptTimeout: 50 * time.Millisecond}}, nil)}
	req3, _ := newReq(t, context.Background(), getOp, slow.URL, "")
	if _, err := c3.Do(req3); !errors.Is(err, ErrTimeout) {
		t.Fatalf("err %v", err)
	}
	if b2.State() != observe.BreakerOpen {
		t.Fatal("attempt timeout did not count")
	}
}

func TestBreakersRegistry(t *testing.T) {
	bs := NewBreakers()
	if bs.Get("a", BreakerConfig{}) != bs.Get("a", BreakerConfig{Threshold: 9}) || bs.Get("a", BreakerConfig{}) == bs.Get("b", BreakerConfig{}) {
		t.Fatal("registry")
	}
}
