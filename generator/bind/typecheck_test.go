package bind

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"testing"

	"golang.org/x/tools/go/packages"

	"github.com/connectorgen/connectorgen/generator/emit"
	"github.com/connectorgen/connectorgen/generator/ir"
)

// typeChecker type-checks generated sync code with go/types against the
// real runtime packages (loaded once from the runtime module through the
// workspace) and the example clients' emitted code, so a test learns
// whether the output compiles, not only whether it parses.
type typeChecker struct {
	fset *token.FileSet
	pkgs map[string]*types.Package
}

func newTypeChecker(tb testing.TB, clients []*ir.Client) *typeChecker {
	tb.Helper()
	tc := &typeChecker{fset: token.NewFileSet(), pkgs: map[string]*types.Package{}}
	cfg := &packages.Config{Mode: packages.NeedName | packages.NeedTypes | packages.NeedImports | packages.NeedDeps, Dir: filepath.Join("..", "..", "runtime")}
	roots, err := packages.Load(cfg, "./engine", "./oas", "./rest", "./transport", "./secret", "./auth", "./syncutil")
	if err != nil {
		tb.Fatalf("loading the runtime: %v", err)
	}
	packages.Visit(roots, nil, func(p *packages.Package) {
		if p.Types != nil {
			tc.pkgs[p.PkgPath] = p.Types
		}
	})
	for _, p := range roots {
		if len(p.Errors) > 0 {
			tb.Fatalf("runtime package %s: %v", p.PkgPath, p.Errors[0])
		}
	}
	for _, c := range clients {
		files, err := emit.Client(c.Pkg)
		if err != nil {
			tb.Fatalf("emit client %s: %v", c.System, err)
		}
		var srcs [][]byte
		var names []string
		for _, f := range files {
			if filepath.Ext(f.Name) == ".go" {
				srcs, names = append(srcs, f.Content), append(names, f.Name)
			}
		}
		if _, err := tc.check(c.ImportPath, names, srcs); err != nil {
			tb.Fatalf("client %s does not type-check: %v", c.System, err)
		}
	}
	return tc
}

// Import implements types.Importer over the loaded packages.
func (tc *typeChecker) Import(path string) (*types.Package, error) {
	if p, ok := tc.pkgs[path]; ok {
		return p, nil
	}
	// Any other import is a with: package: the tests resolve functions
	// with classify, so give it that one function.
	if path == "" {
		return nil, fmt.Errorf("empty import path")
	}
	pkg := types.NewPackage(path, "fn")
	str := types.Typ[types.String]
	res := types.NewTuple(types.NewVar(token.NoPos, pkg, "mobile", str), types.NewVar(token.NoPos, pkg, "landline", str), types.NewVar(token.NoPos, pkg, "err", types.Universe.Lookup("error").Type()))
	sig := types.NewSignatureType(nil, nil, nil, types.NewTuple(types.NewVar(token.NoPos, pkg, "s", str)), res, false)
	pkg.Scope().Insert(types.NewFunc(token.NoPos, pkg, "Classify", sig))
	pkg.MarkComplete()
	tc.pkgs[path] = pkg
	return pkg, nil
}

// check type-checks one package from sources and keeps it for importers.
func (tc *typeChecker) check(path string, names []string, srcs [][]byte) (*types.Package, error) {
	var files []*ast.File
	for i, src := range srcs {
		f, err := parser.ParseFile(tc.fset, names[i], src, 0)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	var first error
	conf := types.Config{Importer: tc, Error: func(err error) {
		if first == nil {
			first = err
		}
	}}
	pkg, _ := conf.Check(path, tc.fset, files, nil)
	if first != nil {
		return nil, first
	}
	tc.pkgs[path] = pkg
	return pkg, nil
}
