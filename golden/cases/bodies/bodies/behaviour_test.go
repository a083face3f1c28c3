package bodies_test

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/connectorgen/connectorgen/golden/cases/bodies/bodies"
	"github.com/connectorgen/connectorgen/runtime/oas"
)

// got is the request the server received.
type got struct {
	method, contentType, accept string
	body                        []byte
}

// server records each request and answers with status, contentType and
// reply; an empty reply echoes the request body.
func server(t *testing.T, status int, contentType, reply string) (*bodies.Client, *got) {
	t.Helper()
	g := &got{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.method, g.contentType, g.accept = r.Method, r.Header.Get("Content-Type"), r.Header.Get("Accept")
		g.body, _ = io.ReadAll(r.Body)
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		if reply == "" {
			w.Write(g.body)
			return
		}
		io.WriteString(w, reply)
	}))
	t.Cleanup(srv.Close)
	c, err := bodies.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c, g
}

var ctx = context.Background()

func TestJSON(t *testing.T) {
	c, g := server(t, 200, "application/json", "")
	out, err := c.SendJSON(ctx, bodies.Item{ID: oas.Some("i<1>&"), Qty: oas.Some(int64(2))})
	if err != nil {
		t.Fatal(err)
	}
	if g.contentType != "application/json" || g.accept != "application/json" {
		t.Errorf("Content-Type %q, Accept %q", g.contentType, g.accept)
	}
	if want := `{"id":"i\u003c1\u003e\u0026","qty":2}`; string(g.body) != want {
		t.Errorf("sent %s, want %s", g.body, want)
	}
	if oas.Or(out.ID, "") != "i<1>&" || oas.Or(out.Qty, 0) != 2 {
		t.Errorf("decoded %+v", out)
	}
}

func TestJSONSubtypeAndOptionalBody(t *testing.T) {
	c, g := server(t, 204, "", "-")
	if err := c.PatchItem(ctx, &bodies.Item{Qty: oas.Some(int64(0))}); err != nil {
		t.Fatal(err)
	}
	if g.method != "PATCH" || g.contentType != "application/merge-patch+json" || string(g.body) != `{"qty":0}` {
		t.Errorf("%s %q %s", g.method, g.contentType, g.body)
	}
	if err := c.PatchItem(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if g.contentType != "" || len(g.body) != 0 {
		t.Errorf("nil body: Content-Type %q, body %q", g.contentType, g.body)
	}
}

func TestForm(t *testing.T) {
	c, g := server(t, 204, "", "-")
	err := c.SendForm(ctx, bodies.SendFormRequest{
		Name:  "n m&x=y",
		Count: oas.Some(int64(2)),
		Tags:  []string{"t1", "t 2"},
		CSV:   []string{"a", "b"},
		Meta:  &bodies.SendFormRequestMeta{A: oas.Some("x"), B: oas.Some(int64(1))},
	})
	if err != nil {
		t.Fatal(err)
	}
	if g.contentType != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type %q", g.contentType)
	}
	// Properties in sorted order; arrays exploded unless the encoding
	// object says otherwise; objects as deepObject.
	if want := "count=2&csv=a,b&meta[a]=x&meta[b]=1&name=n%20m%26x%3Dy&tags=t1&tags=t%202"; string(g.body) != want {
		t.Errorf("sent  %s\nwant %s", g.body, want)
	}
	if err := c.SendForm(ctx, bodies.SendFormRequest{}); err != nil {
		t.Fatal(err)
	}
	if string(g.body) != "name=" {
		t.Errorf("zero form sent %q, want name=", g.body)
	}
}

func TestMultipart(t *testing.T) {
	var parts []*multipart.Part
	var contents []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/form-data" {
			t.Errorf("Content-Type %q: %v", r.Header.Get("Content-Type"), err)
			return
		}
		mr := multipart.NewReader(r.Body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Error(err)
				return
			}
			b, _ := io.ReadAll(p)
			parts = append(parts, p)
			contents = append(contents, string(b))
		}
		io.WriteString(w, `{"id":"stored"}`)
	}))
	defer srv.Close()
	c, err := bodies.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Upload(ctx, bodies.UploadRequest{
		Title:  oas.Some("hello"),
		Count:  oas.Some(int64(3)),
		Labels: []string{"a", "b"},
		Meta:   &bodies.Item{ID: oas.Some("m")},
		File:   oas.File{Name: "report \"q\".csv", ContentType: "text/csv", Content: strings.NewReader("a,b\n1,2\n")},
		Extra:  []oas.File{{Content: bytes.NewReader([]byte{0, 1, 2})}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if oas.Or(out.ID, "") != "stored" {
		t.Errorf("decoded %+v", out)
	}
	type part struct{ name, file, ctype, content string }
	want := []part{
		{"title", "", "", "hello"},
		{"count", "", "", "3"},
		{"labels", "", "", "a"},
		{"labels", "", "", "b"},
		{"meta", "", "application/json", `{"id":"m"}`},
		{"file", `report "q".csv`, "text/csv", "a,b\n1,2\n"},
		{"extra", "extra", "application/octet-stream", "\x00\x01\x02"},
	}
	if len(parts) != len(want) {
		t.Fatalf("got %d parts, want %d", len(parts), len(want))
	}
	for i, w := range want {
		p := parts[i]
		g := part{p.FormName(), p.FileName(), p.Header.Get("Content-Type"), contents[i]}
		if g != w {
			t.Errorf("part %d: %+v, want %+v", i, g, w)
		}
	}
}

func TestOctetStream(t *testing.T) {
	c, g := server(t, 200, "application/octet-stream", "")
	payload := []byte{0xff, 0x00, 0xfe, '\n', 0x80}
	out, err := c.PutBlob(ctx, bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	if g.contentType != "application/octet-stream" || g.accept != "application/octet-stream" || !bytes.Equal(g.body, payload) {
		t.Errorf("sent %q (%s, Accept %s)", g.body, g.contentType, g.accept)
	}
	if !bytes.Equal(out, payload) {
		t.Errorf("received %q, want %q", out, payload)
	}
}

func TestText(t *testing.T) {
	c, g := server(t, 200, "text/plain; charset=utf-8", "stored: ünïcode\n")
	out, err := c.PutNote(ctx, "line 1\nline \"2\"")
	if err != nil {
		t.Fatal(err)
	}
	if g.contentType != "text/plain" || string(g.body) != "line 1\nline \"2\"" {
		t.Errorf("sent %q (%s)", g.body, g.contentType)
	}
	if out != "stored: ünïcode\n" {
		t.Errorf("received %q", out)
	}
}

// A */* body with no schema to speak of is bytes both ways: sent with a
// concrete media type (never */*), and received whatever the server says
// it is, without a JSON decode that would fail on HTML or binary.
func TestAnyMediaType(t *testing.T) {
	c, g := server(t, 200, "text/html", "<b>not json</b>")
	out, err := c.PostAnything(ctx, strings.NewReader("\x01raw"))
	if err != nil {
		t.Fatal(err)
	}
	if g.contentType != "application/octet-stream" || g.accept != "*/*" || string(g.body) != "\x01raw" {
		t.Errorf("sent %q (Content-Type %q, Accept %q)", g.body, g.contentType, g.accept)
	}
	if string(out) != "<b>not json</b>" {
		t.Errorf("received %q", out)
	}

	// With a structured schema, */* is JSON, sent as application/json.
	c, g = server(t, 200, "application/json", "")
	item, err := c.PostAnyJSON(ctx, bodies.Item{ID: oas.Some("j")})
	if err != nil {
		t.Fatal(err)
	}
	if g.contentType != "application/json" || string(g.body) != `{"id":"j"}` || oas.Or(item.ID, "") != "j" {
		t.Errorf("sent %s (%s), decoded %+v", g.body, g.contentType, item)
	}
}
