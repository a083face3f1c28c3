package pgstore

import (
	"context"
	"fmt"
	"net/url"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// SplitURL takes the store's own query parameter (schema=NAME, the
// Options.Schema) off a postgres:// state URL and returns the rest, ready
// for Open or PoolConfig (pgx would send an unknown parameter to the
// server as a setting, which the server refuses).
func SplitURL(u *url.URL) (string, Options, error) {
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return "", Options{}, fmt.Errorf("pgstore: want a postgres:// URL, not %s://", u.Scheme)
	}
	c := *u
	q := c.Query()
	o := Options{Schema: q.Get("schema")}
	if o.Schema != "" && !schemaName.MatchString(o.Schema) {
		return "", Options{}, fmt.Errorf("pgstore: schema=%q: want a PostgreSQL identifier (letters, digits, _)", o.Schema)
	}
	q.Del("schema")
	c.RawQuery = q.Encode()
	return c.String(), o, nil
}

// OpenURL opens the store a postgres:// state URL names (schema=NAME
// selects the schema). Its signature is runtime/service's StoreOpener, so
// a generated main registers it as is when the units should run in each
// process; runtime/riverexec's OpenURL shares them between processes.
func OpenURL(ctx context.Context, u *url.URL) (engine.Store, error) {
	dsn, o, err := SplitURL(u)
	if err != nil {
		return nil, err
	}
	return Open(ctx, dsn, o)
}
