package oas

// Opt is an optional value: one that may be absent. Generated models use it
// for properties that are not required and not nullable.
//
// The zero Opt is absent; [Some] makes a present one. Declare fields with
// the omitzero tag option so that an absent value is left out of encoded
// JSON:
//
//	Nickname oas.Opt[string] `json:"nickname,omitzero"`
//
// Read a value with Get (or the [Or] and [Ptr] helpers), set one by
// assignment (m.Nickname = oas.Some("ann")) and clear it with the zero value
// (m.Nickname = oas.Opt[string]{}).
//
// Decoding treats a JSON null as absent, because a server that sends null for
// a property the schema does not mark nullable almost always means "no
// value". Use [Nullable] when null must be told apart from absent.
//
// Opt values are not comparable with ==: compare what Get returns. The type
// has only the methods encoding/json needs plus Get, because every method of
// a generic type is compiled for every type argument a generated package
// uses (hundreds of them); the other helpers are generic functions, compiled
// only where they are called.
type Opt[T any] struct {
	_     [0]func() // not comparable: spares an equality function per instantiation
	value T
	set   bool
}

// Some returns an Opt holding v.
func Some[T any](v T) Opt[T] { return Opt[T]{value: v, set: true} }

// Get returns the value and whether it is present. When absent it returns
// the zero value of T.
func (o Opt[T]) Get() (T, bool) { return o.value, o.set }

// IsZero reports whether o is absent. encoding/json consults it for fields
// tagged omitzero.
func (o Opt[T]) IsZero() bool { return !o.set }

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

// Getter is what [Opt] and [Nullable] have in common for reading: Get
// returns the value and whether there is one.
type Getter[T any] interface {
	Get() (T, bool)
}

// Or returns the value of v ([Opt] or [Nullable]) when it holds one and def
// otherwise (absent, or null):
//
//	limit := oas.Or(p.Limit, 50)
func Or[T any](v Getter[T], def T) T {
	if x, ok := v.Get(); ok {
		return x
	}
	return def
}

// Ptr returns a pointer to a copy of the value of v ([Opt] or [Nullable]),
// or nil when it holds none. It eases interoperation with code that models
// optional values as pointers.
func Ptr[T any](v Getter[T]) *T {
	x, ok := v.Get()
	if !ok {
		return nil
	}
	return &x
}

// FromPtr returns an Opt holding *p, or an absent Opt when p is nil.
func FromPtr[T any](p *T) Opt[T] {
	if p == nil {
		return Opt[T]{}
	}
	return Some(*p)
}
