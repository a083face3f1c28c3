package engine

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
)

// This file holds batched writes (DESIGN.md §4a, bulk targets): a sync
// whose target takes a list of records per request (SendGrid's PUT
// /v3/marketing/contacts) sets Sync.WriteBatch and Sync.BatchSize. A poll
// then prepares each record as a single write would (state, scope, exit
// action, mapping, change detection) but, instead of writing it, queues
// the write; every BatchSize queued records go in one WriteBatch call.
// Only after that call succeeded is each record's state (xref, snapshot,
// version, audit entry with the job id) committed, one commit per record:
// a crash between the request and the commits re-reads the records on the
// next poll (the checkpoint moves only past durable records) and sends
// them again, which a bulk upsert by natural key makes harmless. A batch
// that keeps failing (or is refused) is split: its records are written
// one by one through Create and Update, with their own retries and dead
// letters, so one poison record cannot block the others.
//
// A record leaving the scope whose exit action is a final write (on_exit
// set) is queued the same way when the target's batch write takes exit
// writes (Sync.BatchExit, exit.go); its state moves out of scope in the
// commit after the batch.
//
// Webhook events and dead-letter replays still write single records.

// BatchWrite is one record of a batch: its mapped write and whether the
// target record is new (Create) or exists (Update).
type BatchWrite[W any] struct {
	W *W
	// Create says the target record does not exist yet (as for
	// Sync.Create); TargetKey is the known target key of an update.
	Create    bool
	TargetKey string
	// Exit says the write is the sync's exit action (the final write of
	// on_exit set) on the record TargetKey, queued when Sync.BatchExit is
	// set; W is nil.
	Exit bool
}

// BatchResult is a successful batch call's answer.
type BatchResult struct {
	// Keys holds the target key of each write, in order (a bulk upsert's
	// records are found by the natural key they carry). An empty key fails
	// that record alone.
	Keys []string
	// Job is the id of the asynchronous job the target queued the writes
	// in ("" when it answered none); it goes into the audit entries.
	Job string
}

// commitFanOut bounds the concurrent commits that settle a batch.
const commitFanOut = 32

// outcomeQueued is apply's outcome for a write queued in a batch: not
// counted yet, and not durable until the batch is written.
const outcomeQueued Outcome = "queued"

// outcomeAbsorbed is apply's outcome for a record whose changed values the
// target already held (runner.go): unchanged, but the reverse sync of a
// two-way pair learns the values as after a write (echo.go).
const outcomeAbsorbed Outcome = "absorbed"

// pollJob is one record read by a poll and its cursor value; gone is the
// key of a record the source reported deleted (Change.Gone), rec unused.
type pollJob[S any] struct {
	rec  S
	cur  Cursor
	gone string
	// key is the record's key (gone's, or the record's).
	key string
}

// batchItem is a prepared write waiting for its batch. The record's key
// lock is held until the batch is settled.
type batchItem[S, W any] struct {
	key       string
	rec       *S
	cur       Cursor
	w         W
	create    bool
	targetKey string
	// exit: the exit action's final write (exit.go), w unused.
	exit   bool
	out    Outcome
	finish func(targetKey, job string) *Commit
}

// batcher collects one poll's queued writes (a single goroutine uses it).
type batcher[S, W any] struct {
	items []*batchItem[S, W]
	// rec and cur are the record being prepared.
	rec *S
	cur Cursor
	// held are the record locks (stripes) the batch holds until it is
	// settled: other work on its records (webhooks, replays) waits. Keys
	// sharing a stripe share the hold, so the batch never waits on itself.
	held []*sync.Mutex
}

// lock takes m for the batch (once; batchPoll has taken it already) and
// returns a no-op: the batch releases its locks when it is settled.
func (b *batcher[S, W]) lock(m *sync.Mutex) func() {
	if !slices.Contains(b.held, m) {
		m.Lock()
		b.held = append(b.held, m)
	}
	return func() {}
}

// release unlocks every lock the batch holds.
func (b *batcher[S, W]) release() {
	for _, m := range b.held {
		m.Unlock()
	}
	b.held = nil
}

func (b *batcher[S, W]) add(it *batchItem[S, W]) {
	it.rec, it.cur = b.rec, b.cur
	b.items = append(b.items, it)
}

func (b *batcher[S, W]) has(key string) bool {
	for _, it := range b.items {
		if it.key == key {
			return true
		}
	}
	return false
}

// batching reports whether polls write in batches.
func (r *runner[S, W]) batching() bool {
	return r.s.WriteBatch != nil && r.s.BatchSize > 1 && !r.policies && !r.e.cfg.dryRun
}

// unbatched is 1 when polls write record by record, 0 when they batch.
func (r *runner[S, W]) unbatched() int {
	if r.batching() {
		return 0
	}
	return 1
}

// batchPoll applies a poll's records in batches: records are prepared in
// order by this one goroutine, and the batch is written when it is full,
// when a record repeats a key already queued, and at the end.
func (r *runner[S, W]) batchPoll(ctx context.Context, jobs <-chan *pollJob[S], t *tally, st *stopper) {
	s, e := r.s, r.e
	b := &batcher[S, W]{}
	for j := range jobs {
		if st.stopped() || canceled(ctx) {
			t.hold(j.cur)
			t.count(OutcomeFailed)
			continue
		}
		key := j.key
		if b.has(key) {
			// The same record again (it changed while the poll paged):
			// settle the first write before preparing the second.
			r.flush(ctx, b, t, st)
		}
		// Take the record's lock here, never waiting while the batch holds
		// others: a lock another batch holds (a second bulk sync) is waited
		// for only after this batch was settled and released its own, so
		// two batches cannot wait on each other.
		if m := e.stripe(s.Name, key); !slices.Contains(b.held, m) {
			if !m.TryLock() {
				r.flush(ctx, b, t, st)
				m.Lock()
			}
			b.held = append(b.held, m)
		}
		if j.gone != "" {
			// A deletion: its exit action (a write with no record) is
			// made on its own, under the lock the batch now holds.
			if out := r.gone(ctx, key, origin{batch: b}, t, st); out == OutcomeFailed {
				t.hold(j.cur)
			}
			continue
		}
		b.rec, b.cur = &j.rec, j.cur
		get := func(context.Context) (*S, error) { return &j.rec, nil }
		var out Outcome
		_ = e.cfg.executor.Execute(ctx, Unit{Kind: UnitApply, Sync: s.Name,
			Key: s.Name + "/" + key + "/" + fmt.Sprint(s.Version(&j.rec)),
			Run: func(ctx context.Context) error {
				var err error
				out, err = r.process(ctx, get, origin{batch: b}, t, st)
				return err
			}})
		switch out {
		case outcomeQueued, OutcomeCreated, OutcomeUpdated, OutcomeUnchanged, OutcomeSkipped, OutcomeDeadLettered:
		default:
			t.hold(j.cur)
		}
		if len(b.items) >= s.BatchSize {
			r.flush(ctx, b, t, st)
		}
	}
	r.flush(ctx, b, t, st)
}

// flush writes the queued batch and settles its records.
func (r *runner[S, W]) flush(ctx context.Context, b *batcher[S, W], t *tally, st *stopper) {
	items := b.items
	b.items = nil
	defer b.release()
	if len(items) == 0 {
		return
	}
	s, e := r.s, r.e
	fail := func() {
		for _, it := range items {
			t.hold(it.cur)
			t.count(OutcomeFailed)
			r.observe(OutcomeFailed, e.cfg.now())
		}
	}
	if st.stopped() || canceled(ctx) {
		fail()
		return
	}
	ws := make([]BatchWrite[W], len(items))
	for i, it := range items {
		ws[i] = BatchWrite[W]{W: &it.w, Create: it.create, TargetKey: it.targetKey}
		if it.exit {
			ws[i] = BatchWrite[W]{TargetKey: it.targetKey, Exit: true}
		}
	}
	maxAttempts := r.maxAttempts()
	start := e.cfg.now()
	var res BatchResult
	var err error
	for attempt := 1; ; attempt++ {
		res, err = s.WriteBatch(ctx, ws)
		if err == nil {
			break
		}
		err = tag(stageTarget, err)
		if canceled(ctx) {
			fail()
			return
		}
		cl := classify(err)
		if cl == classDown && !recordLevel(err) {
			// The target is down (breaker open, connection refused): keep
			// the records for the next run.
			fail()
			st.stop(r.b.downError(err))
			return
		}
		if cl == classPermanent || cl == classDeferred || attempt >= maxAttempts {
			break
		}
		e.cfg.logger.LogAttrs(ctx, slog.LevelDebug, "engine: batch attempt failed", slog.String("sync", s.Name), slog.Int("records", len(items)), slog.Int("attempt", attempt), slog.String("error", redactError(err)))
		if !st.sleep(ctx, r.backoff(attempt)) {
			fail()
			return
		}
	}
	var single []*batchItem[S, W]
	if err != nil {
		// Refused or failing for good: one record may be the cause; write
		// each on its own, with its own retries and dead letter.
		e.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "engine: batch failed; writing its records one by one", slog.String("sync", s.Name), slog.Int("records", len(items)), slog.String("error", redactError(err)))
		single = items
	} else {
		st.wrote()
		// The writes happened: their commits must not be dropped because
		// the run is being cancelled (see apply).
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
		defer cancel()
		// One commit per record, made concurrently: the records are
		// distinct, and a store may group concurrent commits into one
		// transaction (sqlitestore does).
		errs := make([]error, len(items))
		done := make([]bool, len(items))
		var wg sync.WaitGroup
		sem := make(chan struct{}, commitFanOut)
		for i, it := range items {
			tk := it.targetKey
			if it.create {
				tk = ""
				if i < len(res.Keys) {
					tk = res.Keys[i]
				}
			}
			if tk == "" {
				single = append(single, it)
				continue
			}
			done[i] = true
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				errs[i] = e.store.Commit(cctx, it.finish(tk, res.Job))
			}()
		}
		wg.Wait()
		for i, it := range items {
			switch {
			case !done[i]:
			case errs[i] != nil:
				t.hold(it.cur)
				t.count(OutcomeFailed)
				st.stop(r.b.downError(tag(stageStore, errs[i])))
			default:
				t.count(it.out)
				r.observe(it.out, start)
			}
		}
		e.cfg.logger.LogAttrs(ctx, slog.LevelDebug, "engine: batch written", slog.String("sync", s.Name), slog.Int("records", len(items)), slog.String("job", res.Job))
	}
	b.release()
	for _, it := range single {
		if st.stopped() || canceled(ctx) {
			t.hold(it.cur)
			t.count(OutcomeFailed)
			continue
		}
		rec := it.rec
		get := func(context.Context) (*S, error) { return rec, nil }
		var out Outcome
		_ = e.cfg.executor.Execute(ctx, Unit{Kind: UnitApply, Sync: s.Name,
			Key: s.Name + "/" + it.key + "/" + fmt.Sprint(s.Version(rec)),
			Run: func(ctx context.Context) error {
				var err error
				out, err = r.process(ctx, get, origin{}, t, st)
				return err
			}})
		switch out {
		case OutcomeCreated, OutcomeUpdated, OutcomeUnchanged, OutcomeSkipped, OutcomeDeadLettered:
		default:
			t.hold(it.cur)
		}
	}
}
