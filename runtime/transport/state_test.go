package transport

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoPackageLevelMutableState enforces the runtime's rule that its
// packages keep no package-level variables (shared budgets, breakers and
// caches live in values the caller owns). Only blank declarations such as
// `var _ Interface = (*T)(nil)` are allowed.
func TestNoPackageLevelMutableState(t *testing.T) {
	fset := token.NewFileSet()
	checked := 0
	for _, pkg := range []string{"auth", "oas", "observe", "rest", "secret", "transport", "engine", "service", "syncutil", "sqlitestore", "pgstore", "riverexec", "promobserve", "otelobserve"} {
		dir := filepath.Join("..", pkg)
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			checked++
			for _, d := range f.Decls {
				gd, ok := d.(*ast.GenDecl)
				if !ok || gd.Tok != token.VAR {
					continue
				}
				for _, s := range gd.Specs {
					vs := s.(*ast.ValueSpec)
					if immutableInit(vs) {
						continue
					}
					for _, id := range vs.Names {
						if id.Name != "_" {
							t.Errorf("%s: package-level variable %s in runtime/%s", fset.Position(id.Pos()), id.Name, pkg)
						}
					}
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no files checked")
	}
}

func TestKindText(t *testing.T) {
	seen := map[string]Kind{}
	for k := ErrUnknown; k <= ErrAuth; k++ {
		s := k.Error()
		if s == "" || k.String() != s {
			t.Errorf("kind %d: %q / %q", int(k), s, k.String())
		}
		if prev, dup := seen[s]; dup {
			t.Errorf("kinds %d and %d share the text %q", int(prev), int(k), s)
		}
		seen[s] = k
	}
	for _, k := range []Kind{-1, ErrAuth + 1, 1000} {
		if k.Error() != "unknown error" {
			t.Errorf("kind %d: %q", int(k), k.Error())
		}
	}
}

// immutableInit reports a variable whose value is a sentinel error
// (errors.New) or a compiled regular expression: values nothing can change
// and that are safe for concurrent use.
func immutableInit(vs *ast.ValueSpec) bool {
	if len(vs.Values) == 0 {
		return false
	}
	for _, v := range vs.Values {
		call, ok := v.(*ast.CallExpr)
		if !ok {
			return false
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return false
		}
		pkg, ok := sel.X.(*ast.Ident)
		if !ok || !(pkg.Name == "errors" && sel.Sel.Name == "New" || pkg.Name == "regexp" && sel.Sel.Name == "MustCompile") {
			return false
		}
	}
	return true
}
