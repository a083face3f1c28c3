package pagination_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/connectorgen/connectorgen/golden/cases/pagination/pagination"
	"github.com/connectorgen/connectorgen/runtime/oas"
	"github.com/connectorgen/connectorgen/runtime/rest"
	"github.com/connectorgen/connectorgen/runtime/secret"
)

// hostile serves listings that do not advance properly. Each handler gets
// the request number (1-based); after 50 requests every answer is a 400, so
// an iterator that loops forever fails the test instead of hanging it.
func hostile(t *testing.T, h func(n int64, w http.ResponseWriter, r *http.Request)) (*pagination.Client, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := n.Add(1)
		if k > 50 {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		h(k, w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := pagination.NewClient(srv.URL, pagination.WithToken(secret.New("s3cr3t")))
	if err != nil {
		t.Fatal(err)
	}
	return c, &n
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// drain reads every item and returns the IDs before the error.
func drain(seq func(func(pagination.Item, error) bool)) ([]string, error) {
	var out []string
	for it, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, it.ID)
	}
	return out, nil
}

func wantPaginationError(t *testing.T, err error, reason string) {
	t.Helper()
	var pe *rest.PaginationError
	if !errors.As(err, &pe) || !errors.Is(err, rest.ErrPagination) || pe.Reason != reason {
		t.Fatalf("err = %v, want a *rest.PaginationError (%s): a listing that cannot be read to its end must not end silently", err, reason)
	}
}

// TestPageRepeatingItsCursorIsError: from page 2 on the server answers
// with the cursor it was asked for while saying has_more: the old iterator
// ended silently after page 2 (the caller took the listing for complete).
func TestPageRepeatingItsCursorIsError(t *testing.T) {
	c, _ := hostile(t, func(n int64, w http.ResponseWriter, r *http.Request) {
		at, _ := strconv.Atoi(r.URL.Query().Get("cursor"))
		next := strconv.Itoa(at + 3)
		if at > 0 {
			next = r.URL.Query().Get("cursor")
		}
		writeJSON(w, map[string]any{"data": items(at, at+3), "has_more": true, "next_cursor": next})
	})
	got, err := drain(c.ListByCursorItems(ctx, pagination.ListByCursorParams{}))
	wantPaginationError(t, err, "repeated cursor")
	if len(got) != 6 {
		t.Fatalf("items before the error: %v", got)
	}
}

// TestPageHasMoreWithoutCursorIsError: a page says has_more but gives no
// next cursor.
func TestPageHasMoreWithoutCursorIsError(t *testing.T) {
	c, _ := hostile(t, func(n int64, w http.ResponseWriter, r *http.Request) {
		at, _ := strconv.Atoi(r.URL.Query().Get("cursor"))
		page := map[string]any{"data": items(at, at+3), "has_more": true, "next_cursor": nil}
		if at == 0 {
			page["next_cursor"] = "3"
		}
		writeJSON(w, page)
	})
	_, err := drain(c.ListByCursorItems(ctx, pagination.ListByCursorParams{}))
	wantPaginationError(t, err, "more pages announced without a cursor")
}

// TestPaginationCycleIsError: page 3 points back to page 2. The old
// iterator looped forever; now the cycle is reported after 3 requests.
func TestPaginationCycleIsError(t *testing.T) {
	c, n := hostile(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
		at, _ := strconv.Atoi(r.URL.Query().Get("cursor"))
		next := at + 3
		if at == 6 {
			next = 3
		}
		writeJSON(w, map[string]any{"data": items(at, at+3), "has_more": true, "next_cursor": strconv.Itoa(next)})
	})
	_, err := drain(c.ListByCursorItems(ctx, pagination.ListByCursorParams{}))
	wantPaginationError(t, err, "repeated cursor")
	if n.Load() != 3 {
		t.Fatalf("%d requests, want 3", n.Load())
	}
}

// TestNextURLCycleIsError: a next URL pointing back to an earlier page.
func TestNextURLCycleIsError(t *testing.T) {
	c, n := hostile(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
		at, _ := strconv.Atoi(r.URL.Query().Get("at"))
		next := fmt.Sprintf("next?at=%d", at+3)
		if at == 3 {
			next = "next?at=3" // the page points to itself
		}
		writeJSON(w, map[string]any{"values": items(at, at+3), "links": map[string]any{"next": next}})
	})
	got, err := drain(c.ListByNextURLItems(ctx, pagination.ListByNextURLParams{}))
	wantPaginationError(t, err, "repeated cursor")
	if len(got) != 6 || n.Load() != 2 {
		t.Fatalf("items %v after %d requests", got, n.Load())
	}
}

// TestLinkHeaderCycleIsError: a Link rel=next pointing back to page 1.
func TestLinkHeaderCycleIsError(t *testing.T) {
	c, _ := hostile(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
		pg, _ := strconv.Atoi(r.URL.Query().Get("page"))
		next := pg + 1
		if pg == 2 {
			next = 1
		}
		w.Header().Add("Link", fmt.Sprintf(`<?page=%d&per_page=3>; rel="next"`, next))
		writeJSON(w, items(pg*3, pg*3+3))
	})
	_, err := drain(c.ListByLinkItems(ctx, pagination.ListByLinkParams{PerPage: oas.Some(int64(3))}))
	wantPaginationError(t, err, "repeated cursor")
}

// TestItemCursorIgnoredIsError: a server ignoring starting_after returns
// the same page (with has_more) forever.
func TestItemCursorIgnoredIsError(t *testing.T) {
	c, n := hostile(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"data": items(0, 3), "has_more": true})
	})
	_, err := drain(c.ListAfterItems(ctx, pagination.ListAfterParams{}))
	wantPaginationError(t, err, "repeated cursor")
	if n.Load() != 2 {
		t.Fatalf("%d requests, want 2", n.Load())
	}
}
