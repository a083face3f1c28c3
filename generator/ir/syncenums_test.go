package ir

import "testing"

// TestSyncEnumsRoundTrip: every member of each closed set parses back from
// its mapping-file spelling, and unknown words do not parse.
func TestSyncEnumsRoundTrip(t *testing.T) {
	for _, m := range []MatchStep{MatchXref, MatchNaturalKey, MatchCreate, MatchKeyFrom} {
		if got, ok := ParseMatchStep(m.String()); !ok || got != m {
			t.Errorf("match step %v does not round-trip", m)
		}
	}
	for _, p := range []Policy{SourceWins, TargetWins, LastWriterWins, Queue} {
		if got, ok := ParsePolicy(p.String()); !ok || got != p {
			t.Errorf("policy %v does not round-trip", p)
		}
	}
	for _, m := range []Missing{MissingDefer, MissingSkip, MissingFail} {
		if got, ok := ParseMissing(m.String()); !ok || got != m {
			t.Errorf("missing %v does not round-trip", m)
		}
	}
	for _, o := range []PredOp{OpEq, OpNe, OpIn, OpPresent, OpContains} {
		if got, ok := ParsePredOp(o.String()); !ok || got != o {
			t.Errorf("operator %v does not round-trip", o)
		}
	}
	for _, tr := range []Transform{TransformTrim, TransformLower, TransformUpper, TransformSquash} {
		if got, ok := ParseTransform(tr.String()); !ok || got != tr {
			t.Errorf("transform %v does not round-trip", tr)
		}
	}
	if _, ok := ParsePolicy("sourcewins"); ok {
		t.Error("a misspelt policy parsed")
	}
	if _, ok := ParsePredOp(""); ok {
		t.Error("the empty operator parsed")
	}
	if Policy(99).String() != "?" {
		t.Error("out-of-range policy has a name")
	}
}
