package transport

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/connectorgen/connectorgen/runtime/observe"
)

// LogConfig configures the per-attempt log records of the observer
// middleware.
type LogConfig struct {
	// Level is the level of records for attempts that got a 1xx–3xx
	// response; the zero value is slog.LevelInfo. Failed attempts (4xx, 5xx,
	// errors) are logged at Warn, or at Level when that is higher.
	Level slog.Level
	// Bodies logs request and response bodies (at Debug level only,
	// redacted, at most MaxBody bytes each). Reading a response body for the
	// log buffers its first MaxBody bytes; the caller still reads it all.
	Bodies bool
	// MaxBody bounds each logged body; default 2048 bytes.
	MaxBody int
	// SecretHeaders and SecretQuery name further headers and query
	// parameters to redact, in addition to DefaultSecretHeaders,
	// DefaultSecretQuery and the Authenticator's names.
	SecretHeaders []string
	SecretQuery   []string
}

func (c LogConfig) withDefaults() LogConfig {
	if c.MaxBody <= 0 {
		c.MaxBody = 2048
	}
	return c
}

// Observe returns the observer middleware: for every attempt it reports an
// observe.Request to cfg.Observer and writes one log record to cfg.Logger
// with the operation, method, URL (secrets redacted), status, duration,
// attempt number, and the retry reason and wait that preceded the attempt.
// At Debug level it adds redacted headers and, with Log.Bodies, redacted and
// bounded bodies. Nothing is logged when cfg.Logger is nil, and nothing is
// computed for a record whose level the logger does not enable.
func Observe(cfg Config) Middleware {
	cfg = cfg.withDefaults()
	return func(next http.RoundTripper) http.RoundTripper {
		return &observeRT{next: next, obs: cfg.Observer, logger: cfg.Logger, log: cfg.Log, clock: cfg.Clock,
			system: cfg.System, redact: cfg.redactor}
	}
}

type observeRT struct {
	next   http.RoundTripper
	obs    observe.Observer
	logger *slog.Logger
	log    LogConfig
	clock  Clock
	system string
	redact *redactor
}

func (t *observeRT) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.obs == nil && t.logger == nil {
		return t.next.RoundTrip(req)
	}
	ctx := req.Context()
	var reqBody string
	debug := t.logger != nil && t.log.Bodies && t.logger.Enabled(ctx, slog.LevelDebug)
	if debug {
		reqBody = t.requestBody(req)
	}
	start := t.clock.Now()
	resp, err := t.next.RoundTrip(req)
	dur := t.clock.Now().Sub(start)
	op := OperationFrom(ctx)
	attempt := 1
	info := CallInfoFrom(ctx)
	if info != nil && info.Attempts > 0 {
		attempt = info.Attempts
	}
	var outcome observe.Outcome
	status := 0
	if err != nil {
		outcome = outcomeOfError(err)
	} else {
		status = resp.StatusCode
		outcome = outcomeOfStatus(status)
	}
	if t.obs != nil {
		ev := observe.Request{System: t.system, Operation: opLabel(op), Method: req.Method, Attempt: attempt,
			Status: status, Outcome: outcome, Duration: dur}
		if co, ok := t.obs.(observe.RequestContextObserver); ok {
			co.ObserveRequestContext(ctx, ev)
		} else {
			t.obs.ObserveRequest(ev)
		}
	}
	if t.logger != nil {
		level := t.log.Level
		if outcome != observe.OutcomeSuccess && level < slog.LevelWarn {
			level = slog.LevelWarn
		}
		if t.logger.Enabled(ctx, level) {
			t.record(ctx, level, req, resp, err, op, info, attempt, dur, outcome, reqBody, debug)
		}
	}
	return resp, err
}

func (t *observeRT) record(ctx context.Context, level slog.Level, req *http.Request, resp *http.Response, err error,
	op *Operation, info *CallInfo, attempt int, dur time.Duration, outcome observe.Outcome, reqBody string, bodies bool) {
	attrs := make([]slog.Attr, 0, 16)
	attrs = append(attrs,
		slog.String("system", t.system),
		slog.String("operation", opLabel(op)),
		slog.String("method", req.Method),
		slog.String("url", t.redact.url(req.URL)),
		slog.Int("attempt", attempt),
		slog.Duration("duration", dur),
		slog.String("outcome", string(outcome)),
	)
	if resp != nil {
		attrs = append(attrs, slog.Int("status", resp.StatusCode))
	}
	if info != nil && info.RetryReason != "" {
		attrs = append(attrs, slog.String("retry_reason", info.RetryReason), slog.Duration("retry_wait", info.RetryWait))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", t.redact.text(sanitize(err, t.redact).Error())))
	}
	if t.logger.Enabled(ctx, slog.LevelDebug) {
		attrs = append(attrs, slog.Any("request_headers", t.redact.header(req.Header)))
		if resp != nil {
			attrs = append(attrs, slog.Any("response_headers", t.redact.header(resp.Header)))
		}
		if bodies {
			if reqBody != "" {
				attrs = append(attrs, slog.String("request_body", reqBody))
			}
			if resp != nil {
				if b := t.responseBody(resp); b != "" {
					attrs = append(attrs, slog.String("response_body", b))
				}
			}
		}
	}
	t.logger.LogAttrs(ctx, level, "http attempt", attrs...)
}

// requestBody renders a replayable request body for the log.
func (t *observeRT) requestBody(req *http.Request) string {
	if req.Body == nil || req.Body == http.NoBody {
		return ""
	}
	if req.GetBody == nil {
		return "[body not replayable: omitted]"
	}
	rc, err := req.GetBody()
	if err != nil {
		return "[body unavailable]"
	}
	defer rc.Close()
	b, truncated := readBounded(rc, t.log.MaxBody)
	return t.redact.body(req.Header.Get("Content-Type"), b, truncated)
}

// responseBody peeks at most MaxBody bytes of the response body and puts
// them back in front of the rest.
func (t *observeRT) responseBody(resp *http.Response) string {
	if resp.Body == nil || resp.Body == http.NoBody {
		return ""
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, int64(t.log.MaxBody)+1))
	resp.Body = &peekedBody{Reader: io.MultiReader(bytes.NewReader(raw), resp.Body), Closer: resp.Body}
	b, truncated := raw, false
	if len(b) > t.log.MaxBody {
		b, truncated = b[:t.log.MaxBody], true
	}
	return t.redact.body(resp.Header.Get("Content-Type"), b, truncated)
}

type peekedBody struct {
	io.Reader
	io.Closer
}

// readBounded reads up to limit bytes; truncated reports that more followed.
func readBounded(r io.Reader, limit int) ([]byte, bool) {
	b, _ := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if len(b) > limit {
		return b[:limit], true
	}
	return b, false
}
