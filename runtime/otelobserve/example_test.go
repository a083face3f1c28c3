package otelobserve_test

import (
	"context"
	"fmt"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/observe"
	"github.com/connectorgen/connectorgen/runtime/otelobserve"
)

// Pass the observer to the engine (engine.WithObserver) and to generated
// clients (transport.Config.Observer); in production the providers come
// from the OTel SDK set up with an exporter (OTLP, say).
func Example() {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())
	obs, err := otelobserve.New(otelobserve.Options{TracerProvider: tp})
	if err != nil {
		panic(err)
	}
	eng := engine.New(engine.NewMemoryStore(), engine.WithObserver(obs))
	defer eng.Store().Close()

	obs.ObserveRequest(observe.Request{System: "crm", Operation: "listLeads", Method: "GET", Attempt: 1, Status: 200, Outcome: observe.OutcomeSuccess})
	for _, sp := range exp.GetSpans() {
		fmt.Println(sp.Name, sp.Status.Code)
	}
	// Output: crm listLeads Ok
}
