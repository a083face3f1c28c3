package lower

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/connectorgen/connectorgen/generator/ir"
	"github.com/connectorgen/connectorgen/generator/naming"
)

// dedupeTypes merges structurally identical anonymous types (inline schemas
// lowered once per use: an error item repeated in every operation's
// responses, say) into one Go type. Two types are identical when everything
// emitted for them but their name and position is: kind, docs, fields (Go
// and JSON names, types, tags, docs), enum values, union variants, targets.
// Different descriptions therefore keep types apart, so every doc comment
// stays true. Component schemas and types whose name the spec pins
// (x-connectorgen-name, x-go-name) are never merged.
//
// Merging runs to a fixed point, since merging inner types can make their
// parents identical. The survivor of each group is the first type lowered
// (the naming phases make that order deterministic); it takes the name the
// group's names share (naming.SharedName) when that name is free, and keeps
// its own otherwise. Every reference in the package is then redirected.
func (l *lowerer) dedupeTypes() {
	renamed := map[string]string{}
	resolve := func(name string) string {
		for {
			to, ok := renamed[name]
			if !ok || to == name {
				return name
			}
			name = to
		}
	}
	alive := l.types
	for {
		groups := map[string][]*ir.Type{}
		var order []string
		for _, t := range alive {
			if t.SchemaName != "" || l.specNamed[t] {
				continue
			}
			k := typeKey(t, resolve)
			if _, seen := groups[k]; !seen {
				order = append(order, k)
			}
			groups[k] = append(groups[k], t)
		}
		dropped := map[*ir.Type]bool{}
		for _, k := range order {
			g := groups[k]
			if len(g) < 2 {
				continue
			}
			keep := g[0]
			names := make([]string, len(g))
			for i, t := range g {
				names[i] = t.Name
			}
			if shared := naming.SharedName(names); shared != "" && shared != keep.Name &&
				(slices.Contains(names, shared) || l.pkgNS.Reserve(shared, "types shared by "+strings.Join(names, ", "))) {
				renamed[keep.Name] = shared
				delete(l.byName, keep.Name)
				keep.Name = shared
				l.byName[shared] = keep
			}
			for _, t := range g[1:] {
				renamed[t.Name] = keep.Name
				delete(l.byName, t.Name)
				dropped[t] = true
			}
		}
		if len(dropped) == 0 {
			break
		}
		var next []*ir.Type
		for _, t := range alive {
			if !dropped[t] {
				next = append(next, t)
			}
		}
		alive = next
	}
	if len(renamed) == 0 {
		return
	}
	l.types = alive
	rewriteRefs(reflect.ValueOf(l.pkg), resolve, map[uintptr]bool{})
	rewriteRefs(reflect.ValueOf(l.types), resolve, map[uintptr]bool{})
}

// typeKey renders everything emitted for t except its name and positions,
// with references to local types resolved to the survivors of merges.
func typeKey(t *ir.Type, resolve func(string) string) string {
	var b strings.Builder
	ref := func(r *ir.TypeRef) {
		for ; r != nil; r = r.Elem {
			b.WriteString(strconv.Itoa(int(r.Kind)))
			b.WriteByte(':')
			name := r.Name
			if r.Kind == ir.Named && r.Pkg == "" {
				name = resolve(name)
			}
			b.WriteString(strconv.Quote(r.Pkg + "." + name))
		}
		b.WriteByte(';')
	}
	str := func(ss ...string) {
		for _, s := range ss {
			b.WriteString(strconv.Quote(s))
		}
		b.WriteByte(';')
	}
	fmt.Fprintf(&b, "%d;", t.Kind)
	str(t.Doc, t.Deprecated, t.ExtraField, t.Discriminator, t.UnionMethods.Raw, t.UnionMethods.Which, t.UnionMethods.DiscriminatorValue)
	ref(t.Extra)
	ref(t.Target)
	ref(t.EnumBase)
	for _, f := range t.Fields {
		str(f.Name, f.JSONName, f.Doc, f.Deprecated)
		fmt.Fprintf(&b, "%t%t%t%t%t%d;", f.Required, f.Nullable, f.ReadOnly, f.WriteOnly, f.OmitZero, f.MaxItems)
		ref(f.Type)
	}
	b.WriteString("|")
	for _, v := range t.EnumValues {
		fmt.Fprintf(&b, "%T:%#v;", v.Value, v.Value)
		str(v.ConstName, v.Doc)
	}
	b.WriteString("|")
	for _, v := range t.Variants {
		str(v.Name, v.AsMethod, v.FromMethod, v.JSONKind)
		str(v.DiscriminatorValues...)
		ref(v.Type)
	}
	return b.String()
}

// rewriteRefs points every reference to a local type found below v at the
// name resolve gives it. It walks the IR by reflection, so that a reference
// in a part of the IR added later cannot be missed.
func rewriteRefs(v reflect.Value, resolve func(string) string, seen map[uintptr]bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || seen[v.Pointer()] {
			return
		}
		seen[v.Pointer()] = true
		if r, ok := v.Interface().(*ir.TypeRef); ok {
			if r.Kind == ir.Named && r.Pkg == "" {
				r.Name = resolve(r.Name)
			}
			rewriteRefs(reflect.ValueOf(r.Elem), resolve, seen)
			return
		}
		rewriteRefs(v.Elem(), resolve, seen)
	case reflect.Interface:
		if !v.IsNil() {
			rewriteRefs(v.Elem(), resolve, seen)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				rewriteRefs(v.Field(i), resolve, seen)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			rewriteRefs(v.Index(i), resolve, seen)
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			rewriteRefs(iter.Value(), resolve, seen)
		}
	}
}
