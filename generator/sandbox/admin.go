package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"
)

// Entities returns the names of the system's entities ("crm.Lead").
func (s *System) Entities() []string {
	out := make([]string, len(s.entities))
	for i, e := range s.entities {
		out[i] = e.full
	}
	return out
}

func (s *System) entity(name string) (*entity, error) {
	for _, e := range s.entities {
		if e.full == name || e.name == name || e.schemaName == name {
			return e, nil
		}
	}
	return nil, fmt.Errorf("sandbox: system %s has no entity %q (have %s)", s.name, name, strings.Join(s.Entities(), ", "))
}

// Operations lists the system's operations with the role the sandbox gave
// each ("listLeads list crm.Lead"), for the CLI and tests.
func (s *System) Operations() []string {
	var out []string
	for _, r := range s.routes {
		line := r.id + " " + r.role.String()
		if r.ent != nil {
			line += " " + r.ent.full
		}
		out = append(out, line)
	}
	slices.Sort(out)
	return out
}

// Records returns a copy of every record of the entity, in change order.
func (s *System) Records(entityName string) ([]Record, error) {
	e, err := s.entity(entityName)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	order := e.orderLocked()
	out := make([]Record, len(order))
	for i, r := range order {
		out[i] = deepCopy(r.data).(map[string]any)
	}
	return out, nil
}

// Record returns a copy of one record.
func (s *System) Record(entityName, key string) (Record, bool) {
	e, err := s.entity(entityName)
	if err != nil {
		return nil, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.recs[key]
	if r == nil {
		return nil, false
	}
	return deepCopy(r.data).(map[string]any), true
}

// Create stores a new record as a user of the system would create it: the
// key (unless rec has one), times and version are set by the server, and
// an event is recorded.
func (s *System) Create(entityName string, rec Record) (Record, error) {
	e, err := s.entity(entityName)
	if err != nil {
		return nil, err
	}
	data := normalize(rec)
	e.mu.Lock()
	out, status, msg := s.insertLocked(e, data)
	e.mu.Unlock()
	if status != 0 {
		return nil, fmt.Errorf("sandbox: %s: %s", e.full, msg)
	}
	s.hooks.changed(s, e, out, "created")
	return out, nil
}

// Update changes a record as a user would: f edits it, then its change
// time and version move and an event is recorded.
func (s *System) Update(entityName, key string, f func(Record)) (Record, Event, error) {
	e, err := s.entity(entityName)
	if err != nil {
		return nil, Event{}, err
	}
	e.mu.Lock()
	r := e.recs[key]
	if r == nil {
		e.mu.Unlock()
		return nil, Event{}, fmt.Errorf("sandbox: %s %s not found", e.full, key)
	}
	e.unindexLocked(r)
	f(r.data)
	r.data = normalize(r.data)
	e.indexLocked(r)
	e.touchLocked(r, false)
	out := deepCopy(r.data).(map[string]any)
	e.mu.Unlock()
	s.hooks.changed(s, e, out, "updated")
	evs := s.Events()
	return out, evs[len(evs)-1], nil
}

// Delete deletes a record as a user would: it is gone from the API (a
// soft-deleting entity, read.deleted, marks it instead), and a deleted
// change is recorded: a webhook event, and an event of the entity's
// ".deleted" type in its events feed (Stripe's customer.deleted).
func (s *System) Delete(entityName, key string) (Record, error) {
	e, err := s.entity(entityName)
	if err != nil {
		return nil, err
	}
	out, ok := s.deleteRecord(e, key)
	if !ok {
		return nil, fmt.Errorf("sandbox: %s %s not found", e.full, key)
	}
	s.hooks.changed(s, e, out, "deleted")
	return out, nil
}

// normalize round-trips a record through JSON so Go values (ints,
// structs) are stored as the decoder would store them.
func normalize(rec Record) Record {
	b, err := json.Marshal(rec)
	if err != nil {
		return rec
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out Record
	if dec.Decode(&out) != nil {
		return rec
	}
	return out
}

// Generate creates n records of the entity from its schema (required
// fields and a few common optional ones), with values drawn from the
// system's seed.
func (s *System) Generate(entityName string, n int) error {
	e, err := s.entity(entityName)
	if err != nil {
		return err
	}
	g := s.newGen()
	for i := 0; i < n; i++ {
		v, _ := g.value(e.schema, "", 0).(map[string]any)
		if v == nil {
			v = Record{}
		}
		delete(v, e.key)
		for _, f := range append(append([]string{e.version}, e.created...), e.updated...) {
			delete(v, f)
		}
		for k, p := range schemaProps(e.schema) {
			if p.Value != nil && p.Value.ReadOnly {
				delete(v, k)
			}
		}
		for k, p := range schemaProps(e.schema) {
			if p.Value != nil && p.Value.Format == "email" {
				v[k] = fmt.Sprintf("user%d.%d@example.com", i+1, s.next()%100000)
			}
		}
		if _, err := s.Create(e.full, v); err != nil {
			return err
		}
	}
	return nil
}

// Seed loads records from a JSON or YAML file: an object from entity name
// to a list of records.
func (sb *Sandbox) Seed(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc map[string][]map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("sandbox: seed %s: %v", path, err)
	}
	for _, name := range sortedKeys(doc) {
		sys, ent, ok := strings.Cut(name, ".")
		s := sb.System(sys)
		if !ok || s == nil {
			return fmt.Errorf("sandbox: seed %s: %q is not system.Entity", path, name)
		}
		for _, rec := range doc[name] {
			if _, err := s.Create(ent, rec); err != nil {
				return fmt.Errorf("sandbox: seed %s: %v", path, err)
			}
		}
	}
	return nil
}

// Reset removes every record, event, violation, token and counter.
func (s *System) Reset() {
	for _, e := range s.entities {
		e.mu.Lock()
		e.recs, e.order, e.stale, e.uniq, e.seq = map[string]*record{}, nil, 0, nil, 0
		e.mu.Unlock()
	}
	s.vmu.Lock()
	s.violations, s.perOp, s.applied, s.lose = nil, map[string]int{}, map[string]int64{}, nil
	s.vmu.Unlock()
	s.hooks.mu.Lock()
	s.hooks.events, s.hooks.delivered = nil, 0
	s.hooks.mu.Unlock()
	s.auth.mu.Lock()
	s.auth.tokens, s.auth.refresh, s.auth.tokReqs = map[string]time.Time{}, map[string]bool{}, map[string]int64{}
	s.auth.mu.Unlock()
	s.in.reset()
}

// Applied returns how many writes changed state, by operation ID.
func (s *System) Applied() map[string]int64 {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	out := map[string]int64{}
	for k, v := range s.applied {
		out[k] = v
	}
	return out
}

// SetFaults replaces the fault configuration.
func (s *System) SetFaults(f Faults) { s.in.setFaults(f) }

// SetDown makes every API request fail with 503 while down is true.
func (s *System) SetDown(down bool) { s.in.down.Store(down) }

// Stats returns the request and fault counters.
func (s *System) Stats() Stats { return s.in.snapshot() }

// admin serves the HTTP admin API under /_sandbox:
//
//	GET    /_sandbox/entities                  entity names
//	GET    /_sandbox/records/{entity}          records (JSON array)
//	POST   /_sandbox/records/{entity}          create a record (body: object)
//	PATCH  /_sandbox/records/{entity}/{key}    change a record as a user
//	DELETE /_sandbox/records/{entity}/{key}    delete a record as a user
//	POST   /_sandbox/generate/{entity}?n=N     generate N records
//	GET    /_sandbox/violations                violations
//	GET    /_sandbox/stats                     request and fault counters
//	POST   /_sandbox/faults                    set faults (body: Faults)
//	POST   /_sandbox/reset                     reset
func (s *System) admin(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, adminPrefix), "/")
	parts := strings.Split(rest, "/")
	fail := func(status int, err error) {
		writeJSON(w, status, "application/json", map[string]string{"error": err.Error()})
	}
	switch {
	case r.Method == http.MethodGet && rest == "entities":
		writeJSON(w, http.StatusOK, "application/json", s.Entities())
	case r.Method == http.MethodGet && rest == "operations":
		writeJSON(w, http.StatusOK, "application/json", s.Operations())
	case r.Method == http.MethodGet && rest == "violations":
		v := s.Violations()
		if v == nil {
			v = []Violation{}
		}
		writeJSON(w, http.StatusOK, "application/json", v)
	case r.Method == http.MethodGet && rest == "stats":
		writeJSON(w, http.StatusOK, "application/json", s.Stats())
	case r.Method == http.MethodPost && rest == "reset":
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && rest == "faults":
		var f Faults
		if err := json.NewDecoder(r.Body).Decode(&f); err != nil {
			fail(http.StatusBadRequest, err)
			return
		}
		s.SetFaults(f)
		w.WriteHeader(http.StatusNoContent)
	case len(parts) == 2 && parts[0] == "records" && r.Method == http.MethodGet:
		recs, err := s.Records(parts[1])
		if err != nil {
			fail(http.StatusNotFound, err)
			return
		}
		writeJSON(w, http.StatusOK, "application/json", recs)
	case len(parts) == 2 && parts[0] == "records" && r.Method == http.MethodPost:
		var rec Record
		if err := json.NewDecoder(r.Body).Decode(&rec); err != nil {
			fail(http.StatusBadRequest, err)
			return
		}
		out, err := s.Create(parts[1], rec)
		if err != nil {
			fail(http.StatusConflict, err)
			return
		}
		writeJSON(w, http.StatusCreated, "application/json", out)
	case len(parts) == 3 && parts[0] == "records" && r.Method == http.MethodPatch:
		var patch Record
		if err := json.NewDecoder(r.Body).Decode(&patch); err != nil {
			fail(http.StatusBadRequest, err)
			return
		}
		out, _, err := s.Update(parts[1], parts[2], func(rec Record) { mergeInto(rec, normalize(patch), nil, "") })
		if err != nil {
			fail(http.StatusNotFound, err)
			return
		}
		writeJSON(w, http.StatusOK, "application/json", out)
	case len(parts) == 3 && parts[0] == "records" && r.Method == http.MethodDelete:
		out, err := s.Delete(parts[1], parts[2])
		if err != nil {
			fail(http.StatusNotFound, err)
			return
		}
		writeJSON(w, http.StatusOK, "application/json", out)
	case len(parts) == 2 && parts[0] == "generate" && r.Method == http.MethodPost:
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if n <= 0 {
			n = 10
		}
		if err := s.Generate(parts[1], n); err != nil {
			fail(http.StatusBadRequest, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		fail(http.StatusNotFound, fmt.Errorf("no admin endpoint %s %s", r.Method, r.URL.Path))
	}
}

// SaveState writes every system's records to dir, one JSON file per
// system ({"Entity": [records]}).
func (sb *Sandbox) SaveState(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, s := range sb.systems {
		out := map[string][]Record{}
		for _, e := range s.entities {
			recs, _ := s.Records(e.full)
			out[e.full] = recs
		}
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, s.name+".json"), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// LoadState loads what SaveState wrote (a missing file is an empty state).
func (sb *Sandbox) LoadState(dir string) error {
	for _, s := range sb.systems {
		b, err := os.ReadFile(filepath.Join(dir, s.name+".json"))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return err
		}
		var in map[string][]Record
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&in); err != nil {
			return fmt.Errorf("sandbox: state %s: %v", filepath.Join(dir, s.name+".json"), err)
		}
		for _, name := range sortedKeys(in) {
			for _, rec := range in[name] {
				if _, err := s.Create(name, rec); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
