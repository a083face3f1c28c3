package riverexec_test

import (
	"context"
	"fmt"
	"iter"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/pgstore"
	"github.com/connectorgen/connectorgen/runtime/riverexec"
)

// A worker process: state in pgstore, units of work on River, the sync
// polled every minute by whichever worker River hands the job to. Start
// as many such processes as you like on the same database and schema. The
// example runs when CONNECTORGEN_TEST_POSTGRES names a server (it creates
// and drops the schema "example_riverexec").
func Example() {
	fmt.Println("jobs:", riverexec.KindPoll, riverexec.KindQueue, riverexec.KindReplay)
	url := os.Getenv("CONNECTORGEN_TEST_POSTGRES")
	if url == "" {
		return // no server to show the rest on
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Close()
	defer pool.Exec(ctx, `DROP SCHEMA IF EXISTS example_riverexec CASCADE`)
	store, err := pgstore.New(ctx, pool, pgstore.Options{Schema: "example_riverexec"})
	if err != nil {
		fmt.Println(err)
		return
	}
	x, err := riverexec.New(ctx, pool, store, riverexec.Config{
		Schedules: []riverexec.Schedule{{Sync: "numbers", Every: time.Minute}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	eng := engine.New(store, engine.WithExecutor(x))
	var mu sync.Mutex
	written := map[string]int{}
	err = engine.Add(eng, &engine.Sync[int, int]{
		Name: "numbers", CursorKind: engine.CursorInt,
		Poll: func(ctx context.Context, since engine.Cursor) iter.Seq2[int, error] {
			return func(yield func(int, error) bool) {
				for i := 1; i <= 3 && yield(i, nil); i++ {
				}
			}
		},
		Key:     func(n *int) string { return fmt.Sprint(*n) },
		Version: func(n *int) int64 { return 1 },
		Cursor:  func(n *int) engine.Cursor { return engine.Cursor{Int: int64(*n)} },
		Map:     func(_ context.Context, n *int, _ engine.Lookups, _ bool) (int, error) { return *n, nil },
		Create: func(_ context.Context, n *int, _ string) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			written[fmt.Sprint(*n)]++
			return fmt.Sprint(*n), nil
		},
		Update: func(context.Context, string, *int, string) error { return nil },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	x.Bind(eng)
	done, cancel := x.Client().Subscribe(river.EventKindJobCompleted)
	defer cancel()
	if err := x.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer x.Stop(ctx)
	select {
	case <-done: // the scheduled poll ran on this worker
	case <-time.After(time.Minute):
		fmt.Println("no job completed")
	}
	mu.Lock()
	if len(written) != 3 {
		fmt.Println("written:", written)
	}
	mu.Unlock()
	// Output: jobs: connectorgen_poll connectorgen_queue connectorgen_replay
}
