// Package pgtest gives tests a PostgreSQL server to use: the URL from
// CONNECTORGEN_TEST_POSTGRES (the test is skipped with a clear message
// when it is unset) and fresh random schemas that are dropped when the test
// ends. Test support only; production code must not import it.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvVar names the environment variable holding the test server's URL.
const EnvVar = "CONNECTORGEN_TEST_POSTGRES"

// URL returns the test server's URL, skipping t when none is configured.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvVar)
	if u == "" {
		t.Skipf("%s is not set: no PostgreSQL server to test against (set it to a postgres:// URL of a database the tests may create schemas in)", EnvVar)
	}
	return u
}

// Schema returns the name of a fresh schema (not created yet) that is
// dropped, with everything in it, when t ends.
func Schema(t testing.TB, url string) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "cgtest_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("dropping schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", name, err)
		}
	})
	return name
}
