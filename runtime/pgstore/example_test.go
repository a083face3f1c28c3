package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/pgstore"
)

// Open a store in its own schema and give it to the engine. The example
// runs when CONNECTORGEN_TEST_POSTGRES names a server (it then creates and
// drops the schema "example_pgstore").
func Example() {
	fmt.Println("schema version", pgstore.SchemaVersion())
	url := os.Getenv("CONNECTORGEN_TEST_POSTGRES")
	if url == "" {
		return // no server to show the rest on
	}
	ctx := context.Background()
	store, err := pgstore.Open(ctx, url, pgstore.Options{Schema: "example_pgstore"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() {
		_, _ = store.Pool().Exec(ctx, `DROP SCHEMA example_pgstore CASCADE`)
		store.Close()
	}()
	eng := engine.New(store)
	_ = eng // engine.Add(eng, sync) ... eng.Run(ctx)

	// The one-writer rule: while one engine runs a sync, a second Lock of
	// it, from any process, is refused.
	release, err := store.Lock(ctx, "leads")
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := store.Lock(ctx, "leads"); !errors.Is(err, engine.ErrLocked) {
		fmt.Println("second Lock:", err) // the rule is broken
	}
	release()
	// Output: schema version 3
}
