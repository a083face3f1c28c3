// Package promobserve reports the runtime's metrics to Prometheus through
// client_golang: one Observer that is both an observe.Observer (requests,
// calls, retries, rate-limit waits, circuit breakers, token refreshes) and
// an engine.Observer (records, runs, freshness, queue depth, dead
// letters), its collectors registered on the registry the caller passes.
//
// It is an adapter module, kept out of the runtime core so that the core
// imports only the standard library, x/oauth2 and x/time. It holds no
// package-level state and registers nothing on the global registry.
package promobserve

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/observe"
)

// Options tunes New.
type Options struct {
	// Namespace prefixes every metric name (default "connectorgen").
	Namespace string
	// Buckets are the latency histogram buckets in seconds (default
	// observe.DefaultBuckets()).
	Buckets []float64
}

// Observer feeds Prometheus collectors. It is safe for concurrent use.
type Observer struct {
	requests, calls                  *prometheus.CounterVec
	requestSeconds, callSeconds      *prometheus.HistogramVec
	retries                          *prometheus.CounterVec
	rlWaits, rlWaitSeconds           *prometheus.CounterVec
	breakerState, breakerTransitions *prometheus.GaugeVec
	breakerChanges                   *prometheus.CounterVec
	tokens                           *prometheus.CounterVec
	records                          *prometheus.CounterVec
	recordSeconds                    *prometheus.HistogramVec
	runs                             *prometheus.CounterVec
	failures, lastSuccess, freshness *prometheus.GaugeVec
	paused, queueDepth, deadLetters  *prometheus.GaugeVec
}

var (
	_ observe.Observer = (*Observer)(nil)
	_ engine.Observer  = (*Observer)(nil)
)

// New creates the collectors and registers them on reg.
func New(reg prometheus.Registerer, o Options) (*Observer, error) {
	ns := o.Namespace
	if ns == "" {
		ns = "connectorgen"
	}
	buckets := o.Buckets
	if len(buckets) == 0 {
		buckets = observe.DefaultBuckets()
	}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help}, labels)
	}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: name, Help: help}, labels)
	}
	hist := func(name, help string, labels ...string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: name, Help: help, Buckets: buckets}, labels)
	}
	m := &Observer{
		requests:       counter("requests_total", "HTTP attempts sent (or refused locally), by outcome.", "system", "operation", "outcome"),
		calls:          counter("calls_total", "Logical calls (all attempts of one request), by final outcome.", "system", "operation", "outcome"),
		requestSeconds: hist("request_duration_seconds", "Latency of one attempt until response headers.", "system", "operation"),
		callSeconds:    hist("call_duration_seconds", "Latency of one logical call, retries and waits included.", "system", "operation"),
		retries:        counter("retries_total", "Retries, by reason (status code, network, timeout).", "system", "operation", "reason"),
		rlWaits:        counter("rate_limit_waits_total", "Requests that waited for the local rate limiter.", "system", "operation", "reason"),
		rlWaitSeconds:  counter("rate_limit_wait_seconds_total", "Time spent waiting for the local rate limiter.", "system", "operation", "reason"),
		breakerState:   gauge("breaker_state", "Circuit breaker state per system: 1 for the current state.", "system", "state"),
		breakerChanges: counter("breaker_transitions_total", "Circuit breaker state changes.", "system", "from", "to"),
		tokens:         counter("token_refreshes_total", "OAuth token endpoint exchanges, by outcome.", "system", "scheme", "outcome"),
		records:        counter("sync_records_total", "Source records processed by a sync, by outcome.", "sync", "outcome"),
		recordSeconds:  hist("sync_record_duration_seconds", "Time to apply one source record.", "sync"),
		runs:           counter("sync_runs_total", "Finished sync runs, by result.", "sync", "result"),
		failures:       gauge("sync_consecutive_failures", "Failed runs in a row (0 after a success).", "sync"),
		lastSuccess:    gauge("sync_last_success_timestamp_seconds", "Unix time of the sync's last successful run.", "sync"),
		freshness:      gauge("sync_freshness_seconds", "Time since the sync's last successful run, at the end of the latest run.", "sync"),
		paused:         gauge("sync_paused", "1 when the sync is paused.", "sync"),
		queueDepth:     gauge("sync_queue_depth", "Webhook events waiting in the sync's queue.", "sync"),
		deadLetters:    gauge("sync_dead_letters", "Dead letters of the sync.", "sync"),
	}
	for _, c := range []prometheus.Collector{m.requests, m.calls, m.requestSeconds, m.callSeconds, m.retries, m.rlWaits,
		m.rlWaitSeconds, m.breakerState, m.breakerChanges, m.tokens, m.records, m.recordSeconds, m.runs, m.failures,
		m.lastSuccess, m.freshness, m.paused, m.queueDepth, m.deadLetters} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// ObserveRequest implements observe.Observer.
func (m *Observer) ObserveRequest(e observe.Request) {
	m.requests.WithLabelValues(e.System, e.Operation, string(e.Outcome)).Inc()
	m.requestSeconds.WithLabelValues(e.System, e.Operation).Observe(e.Duration.Seconds())
}

// ObserveCall implements observe.Observer.
func (m *Observer) ObserveCall(e observe.Call) {
	m.calls.WithLabelValues(e.System, e.Operation, string(e.Outcome)).Inc()
	m.callSeconds.WithLabelValues(e.System, e.Operation).Observe(e.Duration.Seconds())
}

// ObserveRetry implements observe.Observer.
func (m *Observer) ObserveRetry(e observe.Retry) {
	m.retries.WithLabelValues(e.System, e.Operation, e.Reason).Inc()
}

// ObserveRateLimitWait implements observe.Observer.
func (m *Observer) ObserveRateLimitWait(e observe.RateLimitWait) {
	m.rlWaits.WithLabelValues(e.System, e.Operation, e.Reason).Inc()
	m.rlWaitSeconds.WithLabelValues(e.System, e.Operation, e.Reason).Add(e.Wait.Seconds())
}

// ObserveBreaker implements observe.Observer.
func (m *Observer) ObserveBreaker(e observe.BreakerChange) {
	for _, st := range []observe.BreakerState{observe.BreakerClosed, observe.BreakerOpen, observe.BreakerHalfOpen} {
		v := 0.0
		if st == e.To {
			v = 1
		}
		m.breakerState.WithLabelValues(e.System, string(st)).Set(v)
	}
	m.breakerChanges.WithLabelValues(e.System, string(e.From), string(e.To)).Inc()
}

// ObserveTokenRefresh implements observe.Observer.
func (m *Observer) ObserveTokenRefresh(e observe.TokenRefresh) {
	m.tokens.WithLabelValues(e.System, e.Scheme, string(e.Outcome)).Inc()
}

// ObserveRecord implements engine.Observer.
func (m *Observer) ObserveRecord(e engine.RecordEvent) {
	m.records.WithLabelValues(e.Sync, string(e.Outcome)).Inc()
	m.recordSeconds.WithLabelValues(e.Sync).Observe(e.Duration.Seconds())
}

// ObserveRun implements engine.Observer.
func (m *Observer) ObserveRun(e engine.RunEvent) {
	result := "ok"
	if !e.OK {
		result = "failed"
	}
	m.runs.WithLabelValues(e.Sync, result).Inc()
	m.failures.WithLabelValues(e.Sync).Set(float64(e.ConsecutiveFailures))
	if !e.LastSuccess.IsZero() {
		m.lastSuccess.WithLabelValues(e.Sync).Set(float64(e.LastSuccess.UnixNano()) / 1e9)
		m.freshness.WithLabelValues(e.Sync).Set(e.Freshness.Seconds())
	}
	m.paused.WithLabelValues(e.Sync).Set(b2f(e.Paused))
}

// ObserveQueue implements engine.Observer.
func (m *Observer) ObserveQueue(e engine.QueueEvent) {
	m.queueDepth.WithLabelValues(e.Sync).Set(float64(e.QueueDepth))
	m.deadLetters.WithLabelValues(e.Sync).Set(float64(e.DeadLetters))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
