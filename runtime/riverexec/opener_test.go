package riverexec_test

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/pgstore"
	"github.com/connectorgen/connectorgen/runtime/riverexec"
	"github.com/connectorgen/connectorgen/runtime/service"
)

// The openers fit the service host's registry and its worker interface.
var (
	_ service.StoreOpener = riverexec.OpenURL
	_ service.StoreOpener = pgstore.OpenURL
	_ service.WorkerStore = (*riverexec.Store)(nil)
)

func TestOpenURLRefusesBadParameters(t *testing.T) {
	for raw, want := range map[string]string{
		"postgres://127.0.0.1:1/x?workers=-1":        "workers=",
		"postgres://127.0.0.1:1/x?workers=many":      "workers=",
		"postgres://127.0.0.1:1/x?rescue_after=soon": "rescue_after=",
		"postgres://127.0.0.1:1/x?schema=a-b":        "schema=",
		"mysql://127.0.0.1:1/x":                      "postgres://",
	} {
		u, _ := url.Parse(raw)
		_, err := riverexec.OpenURL(context.Background(), u)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want one mentioning %q", raw, err, want)
		}
	}
}

func TestOpenURLWorkerExecutor(t *testing.T) {
	pg := os.Getenv("CONNECTORGEN_TEST_POSTGRES")
	if pg == "" {
		t.Skip("CONNECTORGEN_TEST_POSTGRES is unset (a postgres:// URL of a database the test may create schemas in)")
	}
	u, err := url.Parse(pg)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	schema := "openurl_" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "_"))
	q.Set("schema", schema)
	q.Set("workers", "2")
	q.Set("worker_id", "w1")
	u.RawQuery = q.Encode()
	ctx := context.Background()
	st, err := riverexec.OpenURL(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rs := st.(*riverexec.Store)
	if got := rs.Schema(); got != schema {
		t.Errorf("schema %q, want %q (the URL's schema parameter)", got, schema)
	}
	x, err := rs.Executor(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	wx, ok := x.(service.WorkerExecutor)
	if !ok {
		t.Fatalf("executor %T is no service.WorkerExecutor", x)
	}
	wx.Bind(engine.New(st, engine.WithExecutor(wx)))
	if err := wx.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := wx.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := rs.Pool().QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'river_job'`, schema).Scan(&n); err != nil || n != 1 {
		t.Errorf("River's tables not in schema %s (count %d, err %v)", schema, n, err)
	}
	_, _ = rs.Pool().Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`)
}
