package sqlitestore_test

import (
	"path/filepath"
	"testing"

	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/engine/enginetest"
	"github.com/connectorgen/connectorgen/runtime/sqlitestore"
)

func open(t testing.TB) *sqlitestore.Store {
	t.Helper()
	s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStoreSuite(t *testing.T) {
	enginetest.StoreSuite(t, func(t *testing.T) engine.Store { return open(t) })
}
