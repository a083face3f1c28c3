package params_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/golden/cases/params/params"
	"github.com/connectorgen/connectorgen/runtime/oas"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

// seen is what the server received.
type seen struct {
	uri    string // the request target exactly as sent
	header http.Header
}

func server(t *testing.T) (*params.Client, *seen) {
	t.Helper()
	s := &seen{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.uri, s.header = r.RequestURI, r.Header.Clone()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	c, err := params.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}

var (
	pt   = params.Point{X: 1, Y: 2}
	ptL  = params.Point{X: 1, Y: 2, Label: oas.Some("a b")}
	ctx  = context.Background()
	days = []oas.Date{oas.NewDate(2024, 1, 2), oas.NewDate(2024, 1, 3)}
)

func TestPathStyles(t *testing.T) {
	c, s := server(t)
	cases := []struct {
		name string
		call func() error
		want string
	}{
		{"simple", func() error {
			return c.SimplePath(ctx, params.SimplePathParams{ID: "a b/c", IDs: []string{"x", "y,z"}, IDsEx: []int64{1, -2}, Obj: ptL, ObjEx: pt})
		}, "/simple/a%20b%2Fc/x,y%2Cz/1,-2/label,a%20b,x,1,y,2/x=1,y=2"},
		{"label", func() error {
			return c.LabelPath(ctx, params.LabelPathParams{ID: "a.b", IDs: []string{"x", "y"}, IDsEx: []string{"x", "y"}, Obj: pt, ObjEx: pt})
		}, "/label/.a.b/.x,y/.x.y/.x,1,y,2/.x=1.y=2"},
		{"matrix", func() error {
			return c.MatrixPath(ctx, params.MatrixPathParams{ID: 5, IDs: []string{"x", "y"}, IDsEx: []string{"x", "y"}, Obj: pt, ObjEx: ptL})
		}, "/matrix/;id=5/;ids=x,y/;idsEx=x;idsEx=y/;obj=x,1,y,2/;label=a%20b;x=1;y=2"},
	}
	for _, tc := range cases {
		if err := tc.call(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if s.uri != tc.want {
			t.Errorf("%s: sent %s\n          want %s", tc.name, s.uri, tc.want)
		}
	}
}

// Characters with a meaning in URLs never change the request's structure.
func TestReservedCharactersEscaped(t *testing.T) {
	c, s := server(t)
	cases := []struct {
		name, v, want string
	}{
		{"a/b?c#d%e", "x&y=z", "/files/a%2Fb%3Fc%23d%25e?v=x%26y%3Dz"},
		{"é;,", "+ /?", "/files/%C3%A9%3B%2C?v=%2B%20%2F%3F"},
		{"tilde~under_dot.", "~", "/files/tilde~under_dot.?v=~"},
	}
	for _, tc := range cases {
		if err := c.GetFile(ctx, params.GetFileParams{Name: tc.name, V: oas.Some(tc.v)}); err != nil {
			t.Fatal(err)
		}
		if s.uri != tc.want {
			t.Errorf("GetFile(%q, %q): sent %s, want %s", tc.name, tc.v, s.uri, tc.want)
		}
	}
}

func TestQueryStyles(t *testing.T) {
	c, s := server(t)
	uid := oas.MustParseUUID("0b7e0c4a-4f7e-4b0e-9d2e-2f1d0f3c9a11")
	err := c.Query(ctx, params.QueryParams{
		Q:        oas.Some("a b&c=d/é+"),
		N:        oas.Some(int64(-3)),
		F:        oas.Some(1.5),
		B:        oas.Some(false),
		When:     oas.Some(time.Date(2024, 1, 2, 3, 4, 5, 600_000_000, time.FixedZone("", 3600))),
		Day:      oas.Some(oas.NewDate(2024, 2, 29)),
		UID:      oas.Some(uid),
		Req:      0,
		Tags:     []string{"a", "b c"},
		CSV:      []int64{1, 2},
		Spaced:   []string{"a", "b"},
		Piped:    []string{"a", "b|c"},
		Filter:   oas.Some(params.Filter{Name: oas.Some("n"), Tags: []string{"t1", "t2"}, Range: &params.FilterRange{From: oas.Some(int64(1)), To: oas.Some(int64(9))}}),
		Point:    oas.Some(pt),
		PointCSV: oas.Some(ptL),
		Days:     days,
		Doc:      oas.Some(pt),
		Times:    []time.Time{time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), time.Date(2024, 1, 3, 0, 0, 0, 0, time.FixedZone("", -7200))},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "/query?q=a%20b%26c%3Dd%2F%C3%A9%2B&n=-3&f=1.5&b=false&when=2024-01-02T03%3A04%3A05.6%2B01%3A00&day=2024-02-29" +
		"&uid=0b7e0c4a-4f7e-4b0e-9d2e-2f1d0f3c9a11&req=0&tags=a&tags=b%20c&csv=1,2&spaced=a%20b&piped=a|b%7Cc" +
		"&filter[name]=n&filter[range][from]=1&filter[range][to]=9&filter[tags][0]=t1&filter[tags][1]=t2" +
		"&x=1&y=2&pointCsv=label,a%20b,x,1,y,2&days=2024-01-02&days=2024-01-03&doc=%7B%22x%22%3A1%2C%22y%22%3A2%7D" +
		"&times=2024-01-02T03%3A04%3A05Z,2024-01-03T00%3A00%3A00-02%3A00"
	if s.uri != want {
		t.Errorf("sent %s\nwant %s", s.uri, want)
	}

	// Absent optional parameters are left out; a required zero is sent;
	// an empty (non-nil) list has no value to send.
	if err := c.Query(ctx, params.QueryParams{Tags: []string{}}); err != nil {
		t.Fatal(err)
	}
	if s.uri != "/query?req=0" {
		t.Errorf("sent %s, want /query?req=0", s.uri)
	}
}

func TestHeadersAndCookies(t *testing.T) {
	c, s := server(t)
	err := c.Headers(ctx, params.HeadersParams{
		XID:      oas.Some("v 1"),
		XCount:   3,
		XTags:    []string{"a", "b"},
		XTimes:   []time.Time{time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), time.Date(2024, 1, 3, 0, 0, 0, 5e8, time.UTC)},
		XPoint:   oas.Some(pt),
		XPointEx: oas.Some(ptL),
		Session:  oas.Some("abc"),
		Prefs:    []string{"a", "b"},
		IDs:      []int64{1, 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"X-Id":       "v 1",
		"X-Count":    "3",
		"X-Tags":     "a,b",
		"X-Times":    "2024-01-02T03:04:05Z,2024-01-03T00:00:00.5Z",
		"X-Point":    "x,1,y,2",
		"X-Point-Ex": "label=a b,x=1,y=2",
		"Cookie":     "session=abc; prefs=a,b; ids=1; ids=2",
	}
	for k, v := range want {
		if got := s.header.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}

	// Only what is given is sent.
	if err := c.Headers(ctx, params.HeadersParams{XCount: 0}); err != nil {
		t.Fatal(err)
	}
	if s.header.Get("X-Count") != "0" || s.header.Get("Cookie") != "" || s.header.Get("X-Id") != "" || s.header.Get("X-Tags") != "" {
		t.Errorf("headers %v", s.header)
	}

	// A header value that would split the request is refused before
	// anything is sent.
	s.uri = ""
	err = c.Headers(ctx, params.HeadersParams{XID: oas.Some("a\r\nX-Evil: 1")})
	if !errors.Is(err, transport.ErrValidation) {
		t.Errorf("err = %v, want a validation error", err)
	}
	if s.uri != "" {
		t.Error("the request was sent")
	}
}

// TestFixedMediaTypeHeaders: required Accept and Content-Type header
// parameters with a fixed value are sent with that value; a body's media
// type stays the body's, and one without a fixed value is not sent.
func TestFixedMediaTypeHeaders(t *testing.T) {
	c, s := server(t)
	if _, err := c.Versioned(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.header.Values("Accept"); len(got) != 1 || got[0] != "application/vnd.example+json;version=2" {
		t.Errorf("Accept %q", got)
	}
	if got := s.header.Values("Content-Type"); len(got) != 1 || got[0] != "application/json" {
		t.Errorf("Content-Type %q", got)
	}
	if err := c.VersionedCreate(ctx, params.VersionedCreateRequest{Name: oas.Some("a")}); err != nil {
		t.Fatal(err)
	}
	if got := s.header.Values("Content-Type"); len(got) != 1 || got[0] != "application/json" {
		t.Errorf("Content-Type %q", got)
	}
	if got := s.header.Get("Accept"); got != "" {
		t.Errorf("Accept %q sent for an operation without a fixed Accept or a response body", got)
	}
}
