package oas

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
)

// MarshalExtra appends the members of extra to the JSON object known (the
// encoding of a generated struct's declared properties) and returns the
// result. Keys are appended in sorted order so the output is deterministic;
// keys already present in known are skipped, so declared properties win.
// When extra is empty, known is returned unchanged.
func MarshalExtra[V any](known []byte, extra map[string]V) ([]byte, error) {
	if len(extra) == 0 {
		return known, nil
	}
	present := make(map[string]struct{}, len(extra))
	var keyErr error
	err := eachMember(known, func(m member) bool {
		k, err := m.keyString()
		if err != nil {
			keyErr = err
			return false
		}
		present[k] = struct{}{}
		return true
	})
	if err == nil {
		err = keyErr
	}
	if err != nil {
		return nil, &extraError{op: "MarshalExtra", err: err}
	}
	body := trimSpace(known)
	body = trimSpace(body[:len(body)-1]) // drop the closing brace
	empty := len(present) == 0
	out := make([]byte, 0, len(body)+16*len(extra)+1)
	out = append(out, body...)
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		if _, dup := present[k]; dup {
			continue
		}
		v, err := json.Marshal(extra[k])
		if err != nil {
			return nil, &extraError{op: "MarshalExtra", key: k, err: err}
		}
		if !empty {
			out = append(out, ',')
		}
		empty = false
		out = appendJSONString(out, k)
		out = append(out, ':')
		out = append(out, v...)
	}
	return append(out, '}'), nil
}

// UnmarshalExtra decodes every top-level member of the JSON object data
// whose key isKnown rejects (every member when isKnown is nil) into a map.
// It returns nil when there is no such member, and nil for a JSON null. A
// key that appears more than once keeps its last value, as in encoding/json.
func UnmarshalExtra[V any](data []byte, isKnown func(key string) bool) (map[string]V, error) {
	if isJSONNull(data) {
		return nil, nil
	}
	var out map[string]V
	var firstErr error
	err := eachMember(data, func(m member) bool {
		k, err := m.keyString()
		if err != nil {
			firstErr = err
			return false
		}
		if isKnown != nil && isKnown(k) {
			return true
		}
		var v V
		if err := json.Unmarshal(m.value, &v); err != nil {
			firstErr = &extraError{op: "UnmarshalExtra", key: k, err: err}
			return false
		}
		if out == nil {
			out = make(map[string]V)
		}
		out[k] = v
		return true
	})
	if err != nil {
		return nil, &extraError{op: "UnmarshalExtra", err: err}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// PeekString returns the value of the top-level property of the JSON object
// data, when that value is a string, without decoding the other members. It
// reports false when data is not a valid JSON object, when the property is
// missing, or when its value is not a string. Keys match exactly (case
// sensitive, after unescaping); when a key repeats, the last occurrence wins,
// as it does when encoding/json decodes the same object.
func PeekString(data []byte, property string) (string, bool) {
	var found member
	var ok bool
	err := eachMember(data, func(m member) bool {
		if m.keyEquals(property) {
			found, ok = m, true
		}
		return true
	})
	if err != nil || !ok || len(found.value) == 0 || found.value[0] != '"' {
		return "", false
	}
	if s, plain := plainJSONString(found.value); plain {
		return s, true
	}
	var s string
	if json.Unmarshal(found.value, &s) != nil {
		return "", false
	}
	return s, true
}

// extraError reports a failure of MarshalExtra or UnmarshalExtra.
type extraError struct {
	op  string
	key string
	err error
}

// Error names the helper and, when known, the key.
func (e *extraError) Error() string {
	if e.key != "" {
		return "oas: " + e.op + ": key " + quoteInput(e.key) + ": " + e.err.Error()
	}
	return "oas: " + e.op + ": " + e.err.Error()
}

// Unwrap returns the cause.
func (e *extraError) Unwrap() error { return e.err }

// IsZero reports whether v would be left out by the omitzero option of
// encoding/json: its IsZero method says so, or it is its type's zero value.
// Generated code uses it for properties whose names encoding/json cannot
// spell in a struct tag (empty, or with quotes, commas, backslashes or
// backquotes), which it encodes itself.
func IsZero(v any) bool {
	if z, ok := v.(interface{ IsZero() bool }); ok {
		return z.IsZero()
	}
	rv := reflect.ValueOf(v)
	return !rv.IsValid() || rv.IsZero()
}
