package oas

import "fmt"

// Opt is an optional value: one that may be absent. Generated models use it
// for properties that are not required and not nullable.
//
// The zero Opt is absent. Declare fields with the omitzero tag option so that
// an absent value is left out of encoded JSON:
//
//	Nickname oas.Opt[string] `json:"nickname,omitzero"`
//
// Decoding treats a JSON null as absent, because a server that sends null for
// a property the schema does not mark nullable almost always means "no
// value". Use [Nullable] when null must be told apart from absent.
type Opt[T any] struct {
	value T
	set   bool
}

// Some returns an Opt holding v.
func Some[T any](v T) Opt[T] { return Opt[T]{value: v, set: true} }

// Get returns the value and whether it is present. When absent it returns
// the zero value of T.
func (o Opt[T]) Get() (T, bool) { return o.value, o.set }

// IsSet reports whether a value is present.
func (o Opt[T]) IsSet() bool { return o.set }

// IsZero reports whether o is absent. encoding/json consults it for fields
// tagged omitzero.
func (o Opt[T]) IsZero() bool { return !o.set }

// Or returns the value when present and def otherwise.
func (o Opt[T]) Or(def T) T {
	if o.set {
		return o.value
	}
	return def
}

// Ptr returns a pointer to a copy of the value, or nil when absent. It eases
// interoperation with code that models optional values as pointers.
func (o Opt[T]) Ptr() *T {
	if !o.set {
		return nil
	}
	v := o.value
	return &v
}

// Set stores v and marks it present.
func (o *Opt[T]) Set(v T) { o.value, o.set = v, true }

// Unset makes o absent and drops the value it held.
func (o *Opt[T]) Unset() { *o = Opt[T]{} }

// MarshalJSON encodes the value, or null when absent. With the omitzero tag
// option encoding/json never calls it for an absent value.
func (o Opt[T]) MarshalJSON() ([]byte, error) {
	if !o.set {
		return []byte("null"), nil
	}
	return marshalValue(&o.value)
}

// UnmarshalJSON decodes a value and marks it present. A JSON null makes o
// absent. On error o is left absent.
func (o *Opt[T]) UnmarshalJSON(b []byte) error {
	*o = Opt[T]{}
	if isJSONNull(b) {
		return nil
	}
	if err := unmarshalValue(trimSpace(b), &o.value); err != nil {
		*o = Opt[T]{}
		return err
	}
	o.set = true
	return nil
}

// String returns "<absent>" or the value formatted with fmt's %v verb.
func (o Opt[T]) String() string {
	if !o.set {
		return "<absent>"
	}
	return fmt.Sprint(o.value)
}
