package sandbox

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// isJSONPatch reports whether a request body's media type is a JSON Patch
// (RFC 6902) document.
func isJSONPatch(ctype string) bool {
	return strings.Contains(strings.ToLower(ctype), "application/json-patch+json")
}

// patchError is an error constant of JSON Patch application.
type patchError string

func (e patchError) Error() string { return string(e) }

// errPatchTest is a failed "test" operation (answered 409).
const errPatchTest patchError = "test failed"

// applyJSONPatch applies the RFC 6902 operations of patch to doc (which it
// may modify) and returns the result. The operations apply in order and
// all or none do: the caller passes a copy.
func applyJSONPatch(doc any, patch any) (any, error) {
	ops, ok := patch.([]any)
	if !ok {
		return nil, errors.New("a JSON Patch document is an array of operations")
	}
	for i, o := range ops {
		op, ok := o.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("operation %d is not an object", i)
		}
		name, _ := op["op"].(string)
		path, ok := op["path"].(string)
		if !ok {
			return nil, fmt.Errorf("operation %d (%s): no path", i, name)
		}
		toks, err := pointerTokens(path)
		if err != nil {
			return nil, fmt.Errorf("operation %d (%s): %v", i, name, err)
		}
		value, hasValue := op["value"]
		from := func() ([]string, error) {
			f, ok := op["from"].(string)
			if !ok {
				return nil, errors.New("no from")
			}
			return pointerTokens(f)
		}
		switch name {
		case "add", "replace":
			if !hasValue {
				return nil, fmt.Errorf("operation %d (%s %s): no value", i, name, path)
			}
			doc, err = setAt(doc, toks, deepCopy(value), name == "add")
		case "remove":
			doc, _, err = removeAt(doc, toks)
		case "move", "copy":
			var ft []string
			if ft, err = from(); err != nil {
				break
			}
			var v any
			if name == "move" {
				if len(ft) < len(toks) && slicesEqual(ft, toks[:len(ft)]) {
					err = errors.New("cannot move a value into itself")
					break
				}
				doc, v, err = removeAt(doc, ft)
			} else if v, err = getAt(doc, ft); err == nil {
				v = deepCopy(v)
			}
			if err == nil {
				doc, err = setAt(doc, toks, v, true)
			}
		case "test":
			var v any
			if v, err = getAt(doc, toks); err == nil && !reflect.DeepEqual(jsonValue(v), jsonValue(value)) {
				err = errPatchTest
			}
		default:
			err = fmt.Errorf("unknown op %q", name)
		}
		if err != nil {
			return nil, fmt.Errorf("operation %d (%s %s): %w", i, name, path, err)
		}
	}
	return doc, nil
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// pointerTokens splits a JSON Pointer (RFC 6901).
func pointerTokens(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if p[0] != '/' {
		return nil, fmt.Errorf("pointer %q does not start with /", p)
	}
	toks := strings.Split(p[1:], "/")
	for i, t := range toks {
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks, nil
}

func arrayIndex(tok string, n int, appendOK bool) (int, error) {
	if appendOK && tok == "-" {
		return n, nil
	}
	i, err := strconv.Atoi(tok)
	if err != nil || i < 0 || (tok != "0" && tok[0] == '0') {
		return 0, fmt.Errorf("%q is not an array index", tok)
	}
	limit := n - 1
	if appendOK {
		limit = n
	}
	if i > limit {
		return 0, fmt.Errorf("index %d is out of range (length %d)", i, n)
	}
	return i, nil
}

func getAt(doc any, toks []string) (any, error) {
	for _, t := range toks {
		switch d := doc.(type) {
		case map[string]any:
			v, ok := d[t]
			if !ok {
				return nil, fmt.Errorf("no member %q", t)
			}
			doc = v
		case []any:
			i, err := arrayIndex(t, len(d), false)
			if err != nil {
				return nil, err
			}
			doc = d[i]
		default:
			return nil, fmt.Errorf("%q is below a value that is neither an object nor an array", t)
		}
	}
	return doc, nil
}

// setAt adds (insert: object members added or replaced, array elements
// inserted) or replaces (the target must exist) the value at toks.
func setAt(doc any, toks []string, v any, insert bool) (any, error) {
	if len(toks) == 0 {
		return v, nil
	}
	t, last := toks[0], len(toks) == 1
	switch d := doc.(type) {
	case map[string]any:
		old, ok := d[t]
		if last {
			if !ok && !insert {
				return nil, fmt.Errorf("no member %q to replace", t)
			}
			d[t] = v
			return d, nil
		}
		if !ok {
			return nil, fmt.Errorf("no member %q", t)
		}
		nv, err := setAt(old, toks[1:], v, insert)
		if err != nil {
			return nil, err
		}
		d[t] = nv
		return d, nil
	case []any:
		i, err := arrayIndex(t, len(d), last && insert)
		if err != nil {
			return nil, err
		}
		if !last {
			nv, err := setAt(d[i], toks[1:], v, insert)
			if err != nil {
				return nil, err
			}
			d[i] = nv
			return d, nil
		}
		if !insert {
			d[i] = v
			return d, nil
		}
		d = append(d, nil)
		copy(d[i+1:], d[i:])
		d[i] = v
		return d, nil
	}
	return nil, fmt.Errorf("%q is below a value that is neither an object nor an array", t)
}

// removeAt removes the value at toks and returns it.
func removeAt(doc any, toks []string) (any, any, error) {
	if len(toks) == 0 {
		return nil, nil, errors.New("cannot remove the whole document")
	}
	t, last := toks[0], len(toks) == 1
	switch d := doc.(type) {
	case map[string]any:
		old, ok := d[t]
		if !ok {
			return nil, nil, fmt.Errorf("no member %q", t)
		}
		if last {
			delete(d, t)
			return d, old, nil
		}
		nv, removed, err := removeAt(old, toks[1:])
		if err != nil {
			return nil, nil, err
		}
		d[t] = nv
		return d, removed, nil
	case []any:
		i, err := arrayIndex(t, len(d), false)
		if err != nil {
			return nil, nil, err
		}
		if last {
			old := d[i]
			return append(d[:i], d[i+1:]...), old, nil
		}
		nv, removed, err := removeAt(d[i], toks[1:])
		if err != nil {
			return nil, nil, err
		}
		d[i] = nv
		return d, removed, nil
	}
	return nil, nil, fmt.Errorf("%q is below a value that is neither an object nor an array", t)
}
