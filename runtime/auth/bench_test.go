package auth

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/connectorgen/connectorgen/runtime/observe"
	"github.com/connectorgen/connectorgen/runtime/secret"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

// BenchmarkChainWithBearer measures the full chain plus the auth middleware
// (bearer token) on a successful request; compare with
// transport.BenchmarkRawTransport.
func BenchmarkChainWithBearer(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t" {
			w.WriteHeader(401)
			return
		}
		_, _ = w.Write([]byte(`{"id":1}`))
	}))
	defer srv.Close()
	set, err := NewSet(srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	set.Add("bearer", Bearer(secret.New("t")))
	base := http.DefaultTransport.(*http.Transport).Clone()
	defer base.CloseIdleConnections()
	rt := transport.Chain(transport.Config{System: "crm", Auth: set, RateLimit: transport.RateLimitConfig{Rate: 1e9, Burst: 1 << 20},
		Observer: observe.NewMemory(observe.MemoryOptions{})}, base)
	op := &transport.Operation{ID: "get", Method: "GET", Idempotent: true, Security: []transport.SecurityRequirement{{"bearer"}}}
	ctx := transport.WithCallInfo(transport.WithOperation(context.Background(), op), &transport.CallInfo{})
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
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
