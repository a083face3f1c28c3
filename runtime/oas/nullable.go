package oas

import "fmt"

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
// The zero Nullable is absent. Declare fields with the omitzero tag option
// so that an absent value is left out of encoded JSON while null is written:
//
//	ManagerID oas.Nullable[int64] `json:"manager_id,omitzero"`
type Nullable[T any] struct {
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

// IsSet reports whether n is present: null or a value.
func (n Nullable[T]) IsSet() bool { return n.state != stateAbsent }

// IsZero reports whether n is absent. encoding/json consults it for fields
// tagged omitzero.
func (n Nullable[T]) IsZero() bool { return n.state == stateAbsent }

// Or returns the value when n holds one and def otherwise (absent or null).
func (n Nullable[T]) Or(def T) T {
	if n.state == stateValue {
		return n.value
	}
	return def
}

// Ptr returns a pointer to a copy of the value, or nil when n is absent or
// null.
func (n Nullable[T]) Ptr() *T {
	if n.state != stateValue {
		return nil
	}
	v := n.value
	return &v
}

// Set stores the value v.
func (n *Nullable[T]) Set(v T) { n.value, n.state = v, stateValue }

// SetNull makes n present and explicitly null.
func (n *Nullable[T]) SetNull() { *n = Nullable[T]{state: stateNull} }

// Unset makes n absent.
func (n *Nullable[T]) Unset() { *n = Nullable[T]{} }

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

// String returns "<absent>", "<null>", or the value formatted with fmt's %v
// verb.
func (n Nullable[T]) String() string {
	switch n.state {
	case stateAbsent:
		return "<absent>"
	case stateNull:
		return "<null>"
	}
	return fmt.Sprint(n.value)
}
