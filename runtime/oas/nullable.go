package oas

// nullState is the state of a Nullable. The zero state is absent.
type nullState uint8

const (
	stateAbsent nullState = iota
	stateNull
	stateValue
)

// Nullable is a value with three states: absent, explicitly null, or a
// value. Generated models use it for properties the schema marks nullable,
// so that a client can tell "leave unchanged" (absent) from "clear" (null)
// and a decoded response keeps the distinction.
//
// The zero Nullable is absent; [Value] and [Null] make the other two
// states. Declare fields with the omitzero tag option so that an absent
// value is left out of encoded JSON while null is written:
//
//	ManagerID oas.Nullable[int64] `json:"manager_id,omitzero"`
//
// Get reads the value, IsNull and IsZero tell null and absent, and [Or] and
// [Ptr] work as for [Opt]. Like Opt, Nullable values are not comparable
// with == and carry only the methods encoding/json needs plus Get and
// IsNull, to keep generated packages cheap to compile.
type Nullable[T any] struct {
	_     [0]func() // not comparable: spares an equality function per instantiation
	value T
	state nullState
}

// Value returns a Nullable holding the (non-null) value v.
func Value[T any](v T) Nullable[T] { return Nullable[T]{value: v, state: stateValue} }

// Null returns a Nullable that is present and explicitly null.
func Null[T any]() Nullable[T] { return Nullable[T]{state: stateNull} }

// Get returns the value and true when n holds a value; the zero value of T
// and false when n is absent or null.
func (n Nullable[T]) Get() (T, bool) { return n.value, n.state == stateValue }

// IsNull reports whether n is present and explicitly null.
func (n Nullable[T]) IsNull() bool { return n.state == stateNull }

// IsZero reports whether n is absent (neither null nor a value).
// encoding/json consults it for fields tagged omitzero.
func (n Nullable[T]) IsZero() bool { return n.state == stateAbsent }

// MarshalJSON encodes the value, or null when n is null or absent. With the
// omitzero tag option encoding/json never calls it for an absent value.
func (n Nullable[T]) MarshalJSON() ([]byte, error) {
	if n.state != stateValue {
		return []byte("null"), nil
	}
	return marshalValue(&n.value)
}

// UnmarshalJSON decodes JSON null into the null state and anything else into
// a value. On error n is left absent.
func (n *Nullable[T]) UnmarshalJSON(b []byte) error {
	*n = Nullable[T]{}
	if isJSONNull(b) {
		n.state = stateNull
		return nil
	}
	if err := unmarshalValue(trimSpace(b), &n.value); err != nil {
		*n = Nullable[T]{}
		return err
	}
	n.state = stateValue
	return nil
}
