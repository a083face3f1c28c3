package syncutil_test

import (
	"fmt"

	"github.com/connectorgen/connectorgen/runtime/oas"
	"github.com/connectorgen/connectorgen/runtime/syncutil"
)

// Generated sync code snapshots each mapped field as canonical JSON.
func ExampleFieldJSON() {
	s, ok := syncutil.FieldJSON(oas.Value("gold"))
	fmt.Println(s, ok)
	s, ok = syncutil.FieldJSON(oas.Null[string]())
	fmt.Println(s, ok)
	// Output:
	// "gold" true
	// null true
}

func ExampleSquash() {
	fmt.Printf("%q\n", syncutil.Squash("  Ada   Lovelace "))
	// Output: "Ada Lovelace"
}
