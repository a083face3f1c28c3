package pgstore_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/connectorgen/connectorgen/runtime/pgstore"
)

func TestSplitURL(t *testing.T) {
	u, _ := url.Parse("postgres://app@db.internal:5432/connectors?sslmode=require&schema=crm_1&pool_max_conns=8")
	dsn, o, err := pgstore.SplitURL(u)
	if err != nil {
		t.Fatal(err)
	}
	if o.Schema != "crm_1" {
		t.Errorf("schema %q, want crm_1", o.Schema)
	}
	if strings.Contains(dsn, "schema=") || !strings.Contains(dsn, "sslmode=require") || !strings.Contains(dsn, "pool_max_conns=8") {
		t.Errorf("connection URL %q: want pgx's parameters kept and schema taken off", dsn)
	}
	if _, err := pgstore.PoolConfig(dsn); err != nil {
		t.Errorf("pgx refuses the connection URL: %v", err)
	}
	for raw, want := range map[string]string{
		"postgres://h/db?schema=1abc": "schema=",
		"mysql://h/db":                "postgres://",
	} {
		u, _ := url.Parse(raw)
		if _, _, err := pgstore.SplitURL(u); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want one mentioning %q", raw, err, want)
		}
	}
}

// OpenURL is a runtime/service StoreOpener for postgres:// -state URLs
// whose units run in the calling process (riverexec.OpenURL shares them
// between processes). The example runs against CONNECTORGEN_TEST_POSTGRES
// when it is set (it creates and drops the schema "example_pg_openurl").
func ExampleOpenURL() {
	pg := os.Getenv("CONNECTORGEN_TEST_POSTGRES")
	if pg == "" {
		return // no server to show it on
	}
	u, err := url.Parse(pg)
	if err != nil {
		fmt.Println(err)
		return
	}
	q := u.Query()
	q.Set("schema", "example_pg_openurl")
	u.RawQuery = q.Encode()
	ctx := context.Background()
	st, err := pgstore.OpenURL(ctx, u)
	if err != nil {
		fmt.Println(err)
		return
	}
	s := st.(*pgstore.Store)
	defer s.Close()
	defer s.Pool().Exec(ctx, `DROP SCHEMA IF EXISTS example_pg_openurl CASCADE`)
	if s.Schema() != "example_pg_openurl" {
		fmt.Println("the URL's schema was ignored:", s.Schema())
	}
	// Output:
}
