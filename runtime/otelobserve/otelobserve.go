// Package otelobserve reports the runtime's work to OpenTelemetry: a span
// per HTTP attempt (operation id, method, status, outcome, retry count) and
// per finished sync run, and the same metrics promobserve exports, through
// the OTel meter. One Observer is both an observe.Observer and an
// engine.Observer.
//
// It is an adapter module, kept out of the runtime core so that the core
// imports only the standard library, x/oauth2 and x/time. It uses the
// providers it is given (never the global ones) and holds no package-level
// state.
//
// Observers are told about an attempt when it has ended, without its
// context, so spans are recorded after the fact with the attempt's real
// start and end times and are roots of their own traces.
package otelobserve

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/observe"
)

// ScopeName is the instrumentation scope of the tracer and meter.
const ScopeName = "github.com/connectorgen/connectorgen/runtime/otelobserve"

// Attribute keys set on spans and metrics.
const (
	AttrSystem      = attribute.Key("connectorgen.system")
	AttrOperationID = attribute.Key("connectorgen.operation_id")
	AttrOutcome     = attribute.Key("connectorgen.outcome")
	AttrAttempt     = attribute.Key("connectorgen.attempt")
	AttrRetryCount  = attribute.Key("connectorgen.retry_count")
	AttrSync        = attribute.Key("connectorgen.sync")
	AttrRunOK       = attribute.Key("connectorgen.run.ok")
	AttrFailures    = attribute.Key("connectorgen.run.consecutive_failures")
	AttrPaused      = attribute.Key("connectorgen.run.paused")
	AttrMethod      = attribute.Key("http.request.method")
	AttrStatusCode  = attribute.Key("http.response.status_code")
	AttrReason      = attribute.Key("connectorgen.reason")
	AttrScheme      = attribute.Key("connectorgen.scheme")
)

// Options holds the providers. Nil providers disable that signal.
type Options struct {
	TracerProvider trace.TracerProvider
	MeterProvider  metric.MeterProvider
	// Clock is the time source (default time.Now).
	Clock func() time.Time
}

// Observer is safe for concurrent use.
type Observer struct {
	tracer trace.Tracer
	now    func() time.Time

	requests, calls, retries, rlWaits, breakerChanges, tokens, records, runs metric.Int64Counter
	requestSeconds, callSeconds, rlWaitSeconds, recordSeconds                metric.Float64Histogram
	failures, queueDepth, deadLetters                                        metric.Int64Gauge
	freshness                                                                metric.Float64Gauge
}

var (
	_ observe.Observer = (*Observer)(nil)
	_ engine.Observer  = (*Observer)(nil)
)

// New creates the tracer and the instruments.
func New(o Options) (*Observer, error) {
	m := &Observer{now: o.Clock}
	if m.now == nil {
		m.now = time.Now
	}
	if o.TracerProvider != nil {
		m.tracer = o.TracerProvider.Tracer(ScopeName)
	}
	mp := o.MeterProvider
	if mp == nil {
		mp = noopMeterProvider()
	}
	meter := mp.Meter(ScopeName)
	var err error
	counter := func(name, desc string) metric.Int64Counter {
		if err != nil {
			return nil
		}
		var c metric.Int64Counter
		c, err = meter.Int64Counter(name, metric.WithDescription(desc))
		return c
	}
	hist := func(name, desc string) metric.Float64Histogram {
		if err != nil {
			return nil
		}
		var h metric.Float64Histogram
		h, err = meter.Float64Histogram(name, metric.WithDescription(desc), metric.WithUnit("s"))
		return h
	}
	gauge := func(name, desc string) metric.Int64Gauge {
		if err != nil {
			return nil
		}
		var g metric.Int64Gauge
		g, err = meter.Int64Gauge(name, metric.WithDescription(desc))
		return g
	}
	m.requests = counter("connectorgen.requests", "HTTP attempts sent (or refused locally), by outcome.")
	m.calls = counter("connectorgen.calls", "Logical calls (all attempts of one request), by final outcome.")
	m.retries = counter("connectorgen.retries", "Retries, by reason.")
	m.rlWaits = counter("connectorgen.rate_limit.waits", "Requests that waited for the local rate limiter.")
	m.breakerChanges = counter("connectorgen.breaker.transitions", "Circuit breaker state changes.")
	m.tokens = counter("connectorgen.token.refreshes", "OAuth token endpoint exchanges, by outcome.")
	m.records = counter("connectorgen.sync.records", "Source records processed by a sync, by outcome.")
	m.runs = counter("connectorgen.sync.runs", "Finished sync runs.")
	m.requestSeconds = hist("connectorgen.request.duration", "Latency of one attempt until response headers.")
	m.callSeconds = hist("connectorgen.call.duration", "Latency of one logical call, retries and waits included.")
	m.rlWaitSeconds = hist("connectorgen.rate_limit.wait", "Time spent waiting for the local rate limiter.")
	m.recordSeconds = hist("connectorgen.sync.record.duration", "Time to apply one source record.")
	m.failures = gauge("connectorgen.sync.consecutive_failures", "Failed runs in a row.")
	m.queueDepth = gauge("connectorgen.sync.queue_depth", "Webhook events waiting in the sync's queue.")
	m.deadLetters = gauge("connectorgen.sync.dead_letters", "Dead letters of the sync.")
	if err == nil {
		m.freshness, err = meter.Float64Gauge("connectorgen.sync.freshness", metric.WithDescription("Time since the last successful run."), metric.WithUnit("s"))
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Observer) span(name string, end time.Time, d time.Duration, failed bool, desc string, attrs ...attribute.KeyValue) {
	m.spanIn(context.Background(), name, end, d, failed, desc, attrs...)
}

// spanIn records a finished span as a child of the span in parent (a root
// when there is none). Only the parent's span context is used: the
// request's values and deadline do not outlive it in the exporter.
func (m *Observer) spanIn(parent context.Context, name string, end time.Time, d time.Duration, failed bool, desc string, attrs ...attribute.KeyValue) {
	if m.tracer == nil {
		return
	}
	pctx := context.Background()
	if sc := trace.SpanContextFromContext(parent); sc.IsValid() {
		pctx = trace.ContextWithSpanContext(pctx, sc)
	}
	_, sp := m.tracer.Start(pctx, name, trace.WithTimestamp(end.Add(-d)), trace.WithAttributes(attrs...))
	if failed {
		sp.SetStatus(codes.Error, desc)
	} else {
		sp.SetStatus(codes.Ok, "")
	}
	sp.End(trace.WithTimestamp(end))
}

// ObserveRequest implements observe.Observer: one span per attempt, the
// root of its own trace.
func (m *Observer) ObserveRequest(e observe.Request) {
	m.ObserveRequestContext(context.Background(), e)
}

// ObserveRequestContext implements observe.RequestContextObserver (the
// transport calls it with the request's context): the attempt's span is a
// child of the span in ctx, when there is one, so a caller that traces its
// own work sees its calls' attempts inside it.
func (m *Observer) ObserveRequestContext(parent context.Context, e observe.Request) {
	ctx := context.Background()
	base := metric.WithAttributes(AttrSystem.String(e.System), AttrOperationID.String(e.Operation))
	m.requests.Add(ctx, 1, base, metric.WithAttributes(AttrOutcome.String(string(e.Outcome))))
	m.requestSeconds.Record(ctx, e.Duration.Seconds(), base)
	attrs := []attribute.KeyValue{
		AttrSystem.String(e.System), AttrOperationID.String(e.Operation), AttrMethod.String(e.Method),
		AttrOutcome.String(string(e.Outcome)), AttrAttempt.Int(e.Attempt), AttrRetryCount.Int(max(e.Attempt-1, 0)),
	}
	if e.Status != 0 {
		attrs = append(attrs, AttrStatusCode.Int(e.Status))
	}
	m.spanIn(parent, e.System+" "+e.Operation, m.now(), e.Duration, e.Outcome != observe.OutcomeSuccess, string(e.Outcome), attrs...)
}

// ObserveCall implements observe.Observer.
func (m *Observer) ObserveCall(e observe.Call) {
	ctx := context.Background()
	base := metric.WithAttributes(AttrSystem.String(e.System), AttrOperationID.String(e.Operation))
	m.calls.Add(ctx, 1, base, metric.WithAttributes(AttrOutcome.String(string(e.Outcome))))
	m.callSeconds.Record(ctx, e.Duration.Seconds(), base)
}

// ObserveRetry implements observe.Observer.
func (m *Observer) ObserveRetry(e observe.Retry) {
	m.retries.Add(context.Background(), 1, metric.WithAttributes(AttrSystem.String(e.System),
		AttrOperationID.String(e.Operation), AttrReason.String(e.Reason)))
}

// ObserveRateLimitWait implements observe.Observer.
func (m *Observer) ObserveRateLimitWait(e observe.RateLimitWait) {
	a := metric.WithAttributes(AttrSystem.String(e.System), AttrOperationID.String(e.Operation), AttrReason.String(e.Reason))
	m.rlWaits.Add(context.Background(), 1, a)
	m.rlWaitSeconds.Record(context.Background(), e.Wait.Seconds(), a)
}

// ObserveBreaker implements observe.Observer.
func (m *Observer) ObserveBreaker(e observe.BreakerChange) {
	m.breakerChanges.Add(context.Background(), 1, metric.WithAttributes(AttrSystem.String(e.System),
		attribute.String("connectorgen.breaker.from", string(e.From)), attribute.String("connectorgen.breaker.to", string(e.To))))
}

// ObserveTokenRefresh implements observe.Observer.
func (m *Observer) ObserveTokenRefresh(e observe.TokenRefresh) {
	m.tokens.Add(context.Background(), 1, metric.WithAttributes(AttrSystem.String(e.System),
		AttrScheme.String(e.Scheme), AttrOutcome.String(string(e.Outcome))))
}

// ObserveRecord implements engine.Observer.
func (m *Observer) ObserveRecord(e engine.RecordEvent) {
	ctx := context.Background()
	m.records.Add(ctx, 1, metric.WithAttributes(AttrSync.String(e.Sync), AttrOutcome.String(string(e.Outcome))))
	m.recordSeconds.Record(ctx, e.Duration.Seconds(), metric.WithAttributes(AttrSync.String(e.Sync)))
}

// ObserveRun implements engine.Observer: one span per finished run.
func (m *Observer) ObserveRun(e engine.RunEvent) {
	ctx := context.Background()
	a := metric.WithAttributes(AttrSync.String(e.Sync))
	m.runs.Add(ctx, 1, a, metric.WithAttributes(AttrRunOK.Bool(e.OK)))
	m.failures.Record(ctx, int64(e.ConsecutiveFailures), a)
	if !e.LastSuccess.IsZero() {
		m.freshness.Record(ctx, e.Freshness.Seconds(), a)
	}
	m.span("sync "+e.Sync, m.now(), e.Duration, !e.OK, "run failed",
		AttrSync.String(e.Sync), AttrRunOK.Bool(e.OK), AttrFailures.Int(e.ConsecutiveFailures), AttrPaused.Bool(e.Paused))
}

// ObserveQueue implements engine.Observer.
func (m *Observer) ObserveQueue(e engine.QueueEvent) {
	ctx := context.Background()
	a := metric.WithAttributes(AttrSync.String(e.Sync))
	m.queueDepth.Record(ctx, int64(e.QueueDepth), a)
	m.deadLetters.Record(ctx, int64(e.DeadLetters), a)
}
