package pgstore_test

import (
	"context"
	"fmt"
	"iter"
	"strconv"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// BenchmarkEngine is runtime/sqlitestore's BenchmarkEngine on pgstore: one
// engine run over b.N records with a target that does nothing, so that
// the store's cost per record is what is measured ("create": every record
// is new; "unchanged": a second run finds every record as it was). Compare
// with `go test -bench BenchmarkEngine ./runtime/sqlitestore` on the same
// machine.
func BenchmarkEngine(b *testing.B) {
	for _, mode := range []string{"create", "unchanged"} {
		b.Run("postgres/"+mode, func(b *testing.B) {
			b.ReportAllocs()
			b.StopTimer()
			s, trips := openTraced(b)
			defer s.Close()
			base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			type rec struct {
				ID      string
				Updated time.Time
			}
			type out struct{ Email, Name string }
			src := make([]rec, b.N)
			for i := range src {
				src[i] = rec{ID: fmt.Sprint("r", i), Updated: base.Add(time.Duration(i) * time.Millisecond)}
			}
			field := func(path string, get func(*out) string) engine.Field[out] {
				return engine.Field[out]{Path: path, Value: func(w *out) (string, bool) { return strconv.Quote(get(w)), true }}
			}
			sy := &engine.Sync[rec, out]{
				Name: "recs", SourceSystem: "src", TargetSystem: "dst", Source: "src.Rec", Target: "dst.Out",
				Poll: func(_ context.Context, since engine.Cursor) iter.Seq2[rec, error] {
					return func(yield func(rec, error) bool) {
						for _, r := range src {
							if !r.Updated.Before(since.Time) && !yield(r, nil) {
								return
							}
						}
					}
				},
				Key:      func(r *rec) string { return r.ID },
				Version:  func(*rec) int64 { return 1 },
				Cursor:   func(r *rec) engine.Cursor { return engine.Cursor{Time: r.Updated} },
				Lookback: 1000 * time.Hour, // the second run re-reads everything
				Map: func(_ context.Context, r *rec, _ engine.Lookups, _ bool) (out, error) {
					return out{Email: r.ID + "@x.io", Name: "N" + r.ID}, nil
				},
				Fields: []engine.Field[out]{field("email", func(w *out) string { return w.Email }), field("name", func(w *out) string { return w.Name })},
				Match:  []engine.MatchStep{engine.MatchXref, engine.MatchCreate},
				Create: func(_ context.Context, _ *out, idem string) (string, error) { return "t-" + idem[:8], nil },
				Update: func(context.Context, string, *out, string) error { return nil },
			}
			tm := &timed{Store: s}
			e := engine.New(tm, engine.WithClock(func() time.Time { return base.Add(time.Hour) }))
			if err := engine.Add(e, sy); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			if mode == "unchanged" {
				if _, err := e.RunOnce(ctx, "recs"); err != nil {
					b.Fatal(err)
				}
			}
			b.StartTimer()
			trips0, batched0 := trips.total(), trips.batched.Load()
			start := time.Now()
			rep, err := e.RunOnce(ctx, "recs")
			elapsed := time.Since(start)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			if got := rep.Created + rep.Unchanged; got != b.N {
				b.Fatalf("%+v", rep)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
			if testing.Verbose() {
				b.Log(tm)
			}
			b.ReportMetric(float64(trips.total()-trips0)/float64(b.N), "roundtrips/record")
			b.ReportMetric(float64(trips.batched.Load()-batched0)/float64(b.N), "batched-stmts/record")
		})
	}
}
