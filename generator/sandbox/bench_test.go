package sandbox

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// benchClient keeps connections to the sandbox alive between requests.
func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
}

func benchDo(b *testing.B, hc *http.Client, req *http.Request, want int) {
	resp, err := hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		b.Fatalf("%s %s: %d", req.Method, req.URL, resp.StatusCode)
	}
}

// BenchmarkList: pages of 50 leads (cursor pagination over 10,000 leads,
// bearer auth, request and answer validated), in parallel on loopback.
func BenchmarkList(b *testing.B) {
	for _, skip := range []bool{false, true} {
		b.Run(fmt.Sprintf("validate-answers=%v", !skip), func(b *testing.B) {
			sb, err := Load(crmemail, Options{SkipResponseValidation: skip})
			if err != nil {
				b.Fatal(err)
			}
			defer sb.Close()
			crm := sb.System("crm")
			if err := crm.Generate("Lead", 10000); err != nil {
				b.Fatal(err)
			}
			hc := benchClient()
			start := time.Now()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest("GET", crm.BaseURL()+"/leads?limit=50&updated_since=2020-01-01T00:00:00Z", nil)
					req.Header.Set("Authorization", "Bearer t")
					benchDo(b, hc, req, 200)
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
}

// BenchmarkWrite: addMember (a new address each time, 409 checks against
// the growing list) and updateMember, in parallel on loopback.
func BenchmarkWrite(b *testing.B) {
	sb, err := Load(crmemail, Options{Hints: map[string]Hint{"email.Member": {KeyFrom: "md5_lower:email_address"}}})
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close()
	em := sb.System("email")
	members := em.BaseURL() + "/lists/lst_nurture/members"
	hc := benchClient()
	var n atomic.Int64
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			body := fmt.Sprintf(`{"email_address":"user%d@bench.example","status":"subscribed","merge_fields":{"FNAME":"A"}}`, i)
			req, _ := http.NewRequest("POST", members, strings.NewReader(body))
			req.Header.Set("X-API-Key", "k")
			req.Header.Set("Content-Type", "application/json")
			benchDo(b, hc, req, 201)
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	if v := sb.Violations(); len(v) != 0 {
		b.Fatalf("violations: %v", v[0])
	}
}
