package rest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"

	"github.com/connectorgen/connectorgen/runtime/transport"
)

// Do sends r and returns the response, whatever its status; the caller must
// close the response body. The request's context carries the operation
// (transport.OperationFrom) and a fresh transport.CallInfo for the
// middlewares.
//
// Do returns an error only when no response was received: r could not be
// built (kind transport.ErrValidation), or sending failed. Such errors are
// *SendError values: errors.Is matches their kind (transport.ErrNetwork,
// transport.ErrTimeout, or the kind a middleware reported) as well as the
// cause, so context.Canceled and context.DeadlineExceeded match too, and
// errors.As reaches the transport chain's own errors unchanged
// (*transport.RetryLaterError, *transport.Error with ErrUnavailable,
// *auth.MissingCredentialsError, *auth.ReauthorizationRequiredError,
// *auth.TokenError).
//
// When retries are exhausted on a retryable status, the last response is
// returned (not an error), so that the caller can turn it into an *Error
// whose Attempts counts every attempt.
//
// A Request can be sent only once.
func (c *Client) Do(r *Request) (*http.Response, error) {
	if c == nil {
		return nil, &SendError{kind: transport.ErrValidation, Err: errNilClient}
	}
	if r == nil {
		return nil, &SendError{kind: transport.ErrValidation, Err: errors.New("rest: nil *Request")}
	}
	if r.err == nil && r.c != c {
		r.fail(errors.New("rest: the request was built by another Client"))
	}
	if r.err == nil && r.sent {
		r.fail(errors.New("rest: the request was already sent; build a new one"))
	}
	if r.err != nil {
		return nil, r.sendError(transport.ErrValidation, r.err)
	}
	r.sent = true

	// URL: one allocation holds both the path and the query.
	if len(r.path) == 0 || r.path[0] != '/' {
		r.path = append([]byte{'/'}, r.path...) // a request line needs an absolute path
	}
	u := &r.u
	u.Scheme, u.Host = r.scheme, r.host
	var full string
	if len(r.query) == 0 {
		full = string(r.path)
		u.RawQuery = ""
	} else {
		n := len(r.path)
		var stack [256]byte
		buf := stack[:0]
		if n+1+len(r.query) > len(stack) {
			buf = make([]byte, 0, n+1+len(r.query))
		}
		buf = append(append(append(buf, r.path...), '?'), r.query...)
		full = string(buf)
		u.RawQuery = full[n+1:]
		full = full[:n]
	}
	u.Path, u.RawPath = full, ""
	if bytes.IndexByte(r.path, '%') >= 0 {
		p, err := url.PathUnescape(full)
		if err != nil {
			r.fail(errors.New("rest: invalid escaped path: " + err.Error()))
			return nil, r.sendError(transport.ErrValidation, r.err)
		}
		u.Path, u.RawPath = p, full
	}

	// Headers: request parameters, then static headers and the User-Agent.
	h := r.header
	if h == nil {
		h = make(http.Header, 2+len(c.headers))
		r.header = h
	}
	if !r.crossOrigin {
		for _, kv := range c.headers {
			if _, ok := h[kv.name]; !ok {
				r.setHeader(kv.name, kv.value)
			}
		}
	}
	if _, ok := h["User-Agent"]; !ok {
		r.setHeader("User-Agent", c.userAgent)
	}
	if len(r.cookie) > 0 {
		cookie := string(r.cookie)
		if prev := h.Get("Cookie"); prev != "" {
			cookie = prev + "; " + cookie
		}
		r.setHeader("Cookie", cookie)
	}
	if r.contentType != "" {
		r.setHeader("Content-Type", r.contentType)
	}

	r.info.Redact = c.redact
	ctx := transport.WithOperation(r.ctx, r.op)
	ctx = transport.WithCallInfo(ctx, &r.info)
	tmpl := http.Request{
		Method:     r.method,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h,
		Host:       u.Host,
	}
	switch {
	case r.hasBody:
		tmpl.ContentLength = int64(len(r.body))
		if len(r.body) > 0 {
			body := r.body
			tmpl.Body = io.NopCloser(bytes.NewReader(body))
			tmpl.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		} else {
			tmpl.Body = http.NoBody
			tmpl.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
		}
	case r.bodyReader != nil:
		tmpl.ContentLength = r.bodyLen
		rc, ok := r.bodyReader.(io.ReadCloser)
		if !ok {
			rc = io.NopCloser(r.bodyReader)
		}
		tmpl.Body = rc
		tmpl.GetBody = r.getBody
		if r.bodyLen == 0 {
			tmpl.Body, tmpl.GetBody = http.NoBody, func() (io.ReadCloser, error) { return http.NoBody, nil }
		}
	}
	req := tmpl.WithContext(ctx)

	hc := c.hc
	if r.crossOrigin {
		hc = c.bare
	}
	resp, err := hc.Do(req)
	attempts := r.info.Attempts
	if r.info.Attempts == 0 {
		r.info.Attempts = 1
	}
	if err != nil {
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		e := r.sendError(classify(ctx, err), err)
		e.Attempts = attempts
		return nil, e
	}
	return resp, nil
}

// classify decides the kind of a send failure.
func classify(ctx context.Context, err error) transport.Kind {
	// A kind already attached by a middleware wins.
	for k := transport.ErrClient; k <= transport.ErrAuth; k++ {
		if errors.Is(err, k) {
			return k
		}
	}
	if errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		if ctx.Err() == context.Canceled {
			return transport.ErrUnknown // the caller gave up: not a failure of the API
		}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, transport.ErrTimeout) {
		return transport.ErrTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return transport.ErrTimeout
	}
	return transport.ErrNetwork
}

// SendError is the error [Client.Do] returns when no response was received.
// It unwraps to the cause (often a *url.Error), so errors.Is and errors.As
// see through it, and errors.Is also matches its [SendError.Kind].
type SendError struct {
	// Operation is the operation's ID.
	Operation string
	// Method is the HTTP method.
	Method string
	// URL is scheme://host/path; the query is left out because it may hold
	// secrets.
	URL string
	// Err is the cause.
	Err error
	// Attempts is how many attempts the retry middleware made (0 when the
	// request was refused before any was sent: invalid, no credentials,
	// rate budget exhausted for longer than the client waits).
	Attempts int

	kind transport.Kind
}

func (r *Request) sendError(kind transport.Kind, err error) *SendError {
	e := &SendError{Method: r.method, Err: err, kind: kind}
	if r.op != nil {
		e.Operation = r.op.ID
	}
	e.URL = redactedURL(r.scheme, r.host, string(r.path))
	return e
}

// Kind classifies the failure: transport.ErrValidation for a request that
// could not be built, transport.ErrTimeout for deadlines and timeouts,
// transport.ErrNetwork for connection failures, the middleware's kind for
// errors a middleware reported, and transport.ErrUnknown when the caller's
// context was canceled.
func (e *SendError) Kind() transport.Kind { return e.kind }

// Error describes the failure without the URL's query.
func (e *SendError) Error() string {
	b := make([]byte, 0, 96)
	if e.Operation != "" {
		b = append(append(b, e.Operation...), ": "...)
	}
	if e.Method != "" {
		b = append(append(b, e.Method...), ' ')
	}
	if e.URL != "" {
		b = append(b, e.URL...)
	}
	if e.Method != "" || e.URL != "" {
		b = append(b, ": "...)
	}
	if e.kind == transport.ErrValidation {
		b = append(b, "invalid request: "...)
	}
	cause := e.Err
	var ue *url.Error
	if errors.As(cause, &ue) && ue.Err != nil {
		cause = ue.Err // url.Error's text repeats the URL, query included
	}
	if cause != nil {
		b = append(b, cause.Error()...)
	}
	return string(b)
}

// Unwrap returns the cause.
func (e *SendError) Unwrap() error { return e.Err }

// Is reports whether target is the transport.Kind of e.
func (e *SendError) Is(target error) bool {
	k, ok := target.(transport.Kind)
	return ok && k != transport.ErrUnknown && k == e.kind
}

// redactedURL returns scheme://host/path.
func redactedURL(scheme, host, path string) string {
	if host == "" {
		return ""
	}
	return scheme + "://" + host + path
}
