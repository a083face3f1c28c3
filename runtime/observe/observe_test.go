package observe

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.events = append(r.events, s)
	r.mu.Unlock()
}
func (r *recorder) ObserveRequest(e Request)             { r.add("request " + e.Operation) }
func (r *recorder) ObserveCall(e Call)                   { r.add("call " + e.Operation) }
func (r *recorder) ObserveRetry(e Retry)                 { r.add("retry " + e.Reason) }
func (r *recorder) ObserveRateLimitWait(e RateLimitWait) { r.add("wait " + e.Reason) }
func (r *recorder) ObserveBreaker(e BreakerChange)       { r.add("breaker " + string(e.To)) }
func (r *recorder) ObserveTokenRefresh(e TokenRefresh)   { r.add("token " + string(e.Outcome)) }

func TestMultiFansOut(t *testing.T) {
	a, b := &recorder{}, &recorder{}
	m := Multi(a, nil, Multi(b, Nop{}))
	m.ObserveRequest(Request{Operation: "op"})
	m.ObserveCall(Call{Operation: "op"})
	m.ObserveRetry(Retry{Reason: "503"})
	m.ObserveRateLimitWait(RateLimitWait{Reason: "bucket"})
	m.ObserveBreaker(BreakerChange{To: BreakerOpen})
	m.ObserveTokenRefresh(TokenRefresh{Outcome: TokenRefreshed})
	want := "request op|call op|retry 503|wait bucket|breaker open|token refreshed"
	for _, r := range []*recorder{a, b} {
		if got := strings.Join(r.events, "|"); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	if _, ok := Multi().(Nop); !ok {
		t.Error("Multi() is not Nop")
	}
	if Multi(nil, a) != Observer(a) {
		t.Error("Multi of one observer should return it")
	}
}

func feed(m *Memory) {
	for i := 0; i < 3; i++ {
		m.ObserveRequest(Request{System: "crm", Operation: "listLeads", Method: "GET", Attempt: 1, Status: 200, Outcome: OutcomeSuccess, Duration: 20 * time.Millisecond})
	}
	m.ObserveRequest(Request{System: "crm", Operation: "listLeads", Method: "GET", Attempt: 1, Status: 503, Outcome: OutcomeServerError, Duration: 2 * time.Second})
	m.ObserveCall(Call{System: "crm", Operation: "listLeads", Outcome: OutcomeSuccess, Attempts: 2})
	m.ObserveCall(Call{System: "crm", Operation: "listLeads", Outcome: OutcomeSuccess, Attempts: 1})
	m.ObserveCall(Call{System: "crm", Operation: "listLeads", Outcome: OutcomeServerError, Attempts: 1})
	m.ObserveCall(Call{System: "crm", Operation: "listLeads", Outcome: OutcomeSuccess, Attempts: 1})
	m.ObserveRetry(Retry{System: "crm", Operation: "listLeads", Attempt: 2, Reason: "503", Wait: time.Second})
	m.ObserveRateLimitWait(RateLimitWait{System: "crm", Operation: "listLeads", Wait: 1500 * time.Millisecond, Reason: "bucket"})
	m.ObserveBreaker(BreakerChange{System: `we"ird\sys` + "\n", From: BreakerClosed, To: BreakerOpen})
	m.ObserveBreaker(BreakerChange{System: "crm", From: BreakerClosed, To: BreakerOpen})
	m.ObserveBreaker(BreakerChange{System: "crm", From: BreakerOpen, To: BreakerHalfOpen})
	m.ObserveTokenRefresh(TokenRefresh{System: "crm", Scheme: "oauth", Outcome: TokenRefreshed})
}

func TestMemorySnapshot(t *testing.T) {
	m := NewMemory(MemoryOptions{})
	feed(m)
	s := m.Snapshot()
	op := s.Operation("crm", "listLeads")
	if op.Attempts[OutcomeSuccess] != 3 || op.Attempts[OutcomeServerError] != 1 {
		t.Errorf("attempts = %v", op.Attempts)
	}
	if op.LatencyCount != 4 || op.LatencySum != 2060*time.Millisecond {
		t.Errorf("latency = %d %v", op.LatencyCount, op.LatencySum)
	}
	if got := op.SuccessRate(); got != 0.75 {
		t.Errorf("success rate = %v", got)
	}
	if op.Retries["503"] != 1 || op.RateLimitWaits != 1 || op.RateLimitWaited != 1500*time.Millisecond {
		t.Errorf("retries/waits = %v %d %v", op.Retries, op.RateLimitWaits, op.RateLimitWaited)
	}
	if s.Breakers["crm"] != BreakerHalfOpen || s.BreakerTransitions["crm"]["closed->open"] != 1 {
		t.Errorf("breakers = %v %v", s.Breakers, s.BreakerTransitions)
	}
	if s.TokenRefreshes["crm/oauth"][TokenRefreshed] != 1 {
		t.Errorf("tokens = %v", s.TokenRefreshes)
	}
	if (OperationStats{}).SuccessRate() != 0 {
		t.Error("empty success rate")
	}
	if got := (OperationStats{Attempts: map[Outcome]int64{OutcomeSuccess: 1, OutcomeTimeout: 1}}).SuccessRate(); got != 0.5 {
		t.Errorf("attempt-based success rate = %v", got)
	}
}

// parseExposition validates the text format and returns samples keyed by
// their full series text (name{labels}).
func parseExposition(t *testing.T, text string) map[string]float64 {
	t.Helper()
	helpRe := regexp.MustCompile(`^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$`)
	typeRe := regexp.MustCompile(`^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$`)
	sampleRe := regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (\S+)$`)
	types := map[string]string{}
	helps := map[string]bool{}
	samples := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# HELP "):
			m := helpRe.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("bad HELP line %q", line)
			}
			if helps[m[1]] {
				t.Fatalf("duplicate HELP for %s", m[1])
			}
			helps[m[1]] = true
		case strings.HasPrefix(line, "# TYPE "):
			m := typeRe.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("bad TYPE line %q", line)
			}
			types[m[1]] = m[2]
		default:
			m := sampleRe.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("bad sample line %q", line)
			}
			name := m[1]
			family := name
			if types[family] == "" {
				for _, suf := range []string{"_bucket", "_sum", "_count"} {
					if strings.HasSuffix(name, suf) && types[strings.TrimSuffix(name, suf)] == "histogram" {
						family = strings.TrimSuffix(name, suf)
					}
				}
			}
			if types[family] == "" || !helps[family] {
				t.Fatalf("sample %q before its TYPE/HELP", line)
			}
			v, err := strconv.ParseFloat(m[3], 64)
			if err != nil {
				t.Fatalf("bad value in %q", line)
			}
			key := m[1] + m[2]
			if _, dup := samples[key]; dup {
				t.Fatalf("duplicate series %q", key)
			}
			samples[key] = v
		}
	}
	return samples
}

func TestPrometheusExposition(t *testing.T) {
	m := NewMemory(MemoryOptions{Buckets: []float64{0.01, 0.1, 1}})
	feed(m)
	srv := httptest.NewServer(m)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("content type %q", ct)
	}
	var sb strings.Builder
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		sb.WriteString(sc.Text() + "\n")
	}
	text := sb.String()
	s := parseExposition(t, text)
	lbl := `system="crm",operation="listLeads"`
	want := map[string]float64{
		`connectorgen_requests_total{` + lbl + `,outcome="success"}`:                          3,
		`connectorgen_requests_total{` + lbl + `,outcome="server_error"}`:                     1,
		`connectorgen_calls_total{` + lbl + `,outcome="success"}`:                             3,
		`connectorgen_success_ratio{` + lbl + `}`:                                             0.75,
		`connectorgen_request_duration_seconds_bucket{` + lbl + `,le="0.01"}`:                 0,
		`connectorgen_request_duration_seconds_bucket{` + lbl + `,le="0.1"}`:                  3,
		`connectorgen_request_duration_seconds_bucket{` + lbl + `,le="1"}`:                    3,
		`connectorgen_request_duration_seconds_bucket{` + lbl + `,le="+Inf"}`:                 4,
		`connectorgen_request_duration_seconds_sum{` + lbl + `}`:                              2.06,
		`connectorgen_request_duration_seconds_count{` + lbl + `}`:                            4,
		`connectorgen_retries_total{` + lbl + `,reason="503"}`:                                1,
		`connectorgen_rate_limit_waits_total{` + lbl + `}`:                                    1,
		`connectorgen_rate_limit_wait_seconds_total{` + lbl + `}`:                             1.5,
		`connectorgen_breaker_state{system="crm",state="half_open"}`:                          1,
		`connectorgen_breaker_state{system="crm",state="open"}`:                               0,
		`connectorgen_breaker_state{system="we\"ird\\sys\n",state="open"}`:                    1,
		`connectorgen_breaker_transitions_total{system="crm",from="closed",to="open"}`:        1,
		`connectorgen_token_refreshes_total{system="crm",scheme="oauth",outcome="refreshed"}`: 1,
	}
	for k, v := range want {
		got, ok := s[k]
		if !ok {
			t.Errorf("missing series %s\n%s", k, text)
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(v) {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
	if !strings.Contains(text, "# TYPE connectorgen_request_duration_seconds histogram\n") {
		t.Error("histogram TYPE line missing")
	}
	// HEAD and wrong methods.
	req, _ := http.NewRequest(http.MethodPost, srv.URL, nil)
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST status %d", r2.StatusCode)
	}
}

func TestMemoryConcurrent(t *testing.T) {
	m := NewMemory(MemoryOptions{})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				op := fmt.Sprintf("op%d", i%3)
				m.ObserveRequest(Request{System: "s", Operation: op, Outcome: OutcomeSuccess, Duration: time.Millisecond})
				m.ObserveCall(Call{System: "s", Operation: op, Outcome: OutcomeSuccess})
				m.ObserveRetry(Retry{System: "s", Operation: op, Reason: "network"})
				if i%100 == 0 {
					m.ObserveBreaker(BreakerChange{System: "s", From: BreakerClosed, To: BreakerOpen})
					m.ObserveTokenRefresh(TokenRefresh{System: "s", Scheme: "x", Outcome: TokenFailed})
					_ = m.WritePrometheus(&strings.Builder{})
					_ = m.Snapshot()
				}
			}
		}(g)
	}
	wg.Wait()
	var total int64
	for _, op := range m.Snapshot().Operations {
		total += op.Attempts[OutcomeSuccess]
	}
	if total != 8*500 {
		t.Errorf("total %d", total)
	}
}

func TestEscaping(t *testing.T) {
	if got := escapeLabel("a\\b\"c\nd"); got != `a\\b\"c\nd` {
		t.Errorf("escapeLabel = %s", got)
	}
	if got := escapeHelp("a\\b\nc\""); got != `a\\b\nc"` {
		t.Errorf("escapeHelp = %s", got)
	}
}
