package bind

import (
	"fmt"
	"go/types"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/tools/go/packages"

	"github.com/connectorgen/connectorgen/generator/ir"
)

// PackagesResolver returns a FuncResolver that type-checks the named
// packages with golang.org/x/tools/go/packages from dir (the directory of
// the generated code, whose module must be able to import them). Packages
// are loaded once per resolver.
func PackagesResolver(dir string) FuncResolver {
	// On a fresh project the output directory does not exist yet: load
	// from its nearest existing ancestor, which is in the same module.
	dir = existingAncestor(dir)
	loaded := map[string]*packages.Package{}
	return func(importPath, name string) (*ir.Func, error) {
		pkg, ok := loaded[importPath]
		if !ok {
			cfg := &packages.Config{Mode: packages.NeedName | packages.NeedTypes, Dir: dir}
			pkgs, err := packages.Load(cfg, importPath)
			if err != nil {
				return nil, &PackageError{ImportPath: importPath, Msg: fmt.Sprintf("cannot load package %q: %v", importPath, err)}
			}
			if len(pkgs) != 1 {
				return nil, &PackageError{ImportPath: importPath, Msg: fmt.Sprintf("cannot load package %q", importPath)}
			}
			pkg = pkgs[0]
			loaded[importPath] = pkg
		}
		if len(pkg.Errors) > 0 {
			return nil, &PackageError{ImportPath: importPath, Msg: fmt.Sprintf("package %q: %v", importPath, pkg.Errors[0])}
		}
		if pkg.Types == nil {
			return nil, &PackageError{ImportPath: importPath, Msg: fmt.Sprintf("package %q has no type information", importPath)}
		}
		obj := pkg.Types.Scope().Lookup(name)
		if obj == nil || !obj.Exported() {
			var names []string
			for _, n := range pkg.Types.Scope().Names() {
				if f, ok := pkg.Types.Scope().Lookup(n).(*types.Func); ok && f.Exported() {
					names = append(names, n)
				}
			}
			return nil, fmt.Errorf("%s", suggest(fmt.Sprintf("package %q has no exported function %s", importPath, name), name, names))
		}
		fn, ok := obj.(*types.Func)
		if !ok {
			return nil, fmt.Errorf("%s.%s is a %s, not a function", importPath, name, kindOf(obj))
		}
		return describe(importPath, fn)
	}
}

// existingAncestor returns dir, or its nearest ancestor that exists.
func existingAncestor(dir string) string {
	d := filepath.Clean(dir)
	for {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return dir
		}
		d = parent
	}
}

// PackageError says a with: package could not be loaded at all, so every
// function named in it fails the same way.
type PackageError struct {
	ImportPath, Msg string
}

func (e *PackageError) Error() string { return e.Msg }

func kindOf(obj types.Object) string {
	switch obj.(type) {
	case *types.Var:
		return "variable"
	case *types.Const:
		return "constant"
	case *types.TypeName:
		return "type"
	}
	return "declaration"
}

func describe(importPath string, fn *types.Func) (*ir.Func, error) {
	sig := fn.Type().(*types.Signature)
	if sig.Variadic() || sig.TypeParams().Len() > 0 || sig.Recv() != nil {
		return nil, fmt.Errorf("%s.%s: variadic, generic and method functions cannot be used in mappings", importPath, fn.Name())
	}
	out := &ir.Func{ImportPath: importPath, Name: fn.Name()}
	for i := 0; i < sig.Params().Len(); i++ {
		t, err := typeRef(sig.Params().At(i).Type())
		if err != nil {
			return nil, fmt.Errorf("%s.%s: parameter %d: %v", importPath, fn.Name(), i+1, err)
		}
		out.Params = append(out.Params, t)
	}
	n := sig.Results().Len()
	if n > 0 && types.Identical(sig.Results().At(n-1).Type(), types.Universe.Lookup("error").Type()) {
		out.HasError = true
		n--
	}
	if n == 0 {
		return nil, fmt.Errorf("%s.%s returns no value", importPath, fn.Name())
	}
	for i := range n {
		r := sig.Results().At(i)
		t, err := typeRef(r.Type())
		if err != nil {
			return nil, fmt.Errorf("%s.%s: result %d: %v", importPath, fn.Name(), i+1, err)
		}
		out.Results = append(out.Results, t)
		out.ResultNames = append(out.ResultNames, r.Name())
	}
	return out, nil
}

// typeRef describes a Go type in IR terms.
func typeRef(t types.Type) (*ir.TypeRef, error) {
	switch t := t.(type) {
	case *types.Basic:
		if t.Info()&types.IsUntyped != 0 {
			break
		}
		name := t.Name()
		switch name {
		case "byte":
			name = "uint8"
		case "rune":
			name = "int32"
		}
		return ir.BuiltinRef(name), nil
	case *types.Named:
		if t.Obj().Pkg() != nil && t.Obj().Pkg().Path() == ir.PkgOAS && t.TypeArgs().Len() == 1 {
			// oas.Opt[T] and oas.Nullable[T]: optional inputs.
			kind := map[string]ir.RefKind{"Opt": ir.Opt, "Nullable": ir.Nullable}[t.Obj().Name()]
			if kind == ir.Opt || kind == ir.Nullable {
				e, err := typeRef(t.TypeArgs().At(0))
				if err != nil {
					return nil, err
				}
				return ir.Wrap(kind, e), nil
			}
		}
		if t.TypeArgs().Len() > 0 || t.Obj().Pkg() == nil {
			break
		}
		return ir.QualRef(t.Obj().Pkg().Path(), t.Obj().Name()), nil
	case *types.Slice:
		e, err := typeRef(t.Elem())
		if err != nil {
			return nil, err
		}
		return ir.Wrap(ir.Slice, e), nil
	case *types.Pointer:
		e, err := typeRef(t.Elem())
		if err != nil {
			return nil, err
		}
		return ir.Wrap(ir.Pointer, e), nil
	}
	return nil, fmt.Errorf("type %s is not supported in mapping functions", strings.TrimSpace(t.String()))
}
