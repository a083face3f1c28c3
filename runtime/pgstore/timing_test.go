package pgstore_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// timed wraps a store and sums the time spent in its per-record calls.
type timed struct {
	engine.Store
	mu sync.Mutex
	d  map[string][]time.Duration
}

func (t *timed) add(op string, since time.Time) {
	d := time.Since(since)
	t.mu.Lock()
	if t.d == nil {
		t.d = map[string][]time.Duration{}
	}
	t.d[op] = append(t.d[op], d)
	t.mu.Unlock()
}

func (t *timed) LoadRecord(ctx context.Context, sync, key string) (engine.RecordState, bool, error) {
	defer t.add("LoadRecord", time.Now())
	return t.Store.LoadRecord(ctx, sync, key)
}

func (t *timed) LoadRecordXref(ctx context.Context, sync, key, table string) (engine.RecordState, bool, string, bool, error) {
	defer t.add("LoadRecordXref", time.Now())
	return t.Store.(engine.RecordXrefLoader).LoadRecordXref(ctx, sync, key, table)
}

func (t *timed) LookupXref(ctx context.Context, table, key string) (string, bool, error) {
	defer t.add("LookupXref", time.Now())
	return t.Store.LookupXref(ctx, table, key)
}

func (t *timed) Commit(ctx context.Context, c *engine.Commit) error {
	op := "Commit(final)"
	if c.State != nil && c.State.TargetKey == "" {
		op = "Commit(intent)"
	}
	defer t.add(op, time.Now())
	return t.Store.Commit(ctx, c)
}

func (t *timed) String() string {
	var b strings.Builder
	var ops []string
	for op := range t.d {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		ds := t.d[op]
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		var sum time.Duration
		for _, d := range ds {
			sum += d
		}
		fmt.Fprintf(&b, "%-15s n=%d mean=%v p50=%v p90=%v p99=%v\n", op, len(ds), sum/time.Duration(len(ds)), ds[len(ds)/2], ds[len(ds)*9/10], ds[len(ds)*99/100])
	}
	return b.String()
}
