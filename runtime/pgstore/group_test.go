package pgstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// TestGroupCommitIsolatesFailures: many commits at once share transactions
// (group commit); one that the server refuses (a NUL byte, which text
// columns cannot hold, in its xref) fails alone and leaves nothing behind,
// while every other commit of its group is durable.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	s := open(t)
	defer s.Close()
	ctx := context.Background()
	const n, bad = 200, 77
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("k%03d", i)
			c := &engine.Commit{Sync: "s", SourceKey: key,
				State: &engine.RecordState{Sync: "s", SourceKey: key, TargetKey: "t" + key, In: true, Version: 1,
					Snapshot: map[string]string{"f": `"v"`}, UpdatedAt: time.Unix(1, 0)},
				Xref: &engine.Xref{Table: "x", SourceKey: key, TargetKey: "t" + key}}
			if i == bad {
				c.Xref.TargetKey = "t\x00"
			}
			<-start
			errs[i] = s.Commit(ctx, c)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		key := fmt.Sprintf("k%03d", i)
		st, found, lerr := s.LoadRecord(ctx, "s", key)
		if lerr != nil {
			t.Fatal(lerr)
		}
		tk, xfound, xerr := s.LookupXref(ctx, "x", key)
		if xerr != nil {
			t.Fatal(xerr)
		}
		if i == bad {
			if err == nil {
				t.Errorf("commit %s with a NUL byte succeeded", key)
			}
			if found || xfound {
				t.Errorf("failed commit %s left state behind (record %v, xref %v)", key, found, xfound)
			}
			continue
		}
		if err != nil {
			t.Errorf("commit %s: %v", key, err)
			continue
		}
		if !found || st.TargetKey != "t"+key || st.Snapshot["f"] != `"v"` || !xfound || tk != "t"+key {
			t.Errorf("commit %s not durable: record %v %+v, xref %v %q", key, found, st, xfound, tk)
		}
	}
}

// TestCommitAfterClose: a closed store refuses commits.
func TestCommitAfterClose(t *testing.T) {
	s := open(t)
	s.Close()
	err := s.Commit(context.Background(), &engine.Commit{Sync: "s", SourceKey: "k",
		State: &engine.RecordState{Sync: "s", SourceKey: "k", Version: 1}})
	if err != engine.ErrStoreClosed {
		t.Fatalf("Commit after Close: %v, want ErrStoreClosed", err)
	}
}

// TestConcurrentReads: many LoadRecord and LookupXref calls at once each
// get their own answer, found or not.
func TestConcurrentReads(t *testing.T) {
	s := open(t)
	defer s.Close()
	ctx := context.Background()
	const n = 100
	for i := 0; i < n; i += 2 { // even keys exist, odd ones do not
		key := fmt.Sprintf("k%03d", i)
		if err := s.Commit(ctx, &engine.Commit{Sync: "s", SourceKey: key,
			State: &engine.RecordState{Sync: "s", SourceKey: key, TargetKey: "t" + key, In: true, Version: int64(i + 1)},
			Xref:  &engine.Xref{Table: "x", SourceKey: key, TargetKey: "x" + key}}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for round := range 3 {
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				key := fmt.Sprintf("k%03d", i)
				<-start
				st, found, err := s.LoadRecord(ctx, "s", key)
				tk, xfound, xerr := s.LookupXref(ctx, "x", key)
				if err != nil || xerr != nil {
					t.Errorf("round %d %s: %v %v", round, key, err, xerr)
					return
				}
				want := i%2 == 0
				if found != want || xfound != want {
					t.Errorf("round %d %s: found %v/%v, want %v", round, key, found, xfound, want)
					return
				}
				if want && (st.TargetKey != "t"+key || st.Version != int64(i+1) || tk != "x"+key) {
					t.Errorf("round %d %s: got %+v and xref %q", round, key, st, tk)
				}
			}()
		}
	}
	close(start)
	wg.Wait()
}
