package engine

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"
)

// MemoryStore is an in-process Store for tests and dry runs. It loses
// everything when the process exits.
type MemoryStore struct {
	mu        sync.Mutex
	closed    bool
	records   map[[2]string]RecordState
	xrefs     map[[2]string]string
	cursors   map[string]Cursor
	status    map[string]SyncStatus
	runs      []RunRecord
	queue     map[int64]QueuedEvent
	ledger    map[[2]string]time.Time
	dead      map[int64]DeadLetter
	conflicts map[int64]Conflict
	tokens    map[string][]byte
	locks     map[string]bool
	tokLocks  KeyLocks
	audit     []AuditEntry
	nextID    int64
}

var (
	_ Store            = (*MemoryStore)(nil)
	_ RecordXrefLoader = (*MemoryStore)(nil)
)

// NewMemoryStore returns an empty in-memory store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{
		records:   map[[2]string]RecordState{},
		xrefs:     map[[2]string]string{},
		cursors:   map[string]Cursor{},
		status:    map[string]SyncStatus{},
		queue:     map[int64]QueuedEvent{},
		ledger:    map[[2]string]time.Time{},
		dead:      map[int64]DeadLetter{},
		conflicts: map[int64]Conflict{},
		tokens:    map[string][]byte{},
	}
}

func (m *MemoryStore) lock() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrStoreClosed
	}
	return nil
}

func (m *MemoryStore) id() int64 { m.nextID++; return m.nextID }

// LoadRecord implements Store.
func (m *MemoryStore) LoadRecord(_ context.Context, sync, sourceKey string) (RecordState, bool, error) {
	if err := m.lock(); err != nil {
		return RecordState{}, false, err
	}
	defer m.mu.Unlock()
	st, ok := m.records[[2]string{sync, sourceKey}]
	st.Snapshot = maps.Clone(st.Snapshot)
	st.Pending = maps.Clone(st.Pending)
	return st, ok, nil
}

// LoadRecordXref implements RecordXrefLoader.
func (m *MemoryStore) LoadRecordXref(_ context.Context, sync, sourceKey, xrefTable string) (RecordState, bool, string, bool, error) {
	if err := m.lock(); err != nil {
		return RecordState{}, false, "", false, err
	}
	defer m.mu.Unlock()
	st, ok := m.records[[2]string{sync, sourceKey}]
	st.Snapshot = maps.Clone(st.Snapshot)
	st.Pending = maps.Clone(st.Pending)
	t, xok := m.xrefs[[2]string{xrefTable, sourceKey}]
	return st, ok, t, xok, nil
}

// Commit implements Store.
func (m *MemoryStore) Commit(ctx context.Context, c *Commit) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if c.State != nil {
		st := *c.State
		st.Snapshot = maps.Clone(st.Snapshot)
		st.Pending = maps.Clone(st.Pending)
		m.records[[2]string{c.Sync, c.SourceKey}] = st
	} else if c.Intent != nil {
		k := [2]string{c.Sync, c.SourceKey}
		if st, ok := m.records[k]; ok {
			st.Snapshot = maps.Clone(c.Intent.Snapshot)
			st.Pending = maps.Clone(c.Intent.Pending)
			m.records[k] = st
		}
	}
	if c.Xref != nil {
		m.xrefs[[2]string{c.Xref.Table, c.Xref.SourceKey}] = c.Xref.TargetKey
	}
	for _, cf := range c.Conflicts {
		cf.ID = 0
		for id, old := range m.conflicts {
			if old.Sync == cf.Sync && old.SourceKey == cf.SourceKey && old.Field == cf.Field {
				cf.ID = id
			}
		}
		if cf.ID == 0 {
			cf.ID = m.id()
		}
		m.conflicts[cf.ID] = cf
	}
	if c.ResolveDeadLetters && c.State != nil {
		for id, d := range m.dead {
			if d.Sync == c.Sync && d.SourceKey == c.SourceKey && d.Version <= c.State.Version {
				delete(m.dead, id)
			}
		}
	}
	if c.DeleteDeadLetter != 0 {
		if d, ok := m.dead[c.DeleteDeadLetter]; ok && d.Sync == c.Sync {
			delete(m.dead, c.DeleteDeadLetter)
		}
	}
	if c.DeadLetter != nil {
		d := *c.DeadLetter
		d.Payload = slices.Clone(d.Payload)
		if d.ID == 0 {
			for id, old := range m.dead {
				if old.Sync == d.Sync && old.SourceKey == d.SourceKey && old.Version == d.Version {
					d.ID = id
					d.CreatedAt = old.CreatedAt
				}
			}
		} else if old, ok := m.dead[d.ID]; ok {
			d.CreatedAt = old.CreatedAt
		}
		if d.ID == 0 {
			d.ID = m.id()
		}
		m.dead[d.ID] = d
	}
	for _, id := range c.DoneEvents {
		delete(m.queue, id)
	}
	for _, a := range c.Audit {
		a.ID = m.id()
		a.Fields = slices.Clone(a.Fields)
		m.audit = append(m.audit, a)
	}
	return nil
}

// Audit implements Store.
func (m *MemoryStore) Audit(_ context.Context, q AuditQuery) ([]AuditEntry, error) {
	if err := m.lock(); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	var out []AuditEntry
	for i := len(m.audit) - 1; i >= 0 && len(out) < limit; i-- {
		if MatchAudit(m.audit[i], q) {
			a := m.audit[i]
			a.Fields = slices.Clone(a.Fields)
			out = append(out, a)
		}
	}
	return out, nil
}

// PruneAudit implements Store.
func (m *MemoryStore) PruneAudit(_ context.Context, before time.Time) (int, error) {
	if err := m.lock(); err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	n := len(m.audit)
	m.audit = slices.DeleteFunc(m.audit, func(a AuditEntry) bool { return a.At.Before(before) })
	return n - len(m.audit), nil
}

// LookupXref implements Store.
func (m *MemoryStore) LookupXref(_ context.Context, table, sourceKey string) (string, bool, error) {
	if err := m.lock(); err != nil {
		return "", false, err
	}
	defer m.mu.Unlock()
	t, ok := m.xrefs[[2]string{table, sourceKey}]
	return t, ok, nil
}

// LoadCursor implements Store.
func (m *MemoryStore) LoadCursor(_ context.Context, sync string) (Cursor, bool, error) {
	if err := m.lock(); err != nil {
		return Cursor{}, false, err
	}
	defer m.mu.Unlock()
	c, ok := m.cursors[sync]
	return c, ok, nil
}

// FinishRun implements Store.
func (m *MemoryStore) FinishRun(ctx context.Context, f *RunResult) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if f.Cursor != nil {
		m.cursors[f.Sync] = *f.Cursor
	}
	st := f.Status
	st.Sync = f.Sync
	m.status[f.Sync] = st
	r := f.Run
	r.Sync = f.Sync
	r.ID = m.id()
	r.Report = slices.Clone(r.Report)
	m.runs = append(m.runs, r)
	return nil
}

// LoadStatus implements Store.
func (m *MemoryStore) LoadStatus(_ context.Context, sync string) (SyncStatus, error) {
	if err := m.lock(); err != nil {
		return SyncStatus{}, err
	}
	defer m.mu.Unlock()
	st := m.status[sync]
	st.Sync = sync
	return st, nil
}

// SaveStatus implements Store.
func (m *MemoryStore) SaveStatus(_ context.Context, s SyncStatus) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	m.status[s.Sync] = s
	return nil
}

// Runs implements Store.
func (m *MemoryStore) Runs(_ context.Context, sync string, limit int) ([]RunRecord, error) {
	if err := m.lock(); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	var out []RunRecord
	for i := len(m.runs) - 1; i >= 0 && (limit <= 0 || len(out) < limit); i-- {
		if m.runs[i].Sync == sync {
			r := m.runs[i]
			r.Report = slices.Clone(r.Report)
			out = append(out, r)
		}
	}
	return out, nil
}

// Enqueue implements Store.
func (m *MemoryStore) Enqueue(ctx context.Context, ev QueuedEvent) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := m.lock(); err != nil {
		return false, err
	}
	defer m.mu.Unlock()
	k := [2]string{ev.Sync, ev.EventID}
	if _, dup := m.ledger[k]; dup {
		return false, nil
	}
	m.ledger[k] = ev.ReceivedAt
	ev.ID = m.id()
	m.queue[ev.ID] = ev
	return true, nil
}

// Queued implements Store.
func (m *MemoryStore) Queued(_ context.Context, sync string, afterID int64, limit int) ([]QueuedEvent, error) {
	if err := m.lock(); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	var out []QueuedEvent
	for _, ev := range m.queue {
		if ev.Sync == sync && ev.ID > afterID {
			out = append(out, ev)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// QueueDepth implements Store.
func (m *MemoryStore) QueueDepth(_ context.Context, sync string) (int, error) {
	if err := m.lock(); err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	n := 0
	for _, ev := range m.queue {
		if ev.Sync == sync {
			n++
		}
	}
	return n, nil
}

// PruneDedupe implements Store.
func (m *MemoryStore) PruneDedupe(_ context.Context, before time.Time) (int, error) {
	if err := m.lock(); err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	queued := map[[2]string]bool{}
	for _, ev := range m.queue {
		queued[[2]string{ev.Sync, ev.EventID}] = true
	}
	n := 0
	for k, at := range m.ledger {
		if at.Before(before) && !queued[k] {
			delete(m.ledger, k)
			n++
		}
	}
	return n, nil
}

// DeadLetters implements Store.
func (m *MemoryStore) DeadLetters(_ context.Context, sync string) ([]DeadLetter, error) {
	if err := m.lock(); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	var out []DeadLetter
	for _, d := range m.dead {
		if d.Sync == sync {
			d.Payload = slices.Clone(d.Payload)
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// DeadLetter implements Store.
func (m *MemoryStore) DeadLetter(_ context.Context, sync string, id int64) (DeadLetter, bool, error) {
	if err := m.lock(); err != nil {
		return DeadLetter{}, false, err
	}
	defer m.mu.Unlock()
	d, ok := m.dead[id]
	if !ok || d.Sync != sync {
		return DeadLetter{}, false, nil
	}
	d.Payload = slices.Clone(d.Payload)
	return d, true, nil
}

// DeadLetterCount implements Store.
func (m *MemoryStore) DeadLetterCount(_ context.Context, sync string) (int, error) {
	if err := m.lock(); err != nil {
		return 0, err
	}
	defer m.mu.Unlock()
	n := 0
	for _, d := range m.dead {
		if d.Sync == sync {
			n++
		}
	}
	return n, nil
}

// DeleteDeadLetter implements Store.
func (m *MemoryStore) DeleteDeadLetter(_ context.Context, sync string, id int64) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if d, ok := m.dead[id]; ok && d.Sync == sync {
		delete(m.dead, id)
	}
	return nil
}

// Conflicts implements Store.
func (m *MemoryStore) Conflicts(_ context.Context, sync string) ([]Conflict, error) {
	if err := m.lock(); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	var out []Conflict
	for _, c := range m.conflicts {
		if c.Sync == sync {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// DeleteConflict implements Store.
func (m *MemoryStore) DeleteConflict(_ context.Context, sync string, id int64) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	if c, ok := m.conflicts[id]; ok && c.Sync == sync {
		delete(m.conflicts, id)
	}
	return nil
}

// LoadToken implements Store.
func (m *MemoryStore) LoadToken(_ context.Context, system string) ([]byte, bool, error) {
	if err := m.lock(); err != nil {
		return nil, false, err
	}
	defer m.mu.Unlock()
	t, ok := m.tokens[system]
	return slices.Clone(t), ok, nil
}

// SaveToken implements Store.
func (m *MemoryStore) SaveToken(_ context.Context, system string, token []byte) error {
	if err := m.lock(); err != nil {
		return err
	}
	defer m.mu.Unlock()
	m.tokens[system] = slices.Clone(token)
	return nil
}

// LockToken implements Store within the process (a MemoryStore is not
// shared between processes).
func (m *MemoryStore) LockToken(ctx context.Context, system string) (func(), error) {
	if err := m.lock(); err != nil {
		return nil, err
	}
	m.mu.Unlock()
	return m.tokLocks.Lock(ctx, system)
}

// Lock implements Store: one holder per sync within the process (a
// MemoryStore is not shared between processes).
func (m *MemoryStore) Lock(ctx context.Context, name string) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrStoreClosed
	}
	if m.locks == nil {
		m.locks = map[string]bool{}
	}
	if m.locks[name] {
		return nil, fmt.Errorf("%w: sync %s", ErrLocked, name)
	}
	m.locks[name] = true
	var once sync.Once
	return func() {
		once.Do(func() {
			m.mu.Lock()
			delete(m.locks, name)
			m.mu.Unlock()
		})
	}, nil
}

// Close implements Store. Later calls fail with ErrStoreClosed.
func (m *MemoryStore) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}
