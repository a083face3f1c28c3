package pgstore_test

import (
	"context"
	"testing"

	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/engine/enginetest"
	"github.com/connectorgen/connectorgen/runtime/pgstore"
	"github.com/connectorgen/connectorgen/runtime/pgstore/pgtest"
)

// TestOneWriterSuite runs the engine's one-writer conformance check over
// two handles on one schema (issue 7 defect 5).
func TestOneWriterSuite(t *testing.T) {
	enginetest.OneWriterSuite(t, func(t *testing.T) (engine.Store, engine.Store) {
		a := open(t)
		b, err := pgstore.Open(context.Background(), pgtest.URL(t), pgstore.Options{Schema: a.Schema()})
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	})
}

// TestSharedTokenLockSuite: two handles on one schema (two pools, as two
// processes would have) serialise the refreshes of a system's token.
func TestSharedTokenLockSuite(t *testing.T) {
	enginetest.SharedTokenLockSuite(t, func(t *testing.T) (engine.Store, engine.Store) {
		a := open(t)
		b, err := pgstore.Open(context.Background(), pgtest.URL(t), pgstore.Options{Schema: a.Schema()})
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	})
}
