package engine

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/connectorgen/connectorgen/runtime/secret"
)

// WebhookConfig configures a sync's webhook endpoint.
type WebhookConfig struct {
	// Header carries the signature, formatted "t=<unix seconds>,v1=<hex
	// HMAC-SHA256 of "<t>.<raw body>">"; several v1 values (key rotation)
	// are accepted. Default: the scheme's header ("X-Signature" for
	// ours).
	Header string
	// Scheme is how the sender signs (webhook_schemes.go): ours by
	// default, Stripe's or Shopify's.
	Scheme WebhookScheme
	// IDHeader names the request header carrying the event ID when the
	// body has none: a sender that posts the changed record itself
	// (Shopify's customers/update is the customer) names the delivery in
	// a header (X-Shopify-Webhook-Id). Default: the scheme's
	// (X-Shopify-Webhook-Id for SchemeShopify, none for the others). An
	// event whose body gives its ID (Sync.ParseEvent sets Event.ID) keeps
	// it; one that has neither is refused (400). Redeliveries repeat the
	// header, so deduplication is by its value.
	IDHeader string
	// Secret is the HMAC key. A handler without one refuses every request.
	Secret secret.Secret
	// Tolerance is the largest accepted difference between the signature's
	// timestamp and now (default 5 minutes): older deliveries are refused
	// as replays.
	Tolerance time.Duration
	// Now is the clock (default: the engine's).
	Now func() time.Time
	// MaxBody bounds the request body in bytes (default 1 MiB); larger
	// bodies get 413.
	MaxBody int64
}

// SignWebhook returns the signature header value for body at time at, as a
// sender computes it (for tests and for relaying events).
func SignWebhook(key secret.Secret, at time.Time, body []byte) string {
	ts := strconv.FormatInt(at.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(sign(key, ts, body))
}

func sign(key secret.Secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(key.Reveal()))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// maxEventID bounds an event ID (it is stored and indexed for
// deduplication; a header can be far longer).
const maxEventID = 512

var (
	errNoSignature  = errors.New("missing signature")
	errBadSignature = errors.New("signature does not match")
	errStale        = errors.New("timestamp outside the tolerance")
)

// verify checks a signature header against the raw body.
func verify(header string, key secret.Secret, body []byte, now time.Time, tol time.Duration) error {
	if header == "" {
		return errNoSignature
	}
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil && len(b) == sha256.Size {
				sigs = append(sigs, b)
			}
		}
	}
	if ts == "" || len(sigs) == 0 {
		return errNoSignature
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errNoSignature
	}
	at := time.Unix(sec, 0)
	if d := now.Sub(at); d > tol || d < -tol {
		return errStale
	}
	want := sign(key, ts, body)
	ok := false
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			ok = true
		}
	}
	if !ok {
		return errBadSignature
	}
	return nil
}

// Webhook returns the HTTP handler for a sync's webhook. It accepts POST
// only, reads at most MaxBody bytes, verifies the HMAC signature over the
// raw body and its timestamp (forged or stale: 401, nothing queued), decodes
// the event with Sync.ParseEvent (400 when it cannot), takes its ID from
// cfg.IDHeader when the body has none, and queues it durably, deduplicated
// by event ID, before answering 202 (200 for a duplicate). A store failure answers 503 so that the sender redelivers.
// Queued events are applied by ProcessQueue (Run drains the queue as soon
// as events arrive).
func (e *Engine) Webhook(sync string, cfg WebhookConfig) http.Handler {
	if cfg.Header == "" {
		cfg.Header = cfg.Scheme.defaultHeader()
	}
	if cfg.IDHeader == "" {
		cfg.IDHeader = cfg.Scheme.defaultIDHeader()
	}
	if cfg.Tolerance <= 0 {
		cfg.Tolerance = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = e.cfg.now
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ctx := req.Context()
		log := func(msg string, attrs ...slog.Attr) {
			e.cfg.logger.LogAttrs(ctx, slog.LevelWarn, msg, append([]slog.Attr{slog.String("sync", sync), slog.String("remote", req.RemoteAddr)}, attrs...)...)
		}
		r, err := e.runner(sync)
		if err != nil || !r.base().webhook {
			log("engine: webhook for a sync without webhooks")
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		if req.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if cfg.Secret.IsZero() {
			log("engine: webhook secret not configured; refusing")
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, cfg.MaxBody))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if err := verifyScheme(cfg, req.Header.Get(cfg.Header), body); err != nil {
			log("engine: webhook refused", slog.String("reason", err.Error()))
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		ev, err := r.parseEvent(body)
		if err == nil && ev.ID == "" && cfg.IDHeader != "" {
			ev.ID = strings.TrimSpace(req.Header.Get(cfg.IDHeader))
		}
		if err != nil || ev.ID == "" || ev.Key == "" || len(ev.ID) > maxEventID {
			reason := "event without id or key"
			switch {
			case err != nil:
				reason = redactError(err)
			case len(ev.ID) > maxEventID:
				reason = "event id longer than " + strconv.Itoa(maxEventID) + " bytes"
			case ev.ID == "" && cfg.IDHeader != "":
				reason = "event without id (no " + cfg.IDHeader + " header)"
			}
			log("engine: webhook event not understood", slog.String("reason", reason))
			http.Error(w, "bad event", http.StatusBadRequest)
			return
		}
		// Finish the durable enqueue even if the sender hangs up.
		qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		queued, err := e.store.Enqueue(qctx, QueuedEvent{Sync: sync, EventID: ev.ID, SourceKey: ev.Key, Version: ev.Version, Deleted: ev.Deleted, ReceivedAt: e.cfg.now()})
		if err != nil {
			log("engine: webhook enqueue failed", slog.String("error", redactError(err)))
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if !queued {
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, `{"status":"duplicate"}`+"\n")
			return
		}
		select {
		case r.base().signal <- struct{}{}:
		default:
		}
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"status":"queued"}`+"\n")
	})
}
