package rest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/connectorgen/connectorgen/runtime/transport"
)

// maxPrealloc bounds the buffer allocated up front from a Content-Length,
// so a lying server cannot make the client allocate gigabytes.
const maxPrealloc = 1 << 20

// maxDrain bounds how much of an unread error body is discarded so the
// connection can be reused.
const maxDrain = 256 << 10

// maxSnippet bounds the body excerpt in a DecodeError.
const maxSnippet = 512

// errorSnippet bounds the body excerpt in Error.Error.
const errorSnippet = 200

// ReadBody reads the whole response body and closes it.
func ReadBody(resp *http.Response) ([]byte, error) {
	if resp == nil || resp.Body == nil {
		return nil, errors.New("rest: response has no body")
	}
	defer resp.Body.Close()
	return readAll(resp.Body, resp.ContentLength)
}

// readAll reads r to EOF, sizing the buffer from the expected length.
func readAll(r io.Reader, length int64) ([]byte, error) {
	if length < 0 || length > maxPrealloc {
		return io.ReadAll(r)
	}
	b := make([]byte, 0, length+1) // +1 lets the final read observe EOF without growing
	for empty := 0; ; {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if n == 0 && err == nil {
			if empty++; empty > 100 {
				return b, io.ErrNoProgress
			}
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // grow
		}
	}
}

// DecodeJSON reads the response body to EOF, closes it, and decodes it as
// JSON into v. A body that is empty, malformed, or does not fit v yields a
// *DecodeError (kind transport.ErrValidation) carrying the status, content
// type and the start of the body.
func DecodeJSON(resp *http.Response, v any) error { return decodeJSON(resp, v, nil) }

// decodeJSON is DecodeJSON leaving out, before decoding, the members s
// removes (nil: none).
func decodeJSON(resp *http.Response, v any, s *shape) error {
	if resp == nil || resp.Body == nil {
		return &DecodeError{Err: errors.New("no response body")}
	}
	b, err := readAll(resp.Body, resp.ContentLength)
	resp.Body.Close()
	if err != nil {
		return &DecodeError{
			Operation:   operationOf(resp),
			StatusCode:  resp.StatusCode,
			ContentType: resp.Header.Get("Content-Type"),
			Snippet:     safeSnippet(redactorOf(resp)(b), maxSnippet),
			Err:         errors.New("reading the body: " + err.Error()),
			kind:        classify(requestContext(resp), err),
		}
	}
	data := b
	if s != nil {
		data, _ = s.filter(b)
	}
	if err := json.Unmarshal(data, v); err != nil {
		if len(b) == 0 {
			err = errors.New("empty body")
		}
		return &DecodeError{
			Operation:   operationOf(resp),
			StatusCode:  resp.StatusCode,
			ContentType: resp.Header.Get("Content-Type"),
			Snippet:     safeSnippet(redactorOf(resp)(b), maxSnippet),
			Err:         err,
		}
	}
	return nil
}

func requestContext(resp *http.Response) context.Context {
	if resp.Request != nil {
		return resp.Request.Context()
	}
	return context.Background()
}

// redactorOf returns the function replacing the credential values of the
// client that sent resp's request (transport.CallInfo.Redact), or the
// identity.
func redactorOf(resp *http.Response) func([]byte) []byte {
	if resp.Request != nil {
		if info := transport.CallInfoFrom(resp.Request.Context()); info != nil && info.Redact != nil {
			return info.Redact
		}
	}
	return noRedact
}

func noRedact(b []byte) []byte { return b }

func operationOf(resp *http.Response) string {
	if resp.Request != nil {
		if op := transport.OperationFrom(resp.Request.Context()); op != nil {
			return op.ID
		}
	}
	return ""
}

// safeSnippet is snippet of b with secret-looking values redacted
// (transport.RedactSecrets): servers sometimes echo credentials in bodies,
// and error messages end up in logs.
func safeSnippet(b []byte, max int) string {
	if len(b) > 4*max {
		b = b[:4*max]
	}
	return snippet(transport.RedactSecrets(b), max)
}

// snippet returns at most max bytes of b as valid UTF-8 on one line.
func snippet(b []byte, max int) string {
	cut := len(b) > max
	if cut {
		b = b[:max]
		for len(b) > 0 && !utf8.Valid(b) && len(b) > max-utf8.UTFMax {
			b = b[:len(b)-1] // do not split a rune
		}
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if cut {
		s += "…"
	}
	return s
}

// DecodeError reports a response body that could not be decoded into the
// documented type. errors.Is(err, transport.ErrValidation) reports true.
type DecodeError struct {
	// Operation is the operation's ID.
	Operation string
	// StatusCode is the response status.
	StatusCode int
	// ContentType is the response's Content-Type header.
	ContentType string
	// Snippet is the start of the body (at most 512 bytes, one line), with
	// secret-looking values redacted.
	Snippet string
	// Err is the decoder's error.
	Err error

	kind transport.Kind // ErrValidation unless reading the body failed
}

// Kind returns transport.ErrValidation, or the network kind when the body
// could not be read at all.
func (e *DecodeError) Kind() transport.Kind {
	if e.kind == transport.ErrUnknown {
		return transport.ErrValidation
	}
	return e.kind
}

// Error describes the failure and shows the snippet.
func (e *DecodeError) Error() string {
	var b strings.Builder
	if e.Operation != "" {
		b.WriteString(e.Operation)
		b.WriteString(": ")
	}
	b.WriteString("decoding response")
	if e.StatusCode != 0 {
		b.WriteString(" ")
		b.WriteString(strconv.Itoa(e.StatusCode))
	}
	if e.ContentType != "" {
		b.WriteString(" (")
		b.WriteString(e.ContentType)
		b.WriteString(")")
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Snippet != "" {
		b.WriteString("; body: ")
		b.WriteString(e.Snippet)
	}
	return b.String()
}

// Unwrap returns the decoder's error.
func (e *DecodeError) Unwrap() error { return e.Err }

// Is reports whether target is the kind of e (transport.ErrValidation).
func (e *DecodeError) Is(target error) bool {
	k, ok := target.(transport.Kind)
	return ok && k == e.Kind()
}

// Error is a non-2xx response. Generated methods return it (through
// [Client.NewError]) for every status that is not a documented success;
// callers inspect it with errors.As, or classify it with errors.Is and the
// transport kinds:
//
//	var apiErr *rest.Error
//	if errors.As(err, &apiErr) && apiErr.StatusCode == 404 { ... }
//	if errors.Is(err, transport.ErrRateLimited) { ... }
type Error struct {
	// Operation is the operation's ID.
	Operation string
	// Method is the HTTP method.
	Method string
	// URL is scheme://host/path of the request that got the response; the
	// query is left out because it may hold secrets.
	URL string
	// StatusCode is the response status.
	StatusCode int
	// Header holds the response headers, with the values of the client's
	// own credentials replaced by "[REDACTED]" (a Set-Cookie may echo one).
	Header http.Header
	// Body is the start of the response body, bounded by WithMaxErrorBody,
	// as the server sent it except that the values of the client's own
	// credentials (auth.Set.Redact) are replaced by "[REDACTED]". Error
	// quotes at most 200 bytes of it with secret-looking values (by name)
	// redacted too; print Body itself with care.
	Body []byte
	// Model is the decoded documented error model, or nil.
	Model any
	// RequestID is the server's request identifier, from the first present
	// of the usual headers (X-Request-Id, Request-Id, X-Amzn-RequestId,
	// X-GitHub-Request-Id, CF-Ray …), for support tickets.
	RequestID string
	// Attempts is how many times the request was sent (at least 1).
	Attempts int

	truncated bool // Body holds only the start of the body
}

// Error returns a one-line description such as
//
//	getLead: GET https://api.example.com/leads/42: 404 Not Found: {"message":"no such lead"}
//
// with at most 200 bytes of the body, secret-looking values (JSON members
// such as "access_token", name=value pairs such as api_key=…, "Bearer …"
// credentials) redacted.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Operation != "" {
		b.WriteString(e.Operation)
		b.WriteString(": ")
	}
	if e.Method != "" {
		b.WriteString(e.Method)
		b.WriteString(" ")
	}
	if e.URL != "" {
		b.WriteString(e.URL)
	}
	if e.Method != "" || e.URL != "" {
		b.WriteString(": ")
	}
	b.WriteString(strconv.Itoa(e.StatusCode))
	if text := http.StatusText(e.StatusCode); text != "" {
		b.WriteString(" ")
		b.WriteString(text)
	}
	if s := safeSnippet(e.Body, errorSnippet); s != "" {
		b.WriteString(": ")
		b.WriteString(s)
		if e.truncated && !strings.HasSuffix(s, "…") {
			b.WriteString("…")
		}
	}
	return b.String()
}

// Kind classifies the status with transport.KindOfStatus.
func (e *Error) Kind() transport.Kind { return transport.KindOfStatus(e.StatusCode) }

// Is reports whether target is the transport.Kind of e.
func (e *Error) Is(target error) bool {
	k, ok := target.(transport.Kind)
	return ok && k != transport.ErrUnknown && k == e.Kind()
}

// NewError turns a non-2xx response into an *Error: it reads at most the
// configured number of body bytes, discards (a bounded amount of) the rest
// and closes the body, and sets Model to decode(status, body) when decode
// is not nil. r may be nil; the operation and attempts are then taken from
// the response's request context.
func (c *Client) NewError(r *Request, resp *http.Response, decode func(status int, body []byte) any) error {
	if resp == nil {
		return errors.New("rest: NewError: nil response")
	}
	max := DefaultMaxErrorBody
	if c != nil {
		max = c.maxErrBody
	}
	e := &Error{StatusCode: resp.StatusCode, Header: resp.Header, Attempts: 1}
	if r != nil {
		e.Method = r.method
		if r.op != nil {
			e.Operation = r.op.ID
		}
		if r.info.Attempts > 1 {
			e.Attempts = r.info.Attempts
		}
	}
	if req := resp.Request; req != nil {
		if e.Method == "" {
			e.Method = req.Method
		}
		ctx := req.Context()
		if e.Operation == "" {
			if op := transport.OperationFrom(ctx); op != nil {
				e.Operation = op.ID
			}
		}
		if info := transport.CallInfoFrom(ctx); info != nil && info.Attempts > e.Attempts {
			e.Attempts = info.Attempts
		}
		if u := req.URL; u != nil {
			e.URL = redactedURL(u.Scheme, u.Host, u.EscapedPath())
		}
	} else if r != nil {
		e.URL = redactedURL(r.scheme, r.host, string(r.path))
	}
	e.RequestID = requestID(resp.Header)
	if resp.Body != nil {
		e.Body, e.truncated = readBounded(resp.Body, max, resp.ContentLength)
		_, _ = io.CopyN(io.Discard, resp.Body, maxDrain)
		resp.Body.Close()
	}
	redact := redactorOf(resp)
	if c != nil && c.redact != nil {
		redact = c.redact
	}
	e.Body = redact(e.Body)
	e.Header = redactHeader(e.Header, redact)
	if decode != nil {
		e.Model = decode(resp.StatusCode, e.Body)
	}
	return e
}

// redactHeader returns h, or a copy of it with redact applied to every
// value when that changes any.
func redactHeader(h http.Header, redact func([]byte) []byte) http.Header {
	var out http.Header
	for k, vs := range h {
		for i, v := range vs {
			if r := redact([]byte(v)); string(r) != v {
				if out == nil {
					out = h.Clone()
				}
				out[k][i] = string(r)
			}
		}
	}
	if out == nil {
		return h
	}
	return out
}

// GoString renders e for %#v without the raw Body and Header, which may echo
// credentials the redaction cannot recognise: the fields identifying the
// call, and Error's text (whose body excerpt is redacted).
func (e *Error) GoString() string {
	if e == nil {
		return "(*rest.Error)(nil)"
	}
	return "&rest.Error{Operation:" + strconv.Quote(e.Operation) + ", Method:" + strconv.Quote(e.Method) +
		", URL:" + strconv.Quote(e.URL) + ", StatusCode:" + strconv.Itoa(e.StatusCode) +
		", RequestID:" + strconv.Quote(e.RequestID) + ", Attempts:" + strconv.Itoa(e.Attempts) +
		", Message:" + strconv.Quote(e.Error()) + "}"
}

// readBounded reads at most max bytes of r, ignoring read errors (what was
// read is kept), and reports whether more followed.
func readBounded(r io.Reader, max int, length int64) ([]byte, bool) {
	if max <= 0 {
		return nil, false
	}
	size := max
	if length >= 0 && length < int64(size) {
		size = int(length)
	}
	if size > 4096 && length < 0 {
		size = 4096
	}
	b := make([]byte, 0, size)
	for empty := 0; len(b) < max; {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
			if cap(b) > max {
				b = b[:len(b):max]
			}
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			return b, false
		}
		if n == 0 {
			if empty++; empty > 100 {
				return b, false
			}
		}
	}
	var one [1]byte
	n, _ := io.ReadFull(r, one[:])
	return b, n > 0
}

// requestID returns the first request-identifier header present.
func requestID(h http.Header) string {
	names := [...]string{
		"X-Request-Id", "Request-Id", "X-Amzn-Requestid", "X-Amz-Request-Id",
		"X-Github-Request-Id", "X-Ms-Request-Id", "X-Correlation-Id", "Apigw-Requestid",
		"Cf-Ray", "X-Trace-Id",
	}
	for _, n := range names {
		if v := h.Get(n); v != "" {
			return v
		}
	}
	return ""
}
