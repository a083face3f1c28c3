package sandbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Signature schemes for webhook deliveries.
const (
	// SignDefault is connectorgen's default (what runtime/engine's webhook
	// handler verifies): "t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">"
	// in the entity's declared signature header (X-Signature when none).
	SignDefault = "default"
	// SignStripe is Stripe's: the same format in Stripe-Signature.
	SignStripe = "stripe"
	// SignShopify is Shopify's: base64 HMAC-SHA256 of the raw body in
	// X-Shopify-Hmac-Sha256, no timestamp, with X-Shopify-Webhook-Id.
	SignShopify = "shopify"
)

// Subscription makes a system deliver record-change events.
type Subscription struct {
	URL    string
	Secret string
	// Scheme is SignDefault (when empty), SignStripe or SignShopify.
	Scheme string
	// Header overrides the signature header.
	Header string
	// Auto delivers each event as it happens (in order, in the
	// background); otherwise Flush delivers the pending ones.
	Auto bool
	// MaxAttempts bounds the deliveries of one event (5 when 0): an event
	// the target answers with a 5xx or 429, or that fails in transit, is
	// delivered again after a backoff; another 4xx is final.
	MaxAttempts int
	// Backoff is the wait before the first redelivery (100ms when 0); it
	// doubles on each further one, up to 5s.
	Backoff time.Duration
	// Entities, when set, limits the deliveries to changes of these
	// entities (as the config names them, "crm.Lead"), as a vendor's
	// subscription to some event types does; other events are recorded
	// but not delivered.
	Entities []string
}

// Event is one recorded record change.
type Event struct {
	ID     string
	Entity string
	Kind   string // created, updated, deleted
	Key    string
	At     time.Time
	// Body is the JSON payload, shaped by the entity's declared webhook
	// event schema (or {id, type, data} when none is declared); when that
	// schema is the entity's own, the body is the changed record.
	Body []byte
}

// webhooks records events and delivers them to one subscription.
type webhooks struct {
	mu        sync.Mutex
	seq       int64
	events    []Event
	delivered int
	attempts  int
	// accepted and refused count the deliveries answered 2xx and those
	// refused for good (a 4xx other than 429: a bad signature, say).
	accepted, refused int
	lastRefusal       string
	sub               Subscription
	header            string
	hc                *http.Client
	autoQ             chan Event
}

// changed records an event for a change of rec (called without e.mu).
func (h *webhooks) changed(s *System, e *entity, rec Record, kind string) {
	s.feedChanged(e, rec, kind)
	h.mu.Lock()
	h.seq++
	id := fmt.Sprintf("evt_%08d", h.seq)
	at := time.Now().UTC()
	kv, _ := getPath(rec, e.key)
	key := keyString(kv)
	var payload any
	typ := strings.ToLower(e.name) + "." + kind
	if w := e.webhook; w != nil && w.Event.Text == e.schemaName {
		// The event schema is the record's own: the body is the changed
		// record (Shopify's customers/update posts the customer), the
		// event ID travels in a header (post).
		payload = rec
	} else if w != nil && s.schemaByName(w.Event.Text) != nil {
		m, _ := s.newGen().value(s.schemaByName(w.Event.Text), "", 0).(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		props := schemaProps(s.schemaByName(w.Event.Text))
		// The id, key and version are paths into the event (Stripe's
		// data.object.id), not flat keys.
		if w.ID.Text != "" && !strings.HasPrefix(w.ID.Text, "header.") {
			setPath(m, w.ID.Text, id)
		}
		if w.Key.Text != "" {
			setPath(m, w.Key.Text, kv)
		}
		if w.Version.Text != "" && e.version != "" {
			setPath(m, w.Version.Text, rec[e.version])
		}
		if p := props["type"]; p != nil {
			m["type"] = typ
			if p.Value != nil && len(p.Value.Enum) > 0 {
				m["type"] = p.Value.Enum[0]
				for _, v := range p.Value.Enum {
					if s, ok := v.(string); ok && strings.HasSuffix(s, "."+kind) {
						m["type"] = s
					}
				}
			}
		}
		for _, n := range []string{"occurred_at", "created_at", "timestamp"} {
			if props[n] != nil {
				m[n] = at.Format(time.RFC3339Nano)
			}
		}
		payload = m
	} else {
		payload = map[string]any{"id": id, "type": typ, "data": rec}
	}
	body, _ := json.Marshal(payload)
	ev := Event{ID: id, Entity: e.full, Kind: kind, Key: key, At: at, Body: body}
	h.events = append(h.events, ev)
	q := h.autoQ
	h.mu.Unlock()
	if q != nil {
		select {
		case q <- ev:
		default: // a full queue drops to Flush
		}
	}
}

// Subscribe makes the system deliver events to sub.URL. Events recorded
// before the subscription are not delivered.
func (s *System) Subscribe(sub Subscription) {
	h := s.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	h.delivered = len(h.events)
	h.sub = sub
	h.hc = &http.Client{Timeout: 10 * time.Second}
	h.header = sub.Header
	if h.header == "" {
		switch sub.Scheme {
		case SignStripe:
			h.header = "Stripe-Signature"
		case SignShopify:
			h.header = "X-Shopify-Hmac-Sha256"
		default:
			h.header = "X-Signature"
			for _, e := range s.entities {
				if e.webhook != nil && e.webhook.SignatureHeader.Text != "" {
					h.header = e.webhook.SignatureHeader.Text
				}
			}
		}
	}
	if sub.Auto && h.autoQ == nil {
		q := make(chan Event, 4096)
		h.autoQ = q
		closed := s.in.closed
		go func() {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				<-closed
				cancel()
			}()
			for {
				select {
				case ev := <-q:
					_ = s.deliverRetrying(ctx, ev)
				case <-closed:
					return
				}
			}
		}()
	}
}

// Events returns every event recorded so far.
func (s *System) Events() []Event {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	return append([]Event(nil), s.hooks.events...)
}

// Flush delivers, in order, the events recorded since the last Flush,
// redelivering as Subscription.MaxAttempts and Backoff say. It returns how
// many were accepted, and stops at the first event that was not.
func (s *System) Flush(ctx context.Context) (int, error) {
	h := s.hooks
	h.mu.Lock()
	pending := append([]Event(nil), h.events[h.delivered:]...)
	h.delivered = len(h.events)
	h.mu.Unlock()
	n := 0
	for _, ev := range pending {
		if err := s.deliverRetrying(ctx, ev); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// deliverRetrying delivers ev until the target accepts it (2xx), refuses
// it for good (a 4xx other than 429), or the attempts run out; the waits
// between attempts double from the subscription's backoff.
func (s *System) deliverRetrying(ctx context.Context, ev Event) error {
	s.hooks.mu.Lock()
	sub := s.hooks.sub
	s.hooks.mu.Unlock()
	if len(sub.Entities) > 0 && !slices.Contains(sub.Entities, ev.Entity) {
		return nil
	}
	attempts, wait := sub.MaxAttempts, sub.Backoff
	if attempts <= 0 {
		attempts = 5
	}
	if wait <= 0 {
		wait = 100 * time.Millisecond
	}
	var err error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("webhook %s: %w (after %d attempts; last: %v)", ev.ID, ctx.Err(), i, err)
			case <-t.C:
			}
			wait = min(2*wait, 5*time.Second)
		}
		status, derr := s.Deliver(ctx, ev)
		s.hooks.mu.Lock()
		s.hooks.attempts++
		s.hooks.mu.Unlock()
		switch {
		case derr != nil:
			err = derr
		case status/100 == 2:
			s.hooks.accept()
			return nil
		case status == http.StatusTooManyRequests || status >= 500:
			err = fmt.Errorf("status %d", status)
		default:
			err := fmt.Errorf("webhook %s: refused with status %d", ev.ID, status)
			s.hooks.refuse(err)
			return err
		}
	}
	return fmt.Errorf("webhook %s: not accepted after %d attempts: %v", ev.ID, attempts, err)
}

// DeliveryAttempts is how many deliveries of events (first ones and
// redeliveries) Flush and Auto have made.
func (s *System) DeliveryAttempts() int {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	return s.hooks.attempts
}

func (h *webhooks) accept() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.accepted++
}

func (h *webhooks) refuse(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.refused++
	h.lastRefusal = err.Error()
}

// DeliveryResults is how many events the subscriber accepted (2xx) and
// how many it refused for good (a 4xx other than 429), over Flush and
// Auto deliveries, and the last refusal.
func (s *System) DeliveryResults() (accepted, refused int, lastRefusal string) {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	return s.hooks.accepted, s.hooks.refused, s.hooks.lastRefusal
}

// Sign returns the signature header value for body under scheme.
func Sign(scheme, secret string, t time.Time, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	if scheme == SignShopify {
		m.Write(body)
		return base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	ts := strconv.FormatInt(t.Unix(), 10)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// Deliver posts one event, correctly signed, and returns the status.
func (s *System) Deliver(ctx context.Context, ev Event) (int, error) {
	s.hooks.mu.Lock()
	sub := s.hooks.sub
	s.hooks.mu.Unlock()
	return s.post(ctx, ev.Body, Sign(sub.Scheme, sub.Secret, time.Now(), ev.Body), ev)
}

// eventHeaders are the headers naming a delivery of ev: the event ID in
// the header the entity's webhook id declares (id: header.NAME), else
// X-Shopify-Webhook-Id for the Shopify scheme; Shopify's deliveries also
// carry their topic (X-Shopify-Topic: customers/update).
func (s *System) eventHeaders(scheme string, ev Event) map[string]string {
	out := map[string]string{}
	if ev.ID == "" {
		return out
	}
	var e *entity
	for _, x := range s.entities {
		if x.full == ev.Entity {
			e = x
		}
	}
	if e != nil && e.webhook != nil {
		if name, ok := strings.CutPrefix(e.webhook.ID.Text, "header."); ok && name != "" {
			out[name] = ev.ID
		}
	}
	if scheme == SignShopify {
		if len(out) == 0 {
			out["X-Shopify-Webhook-Id"] = ev.ID
		}
		if e != nil {
			out["X-Shopify-Topic"] = strings.ToLower(e.name) + "s/" + strings.TrimSuffix(ev.Kind, "d")
		}
	}
	return out
}

// Post sends body with the given signature to the subscription (for
// forged or replayed deliveries) and returns the status.
func (s *System) Post(ctx context.Context, body []byte, signature string) (int, error) {
	return s.post(ctx, body, signature, Event{})
}

func (s *System) post(ctx context.Context, body []byte, signature string, ev Event) (int, error) {
	s.hooks.mu.Lock()
	sub, hc, header := s.hooks.sub, s.hooks.hc, s.hooks.header
	s.hooks.mu.Unlock()
	if sub.URL == "" {
		return 0, fmt.Errorf("sandbox: system %s has no webhook subscription", s.name)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set(header, signature)
	}
	for k, v := range s.eventHeaders(sub.Scheme, ev) {
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}
