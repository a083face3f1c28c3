package engine_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/secret"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

var whSecret = secret.New("whsec_test_0123456789")

type hook struct {
	t   *testing.T
	f   *fixture
	h   http.Handler
	now time.Time
}

func newHook(t *testing.T, f *fixture) *hook {
	h := &hook{t: t, f: f, now: time.Unix(1_750_000_000, 0)}
	h.h = f.eng.Webhook("leads", engine.WebhookConfig{Header: "X-Acme-Signature", Secret: whSecret, Now: func() time.Time { return h.now }, MaxBody: 1024})
	return h
}

func (h *hook) post(body, sig string) int {
	req := httptest.NewRequest(http.MethodPost, "/hooks/leads", strings.NewReader(body))
	if sig != "" {
		req.Header.Set("X-Acme-Signature", sig)
	}
	rec := httptest.NewRecorder()
	h.h.ServeHTTP(rec, req)
	return rec.Code
}

func (h *hook) send(body string) int {
	return h.post(body, engine.SignWebhook(whSecret, h.now, []byte(body)))
}

func (h *hook) depth() int {
	n, err := h.f.store.QueueDepth(context.Background(), "leads")
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

func TestWebhookRejectsForgedAndStale(t *testing.T) {
	f := setup(t, engine.NewMemoryStore())
	f.add(t)
	h := newHook(t, f)
	body := "id=e1;key=a;version=1"
	cases := []struct {
		name string
		sig  string
	}{
		{"missing", ""},
		{"garbage", "nonsense"},
		{"wrong secret", engine.SignWebhook(secret.New("other"), h.now, []byte(body))},
		{"other body", engine.SignWebhook(whSecret, h.now, []byte(body+"x"))},
		{"stale", engine.SignWebhook(whSecret, h.now.Add(-6*time.Minute), []byte(body))},
		{"future", engine.SignWebhook(whSecret, h.now.Add(6*time.Minute), []byte(body))},
		{"timestamp swapped", strings.Replace(engine.SignWebhook(whSecret, h.now.Add(-time.Minute), []byte(body)), "t=", "t=1", 1)},
	}
	for _, c := range cases {
		if code := h.post(body, c.sig); code != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", c.name, code)
		}
	}
	if h.depth() != 0 {
		t.Fatal("refused webhook queued something")
	}
	// Within tolerance, with a second (rotated) signature: accepted.
	sig := engine.SignWebhook(whSecret, h.now.Add(-4*time.Minute), []byte(body))
	sig = strings.Replace(sig, "v1=", "v1="+strings.Repeat("0", 64)+",v1=", 1)
	if code := h.post(body, sig); code != http.StatusAccepted {
		t.Fatalf("valid signature: %d", code)
	}
	// Method, size, event shape.
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	rec := httptest.NewRecorder()
	h.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", rec.Code)
	}
	if code := h.send(strings.Repeat("x", 2048)); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("large body: %d", code)
	}
	if code := h.send("key=a"); code != http.StatusBadRequest {
		t.Fatalf("event without id: %d", code)
	}
	// No secret configured: refuse everything.
	open := f.eng.Webhook("leads", engine.WebhookConfig{})
	rec = httptest.NewRecorder()
	open.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)))
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("handler without secret: %d", rec.Code)
	}
	if h.depth() != 1 {
		t.Fatalf("depth %d", h.depth())
	}
}

func TestWebhookReplayProcessedOnce(t *testing.T) {
	f := setup(t, engine.NewMemoryStore())
	f.add(t)
	h := newHook(t, f)
	l := f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Ann"})
	body := fmt.Sprintf("id=evt_1;key=a;version=%d", l.Version)
	if code := h.send(body); code != http.StatusAccepted {
		t.Fatalf("first delivery %d", code)
	}
	if code := h.send(body); code != http.StatusOK {
		t.Fatalf("redelivery %d", code)
	}
	if h.depth() != 1 {
		t.Fatalf("depth %d", h.depth())
	}
	rep, err := f.eng.ProcessQueue(context.Background(), "leads")
	if err != nil || rep.Created != 1 {
		t.Fatalf("%v %+v", err, rep)
	}
	// A replay after processing is still a duplicate.
	if code := h.send(body); code != http.StatusOK {
		t.Fatalf("replay after processing %d", code)
	}
	rep, _ = f.eng.ProcessQueue(context.Background(), "leads")
	if rep.Seen != 0 || h.depth() != 0 {
		t.Fatalf("%+v depth %d", rep, h.depth())
	}
	if f.src.fetchN.Load() != 1 {
		t.Fatalf("fetched %d times", f.src.fetchN.Load())
	}
	if cr, up, _ := f.tgt.counts(); cr != 1 || up != 0 {
		t.Fatalf("creates %d updates %d", cr, up)
	}
}

func TestWebhookOutOfOrder(t *testing.T) {
	f := setup(t, engine.NewMemoryStore())
	f.add(t)
	h := newHook(t, f)
	ctx := context.Background()
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "v1"})
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "v2"})
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "v3"})
	// Deliveries arrive newest first.
	for _, v := range []int{3, 1, 2} {
		if code := h.send(fmt.Sprintf("id=e%d;key=a;version=%d", v, v)); code != http.StatusAccepted {
			t.Fatalf("delivery %d: %d", v, code)
		}
	}
	rep, err := f.eng.ProcessQueue(ctx, "leads")
	if err != nil || rep.Created != 1 || rep.Skipped != 2 {
		t.Fatalf("%v %+v", err, rep)
	}
	if f.src.fetchN.Load() != 1 {
		t.Fatalf("older events re-fetched: %d fetches", f.src.fetchN.Load())
	}
	if _, m := f.tgt.byEmail("a@x.io"); m["name"] != `"v3"` {
		t.Fatalf("member %v", m)
	}
	// A lagging read (the fetch returns an older version than applied) is
	// dropped too.
	f.src.mu.Lock()
	old := f.src.recs["a"]
	old.Version, old.Name = 2, "v2-stale"
	f.src.recs["a"] = old
	f.src.mu.Unlock()
	h.send("id=e4;key=a")
	rep, _ = f.eng.ProcessQueue(ctx, "leads")
	if rep.Skipped != 1 || rep.Updated != 0 {
		t.Fatalf("%+v", rep)
	}
	if _, m := f.tgt.byEmail("a@x.io"); m["name"] != `"v3"` {
		t.Fatalf("member %v", m)
	}
	st, _, _ := f.store.LoadRecord(ctx, "leads", "a")
	if st.Version != 3 {
		t.Fatalf("applied version %d", st.Version)
	}
}

func TestWebhookQueueWaitsWhileTargetDown(t *testing.T) {
	f := setup(t, engine.NewMemoryStore())
	f.add(t)
	h := newHook(t, f)
	ctx := context.Background()
	for i := range 5 {
		f.src.put(lead{ID: fmt.Sprint("l", i), Email: fmt.Sprintf("l%d@x.io", i), Name: "N"})
		h.send(fmt.Sprintf("id=e%d;key=l%d", i, i))
	}
	h.send("id=gone;key=nope")
	f.tgt.setDown(down(transportNetwork))
	if _, err := f.eng.ProcessQueue(ctx, "leads"); err == nil {
		t.Fatal("drain succeeded with the target down")
	}
	if h.depth() == 0 {
		t.Fatal("events dropped while the target was down")
	}
	if n, _ := f.store.DeadLetterCount(ctx, "leads"); n != 0 {
		t.Fatal("dead letters while down")
	}
	f.tgt.setDown(nil)
	rep, err := f.eng.ProcessQueue(ctx, "leads")
	if err != nil || h.depth() != 0 {
		t.Fatalf("%v %+v depth %d", err, rep, h.depth())
	}
	if _, _, n := f.tgt.counts(); n != 5 {
		t.Fatalf("members %d", n)
	}
}

func TestWebhookThenRunOnce(t *testing.T) {
	// RunOnce drains the queue after its poll; Run wakes on webhooks.
	f := setup(t, engine.NewMemoryStore(), engine.WithClock(time.Now), engine.WithQueuePoll(time.Hour))
	f.sync.Poll = nil
	f.add(t)
	h := newHook(t, f)
	h.now = time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error)
	go func() { done <- f.eng.Run(ctx) }()
	f.src.put(lead{ID: "a", Email: "a@x.io", Name: "Ann"})
	if code := h.send("id=e1;key=a"); code != http.StatusAccepted {
		t.Fatal(code)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, m := f.tgt.byEmail("a@x.io"); m != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("webhook not applied by Run")
		}
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	<-done
}

const transportNetwork = transport.ErrNetwork
