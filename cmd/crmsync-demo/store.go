package main

import (
	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/sqlitestore"
)

// openStore opens the engine's state store: an embedded SQLite file.
func openStore(path string) (engine.Store, error) {
	return sqlitestore.Open(path)
}
