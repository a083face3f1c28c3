package promobserve_test

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/observe"
	"github.com/connectorgen/connectorgen/runtime/promobserve"
)

// One observer serves both the transport chain (generated clients take it
// as their observe.Observer) and the engine (engine.WithObserver).
func Example() {
	reg := prometheus.NewRegistry()
	obs, err := promobserve.New(reg, promobserve.Options{})
	if err != nil {
		panic(err)
	}
	var _ observe.Observer = obs // for generated clients' transport.Config.Observer
	eng := engine.New(engine.NewMemoryStore(), engine.WithObserver(obs))
	defer eng.Store().Close()
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{})) // serve mux with http.ListenAndServe

	obs.ObserveRecord(engine.RecordEvent{Sync: "leads", Outcome: engine.OutcomeCreated})
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "connectorgen_sync_records_total" {
			fmt.Println(mf.GetName(), mf.GetMetric()[0].GetCounter().GetValue())
		}
	}
	// Output: connectorgen_sync_records_total 1
}
