package naming

import "strconv"

// Scope is one Go namespace (a package's top level, one type's fields and
// methods, one client's methods) in which every name must be unique.
//
// Names are claimed in a fixed order decided by the caller, and the first
// claimant keeps a contested name; later claimants get their next candidate,
// and when every candidate is taken, the last candidate with the smallest
// free numeric suffix (2, 3, …). Given the same claims in the same order, a
// Scope always returns the same names.
type Scope struct {
	owners map[string]string
}

// NewScope returns an empty scope.
func NewScope() *Scope { return &Scope{owners: map[string]string{}} }

// Owner returns who claimed name, and whether it is taken.
func (s *Scope) Owner(name string) (string, bool) {
	o, ok := s.owners[name]
	return o, ok
}

// Taken reports whether name is already claimed.
func (s *Scope) Taken(name string) bool {
	_, ok := s.owners[name]
	return ok
}

// Reserve claims exactly name for owner. It reports false, and claims
// nothing, when the name is already taken: pinned names that collide are the
// caller's error to report.
func (s *Scope) Reserve(name, owner string) bool {
	if _, ok := s.owners[name]; ok {
		return false
	}
	s.owners[name] = owner
	return true
}

// Claim gives owner the first free name among candidates (empty candidates
// are skipped), or the last non-empty candidate with a numeric suffix.
func (s *Scope) Claim(owner string, candidates ...string) string {
	last := ""
	for _, c := range candidates {
		if c == "" {
			continue
		}
		last = c
		if s.Reserve(c, owner) {
			return c
		}
	}
	if last == "" {
		last = "X"
	}
	for n := 2; ; n++ {
		c := last + strconv.Itoa(n)
		if s.Reserve(c, owner) {
			return c
		}
	}
}
