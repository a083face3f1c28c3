package sandbox

import "net/http"

// LoseAnswers makes the next n requests of operation opID be served (a
// write is applied) and then answered with a connection reset, whatever the
// fault rate: a deterministic lost answer, for tests that must see one
// (a create the client cannot tell was made). They count as reset faults
// after a write.
func (s *System) LoseAnswers(opID string, n int) {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	if s.lose == nil {
		s.lose = map[string]int{}
	}
	s.lose[opID] += n
}

// takeLost reports whether this request of opID is one whose answer is to
// be lost, and counts it.
func (s *System) takeLost(opID string) bool {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	if s.lose[opID] <= 0 {
		return false
	}
	s.lose[opID]--
	return true
}

// loseAnswer serves a request with h and then resets the connection
// instead of answering (same signature as serve).
func (in *injector) loseAnswer(w http.ResponseWriter, r *http.Request, write bool, h http.HandlerFunc, fail errorWriter) {
	buf := &bufferedWriter{header: http.Header{}}
	h(buf, r)
	in.mu.Lock()
	d := decision{fault: true, kind: FaultReset, after: true, cfg: in.faults}
	if write {
		in.stats.FaultsAfterWrite++
	}
	in.stats.Faults[FaultReset.String()]++
	in.mu.Unlock()
	in.inject(w, r, d, buf, fail)
}
