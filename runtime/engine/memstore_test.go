package engine_test

import (
	"testing"

	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/engine/enginetest"
)

func TestMemoryStoreSuite(t *testing.T) {
	enginetest.StoreSuite(t, func(*testing.T) engine.Store { return engine.NewMemoryStore() })
}
