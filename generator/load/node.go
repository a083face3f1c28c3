package load

import (
	"bytes"
	"math"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v4"

	"github.com/connectorgen/connectorgen/generator/diag"
)

func pathUnescape(s string) (string, error) { return url.PathUnescape(s) }

// document is one parsed input file: the root spec or a file it refers to.
type document struct {
	abs     string // absolute path, the key in Spec.docs
	display string // path shown in diagnostics (relative where possible)
	root    *yaml.Node
	// origin positions the nodes an overlay added, in the overlay file.
	origin map[*yaml.Node]diag.Pos
}

// top returns the document's top-level node (inside the YAML document node).
func (d *document) top() *yaml.Node {
	n := d.root
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	return n
}

func (d *document) pos(n *yaml.Node) diag.Pos {
	if n == nil {
		return diag.Pos{File: d.display}
	}
	if p, ok := d.origin[n]; ok {
		return p
	}
	return diag.Pos{File: d.display, Line: n.Line, Col: n.Column}
}

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 64; i++ {
		n = n.Alias
	}
	return n
}

// mapGet returns the key and value nodes for key in a mapping node.
func mapGet(n *yaml.Node, key string) (k, v *yaml.Node) {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i], n.Content[i+1]
		}
	}
	return nil, nil
}

// walkPointer follows segs from n as far as it can. It returns the deepest
// node reached, the key node naming it (nil for sequence items and the
// start), and how many segments were consumed.
func walkPointer(n *yaml.Node, segs []string) (node, key *yaml.Node, depth int) {
	node = deref(n)
	for depth < len(segs) {
		s := segs[depth]
		switch {
		case node == nil:
			return node, key, depth
		case node.Kind == yaml.MappingNode:
			k, v := mapGet(node, s)
			if k == nil {
				return node, key, depth
			}
			node, key = deref(v), k
		case node.Kind == yaml.SequenceNode:
			i, err := strconv.Atoi(s)
			if err != nil || i < 0 || i >= len(node.Content) {
				return node, key, depth
			}
			node, key = deref(node.Content[i]), nil
		default:
			return node, key, depth
		}
		depth++
	}
	return node, key, depth
}

// appendJSON appends the JSON encoding of a YAML node. YAML features with
// no JSON form are normalised: aliases are expanded (to a bounded depth),
// merge keys (<<) are applied, non-finite floats become strings, and other
// scalars follow their resolved tag.
func appendJSON(b []byte, n *yaml.Node, depth int) []byte {
	if depth > 512 {
		return append(b, "null"...)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return append(b, "null"...)
		}
		return appendJSON(b, n.Content[0], depth+1)
	case yaml.AliasNode:
		if n.Alias == nil {
			return append(b, "null"...)
		}
		return appendJSON(b, n.Alias, depth+1)
	case yaml.SequenceNode:
		b = append(b, '[')
		for i, c := range n.Content {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, c, depth+1)
		}
		return append(b, ']')
	case yaml.MappingNode:
		b = append(b, '{')
		first := true
		for _, kv := range mappingPairs(n, 0) {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendJSONString(b, kv[0].Value)
			b = append(b, ':')
			b = appendJSON(b, kv[1], depth+1)
		}
		return append(b, '}')
	case yaml.ScalarNode:
		return appendScalar(b, n)
	}
	return append(b, "null"...)
}

// mappingPairs returns a mapping's key/value pairs with merge keys applied
// (explicit keys win over merged ones) and duplicate keys collapsed to the
// last occurrence, in first-occurrence order.
func mappingPairs(n *yaml.Node, depth int) [][2]*yaml.Node {
	var pairs [][2]*yaml.Node
	index := map[string]int{}
	add := func(k, v *yaml.Node, override bool) {
		if i, ok := index[k.Value]; ok {
			if override {
				pairs[i][1] = v
			}
			return
		}
		index[k.Value] = len(pairs)
		pairs = append(pairs, [2]*yaml.Node{k, v})
	}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merges = append(merges, v)
			continue
		}
		add(k, v, true)
	}
	if depth > 32 {
		return pairs
	}
	for _, m := range merges {
		m = deref(m)
		var sources []*yaml.Node
		if m != nil && m.Kind == yaml.SequenceNode {
			sources = m.Content
		} else {
			sources = []*yaml.Node{m}
		}
		for _, src := range sources {
			src = deref(src)
			if src == nil || src.Kind != yaml.MappingNode {
				continue
			}
			for _, kv := range mappingPairs(src, depth+1) {
				add(kv[0], kv[1], false)
			}
		}
	}
	return pairs
}

func appendScalar(b []byte, n *yaml.Node) []byte {
	v := n.Value
	switch n.ShortTag() {
	case "!!null":
		return append(b, "null"...)
	case "!!bool":
		if strings.EqualFold(v, "true") {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case "!!int":
		if i, err := strconv.ParseInt(strings.ReplaceAll(v, "_", ""), 0, 64); err == nil {
			return strconv.AppendInt(b, i, 10)
		}
		if isJSONNumber(v) {
			return append(b, v...)
		}
		return appendJSONString(b, v)
	case "!!float":
		if isJSONNumber(v) {
			return append(b, v...)
		}
		f, err := strconv.ParseFloat(strings.ReplaceAll(v, "_", ""), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return appendJSONString(b, v)
		}
		return strconv.AppendFloat(b, f, 'g', -1, 64)
	}
	return appendJSONString(b, v)
}

// isJSONNumber reports whether s is a number in JSON's grammar.
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i >= len(s) {
		return false
	}
	if s[i] == '0' {
		i++
	} else if s[i] >= '1' && s[i] <= '9' {
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	} else {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(s)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, replacing invalid UTF-8.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// nodeToJSON encodes a whole document.
func nodeToJSON(n *yaml.Node) []byte {
	var buf bytes.Buffer
	buf.Grow(1 << 16)
	return appendJSON(buf.Bytes(), n, 0)
}
