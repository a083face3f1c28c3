package rest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestPageGuard(t *testing.T) {
	g := NewPageGuard("listLeads")
	for _, c := range []string{"a", "b", "c"} {
		if err := g.Next(c); err != nil {
			t.Fatalf("Next(%s): %v", c, err)
		}
	}
	err := g.Next("b")
	var pe *PaginationError
	if !errors.As(err, &pe) || !errors.Is(err, ErrPagination) || pe.Page != 4 || pe.Cursor != "b" || pe.Operation != "listLeads" {
		t.Fatalf("cycle: %v", err)
	}
	g = NewPageGuard("listLeads")
	_ = g.Next(7)
	if err := g.Next(7); err == nil {
		t.Fatal("same integer cursor twice accepted")
	}
	if err := NewPageGuard("op").Missing(); !errors.Is(err, ErrPagination) || !strings.Contains(err.Error(), "without a cursor") {
		t.Fatalf("Missing: %v", err)
	}
	long := "https://api.example.com/leads?cursor=" + strings.Repeat("x", 100)
	g = NewPageGuard("op")
	_ = g.Next(long)
	if err := g.Next(long); err == nil || strings.Contains(err.Error(), strings.Repeat("x", 30)) {
		t.Fatalf("long cursor not shortened: %v", err)
	}
}

// ExamplePageGuard shows what a generated page iterator does with a
// listing's cursors.
func ExamplePageGuard() {
	g := NewPageGuard("listLeads")
	for _, next := range []string{"c1", "c2", "c1"} {
		if err := g.Next(next); err != nil {
			fmt.Println(err)
			return
		}
	}
	// Output: rest: listLeads: page 3: repeated cursor "c1": the listing cannot be read to its end
}
