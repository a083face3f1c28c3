package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/connectorgen/connectorgen/runtime/oas"
)

var createLead = &Operation{ID: "createLead", Method: "POST", PathTemplate: "/leads"}

type leadInput struct {
	Name   string               `json:"name"`
	Email  oas.Opt[string]      `json:"email,omitzero"`
	Phone  oas.Nullable[string] `json:"phone,omitzero"`
	Score  float64              `json:"score"`
	Tags   []string             `json:"tags,omitempty"`
	Source map[string]any       `json:"source,omitempty"`
}

func TestJSONBody(t *testing.T) {
	srv, s := newServer(t, nil)
	c := newClient(t, srv.URL)
	tests := []struct {
		name, ct string
		in       any
		wantCT   string
		want     string
	}{
		{"struct", "", leadInput{Name: "Ada", Phone: oas.Null[string](), Score: 1.5}, "application/json",
			`{"name":"Ada","phone":null,"score":1.5}`},
		{"custom type", "application/merge-patch+json", map[string]any{"b": 1, "a": []int{1}}, "application/merge-patch+json",
			`{"a":[1],"b":1}`},
		{"null", "", nil, "application/json", `null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.NewRequest(context.Background(), createLead)
			if err := r.SetJSONBody(tt.ct, tt.in); err != nil {
				t.Fatal(err)
			}
			send(t, c, r)
			req, body := s.last(t)
			if req.Method != "POST" || req.Header.Get("Content-Type") != tt.wantCT || string(body) != tt.want ||
				req.ContentLength != int64(len(tt.want)) {
				t.Fatalf("server saw %s %q %q (len %d)", req.Method, req.Header.Get("Content-Type"), body, req.ContentLength)
			}
			var back any
			if err := json.Unmarshal(body, &back); err != nil {
				t.Fatal(err)
			}
		})
	}
	r := c.NewRequest(context.Background(), createLead)
	if err := r.SetJSONBody("", func() {}); err == nil || r.Err() == nil {
		t.Fatal("unmarshalable body must fail")
	}
}

// replayCheck is a middleware that reads the body, then replays it with
// GetBody twice, the way a retry middleware would, and sends the last copy.
func replayCheck(t *testing.T, wantReplayable bool) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper {
		return rtFunc(func(req *http.Request) (*http.Response, error) {
			if !wantReplayable {
				if req.GetBody != nil {
					t.Error("a streamed body must not claim to be replayable")
				}
				return next.RoundTrip(req)
			}
			if req.GetBody == nil {
				t.Fatal("GetBody is nil")
			}
			first, _ := io.ReadAll(req.Body)
			req.Body.Close()
			for i := 0; i < 2; i++ {
				rc, err := req.GetBody()
				if err != nil {
					t.Fatal(err)
				}
				again, _ := io.ReadAll(rc)
				if !bytes.Equal(first, again) {
					t.Fatalf("replay %d differs: %q vs %q", i, first, again)
				}
			}
			if req.ContentLength != int64(len(first)) {
				t.Errorf("ContentLength %d for %d bytes", req.ContentLength, len(first))
			}
			clone := req.Clone(req.Context())
			clone.Body, _ = req.GetBody()
			return next.RoundTrip(clone)
		})
	}
}

func TestBodiesAreReplayable(t *testing.T) {
	srv, s := newServer(t, nil)
	tests := []struct {
		name       string
		set        func(r *Request)
		want       string
		replayable bool
	}{
		{"json", func(r *Request) { _ = r.SetJSONBody("", map[string]int{"a": 1}) }, `{"a":1}`, true},
		{"form", func(r *Request) { _ = r.SetFormBody(map[string]string{"a": "1"}) }, `a=1`, true},
		{"bytes.Reader", func(r *Request) { r.SetBody("application/octet-stream", bytes.NewReader([]byte{0, 1, 2})) }, "\x00\x01\x02", true},
		{"bytes.Buffer", func(r *Request) { r.SetBody("text/plain", bytes.NewBufferString("buffer")) }, "buffer", true},
		{"strings.Reader", func(r *Request) { r.SetBody("application/xml", strings.NewReader("<a/>")) }, "<a/>", true},
		{"partly read strings.Reader", func(r *Request) {
			sr := strings.NewReader("skipme")
			sr.Read(make([]byte, 4))
			r.SetBody("text/plain", sr)
		}, "me", true},
		{"empty bytes", func(r *Request) { r.SetBody("text/plain", bytes.NewReader(nil)) }, "", true},
		{"streamed", func(r *Request) { r.SetBody("text/plain", iotest.OneByteReader(strings.NewReader("stream"))) }, "stream", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, srv.URL, WithMiddleware(replayCheck(t, tt.replayable)))
			r := c.NewRequest(context.Background(), createLead)
			tt.set(r)
			send(t, c, r)
			_, body := s.last(t)
			if string(body) != tt.want {
				t.Fatalf("server got %q want %q", body, tt.want)
			}
		})
	}
}

func TestRawBody(t *testing.T) {
	srv, s := newServer(t, nil)
	c := newClient(t, srv.URL)
	r := c.NewRequest(context.Background(), createLead)
	r.SetBody("text/csv", strings.NewReader("a,b\n1,2\n"))
	send(t, c, r)
	req, body := s.last(t)
	if req.Header.Get("Content-Type") != "text/csv" || string(body) != "a,b\n1,2\n" || req.ContentLength != 8 {
		t.Fatalf("got %q %q %d", req.Header.Get("Content-Type"), body, req.ContentLength)
	}
	// A streamed body of unknown length is sent chunked.
	r = c.NewRequest(context.Background(), createLead)
	r.SetBody("application/octet-stream", io.MultiReader(strings.NewReader("ab"), strings.NewReader("cd")))
	send(t, c, r)
	req, body = s.last(t)
	if string(body) != "abcd" || req.ContentLength != -1 || len(req.TransferEncoding) == 0 {
		t.Fatalf("streamed: %q %d %v", body, req.ContentLength, req.TransferEncoding)
	}
	// SetBody(nil) removes the body and its content type.
	r = c.NewRequest(context.Background(), createLead)
	r.SetBody("text/plain", strings.NewReader("x"))
	r.SetBody("text/plain", nil)
	send(t, c, r)
	req, body = s.last(t)
	if len(body) != 0 || req.Header.Get("Content-Type") != "" {
		t.Fatalf("nil body: %q %q", body, req.Header.Get("Content-Type"))
	}
}

func TestFormBody(t *testing.T) {
	srv, s := newServer(t, nil)
	c := newClient(t, srv.URL)
	type address struct {
		Line1 string `json:"line1"`
		City  string `json:"city"`
	}
	type item struct {
		Price    string `json:"price"`
		Quantity int    `json:"quantity"`
	}
	type customer struct {
		Name     string              `json:"name"`
		Email    oas.Opt[string]     `json:"email,omitzero"`
		Absent   oas.Opt[string]     `json:"absent,omitzero"`
		NullOpt  oas.Opt[string]     `json:"null_opt"`
		Balance  int64               `json:"balance"`
		Rate     float64             `json:"rate"`
		Active   bool                `json:"active"`
		Expand   []string            `json:"expand"`
		Address  address             `json:"address"`
		Metadata map[string]string   `json:"metadata"`
		Items    []item              `json:"items"`
		Tags     []string            `json:"tags"`
		Pipes    []string            `json:"pipes"`
		Spaces   []string            `json:"spaces"`
		Filter   map[string]any      `json:"filter"`
		Nested   map[string][]string `json:"nested"`
		Empty    []string            `json:"empty"`
	}
	in := customer{
		Name: "Ada L", Email: oas.Some("a+b@example.com"), Balance: 9007199254740993, Rate: 0.5, Active: true,
		Expand: []string{"a", "b"}, Address: address{Line1: "1 Main St", City: "Zürich"},
		Metadata: map[string]string{"z": "1", "a": "x&y"}, Items: []item{{"p1", 2}, {"p2", 1}},
		Tags: []string{"t1", "t,2"}, Pipes: []string{"x", "y"}, Spaces: []string{"x", "y z"},
		Filter: map[string]any{"status": "open", "n": 1}, Nested: map[string][]string{"ids": {"1", "2"}}, Empty: []string{},
	}
	encs := []FieldEncoding{
		{Name: "tags", Style: StyleForm, Explode: false},
		{Name: "pipes", Style: StylePipeDelimited},
		{Name: "spaces", Style: StyleSpaceDelimited},
		{Name: "filter", Style: StyleForm, Explode: true},
		{Name: "unknown", Style: StyleForm},
	}
	r := c.NewRequest(context.Background(), createLead)
	if err := r.SetFormBody(in, encs...); err != nil {
		t.Fatal(err)
	}
	send(t, c, r)
	req, body := s.last(t)
	const want = "active=true" +
		"&address[city]=Z%C3%BCrich&address[line1]=1%20Main%20St" +
		"&balance=9007199254740993" +
		"&email=a%2Bb%40example.com" +
		"&expand=a&expand=b" +
		"&n=1&status=open" +
		"&items[0][price]=p1&items[0][quantity]=2&items[1][price]=p2&items[1][quantity]=1" +
		"&metadata[a]=x%26y&metadata[z]=1" +
		"&name=Ada%20L" +
		"&nested[ids][0]=1&nested[ids][1]=2" +
		"&pipes=x|y" +
		"&rate=0.5" +
		"&spaces=x%20y%20z" +
		"&tags=t1,t%2C2"
	if string(body) != want {
		t.Fatalf("form body:\n got %s\nwant %s", body, want)
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Fatalf("Content-Type %q", ct)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		t.Fatal(err)
	}
	if form.Get("address[city]") != "Zürich" || form.Get("email") != "a+b@example.com" || form.Get("metadata[a]") != "x&y" ||
		len(form["expand"]) != 2 || form.Get("items[1][price]") != "p2" {
		t.Fatalf("server parse: %v", form)
	}
	// Deterministic across runs (map iteration order never leaks).
	for i := 0; i < 20; i++ {
		b, err := (*Client)(nil).formBody(in, encs)
		if err != nil || string(b) != want {
			t.Fatalf("run %d differs: %s", i, b)
		}
	}
	errTests := []struct {
		name string
		v    any
		encs []FieldEncoding
	}{
		{"not an object", []string{"a"}, nil},
		{"scalar", "x", nil},
		{"unmarshalable", map[string]any{"f": func() {}}, nil},
		{"bad style", map[string]string{"a": "1"}, []FieldEncoding{{Name: "a", Style: StyleMatrix}}},
	}
	for _, tt := range errTests {
		r := c.NewRequest(context.Background(), createLead)
		if err := r.SetFormBody(tt.v, tt.encs...); err == nil || r.Err() == nil {
			t.Errorf("%s: want error", tt.name)
		}
	}
	r = c.NewRequest(context.Background(), createLead)
	if err := r.SetFormBody(nil); err != nil {
		t.Fatalf("nil form: %v", err)
	}
}

type uploadInput struct {
	File      oas.File             `json:"file"`
	Avatar    *oas.File            `json:"avatar,omitempty"`
	Missing   oas.File             `json:"missing"`
	Raw       []byte               `json:"raw,omitempty"`
	Stream    io.Reader            `json:"stream,omitempty"`
	Pages     []oas.File           `json:"pages"`
	Title     string               `json:"title"`
	EmptyOmit string               `json:"empty_omit,omitempty"`
	EmptyKeep string               `json:"empty_keep"`
	Count     int                  `json:"count"`
	Public    bool                 `json:"public"`
	Note      oas.Opt[string]      `json:"note,omitzero"`
	Absent    oas.Opt[string]      `json:"absent"`
	NullField oas.Nullable[string] `json:"null_field"`
	Labels    []string             `json:"labels"`
	Meta      map[string]any       `json:"meta"`
	Matrix    [][]int              `json:"matrix"`
	When      oas.Date             `json:"when,omitzero"`
	Skipped   string               `json:"-"`
	NoTag     string
	unexp     string
	embedded
}

type embedded struct {
	Inner string `json:"inner"`
}

func TestMultipartBody(t *testing.T) {
	srv, s := newServer(t, nil)
	c := newClient(t, srv.URL, WithMiddleware(replayCheck(t, true)))
	in := uploadInput{
		File:      oas.File{Name: `re"port.csv`, ContentType: "text/csv", Content: strings.NewReader("a,b\n")},
		Avatar:    &oas.File{Name: "me.png", Content: bytes.NewReader([]byte{0x89, 'P', 'N', 'G'})},
		Raw:       []byte("raw bytes"),
		Stream:    strings.NewReader("streamed"),
		Pages:     []oas.File{{Name: "p1.txt", Content: strings.NewReader("one")}, {}, {Name: "p2.txt", Content: strings.NewReader("two")}},
		Title:     "Quarterly \"report\"\nline2",
		Count:     3,
		Public:    false,
		Note:      oas.Some("hi"),
		NullField: oas.Null[string](),
		Labels:    []string{"x", "y"},
		Meta:      map[string]any{"k": 1},
		Matrix:    [][]int{{1}},
		When:      oas.NewDate(2024, 1, 2),
		Skipped:   "no",
		NoTag:     "tagless",
		unexp:     "hidden",
		embedded:  embedded{Inner: "in"},
	}
	r := c.NewRequest(context.Background(), createLead)
	if err := r.SetMultipartBody(&in); err != nil {
		t.Fatal(err)
	}
	send(t, c, r)
	req, body := s.last(t)
	mt, params, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("Content-Type %q", req.Header.Get("Content-Type"))
	}
	type part struct{ name, filename, ct, body string }
	var parts []part
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		parts = append(parts, part{p.FormName(), p.FileName(), p.Header.Get("Content-Type"), string(b)})
	}
	want := []part{
		{"file", `re"port.csv`, "text/csv", "a,b\n"},
		{"avatar", "me.png", "application/octet-stream", "\x89PNG"},
		{"raw", "raw", "application/octet-stream", "raw bytes"},
		{"stream", "stream", "application/octet-stream", "streamed"},
		{"pages", "p1.txt", "application/octet-stream", "one"},
		{"pages", "p2.txt", "application/octet-stream", "two"},
		{"title", "", "", "Quarterly \"report\"\nline2"},
		{"empty_keep", "", "", ""},
		{"count", "", "", "3"},
		{"public", "", "", "false"},
		{"note", "", "", "hi"},
		{"labels", "", "", "x"},
		{"labels", "", "", "y"},
		{"meta", "", "application/json", `{"k":1}`},
		{"matrix", "", "application/json", `[[1]]`},
		{"when", "", "", "2024-01-02"},
		{"NoTag", "", "", "tagless"},
		{"inner", "", "", "in"},
	}
	if len(parts) != len(want) {
		t.Fatalf("got %d parts:\n%+v\nwant %d:\n%+v", len(parts), parts, len(want), want)
	}
	for i := range want {
		if parts[i] != want[i] {
			t.Errorf("part %d: got %+v want %+v", i, parts[i], want[i])
		}
	}
	// The server-side stdlib parser agrees.
	req2, _ := http.NewRequest("POST", "/", bytes.NewReader(body))
	req2.Header.Set("Content-Type", req.Header.Get("Content-Type"))
	if err := req2.ParseMultipartForm(1 << 20); err != nil {
		t.Fatal(err)
	}
	if req2.FormValue("title") != in.Title || len(req2.MultipartForm.File["pages"]) != 2 {
		t.Fatalf("ParseMultipartForm: %v", req2.MultipartForm.Value)
	}

	errTests := []struct {
		name string
		v    any
	}{
		{"nil pointer", (*uploadInput)(nil)},
		{"not a struct", map[string]string{"a": "b"}},
		{"nil", nil},
		{"failing reader", struct {
			F oas.File `json:"f"`
		}{oas.File{Content: iotest.ErrReader(errors.New("disk on fire"))}}},
		{"bad content type", struct {
			F oas.File `json:"f"`
		}{oas.File{ContentType: "a\nb", Content: strings.NewReader("")}}},
		{"unmarshalable", struct {
			C chan int `json:"c"`
		}{make(chan int)}},
	}
	for _, tt := range errTests {
		r := c.NewRequest(context.Background(), createLead)
		if err := r.SetMultipartBody(tt.v); err == nil || r.Err() == nil {
			t.Errorf("%s: want error", tt.name)
		}
	}
}

func TestSetURL(t *testing.T) {
	srv, s := newServer(t, nil)
	other := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Got-Auth", r.Header.Get("Authorization"))
		w.Header().Set("X-Got-Static", r.Header.Get("X-Static"))
		w.Header().Set("X-Got-UA", r.Header.Get("User-Agent"))
		w.Header().Set("X-Got-URI", r.RequestURI)
	}))
	defer other.Close()
	var mwCalls int
	auth := func(next http.RoundTripper) http.RoundTripper {
		return rtFunc(func(req *http.Request) (*http.Response, error) {
			mwCalls++
			req = req.Clone(req.Context())
			req.Header.Set("Authorization", "Bearer secret")
			return next.RoundTrip(req)
		})
	}
	// The innermost transport trusts the TLS test server's certificate.
	inner := other.Client().Transport
	c := newClient(t, srv.URL+"/api/v1", WithMiddleware(auth), WithHeader("X-Static", "static-secret"),
		WithHTTPClient(&http.Client{Transport: inner}))
	tests := []struct {
		name    string
		raw     string
		add     func(r *Request)
		wantURI string
	}{
		{"absolute same origin", srv.URL + "/api/v1/leads?cursor=abc", nil, "/api/v1/leads?cursor=abc"},
		{"absolute path", "/api/v1/leads?page=2", nil, "/api/v1/leads?page=2"},
		{"relative to base path", "leads?page=3", nil, "/api/v1/leads?page=3"},
		{"query only", "?page=4", nil, "/api/v1/?page=4"},
		{"query appended after", "/x?a=1", func(r *Request) { r.AddQuery("limit", StyleForm, true, Scalar("10")) }, "/x?a=1&limit=10"},
		{"no query then added", "/x", func(r *Request) { r.AddQuery("limit", StyleForm, true, Scalar("10")) }, "/x?limit=10"},
		{"escaped path kept", "/files/a%2Fb", nil, "/files/a%2Fb"},
		{"fragment dropped", "/x#frag", nil, "/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.NewRequest(context.Background(), getLead)
			r.AppendPath("/ignored")
			r.AddQuery("ignored", StyleForm, true, Scalar("1"))
			if err := r.SetURL(tt.raw); err != nil {
				t.Fatal(err)
			}
			if tt.add != nil {
				tt.add(r)
			}
			send(t, c, r)
			req, _ := s.last(t)
			if req.RequestURI != tt.wantURI {
				t.Fatalf("server saw %q want %q", req.RequestURI, tt.wantURI)
			}
			if req.Header.Get("Authorization") == "" || req.Header.Get("X-Static") == "" {
				t.Fatal("same-origin requests keep middlewares and static headers")
			}
		})
	}
	t.Run("other origin gets no credentials", func(t *testing.T) {
		before := mwCalls
		r := c.NewRequest(context.Background(), getLead)
		if err := r.SetURL(other.URL + "/page/2?sig=x"); err != nil {
			t.Fatal(err)
		}
		resp := send(t, c, r)
		if resp.Header.Get("X-Got-Auth") != "" || resp.Header.Get("X-Got-Static") != "" || mwCalls != before {
			t.Fatalf("credentials leaked: auth=%q static=%q", resp.Header.Get("X-Got-Auth"), resp.Header.Get("X-Got-Static"))
		}
		if resp.Header.Get("X-Got-UA") != DefaultUserAgent || resp.Header.Get("X-Got-URI") != "/page/2?sig=x" {
			t.Fatalf("UA %q URI %q", resp.Header.Get("X-Got-UA"), resp.Header.Get("X-Got-URI"))
		}
	})
	rejects := []struct {
		name, raw, want string
		opts            []Option
	}{
		{"plain http elsewhere", "http://api.example.com/next", "refusing plain http", nil},
		{"other scheme", "ftp://api.example.com/next", "unsupported URL scheme", nil},
		{"credentials", "https://u:p@api.example.com/", "credentials", nil},
		{"unparsable", "https://api.example.com/%zz", "SetURL", nil},
		{"no host", "https:///path", "no host", nil},
	}
	for _, tt := range rejects {
		t.Run(tt.name, func(t *testing.T) {
			r := c.NewRequest(context.Background(), getLead)
			if err := r.SetURL(tt.raw); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("SetURL(%q) = %v, want %q", tt.raw, err, tt.want)
			}
			if _, err := c.Do(r); err == nil {
				t.Fatal("Do must refuse")
			}
		})
	}
	insecure := newClient(t, "https://api.example.com", WithInsecureHTTP())
	if err := insecure.NewRequest(context.Background(), getLead).SetURL("http://api.example.com/next"); err != nil {
		t.Fatalf("insecure client: %v", err)
	}
	if err := c.NewRequest(context.Background(), getLead).SetURL("http://localhost:1/next"); err != nil {
		t.Fatalf("loopback: %v", err)
	}
}
