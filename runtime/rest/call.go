package rest

import (
	"io"
	"iter"
	"net/http"
	"slices"

	"github.com/connectorgen/connectorgen/runtime/oas"
)

// The Call helpers hold what every generated operation method would
// otherwise repeat: send the request, close the body, tell a 2xx from an
// error, decode the success body and build the typed *Error. Keeping this
// here rather than in each method makes a generated client much cheaper to
// compile.

// Call sends r for an operation without a documented success body. A 2xx
// response's body is drained (at most 64 KiB) and closed; any other status
// becomes an *Error whose Model is decodeErr(status, body) when decodeErr is
// not nil.
func (c *Client) Call(r *Request, decodeErr func(status int, body []byte) any) error {
	resp, _, err := c.send(r, decodeErr, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	return nil
}

// CallJSON sends r and decodes a 2xx JSON body into out, ignoring the
// properties out's type tags oas:"writeOnly" (a server never returns them). It reports false
// with a nil error for 204 No Content and for the statuses in empty, which
// have no documented body, and false with the error when sending, the
// status or decoding fails (out may then be partly filled).
func (c *Client) CallJSON(r *Request, out any, decodeErr func(status int, body []byte) any, empty ...int) (bool, error) {
	resp, hasBody, err := c.send(r, decodeErr, empty)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if !hasBody {
		return false, nil
	}
	if err := c.decodeJSON(resp, out); err != nil {
		return false, err
	}
	return true, nil
}

// CallBytes sends r and reads a 2xx body whole (text or binary content).
// It returns nil and a nil error for 204 No Content and for the statuses in
// empty, and nil with the error when sending, the status or reading fails.
func (c *Client) CallBytes(r *Request, decodeErr func(status int, body []byte) any, empty ...int) ([]byte, error) {
	resp, hasBody, err := c.send(r, decodeErr, empty)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if !hasBody {
		return nil, nil
	}
	b, err := ReadBody(resp)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// CallJSONLink is CallJSON for one page of a listing paginated by RFC 8288
// Link headers: it also returns the target of the response's rel="next"
// link resolved against the request URL (see [NextLinkURL]), "" when there
// is none, whether or not the 2xx answer has a body. With an error the link
// is "".
func (c *Client) CallJSONLink(r *Request, out any, decodeErr func(status int, body []byte) any, empty ...int) (ok bool, next string, err error) {
	resp, hasBody, err := c.send(r, decodeErr, empty)
	if err != nil {
		return false, "", err
	}
	defer resp.Body.Close()
	next = NextLinkURL(resp)
	if !hasBody {
		return false, next, nil
	}
	if err := c.decodeJSON(resp, out); err != nil {
		return false, "", err
	}
	return true, next, nil
}

// Into tells [Client.CallStatus] where a success body goes: decoded as
// JSON into a value ([IntoJSON]), read whole ([IntoBytes], [IntoText]), or
// nowhere (the zero Into: the body is drained and closed).
type Into struct {
	json  any
	bytes *[]byte
	text  *string
}

// IntoJSON decodes the body as JSON into v, a pointer.
func IntoJSON(v any) Into { return Into{json: v} }

// IntoBytes reads the body whole into *b.
func IntoBytes(b *[]byte) Into { return Into{bytes: b} }

// IntoText reads the body whole into *s.
func IntoText(s *string) Into { return Into{text: s} }

// CallStatus sends r for an operation with several documented success
// statuses. For a 2xx answer into(status) says where its body goes (a nil
// into discards every body), and CallStatus returns the status; any other
// status becomes an *Error as with [Client.Call]. When reading or decoding
// the body fails it returns 0 and the error (the target may then be partly
// filled).
func (c *Client) CallStatus(r *Request, into func(status int) Into, decodeErr func(status int, body []byte) any) (int, error) {
	resp, _, err := c.send(r, decodeErr, nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var t Into
	if into != nil {
		t = into(resp.StatusCode)
	}
	switch {
	case t.json != nil:
		err = c.decodeJSON(resp, t.json)
	case t.bytes != nil:
		*t.bytes, err = ReadBody(resp)
	case t.text != nil:
		var b []byte
		b, err = ReadBody(resp)
		*t.text = string(b)
	default:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	}
	if err != nil {
		return 0, err
	}
	return resp.StatusCode, nil
}

// send is what the Call methods share: it sends r, turns a non-2xx status
// into an *Error (closing that response), and reports whether a 2xx answer
// carries a body (it is not 204 No Content nor one of the empty statuses).
// With a nil error the caller closes resp.Body.
func (c *Client) send(r *Request, decodeErr func(status int, body []byte) any, empty []int) (*http.Response, bool, error) {
	resp, err := c.Do(r)
	if err != nil {
		return nil, false, err
	}
	if !success(resp) {
		defer resp.Body.Close()
		return nil, false, c.NewError(r, resp, decodeErr)
	}
	return resp, resp.StatusCode != http.StatusNoContent && !slices.Contains(empty, resp.StatusCode), nil
}

func success(resp *http.Response) bool { return resp.StatusCode >= 200 && resp.StatusCode < 300 }

// PathString is AppendPathParam with a scalar value. Generated methods call
// the String variants for scalar parameters: a string argument is cheaper
// to compile at each call site than a Param.
func (r *Request) PathString(name string, style Style, explode bool, s string) {
	r.AppendPathParam(name, style, explode, Scalar(s))
}

// QueryString is AddQuery with a scalar value.
func (r *Request) QueryString(name string, style Style, explode bool, s string) {
	r.AddQuery(name, style, explode, Scalar(s))
}

// HeaderString is SetHeader with a scalar value.
func (r *Request) HeaderString(name, s string) { r.SetHeader(name, false, Scalar(s)) }

// CookieString is AddCookie with a scalar value.
func (r *Request) CookieString(name, s string) { r.AddCookie(name, false, Scalar(s)) }

// PathAny appends the path parameter name with any value (an object, a
// union, a nested list …) converted by [AnyParam]. A value that cannot be
// converted is recorded as r's error, which sending returns.
func (r *Request) PathAny(name string, style Style, explode bool, v any) {
	if p, ok := r.anyParam(v); ok {
		r.AppendPathParam(name, style, explode, p)
	}
}

// QueryAny adds the query parameter name with any value converted by
// [AnyParam]: one that encodes to JSON null (an absent oas.Opt, a nil map
// or slice, an unset union) leaves the parameter out.
func (r *Request) QueryAny(name string, style Style, explode bool, v any) {
	if p, ok := r.anyParam(v); ok {
		r.AddQuery(name, style, explode, p)
	}
}

// HeaderAny sets the header name with any value converted by [AnyParam],
// as QueryAny does.
func (r *Request) HeaderAny(name string, explode bool, v any) {
	if p, ok := r.anyParam(v); ok {
		r.SetHeader(name, explode, p)
	}
}

// CookieAny adds the cookie name with any value converted by [AnyParam],
// as QueryAny does.
func (r *Request) CookieAny(name string, explode bool, v any) {
	if p, ok := r.anyParam(v); ok {
		r.AddCookie(name, explode, p)
	}
}

func (r *Request) anyParam(v any) (Param, bool) {
	if r.err != nil {
		return Param{}, false
	}
	p, err := AnyParam(v)
	if err != nil {
		r.fail(err)
		return Param{}, false
	}
	return p, true
}

// QueryOpt adds the optional query parameter name when v holds a value,
// formatted by format (FormatString, FormatInt, FormatTime …); an absent
// parameter is left out. Generated methods call it for each optional scalar
// query parameter.
func QueryOpt[T any](r *Request, name string, style Style, explode bool, v oas.Opt[T], format func(T) string) {
	if x, ok := v.Get(); ok {
		r.QueryString(name, style, explode, format(x))
	}
}

// HeaderOpt sets the optional header name when v holds a value, formatted
// by format.
func HeaderOpt[T any](r *Request, name string, v oas.Opt[T], format func(T) string) {
	if x, ok := v.Get(); ok {
		r.HeaderString(name, format(x))
	}
}

// CookieOpt adds the optional cookie name when v holds a value, formatted
// by format.
func CookieOpt[T any](r *Request, name string, v oas.Opt[T], format func(T) string) {
	if x, ok := v.Get(); ok {
		r.CookieString(name, format(x))
	}
}

// FormatString converts a value of a string type (an enum, say) to string.
func FormatString[T ~string](v T) string { return string(v) }

// Items yields every item of every page pages yields, in order: items
// returns a page's items (none for a nil page). The first error is yielded
// with the zero item and ends the sequence. Generated XItems methods are
// Items over XPages.
func Items[P, I any](pages iter.Seq2[P, error], items func(P) []I) iter.Seq2[I, error] {
	return func(yield func(I, error) bool) {
		for page, err := range pages {
			if err != nil {
				var zero I
				yield(zero, err)
				return
			}
			for _, it := range items(page) {
				if !yield(it, nil) {
					return
				}
			}
		}
	}
}
