package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/textproto"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/connectorgen/connectorgen/runtime/oas"
)

// setBytes installs an in-memory, replayable body.
func (r *Request) setBytes(contentType string, b []byte) {
	r.body, r.hasBody, r.bodyReader = b, true, nil
	r.bodyLen = int64(len(b))
	r.contentType = contentType
	r.getBody = nil
}

// SetJSONBody marshals v as the JSON request body, right away, with the
// media type contentType (application/json when empty). The body is
// replayable. Properties whose fields are tagged oas:"readOnly" are left
// out, at any depth (see [Client.CallJSON] for the other direction). A
// marshalling error is returned and recorded.
func (r *Request) SetJSONBody(contentType string, v any) error {
	if r.err != nil {
		return r.err
	}
	b, err := r.c.encodeJSON(v)
	if err != nil {
		r.fail(errors.New("rest: encoding the JSON request body: " + err.Error()))
		return r.err
	}
	if contentType == "" {
		contentType = "application/json"
	}
	r.setBytes(contentType, b)
	return nil
}

// SetFormBody encodes v as an application/x-www-form-urlencoded body. v is
// marshalled to JSON and each top-level property (in sorted order; null
// properties skipped) is encoded as a parameter: scalars and lists of
// scalars with form, explode=true (k=a&k=b); objects, and lists holding
// objects, with deepObject brackets (a[b][c]=v, a[0][b]=v). encodings
// override the style per property, as an OpenAPI encoding object does.
// Spaces are encoded as %20. readOnly properties are left out, as in
// [Request.SetJSONBody].
func (r *Request) SetFormBody(v any, encodings ...FieldEncoding) error {
	if r.err != nil {
		return r.err
	}
	b, err := r.c.formBody(v, encodings)
	if err != nil {
		r.fail(err)
		return err
	}
	r.setBytes("application/x-www-form-urlencoded", b)
	return nil
}

func (c *Client) formBody(v any, encodings []FieldEncoding) ([]byte, error) {
	j, err := c.encodeJSON(v)
	if err != nil {
		return nil, errors.New("rest: encoding the form body: " + err.Error())
	}
	g, err := decodeGeneric(j)
	if err != nil {
		return nil, errors.New("rest: encoding the form body: " + err.Error())
	}
	if g == nil {
		return []byte{}, nil
	}
	obj, ok := g.(map[string]any)
	if !ok {
		return nil, errors.New("rest: a form body must encode to a JSON object, not " + jsonKind(g))
	}
	keys := make([]string, 0, len(obj))
	for k, v := range obj {
		if v != nil {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make([]byte, 0, 16*len(keys))
	for _, k := range keys {
		p := paramOf(obj[k])
		style, explode := StyleForm, true
		if p.kind == kindObject || p.elems != nil {
			style = StyleDeepObject
		}
		for _, e := range encodings {
			if e.Name == k {
				style, explode = e.Style, e.Explode
			}
		}
		if out, ok = appendQueryParam(out, k, style, explode, p); !ok {
			return nil, errors.New("rest: style " + style.String() + " is not allowed for form property " + strconv.Quote(k))
		}
	}
	return out, nil
}

func jsonKind(g any) string {
	switch g.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	}
	return "an object"
}

// SetMultipartBody encodes the struct v (or pointer to struct) as a
// multipart/form-data body. Each exported field is one part named by its
// json tag (the Go field name without one; "-" skips it):
//
//   - oas.File, *oas.File, []oas.File, []byte and io.Reader values become file
//     parts (filename from File.Name, else the part name; content type from
//     File.ContentType, else application/octet-stream);
//   - fields tagged oas:"readOnly" are skipped (and readOnly properties
//     inside JSON parts left out);
//   - values whose IsZero method reports true are skipped, as are zero values
//     of fields tagged omitempty or omitzero, nil pointers, and values that
//     encode to JSON null;
//   - every other value is marshalled to JSON: a string becomes a plain text
//     part (unquoted), numbers and booleans a text part, an array of scalars
//     one part per element, and anything else a part with Content-Type
//     application/json.
//
// File contents are read right away; the body is built in memory and is
// replayable.
func (r *Request) SetMultipartBody(v any) error {
	if r.err != nil {
		return r.err
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := r.c.writeMultipart(w, v); err != nil {
		r.fail(err)
		return err
	}
	if err := w.Close(); err != nil {
		r.fail(err)
		return err
	}
	r.setBytes(w.FormDataContentType(), buf.Bytes())
	return nil
}

type isZeroer interface{ IsZero() bool }

func (c *Client) writeMultipart(w *multipart.Writer, v any) error {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			return errors.New("rest: multipart body is nil")
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return errors.New("rest: a multipart body must be a struct, not " + rv.Kind().String())
	}
	return c.writeStructParts(w, rv, 0)
}

func (c *Client) writeStructParts(w *multipart.Writer, rv reflect.Value, depth int) error {
	if depth > 8 {
		return errors.New("rest: multipart body: embedded structs nested too deeply")
	}
	t := rv.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		fv := rv.Field(i)
		if sf.Anonymous && name == "" {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				if fv.IsNil() {
					continue
				}
				ft, fv = ft.Elem(), fv.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if err := c.writeStructParts(w, fv, depth+1); err != nil {
					return err
				}
				continue
			}
		}
		if !sf.IsExported() || hasOpt(sf.Tag.Get("oas"), "readOnly") {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		omit := hasOpt(opts, "omitempty") || hasOpt(opts, "omitzero")
		if err := c.writeFieldPart(w, name, fv, omit); err != nil {
			return err
		}
	}
	return nil
}

func hasOpt(opts, want string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == want {
			return true
		}
	}
	return false
}

func (c *Client) writeFieldPart(w *multipart.Writer, name string, fv reflect.Value, omit bool) error {
	if (fv.Kind() == reflect.Pointer || fv.Kind() == reflect.Interface) && fv.IsNil() {
		return nil
	}
	if omit && fv.IsZero() {
		return nil
	}
	if !fv.CanInterface() {
		return nil
	}
	val := fv.Interface()
	if z, ok := val.(isZeroer); ok && z.IsZero() {
		return nil
	}
	switch x := val.(type) {
	case oas.File:
		return writeFilePart(w, name, x)
	case *oas.File:
		return writeFilePart(w, name, *x)
	case []oas.File:
		for _, f := range x {
			if !f.IsZero() {
				if err := writeFilePart(w, name, f); err != nil {
					return err
				}
			}
		}
		return nil
	case []byte:
		return writeFilePart(w, name, oas.File{Content: bytes.NewReader(x)})
	case io.Reader:
		return writeFilePart(w, name, oas.File{Content: x})
	}
	j, err := c.encodeJSON(val)
	if err != nil {
		return errors.New("rest: multipart part " + strconv.Quote(name) + ": " + err.Error())
	}
	g, err := decodeGeneric(j)
	if err != nil {
		return errors.New("rest: multipart part " + strconv.Quote(name) + ": " + err.Error())
	}
	switch x := g.(type) {
	case nil:
		return nil
	case string, json.Number, bool:
		return writeTextPart(w, name, paramOf(x).s, "")
	case []any:
		scalars := true
		for _, e := range x {
			switch e.(type) {
			case []any, map[string]any:
				scalars = false
			}
		}
		if scalars {
			for _, e := range x {
				if e != nil {
					if err := writeTextPart(w, name, paramOf(e).s, ""); err != nil {
						return err
					}
				}
			}
			return nil
		}
	}
	return writeTextPart(w, name, string(j), "application/json")
}

// quoteParam escapes a Content-Disposition parameter value the way
// mime/multipart does, and neutralises line breaks as browsers do.
func quoteParam(s string) string {
	if !strings.ContainsAny(s, "\\\"\r\n") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\r':
			b.WriteString("%0D")
		case '\n':
			b.WriteString("%0A")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func writeTextPart(w *multipart.Writer, name, value, contentType string) error {
	h := make(textproto.MIMEHeader, 2)
	h.Set("Content-Disposition", `form-data; name="`+quoteParam(name)+`"`)
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	pw, err := w.CreatePart(h)
	if err != nil {
		return err
	}
	_, err = io.WriteString(pw, value)
	return err
}

func writeFilePart(w *multipart.Writer, name string, f oas.File) error {
	filename := f.Name
	if filename == "" {
		filename = name
	}
	ct := f.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	if !validHeaderValue(ct) {
		return errors.New("rest: multipart part " + strconv.Quote(name) + ": invalid content type")
	}
	h := make(textproto.MIMEHeader, 2)
	h.Set("Content-Disposition", `form-data; name="`+quoteParam(name)+`"; filename="`+quoteParam(filename)+`"`)
	h.Set("Content-Type", ct)
	pw, err := w.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := io.Copy(pw, f.Content); err != nil {
		return errors.New("rest: multipart part " + strconv.Quote(name) + ": reading the file: " + err.Error())
	}
	return nil
}

// SetBody sets a raw request body (octet-stream, text, XML …) with the
// media type contentType. Like http.NewRequest, it is replayable (and its
// length known) when body is a *bytes.Reader, *bytes.Buffer or
// *strings.Reader; any other reader is streamed once. A nil body removes the
// body.
func (r *Request) SetBody(contentType string, body io.Reader) {
	if r.err != nil {
		return
	}
	r.body, r.hasBody, r.bodyReader, r.getBody, r.bodyLen = nil, false, nil, nil, 0
	r.contentType = ""
	if body == nil {
		return
	}
	r.contentType = contentType
	switch x := body.(type) {
	case *bytes.Buffer:
		r.setBytes(contentType, x.Bytes())
	case *bytes.Reader:
		snapshot := *x
		r.bodyReader, r.bodyLen = x, int64(x.Len())
		r.getBody = func() (io.ReadCloser, error) {
			rd := snapshot
			return io.NopCloser(&rd), nil
		}
	case *strings.Reader:
		snapshot := *x
		r.bodyReader, r.bodyLen = x, int64(x.Len())
		r.getBody = func() (io.ReadCloser, error) {
			rd := snapshot
			return io.NopCloser(&rd), nil
		}
	default:
		r.bodyReader, r.bodyLen = body, -1
	}
}
