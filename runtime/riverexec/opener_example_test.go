package riverexec_test

import (
	"context"
	"fmt"
	"net/url"
	"os"

	"github.com/connectorgen/connectorgen/runtime/riverexec"
	"github.com/connectorgen/connectorgen/runtime/service"
)

// OpenURL is what a generated main registers for postgres:// -state URLs
// (service: { state: [postgres] } in the mapping file); the service
// host's run command takes the store's River executor. The example runs
// against CONNECTORGEN_TEST_POSTGRES when it is set (it creates and drops
// the schema "example_openurl").
func ExampleOpenURL() {
	stores := map[string]service.StoreOpener{"postgres": riverexec.OpenURL, "postgresql": riverexec.OpenURL}
	fmt.Println("schemes:", len(stores))
	pg := os.Getenv("CONNECTORGEN_TEST_POSTGRES")
	if pg == "" {
		return // no server to show the rest on
	}
	u, err := url.Parse(pg)
	if err != nil {
		fmt.Println(err)
		return
	}
	q := u.Query()
	q.Set("schema", "example_openurl")
	q.Set("workers", "0") // insert-only: this process works no jobs
	u.RawQuery = q.Encode()
	ctx := context.Background()
	st, err := stores[u.Scheme](ctx, u)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	rs := st.(*riverexec.Store)
	defer rs.Pool().Exec(ctx, `DROP SCHEMA IF EXISTS example_openurl CASCADE`)
	if rs.Schema() != "example_openurl" {
		fmt.Println("the URL's schema was ignored:", rs.Schema())
	}
	// Output:
	// schemes: 2
}
