package sim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// LeadEvent is the spec's webhook payload.
type LeadEvent struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	OccurredAt time.Time `json:"occurred_at"`
	LeadID     string    `json:"lead_id"`
	Version    int64     `json:"version"`
}

// SignatureHeader is the header the CRM signs webhook deliveries with.
const SignatureHeader = "X-Acme-Signature"

// Sign returns the X-Acme-Signature value for body sent at t:
// "t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">".
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// webhooks records lead events and delivers them to one subscription.
type webhooks struct {
	seq       int64
	events    []LeadEvent
	delivered int // events[:delivered] were sent (or had no subscriber)

	subMu  sync.Mutex
	url    string
	secret string
	hc     *http.Client
}

func (h *webhooks) recordLocked(typ, leadID string, version int64, at time.Time) LeadEvent {
	h.seq++
	ev := LeadEvent{ID: fmt.Sprintf("evt_%08d", h.seq), Type: typ, OccurredAt: at, LeadID: leadID, Version: version}
	h.events = append(h.events, ev)
	return ev
}

// Subscribe makes the CRM deliver lead events to url, signed with secret.
// Events recorded before the subscription are not delivered.
func (c *CRM) Subscribe(url, secret string) {
	c.mu.Lock()
	c.hooks.delivered = len(c.hooks.events)
	c.mu.Unlock()
	c.hooks.subMu.Lock()
	c.hooks.url, c.hooks.secret = url, secret
	c.hooks.hc = &http.Client{Timeout: 10 * time.Second}
	c.hooks.subMu.Unlock()
}

// Events returns every lead event recorded so far.
func (c *CRM) Events() []LeadEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]LeadEvent(nil), c.hooks.events...)
}

// Flush delivers, in order, the events recorded since the last Flush to the
// subscription; a delivery answered with a non-2xx status is retried up to
// three times. It returns how many events were accepted.
func (c *CRM) Flush(ctx context.Context) (int, error) {
	c.mu.Lock()
	pending := append([]LeadEvent(nil), c.hooks.events[c.hooks.delivered:]...)
	c.hooks.delivered = len(c.hooks.events)
	c.mu.Unlock()
	n := 0
	for _, ev := range pending {
		var err error
		for attempt := 0; attempt < 3; attempt++ {
			var status int
			if status, err = c.Deliver(ctx, ev); err == nil && status/100 == 2 {
				n++
				break
			} else if err == nil {
				err = fmt.Errorf("webhook %s: status %d", ev.ID, status)
			}
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Deliver posts one event, correctly signed, to the subscription and
// returns the status.
func (c *CRM) Deliver(ctx context.Context, ev LeadEvent) (int, error) {
	body, err := json.Marshal(ev)
	if err != nil {
		return 0, err
	}
	c.hooks.subMu.Lock()
	secret := c.hooks.secret
	c.hooks.subMu.Unlock()
	return c.Post(ctx, body, Sign(secret, time.Now(), body))
}

// Post sends body with the given signature header to the subscription (for
// forged or replayed deliveries) and returns the status.
func (c *CRM) Post(ctx context.Context, body []byte, signature string) (int, error) {
	c.hooks.subMu.Lock()
	url, hc := c.hooks.url, c.hooks.hc
	c.hooks.subMu.Unlock()
	if url == "" {
		return 0, fmt.Errorf("sim: no webhook subscription")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set(SignatureHeader, signature)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}
