package promobserve_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/promobserve"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

// TestScrape sends real requests through the transport chain (one 503 then
// a success: a retry) and reports engine events, then scrapes the registry
// over HTTP as Prometheus would and reads the expected series.
func TestScrape(t *testing.T) {
	reg := prometheus.NewRegistry()
	obs, err := promobserve.New(reg, promobserve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, `{}`)
	}))
	defer api.Close()
	rt := transport.Chain(transport.Config{System: "crm", Observer: obs,
		Retry: transport.RetryConfig{MaxAttempts: 3, BaseDelay: time.Millisecond}}, http.DefaultTransport)
	ctx := transport.WithOperation(context.Background(), &transport.Operation{ID: "getLead", Method: "GET", Idempotent: true})
	req, _ := http.NewRequestWithContext(ctx, "GET", api.URL+"/leads/1", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	obs.ObserveRecord(engine.RecordEvent{Sync: "leads", Outcome: engine.OutcomeCreated, Duration: time.Millisecond})
	obs.ObserveRecord(engine.RecordEvent{Sync: "leads", Outcome: engine.OutcomeCreated, Duration: time.Millisecond})
	obs.ObserveRecord(engine.RecordEvent{Sync: "leads", Outcome: engine.OutcomeDeadLettered, Duration: time.Millisecond})
	last := time.Unix(1700000000, 0)
	obs.ObserveRun(engine.RunEvent{Sync: "leads", OK: true, LastSuccess: last, Freshness: 90 * time.Second})
	obs.ObserveQueue(engine.QueueEvent{Sync: "leads", QueueDepth: 4, DeadLetters: 1})

	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	r, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	text := string(body)
	for _, want := range []string{
		`connectorgen_requests_total{operation="getLead",outcome="server_error",system="crm"} 1`,
		`connectorgen_requests_total{operation="getLead",outcome="success",system="crm"} 1`,
		`connectorgen_calls_total{operation="getLead",outcome="success",system="crm"} 1`,
		`connectorgen_retries_total{operation="getLead",reason="503",system="crm"} 1`,
		`connectorgen_request_duration_seconds_count{operation="getLead",system="crm"} 2`,
		`connectorgen_sync_records_total{outcome="created",sync="leads"} 2`,
		`connectorgen_sync_records_total{outcome="dead_lettered",sync="leads"} 1`,
		`connectorgen_sync_runs_total{result="ok",sync="leads"} 1`,
		`connectorgen_sync_consecutive_failures{sync="leads"} 0`,
		`connectorgen_sync_last_success_timestamp_seconds{sync="leads"} 1.7e+09`,
		`connectorgen_sync_freshness_seconds{sync="leads"} 90`,
		`connectorgen_sync_queue_depth{sync="leads"} 4`,
		`connectorgen_sync_dead_letters{sync="leads"} 1`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("scrape lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", text)
	}
}

// TestRegisterTwice: the collectors go on the caller's registry, so a
// second observer on the same registry is refused rather than silently
// sharing series.
func TestRegisterTwice(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := promobserve.New(reg, promobserve.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := promobserve.New(reg, promobserve.Options{}); err == nil {
		t.Fatal("second registration accepted")
	}
	if _, err := promobserve.New(reg, promobserve.Options{Namespace: "other"}); err != nil {
		t.Fatalf("another namespace: %v", err)
	}
}
