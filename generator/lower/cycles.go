package lower

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"

	"github.com/connectorgen/connectorgen/generator/ir"
	"github.com/connectorgen/connectorgen/generator/naming"
)

// valueTarget returns the local struct type that a field of type t
// contains by value (Opt and Nullable embed their element), or "".
func (l *lowerer) valueTarget(t *ir.TypeRef) string {
	for i := 0; i < 64 && t != nil; i++ {
		switch t.Kind {
		case ir.Opt, ir.Nullable:
			t = t.Elem
			continue
		case ir.Named:
			if t.Pkg != "" {
				return ""
			}
			nt := l.namedType(t.Name)
			if nt == nil {
				return ""
			}
			switch nt.Kind {
			case ir.Struct:
				return nt.Name
			case ir.Alias:
				t = nt.Target
				continue
			}
		}
		return ""
	}
	return ""
}

// breakValueCycles makes recursive types legal Go: a struct cannot contain
// itself by value, so every field that closes a cycle of by-value
// containment becomes a pointer (T → *T, Opt[T] → *T with nil meaning
// absent, Nullable[T] → Nullable[*T]). Alias cycles become json.RawMessage.
func (l *lowerer) breakValueCycles() {
	l.breakAliasCycles()
	structs := slices.Clone(l.types)
	slices.SortFunc(structs, func(a, b *ir.Type) int { return cmp.Compare(a.Name, b.Name) })
	comp := l.sccs(structs)
	for _, t := range structs {
		if t.Kind != ir.Struct {
			continue
		}
		for _, f := range t.Fields {
			target := l.valueTarget(f.Type)
			if target == "" || comp[target] != comp[t.Name] {
				continue
			}
			f.Type = pointerize(f.Type)
			if f.Type.Kind == ir.Pointer && !f.Required {
				f.OmitZero = true
			}
		}
	}
}

func pointerize(t *ir.TypeRef) *ir.TypeRef {
	switch t.Kind {
	case ir.Opt:
		return ir.Wrap(ir.Pointer, t.Elem)
	case ir.Nullable:
		return ir.Wrap(ir.Nullable, ir.Wrap(ir.Pointer, t.Elem))
	}
	return ir.Wrap(ir.Pointer, t)
}

// sccs labels each struct type with its strongly connected component in
// the by-value containment graph (Tarjan's algorithm); a type alone in its
// component gets a unique label unless it contains itself.
func (l *lowerer) sccs(types []*ir.Type) map[string]string {
	index := map[string]int{}
	low := map[string]int{}
	onStack := map[string]bool{}
	var stack []string
	comp := map[string]string{}
	next := 0
	edges := func(name string) []string {
		t := l.namedType(name)
		if t == nil || t.Kind != ir.Struct {
			return nil
		}
		var out []string
		for _, f := range t.Fields {
			if target := l.valueTarget(f.Type); target != "" {
				out = append(out, target)
			}
		}
		return out
	}
	var visit func(v string)
	visit = func(v string) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		self := false
		for _, w := range edges(v) {
			if w == v {
				self = true
			}
			if _, seen := index[w]; !seen {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] != index[v] {
			return
		}
		var members []string
		for {
			w := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[w] = false
			members = append(members, w)
			if w == v {
				break
			}
		}
		label := "scc:" + v
		if len(members) == 1 && !self {
			label = "single:" + v
		}
		for _, m := range members {
			comp[m] = label
		}
	}
	for _, t := range types {
		if t.Kind == ir.Struct {
			if _, seen := index[t.Name]; !seen {
				visit(t.Name)
			}
		}
	}
	// Names alone in their component must never compare equal to a
	// field's target of another type: single labels are unique per type.
	return comp
}

// breakAliasCycles replaces aliases that lead back to themselves with
// json.RawMessage: `type A = B; type B = A` does not compile.
func (l *lowerer) breakAliasCycles() {
	for _, t := range l.types {
		if t.Kind != ir.Alias {
			continue
		}
		seen := map[string]bool{t.Name: true}
		cur := t.Target
		for cur != nil && cur.Kind == ir.Named && cur.Pkg == "" {
			nt := l.namedType(cur.Name)
			if nt == nil || nt.Kind != ir.Alias {
				break
			}
			if seen[nt.Name] {
				t.Target = rawJSON()
				break
			}
			seen[nt.Name] = true
			cur = nt.Target
		}
		if t.Target == nil {
			t.Target = rawJSON()
		}
	}
}

// nameEnumConstants is naming phase 4: TypeName+Value for every enum
// value, in type name order, after all type names are final.
func (l *lowerer) nameEnumConstants() {
	enums := slices.Clone(l.types)
	slices.SortFunc(enums, func(a, b *ir.Type) int { return cmp.Compare(a.Name, b.Name) })
	for _, t := range enums {
		if t.Kind != ir.Enum {
			continue
		}
		for _, v := range t.EnumValues {
			var text string
			switch x := v.Value.(type) {
			case string:
				text = x
			case int64:
				text = strconv.FormatInt(x, 10)
			case float64:
				text = strconv.FormatFloat(x, 'f', -1, 64)
			default:
				text = fmt.Sprint(x)
			}
			v.ConstName = l.pkgNS.Claim(fmt.Sprintf("enum value %q of %s", text, t.Name), t.Name+naming.ValueName(text))
		}
	}
}

// pointOptionalStructs makes optional struct-typed fields pointers
// (Opt[T] → *T, nil meaning absent; JSON null decodes to nil as it did to
// an absent Opt). Every distinct struct type argument of oas.Opt costs a
// full set of compiled generic methods, and hundreds of them made generated
// packages slow to build; a pointer costs nothing. Scalars, enums and other
// named non-struct types keep oas.Opt, whose instantiations share code, and
// Nullable keeps its three states.
func (l *lowerer) pointOptionalStructs() {
	for _, t := range l.types {
		if t.Kind != ir.Struct {
			continue
		}
		for _, f := range t.Fields {
			if f.Type.Kind != ir.Opt || f.Type.Elem.Kind != ir.Named || f.Type.Elem.Pkg != "" {
				continue
			}
			if target := l.namedType(f.Type.Elem.Name); target != nil && target.Kind == ir.Struct {
				// In place: the paths pagination recorded share this ref.
				f.Type.Kind = ir.Pointer
			}
		}
	}
}
