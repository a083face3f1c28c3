package rest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

type benchLead struct {
	ID        int64    `json:"id"`
	FirstName string   `json:"first_name"`
	LastName  string   `json:"last_name"`
	Email     string   `json:"email"`
	Company   string   `json:"company"`
	Status    string   `json:"status"`
	Score     float64  `json:"score"`
	Tags      []string `json:"tags"`
	CreatedAt string   `json:"created_at"`
	Owner     struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"owner"`
}

const benchBody = `{"id":42,"first_name":"Ada","last_name":"Lovelace","email":"ada@example.com","company":"Analytical Engines",` +
	`"status":"qualified","score":97.5,"tags":["vip","math"],"created_at":"2024-01-02T03:04:05Z","owner":{"id":7,"name":"Babbage"}}`

func benchServer(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(benchBody)))
		io.WriteString(w, benchBody)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkGetJSON compares a GET built and decoded with this package against
// the same request made with raw net/http and encoding/json, over the same
// kind of keep-alive transport.
func BenchmarkGetJSON(b *testing.B) {
	op := &Operation{ID: "getLead", Method: "GET", PathTemplate: "/leads/{id}", Idempotent: true}
	b.Run("rest", func(b *testing.B) {
		srv := benchServer(b)
		tr := &http.Transport{MaxIdleConnsPerHost: 4}
		b.Cleanup(tr.CloseIdleConnections)
		c, err := New(srv.URL+"/v1", WithHTTPClient(&http.Client{Transport: tr}))
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			r := c.NewRequest(ctx, op)
			r.AppendPath("/leads/")
			r.AppendPathParam("id", StyleSimple, false, Scalar(FormatInt(int64(42))))
			r.AddQuery("limit", StyleForm, true, Scalar(FormatInt(10)))
			resp, err := c.Do(r)
			if err != nil {
				b.Fatal(err)
			}
			if resp.StatusCode != 200 {
				b.Fatal(c.NewError(r, resp, nil))
			}
			var v benchLead
			if err := DecodeJSON(resp, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		srv := benchServer(b)
		tr := &http.Transport{MaxIdleConnsPerHost: 4}
		b.Cleanup(tr.CloseIdleConnections)
		hc := &http.Client{Transport: tr}
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			u := srv.URL + "/v1/leads/" + strconv.FormatInt(42, 10) + "?limit=" + strconv.Itoa(10)
			req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("User-Agent", DefaultUserAgent)
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			if resp.StatusCode != 200 {
				b.Fatal(resp.Status)
			}
			var v benchLead
			if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
		}
	})
}

// BenchmarkBuildRequest measures request building alone (no network).
func BenchmarkBuildRequest(b *testing.B) {
	op := &Operation{ID: "listLeads", Method: "GET"}
	var sink *http.Request
	c, err := New("https://api.example.com/v1", WithHTTPClient(&http.Client{Transport: rtFunc(func(r *http.Request) (*http.Response, error) {
		sink = r
		return &http.Response{StatusCode: 204, Body: http.NoBody, Request: r}, nil
	})}))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		r := c.NewRequest(ctx, op)
		r.AppendPath("/leads")
		r.AddQuery("status", StyleForm, false, List([]string{"open", "qualified"}))
		r.AddQuery("limit", StyleForm, true, Scalar("50"))
		r.SetHeader("X-Tenant", false, Scalar("acme"))
		if _, err := c.Do(r); err != nil {
			b.Fatal(err)
		}
	}
	_ = sink
}
