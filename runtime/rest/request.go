package rest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"

	"github.com/connectorgen/connectorgen/runtime/transport"
)

// Request is one call being built. Generated code creates it with
// [Client.NewRequest], adds parameters and a body, and sends it once with
// [Client.Do]. It is not safe for concurrent use.
//
// Builder methods never fail loudly: the first problem (a value that cannot
// be encoded, a bad URL) is recorded, later calls are ignored, and
// [Client.Do] returns it as an error of kind transport.ErrValidation. [Request.Err]
// reports it early.
type Request struct {
	c      *Client
	ctx    context.Context
	op     *transport.Operation
	method string
	err    error
	sent   bool

	scheme      string
	host        string
	crossOrigin bool
	path        []byte // escaped path, starting with the base path
	query       []byte // raw query
	cookie      []byte // Cookie header value built by AddCookie

	header http.Header // request-specific headers; nil until needed

	body        []byte    // in-memory body (replayable)
	hasBody     bool      // body (possibly empty) is set
	bodyReader  io.Reader // streaming body (when hasBody is false)
	bodyLen     int64
	getBody     func() (io.ReadCloser, error)
	contentType string

	info transport.CallInfo
	u    url.URL

	hvals [6]string // backing store for header values
	nh    int

	pathBuf  [64]byte
	queryBuf [128]byte
}

// errNilClient is recorded by NewRequest on a nil *Client.
const errNilClient = constError("rest: nil *Client")

type constError string

// Error returns the message.
func (e constError) Error() string { return string(e) }

// NewRequest starts a request for op. The method is op.Method (GET when
// empty); the URL starts as the client's base URL.
func (c *Client) NewRequest(ctx context.Context, op *Operation) *Request {
	r := &Request{c: c, ctx: ctx, op: op}
	if ctx == nil {
		r.ctx = context.Background()
	}
	if c == nil {
		r.err = errNilClient
		return r
	}
	if op == nil {
		r.err = errors.New("rest: nil *Operation")
		return r
	}
	r.method = op.Method
	if r.method == "" {
		r.method = http.MethodGet
	}
	r.scheme, r.host = c.base.Scheme, c.base.Host
	r.path = append(r.pathBuf[:0], c.basePath...)
	r.query = r.queryBuf[:0]
	return r
}

func (r *Request) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// Err returns the first error recorded while building r, or nil.
func (r *Request) Err() error { return r.err }

// AppendPath appends literal text from the path template ("/leads/",
// "/items") to the URL path, as-is.
func (r *Request) AppendPath(literal string) {
	if r.err != nil {
		return
	}
	r.path = append(r.path, literal...)
}

// AppendPathParam appends the path parameter name with the value v in the
// simple, label or matrix style. Values are percent-encoded with
// url.PathEscape semantics; the separators of the style are not. An absent
// v is an error: path parameters are required.
func (r *Request) AppendPathParam(name string, style Style, explode bool, v Param) {
	if r.err != nil {
		return
	}
	if v.IsEmpty() {
		r.fail(errors.New("rest: path parameter " + strconv.Quote(name) + " has no value"))
		return
	}
	start := len(r.path)
	var ok bool
	if r.path, ok = appendPathParam(r.path, name, style, explode, v); !ok {
		r.fail(errors.New("rest: style " + style.String() + " is not allowed for path parameter " + strconv.Quote(name)))
		return
	}
	if style != StyleSimple {
		return
	}
	// An empty value would address another resource ("/files/" instead of
	// "/files/{name}"), and "." or ".." would be resolved as a relative
	// segment by servers and proxies: neither may reach the wire as is.
	seg := r.path[start:]
	if len(seg) == 0 {
		r.fail(errors.New("rest: path parameter " + strconv.Quote(name) + " is empty"))
		return
	}
	if strings.Trim(string(seg), ".") == "" {
		r.path = append(r.path[:start], strings.Repeat("%2E", len(seg))...)
	}
}

// AddQuery adds the query parameter name in the form, spaceDelimited,
// pipeDelimited or deepObject style. Parameters appear in the URL in the
// order they were added. An absent v is skipped.
func (r *Request) AddQuery(name string, style Style, explode bool, v Param) {
	if r.err != nil || v.IsEmpty() {
		return
	}
	var ok bool
	if r.query, ok = appendQueryParam(r.query, name, style, explode, v); !ok {
		r.fail(errors.New("rest: style " + style.String() + " is not allowed for query parameter " + strconv.Quote(name)))
	}
}

// SetHeader sets the header parameter name in the simple style, replacing
// a static header of the same name. An absent v, or an empty list or
// object, is skipped. Values containing control characters are refused.
func (r *Request) SetHeader(name string, explode bool, v Param) {
	if r.err != nil || v.undefined() {
		return
	}
	if !validToken(name) {
		r.fail(errors.New("rest: invalid header name " + strconv.Quote(name)))
		return
	}
	var value string
	if v.kind == kindScalar {
		value = v.s
	} else {
		value = string(appendHeaderValue(nil, explode, v))
	}
	if !validHeaderValue(value) {
		r.fail(errors.New("rest: the value of header " + name + " contains control characters"))
		return
	}
	r.setHeader(textproto.CanonicalMIMEHeaderKey(name), value)
}

// setHeader stores a canonical header, reusing r's inline value storage.
func (r *Request) setHeader(name, value string) {
	if r.header == nil {
		r.header = make(http.Header, 4+len(r.c.headers))
	}
	if r.nh < len(r.hvals) {
		r.hvals[r.nh] = value
		r.header[name] = r.hvals[r.nh : r.nh+1 : r.nh+1]
		r.nh++
		return
	}
	r.header[name] = []string{value}
}

// AddCookie adds the cookie parameter name in the form style. With explode
// true, list items and object properties become separate cookie pairs. An
// absent v, or an empty list or object, is skipped.
func (r *Request) AddCookie(name string, explode bool, v Param) {
	if r.err != nil || v.undefined() {
		return
	}
	if !validToken(name) {
		r.fail(errors.New("rest: invalid cookie name " + strconv.Quote(name)))
		return
	}
	r.cookie = appendCookie(r.cookie, name, explode, v)
}

// SetURL points r at rawURL, typically a next-page URL taken from a
// response body or Link header. A relative URL is resolved against the base
// URL (as if the base URL ended in '/'). The URL must be https, or plain
// http under the same conditions as [New]. It replaces the path and query
// built so far; parameters added afterwards are appended to its query.
//
// When the URL's origin (scheme, host and port) differs from the base URL's,
// the request is sent without the client's middlewares and static headers,
// so credentials that they add never reach the other origin.
func (r *Request) SetURL(rawURL string) error {
	if r.err != nil {
		return r.err
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		r.fail(errors.New("rest: SetURL: " + err.Error()))
		return r.err
	}
	if !u.IsAbs() {
		base := *r.c.base
		base.Path += "/"
		if base.RawPath != "" {
			base.RawPath += "/"
		}
		u = base.ResolveReference(u)
	}
	switch {
	case u.Host == "":
		r.fail(errors.New("rest: SetURL: " + strconv.Quote(rawURL) + " has no host"))
	case u.User != nil:
		r.fail(errors.New("rest: SetURL: URLs with credentials are not followed"))
	default:
		if err := checkScheme(u, r.c.insecure); err != nil {
			r.fail(errors.New("rest: SetURL: " + strings.TrimPrefix(err.Error(), "rest: ")))
		}
	}
	if r.err != nil {
		return r.err
	}
	r.scheme, r.host = strings.ToLower(u.Scheme), u.Host
	r.crossOrigin = originOf(u) != r.c.origin
	r.path = append(r.path[:0], u.EscapedPath()...)
	r.query = append(r.query[:0], u.RawQuery...)
	return nil
}
