package pagination_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/connectorgen/connectorgen/golden/cases/pagination/pagination"
	"github.com/connectorgen/connectorgen/runtime/oas"
	"github.com/connectorgen/connectorgen/runtime/rest"
	"github.com/connectorgen/connectorgen/runtime/secret"
)

var all = []string{"a", "b", "c", "d", "e", "f", "g"}

func items(from, to int) []pagination.Item {
	to = min(to, len(all))
	out := []pagination.Item{}
	for _, id := range all[min(from, to):to] {
		out = append(out, pagination.Item{ID: id})
	}
	return out
}

// api serves every pagination style over all, with pages of three, and
// records the request targets and Authorization headers it saw.
type api struct {
	mu      sync.Mutex
	targets []string
	auth    []string
	failAt  string // a request target that gets a 400
	srv     *httptest.Server
	other   *httptest.Server // another origin, for next URLs
}

func (a *api) record(r *http.Request) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.targets = append(a.targets, r.Host+" "+r.RequestURI)
	a.auth = append(a.auth, r.Header.Get("Authorization"))
	return a.failAt != "" && r.RequestURI == a.failAt
}

func newAPI(t *testing.T) (*api, *pagination.Client) {
	t.Helper()
	a := &api{}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	a.other = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	t.Cleanup(a.other.Close)
	c, err := pagination.NewClient(a.srv.URL, pagination.WithToken(secret.New("s3cr3t")))
	if err != nil {
		t.Fatal(err)
	}
	return a, c
}

func (a *api) serve(w http.ResponseWriter, r *http.Request) {
	if a.record(r) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"boom"}`)
		return
	}
	q := r.URL.Query()
	num := func(k string, def int) int {
		if v := q.Get(k); v != "" {
			n, _ := strconv.Atoi(v)
			return n
		}
		return def
	}
	var body any
	switch r.URL.Path {
	case "/cursor":
		at := num("cursor", 0)
		n := num("limit", 3)
		page := map[string]any{"data": items(at, at+n), "has_more": at+n < len(all)}
		if at+n < len(all) {
			page["next_cursor"] = strconv.Itoa(at + n)
		} else {
			page["next_cursor"] = nil
		}
		body = page
	case "/offset":
		at, n := num("offset", 0), num("limit", 3)
		body = map[string]any{"items": items(at, at+n), "total": len(all)}
	case "/pages":
		pg, n := num("page", 0), num("per_page", 3)
		body = map[string]any{"results": items(pg*n, pg*n+n)}
	case "/next":
		at := num("at", 0)
		page := map[string]any{"values": items(at, at+3)}
		switch at {
		case 0:
			page["links"] = map[string]any{"next": "next?at=3"} // relative
		case 3:
			page["links"] = map[string]any{"next": a.other.URL + "/next?at=6"} // another origin
		}
		body = page
	case "/linked":
		pg, n := num("page", 0), num("per_page", 3)
		if (pg+1)*n < len(all) {
			if pg == 0 {
				w.Header().Add("Link", fmt.Sprintf(`<%s/linked?page=1&per_page=%d>; rel="next", <%s/linked?page=9>; rel="last"`, a.srv.URL, n, a.srv.URL))
			} else {
				w.Header().Add("Link", fmt.Sprintf(`<?page=%d&per_page=%d>; rel=next`, pg+1, n)) // relative to the request
			}
		}
		body = items(pg*n, pg*n+n)
	case "/after":
		at := 0
		if after := q.Get("starting_after"); after != "" {
			at = strings.Index(strings.Join(all, ""), after) + 1
		}
		body = map[string]any{"data": items(at, at+3), "has_more": at+3 < len(all)}
	case "/declared":
		at := num("token", 0)
		page := map[string]any{"entries": items(at, at+3)}
		if at+3 < len(all) {
			page["token"] = strconv.Itoa(at + 3)
		}
		body = map[string]any{"page": page}
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(body)
}

func (a *api) paths() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, t := range a.targets {
		_, p, _ := strings.Cut(t, " ")
		out = append(out, p)
	}
	return out
}

func ids(t *testing.T, seq func(func(pagination.Item, error) bool)) string {
	t.Helper()
	var out []string
	for it, err := range seq {
		if err != nil {
			t.Fatalf("after %v: %v", out, err)
		}
		out = append(out, it.ID)
	}
	return strings.Join(out, "")
}

var ctx = context.Background()

func TestEveryStyleYieldsEveryItem(t *testing.T) {
	cases := []struct {
		name  string
		seq   func(c *pagination.Client) func(func(pagination.Item, error) bool)
		paths string
	}{
		{"cursor", func(c *pagination.Client) func(func(pagination.Item, error) bool) {
			return c.ListByCursorItems(ctx, pagination.ListByCursorParams{})
		}, "/cursor /cursor?cursor=3 /cursor?cursor=6"},
		{"offset", func(c *pagination.Client) func(func(pagination.Item, error) bool) {
			return c.ListByOffsetItems(ctx, pagination.ListByOffsetParams{Limit: 3})
		}, "/offset?limit=3 /offset?offset=3&limit=3 /offset?offset=6&limit=3"}, // a short page is the last
		{"page", func(c *pagination.Client) func(func(pagination.Item, error) bool) {
			return c.ListByPageItems(ctx, pagination.ListByPageParams{})
		}, "/pages /pages?page=1 /pages?page=2 /pages?page=3"}, // no page size: an empty page ends it
		{"next url", func(c *pagination.Client) func(func(pagination.Item, error) bool) {
			return c.ListByNextURLItems(ctx, pagination.ListByNextURLParams{Q: oas.Some("x")})
		}, "/next?q=x /next?at=3 /next?at=6"},
		{"link header", func(c *pagination.Client) func(func(pagination.Item, error) bool) {
			return c.ListByLinkItems(ctx, pagination.ListByLinkParams{PerPage: oas.Some(int64(3))})
		}, "/linked?per_page=3 /linked?page=1&per_page=3 /linked?page=2&per_page=3"},
		{"item cursor", func(c *pagination.Client) func(func(pagination.Item, error) bool) {
			return c.ListAfterItems(ctx, pagination.ListAfterParams{})
		}, "/after /after?starting_after=c /after?starting_after=f"},
		{"declared", func(c *pagination.Client) func(func(pagination.Item, error) bool) {
			return c.ListDeclaredItems(ctx, pagination.ListDeclaredParams{})
		}, "/declared /declared?token=3 /declared?token=6"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, c := newAPI(t)
			if got := ids(t, tc.seq(c)); got != "abcdefg" {
				t.Errorf("items %q, want abcdefg", got)
			}
			if got := strings.Join(a.paths(), " "); got != tc.paths {
				t.Errorf("requests %s\n    want %s", got, tc.paths)
			}
		})
	}
}

// An error ends the iteration: it is yielded once, and no further page is
// requested.
func TestStopsOnError(t *testing.T) {
	a, c := newAPI(t)
	a.failAt = "/cursor?cursor=3"
	var got []string
	var errs []error
	for it, err := range c.ListByCursorItems(ctx, pagination.ListByCursorParams{}) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		got = append(got, it.ID)
	}
	if strings.Join(got, "") != "abc" || len(errs) != 1 {
		t.Fatalf("items %v, errors %v", got, errs)
	}
	var apiErr *rest.Error
	if !errors.As(errs[0], &apiErr) || apiErr.StatusCode != 400 || string(apiErr.Body) != `{"error":"boom"}` {
		t.Errorf("err = %#v", errs[0])
	}
	if n := len(a.paths()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

// Breaking out of the loop stops fetching.
func TestBreakStopsFetching(t *testing.T) {
	a, c := newAPI(t)
	for it, err := range c.ListByOffsetItems(ctx, pagination.ListByOffsetParams{Limit: 3}) {
		if err != nil {
			t.Fatal(err)
		}
		if it.ID == "b" {
			break
		}
	}
	if n := len(a.paths()); n != 1 {
		t.Errorf("%d requests after breaking on the first page, want 1", n)
	}
}

// A cursor saved from a page resumes the iteration after that page.
func TestResumeFromSavedCursor(t *testing.T) {
	_, c := newAPI(t)
	var saved string
	for page, err := range c.ListByCursorPages(ctx, pagination.ListByCursorParams{}) {
		if err != nil {
			t.Fatal(err)
		}
		saved = oas.Or(page.NextCursor, "")
		break // the process stops after the first page
	}
	if saved != "3" {
		t.Fatalf("saved cursor %q", saved)
	}
	if got := ids(t, c.ListByCursorItems(ctx, pagination.ListByCursorParams{Cursor: oas.Some(saved)})); got != "defg" {
		t.Errorf("resumed items %q, want defg", got)
	}
	// Offset and page numbers resume the same way.
	if got := ids(t, c.ListByOffsetItems(ctx, pagination.ListByOffsetParams{Offset: oas.Some(int64(6)), Limit: 3})); got != "g" {
		t.Errorf("from offset 6: %q", got)
	}
	if got := ids(t, c.ListByPageItems(ctx, pagination.ListByPageParams{Page: oas.Some(int64(1))})); got != "defg" {
		t.Errorf("from page 1: %q", got)
	}
}

// URL-following styles resume from the next URL the single-page method
// returns.
func TestResumeFromSavedNextURL(t *testing.T) {
	a, c := newAPI(t)
	p := pagination.ListByLinkParams{PerPage: oas.Some(int64(2))}
	first, next, err := c.ListByLinkPage(ctx, p, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 2 || next != a.srv.URL+"/linked?page=1&per_page=2" {
		t.Fatalf("first page %v, next %q", first, next)
	}
	second, next, err := c.ListByLinkPage(ctx, p, next)
	if err != nil {
		t.Fatal(err)
	}
	// The relative Link target is resolved against the request's URL.
	if len(second) != 2 || second[0].ID != "c" || next != a.srv.URL+"/linked?page=2&per_page=2" {
		t.Fatalf("second page %v, next %q", second, next)
	}
	var got []string
	for page, err := range c.ListByLinkPagesFrom(ctx, p, next) {
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page {
			got = append(got, it.ID)
		}
	}
	if strings.Join(got, "") != "efg" {
		t.Errorf("resumed items %v, want efg", got)
	}

	// The body's next URL comes back from the single-page method too.
	page, next, err := c.ListByNextURLPage(ctx, pagination.ListByNextURLParams{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Values) != 3 || next != "next?at=3" {
		t.Fatalf("next-URL page %+v, next %q", page, next)
	}
	var rest []string
	for page, err := range c.ListByNextURLPagesFrom(ctx, pagination.ListByNextURLParams{}, next) {
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Values {
			rest = append(rest, it.ID)
		}
	}
	if strings.Join(rest, "") != "defg" {
		t.Errorf("resumed next-URL items %v, want defg", rest)
	}
}

// A next URL on another origin is followed without the credentials meant
// for the API's own origin.
func TestNextURLOnAnotherOriginGetsNoCredentials(t *testing.T) {
	a, c := newAPI(t)
	if got := ids(t, c.ListByNextURLItems(ctx, pagination.ListByNextURLParams{})); got != "abcdefg" {
		t.Fatalf("items %q", got)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.targets) != 3 {
		t.Fatalf("requests %v", a.targets)
	}
	self, other := strings.TrimPrefix(a.srv.URL, "http://"), strings.TrimPrefix(a.other.URL, "http://")
	want := []struct{ host, auth string }{{self, "Bearer s3cr3t"}, {self, "Bearer s3cr3t"}, {other, ""}}
	for i, w := range want {
		host, _, _ := strings.Cut(a.targets[i], " ")
		if host != w.host || a.auth[i] != w.auth {
			t.Errorf("request %d to %s with Authorization %q; want %s with %q", i, host, a.auth[i], w.host, w.auth)
		}
	}
}
