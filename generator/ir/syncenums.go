package ir

// The closed sets of the sync IR. Bind turns the mapping file's words into
// these; emit switches on them, so a misspelt word can never reach emit
// and a new member is found by the compiler's exhaustiveness of each
// switch's default. The spellings are functions, not package variables:
// the generator keeps no package-level state.

// MatchStep is one step of a sync's match list.
type MatchStep int

// Match steps, in the mapping file's spelling.
const (
	MatchXref MatchStep = iota
	MatchNaturalKey
	MatchCreate
	// MatchKeyFrom takes the target key from a source field (Sync.KeyFrom).
	MatchKeyFrom
)

func matchNames() []string {
	return []string{MatchXref: "xref", MatchNaturalKey: "natural_key", MatchCreate: "create", MatchKeyFrom: "key_from"}
}

func (m MatchStep) String() string { return nameOf(matchNames(), int(m)) }

// ParseMatchStep returns the step spelt s.
func ParseMatchStep(s string) (MatchStep, bool) {
	i, ok := parse(matchNames(), s)
	return MatchStep(i), ok
}

// Policy is a per-field conflict policy.
type Policy int

// Conflict policies.
const (
	SourceWins Policy = iota
	TargetWins
	LastWriterWins
	Queue
)

func policyNames() []string {
	return []string{SourceWins: "source_wins", TargetWins: "target_wins", LastWriterWins: "last_writer_wins", Queue: "queue"}
}

func (p Policy) String() string { return nameOf(policyNames(), int(p)) }

// ParsePolicy returns the policy spelt s.
func ParsePolicy(s string) (Policy, bool) {
	i, ok := parse(policyNames(), s)
	return Policy(i), ok
}

// PolicyNames lists the policies in the mapping file's spelling.
func PolicyNames() []string { return policyNames() }

// Missing says what a lookup does when the xref has no entry.
type Missing int

// Lookup policies.
const (
	MissingDefer Missing = iota
	MissingSkip
	MissingFail
)

func missingNames() []string {
	return []string{MissingDefer: "defer", MissingSkip: "skip", MissingFail: "fail"}
}

func (m Missing) String() string { return nameOf(missingNames(), int(m)) }

// ParseMissing returns the lookup policy spelt s.
func ParseMissing(s string) (Missing, bool) {
	i, ok := parse(missingNames(), s)
	return Missing(i), ok
}

// PredOp is the test of a predicate on a field.
type PredOp int

// Predicate operators; OpNone marks a combinator (all, any, not).
const (
	OpNone PredOp = iota
	OpEq
	OpNe
	OpIn
	OpPresent
	// OpContains: a list field holds the operand.
	OpContains
)

func opNames() []string {
	return []string{OpNone: "", OpEq: "eq", OpNe: "ne", OpIn: "in", OpPresent: "present", OpContains: "contains"}
}

func (o PredOp) String() string { return nameOf(opNames(), int(o)) }

// ParsePredOp returns the operator spelt s.
func ParsePredOp(s string) (PredOp, bool) {
	if s == "" {
		return OpNone, false
	}
	i, ok := parse(opNames(), s)
	return PredOp(i), ok
}

// Transform is a string transform of a field mapping.
type Transform int

// String transforms.
const (
	TransformTrim Transform = iota
	TransformLower
	TransformUpper
	TransformSquash
)

func transformNames() []string {
	return []string{TransformTrim: "trim", TransformLower: "lower", TransformUpper: "upper", TransformSquash: "squash"}
}

func (t Transform) String() string { return nameOf(transformNames(), int(t)) }

// ParseTransform returns the transform spelt s.
func ParseTransform(s string) (Transform, bool) {
	i, ok := parse(transformNames(), s)
	return Transform(i), ok
}

// TransformNames lists the transforms, sorted, for hints.
func TransformNames() []string { return []string{"lower", "squash", "trim", "upper"} }

// VersionSource is where a source record's version comes from, decided
// by bind so emit does not choose.
type VersionSource int

// Version sources.
const (
	// VersionNone: every change looks alike; unchanged writes are skipped
	// by their field snapshot.
	VersionNone VersionSource = iota
	// VersionField: the entity's integer version field.
	VersionField
	// VersionTimeCursor: the date-time cursor, in nanoseconds.
	VersionTimeCursor
	// VersionIntCursor: the integer cursor, which grows with every change.
	VersionIntCursor
)

// CursorKind is what an entity's cursor holds.
type CursorKind int

// Cursor kinds.
const (
	// CursorNone: no cursor; every poll reads the whole list.
	CursorNone CursorKind = iota
	CursorTime
	CursorInt
)

// KeyKind is the scalar type of a record key (or of a parameter taking
// one). The engine keeps keys as strings; generated code converts.
type KeyKind int

// Key kinds.
const (
	KeyString KeyKind = iota
	KeyInt
	KeyUUID
)

// String names the kind as diagnostics do ("a string").
func (k KeyKind) String() string {
	return nameOf([]string{KeyString: "a string", KeyInt: "an integer", KeyUUID: "a UUID"}, int(k))
}

func nameOf(names []string, i int) string {
	if i < 0 || i >= len(names) {
		return "?"
	}
	return names[i]
}

func parse(names []string, s string) (int, bool) {
	for i, n := range names {
		if n == s && n != "" {
			return i, true
		}
	}
	return 0, false
}
