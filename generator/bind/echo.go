package bind

import "github.com/connectorgen/connectorgen/generator/ir"

// linkEchoes points each sync declaring echo_suppression at the bound sync
// writing the other way (echoSuppression found it by name). A reverse sync
// that failed to bind has reported its own errors.
func linkEchoes(conn *ir.Connector, echoes map[*ir.Sync]string) {
	byName := make(map[string]*ir.Sync, len(conn.Syncs))
	for _, s := range conn.Syncs {
		byName[s.Name] = s
	}
	for _, s := range conn.Syncs {
		if back, ok := echoes[s]; ok && back != "" {
			s.Echo = byName[back]
		}
	}
}
