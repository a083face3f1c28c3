package otelobserve_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/otelobserve"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

func attrs(kv []attribute.KeyValue) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, a := range kv {
		m[a.Key] = a.Value
	}
	return m
}

// TestSpans sends one call through the real transport chain (a 503, then a
// retry that succeeds) and finishes a run: the in-memory exporter holds one
// span per request with the operation id, status, outcome and retry count,
// and one span for the run.
func TestSpans(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	obs, err := otelobserve.New(otelobserve.Options{TracerProvider: tp, MeterProvider: mp})
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
	obs.ObserveRun(engine.RunEvent{Sync: "leads", OK: false, ConsecutiveFailures: 2, Duration: 3 * time.Second})

	spans := exp.GetSpans()
	if len(spans) != 3 {
		t.Fatalf("%d spans, want 2 requests and 1 run: %+v", len(spans), spans)
	}
	want := []struct {
		status, retries int64
		outcome         string
		code            codes.Code
	}{{503, 0, "server_error", codes.Error}, {200, 1, "success", codes.Ok}}
	for i, w := range want {
		sp := spans[i]
		a := attrs(sp.Attributes)
		if sp.Name != "crm getLead" || a[otelobserve.AttrOperationID].AsString() != "getLead" || a[otelobserve.AttrSystem].AsString() != "crm" ||
			a[otelobserve.AttrMethod].AsString() != "GET" || a[otelobserve.AttrStatusCode].AsInt64() != w.status ||
			a[otelobserve.AttrRetryCount].AsInt64() != w.retries || a[otelobserve.AttrOutcome].AsString() != w.outcome || sp.Status.Code != w.code {
			t.Errorf("request span %d: %s %v status %v", i, sp.Name, sp.Attributes, sp.Status)
		}
		if !sp.EndTime.After(sp.StartTime) {
			t.Errorf("request span %d has no duration", i)
		}
	}
	run := spans[2]
	a := attrs(run.Attributes)
	if run.Name != "sync leads" || a[otelobserve.AttrSync].AsString() != "leads" || a[otelobserve.AttrRunOK].AsBool() ||
		a[otelobserve.AttrFailures].AsInt64() != 2 || run.Status.Code != codes.Error || run.EndTime.Sub(run.StartTime) != 3*time.Second {
		t.Errorf("run span: %s %v %v %v", run.Name, run.Attributes, run.Status, run.EndTime.Sub(run.StartTime))
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if s, ok := m.Data.(metricdata.Sum[int64]); ok {
				for _, dp := range s.DataPoints {
					got[m.Name] += dp.Value
				}
			}
		}
	}
	if got["connectorgen.requests"] != 2 || got["connectorgen.calls"] != 1 || got["connectorgen.retries"] != 1 || got["connectorgen.sync.runs"] != 1 {
		t.Errorf("metrics %v", got)
	}
}

// TestRequestSpanParent: an attempt made under a caller's span is recorded
// as that span's child, in its trace; without one it is a root.
func TestRequestSpanParent(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())
	obs, err := otelobserve.New(otelobserve.Options{TracerProvider: tp})
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{}`) }))
	defer api.Close()
	rt := transport.Chain(transport.Config{System: "crm", Observer: obs}, http.DefaultTransport)
	call := func(ctx context.Context) {
		ctx = transport.WithOperation(ctx, &transport.Operation{ID: "getLead", Method: "GET", Idempotent: true})
		req, _ := http.NewRequestWithContext(ctx, "GET", api.URL+"/leads/1", nil)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	ctx, parent := tp.Tracer("caller").Start(context.Background(), "caller work")
	call(ctx)
	parent.End()
	call(context.Background())

	spans := exp.GetSpans()
	if len(spans) != 3 {
		t.Fatalf("%d spans, want 3", len(spans))
	}
	child, caller, root := spans[0], spans[1], spans[2]
	if child.Name != "crm getLead" || caller.Name != "caller work" || root.Name != "crm getLead" {
		t.Fatalf("spans %q %q %q", child.Name, caller.Name, root.Name)
	}
	if child.Parent.SpanID() != caller.SpanContext.SpanID() || child.SpanContext.TraceID() != caller.SpanContext.TraceID() {
		t.Errorf("attempt span's parent %v, want the caller's span %v", child.Parent, caller.SpanContext)
	}
	if root.Parent.IsValid() || root.SpanContext.TraceID() == caller.SpanContext.TraceID() {
		t.Errorf("attempt without a caller span has parent %v", root.Parent)
	}
}
