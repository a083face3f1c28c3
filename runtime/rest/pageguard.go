package rest

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrPagination is matched (errors.Is) by every *PaginationError.
var ErrPagination = errors.New("rest: pagination did not advance")

// PaginationError says a listing cannot be read to its end: a page pointed
// back to a cursor (or next URL) already followed in this iteration — a
// cycle, or a server answering every page with the cursor it was asked
// for — or a page said there was more but gave no cursor to get it. A
// generated page iterator yields it instead of ending silently, so a
// caller (a sync engine) never takes a truncated listing for a complete one.
type PaginationError struct {
	// Operation is the list operation's ID.
	Operation string
	// Page is the 1-based number of the page that did not advance.
	Page int
	// Reason is "repeated cursor" or "more pages announced without a cursor".
	Reason string
	// Cursor is the repeated cursor, shortened (a next URL may carry query
	// values: only its length and first characters are kept).
	Cursor string
}

func (e *PaginationError) Error() string {
	s := "rest: " + e.Operation + ": page " + strconv.Itoa(e.Page) + ": " + e.Reason
	if e.Cursor != "" {
		s += " " + strconv.Quote(e.Cursor)
	}
	return s + ": the listing cannot be read to its end"
}

// Is makes errors.Is(err, ErrPagination) true.
func (e *PaginationError) Is(target error) bool { return target == ErrPagination }

// PageGuard watches one iteration over the pages of a listing (generated
// page iterators make one per iteration; it is not safe for concurrent
// use). Every cursor or next URL followed goes through Next, which refuses
// one already followed in this iteration; Missing is the error for a page
// that announces more pages without a cursor.
type PageGuard struct {
	op    string
	page  int
	seen  map[string]struct{}
	first string
}

// NewPageGuard returns a guard for an iteration over operation op's pages.
func NewPageGuard(op string) *PageGuard { return &PageGuard{op: op} }

// Next records the cursor (or next URL) that leads from the current page to
// the following one. It returns a *PaginationError when the iteration
// followed it before.
func (g *PageGuard) Next(cursor any) error {
	g.page++
	k := fmt.Sprint(cursor)
	switch {
	case g.page == 1:
		// Most listings are one page: no map until a second cursor.
		g.first = k
		return nil
	case k == g.first:
	default:
		if g.seen == nil {
			g.seen = map[string]struct{}{}
		}
		if _, dup := g.seen[k]; !dup {
			g.seen[k] = struct{}{}
			return nil
		}
	}
	return &PaginationError{Operation: g.op, Page: g.page, Reason: "repeated cursor", Cursor: shorten(k)}
}

// Missing returns the error for the current page announcing more pages
// (has_more, a next flag) without a cursor to fetch them.
func (g *PageGuard) Missing() error {
	return &PaginationError{Operation: g.op, Page: g.page + 1, Reason: "more pages announced without a cursor"}
}

func shorten(s string) string {
	const n = 24
	if len(s) <= n {
		return s
	}
	return s[:n] + "…(" + strconv.Itoa(len(s)) + " bytes)"
}
