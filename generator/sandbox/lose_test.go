package sandbox

import "testing"

// TestLoseAnswers: a lost answer is a reset after the write applied,
// for exactly the requests asked for.
func TestLoseAnswers(t *testing.T) {
	s := &System{in: newInjector(1)}
	s.LoseAnswers("createIssue", 2)
	var got []bool
	for range 3 {
		got = append(got, s.takeLost("createIssue"))
	}
	if !got[0] || !got[1] || got[2] || s.takeLost("editIssue") {
		t.Errorf("takeLost: %v, want the next two createIssue requests only", got)
	}
}
