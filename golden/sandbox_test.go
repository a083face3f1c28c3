package golden

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/connectorgen/connectorgen/generator/config"
	"github.com/connectorgen/connectorgen/generator/ir"
	"github.com/connectorgen/connectorgen/generator/load"
	"github.com/connectorgen/connectorgen/generator/lower"
	"github.com/connectorgen/connectorgen/generator/sandbox"
)

// sandboxFixtures are the connector configs of real corpus specs the
// sandbox is tested against (generator/sandbox/testdata/corpus).
const sandboxFixtures = "../generator/sandbox/testdata/corpus"

// sandboxCall is one call the generated test program makes.
type sandboxCall struct {
	Op     string                     `json:"op"`
	Method string                     `json:"method"`
	Params map[string]json.RawMessage `json:"params"`
	Body   json.RawMessage            `json:"body,omitempty"`
}

type sandboxCalls struct {
	BaseURL    string            `json:"base_url"`
	AuthHeader map[string]string `json:"auth_header"`
	AuthQuery  map[string]string `json:"auth_query"`
	Calls      []sandboxCall     `json:"calls"`
}

// TestSandboxCorpusClients serves a fixture's real vendor spec,
// unedited, in the sandbox, generates that spec's client into a temporary
// module, and runs a program there that calls every list, get, create and
// update operation of the declared entities through the generated client
// (parameters and bodies from the sandbox's example requests, decoded
// into the generated types). Every call must return without error and
// decode a non-empty answer, and the sandbox must have seen no request or
// answer that violates the spec.
func TestSandboxCorpusClients(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and compiles 18 clients; skipped with -short")
	}
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("no corpus at %s (it lives outside the repository, in ../shared/corpus): %v", corpusDir, err)
	}
	fixtures, _ := filepath.Glob(filepath.Join(sandboxFixtures, "*.yaml"))
	if len(fixtures) < 17 {
		t.Fatalf("only %d fixtures", len(fixtures))
	}
	// All 18 run by default: since optional objects became pointers and
	// Opt/Nullable lost most of their methods, compiling every client
	// (Stripe's and Klaviyo's are the largest) takes about 2 minutes of CPU.
	// SANDBOX_CLIENTS=a,b runs the named fixtures only.
	sel := os.Getenv("SANDBOX_CLIENTS")
	if sel == "" {
		sel = "all"
	}
	if sel != "all" {
		want := strings.Split(sel, ",")
		fixtures = slices.DeleteFunc(fixtures, func(f string) bool {
			return !slices.Contains(want, strings.TrimSuffix(filepath.Base(f), ".yaml"))
		})
	}
	work := t.TempDir()
	runtimeDir, err := filepath.Abs("../runtime")
	if err != nil {
		t.Fatal(err)
	}
	gomod := fmt.Sprintf("module sandboxed\n\ngo 1.25\n\nrequire github.com/connectorgen/connectorgen/runtime v0.0.0\n\nreplace github.com/connectorgen/connectorgen/runtime => %s\n", runtimeDir)
	if err := os.WriteFile(filepath.Join(work, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	if sum, err := os.ReadFile("../runtime/go.sum"); err == nil {
		os.WriteFile(filepath.Join(work, "go.sum"), sum, 0o644)
	}
	var systems []*sandbox.System
	var pkgs []string
	for _, fx := range fixtures {
		name := strings.TrimSuffix(filepath.Base(fx), ".yaml")
		pkg := "s" + strings.ReplaceAll(name, "_", "")
		cfg, diags := config.Load(fx)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", fx, diags.Errors().String())
		}
		sb, err := sandbox.New(cfg, sandbox.Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer sb.Close()
		sys := sb.Systems()[0]
		specPath := cfg.SpecPath(cfg.Systems[0])
		spec, ldiags := load.Load(specPath, load.Options{})
		if ldiags.HasErrors() {
			t.Fatal(ldiags.Errors().String())
		}
		irPkg, _ := lower.Lower(spec, lower.Options{Package: pkg})
		if irPkg == nil {
			t.Fatalf("%s: lower failed", name)
		}
		byID := map[string]*ir.Operation{}
		for _, op := range irPkg.Operations {
			byID[op.ID] = op
		}
		calls := sandboxCalls{BaseURL: sys.BaseURL()}
		keys := map[string]string{}
		for _, ent := range sys.Entities() {
			if err := sys.Generate(ent, 3); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		for _, opID := range sys.DeclaredOperations() {
			ent := sys.EntityOf(opID)
			if _, ok := keys[ent]; !ok {
				recs, _ := sys.Records(ent)
				keys[ent] = keyText(recs[1], cfg, ent)
			}
			ex, err := sys.Example(opID, keys[ent])
			if err != nil {
				t.Fatal(err)
			}
			op := byID[opID]
			if op == nil {
				t.Fatalf("%s: %s has no generated method", name, opID)
			}
			calls.AuthHeader, calls.AuthQuery = ex.AuthHeader, ex.AuthQuery
			c := sandboxCall{Op: opID, Method: op.MethodName, Params: map[string]json.RawMessage{}}
			for _, p := range op.Params {
				var v string
				var ok bool
				switch p.In {
				case ir.InPath:
					v, ok = ex.PathParams[p.Name]
				case ir.InQuery:
					v, ok = ex.Query[p.Name]
				case ir.InHeader:
					v, ok = ex.Header[p.Name]
				}
				if ok {
					b, _ := json.Marshal(v)
					c.Params[p.FieldName] = b
				}
			}
			if op.Body != nil {
				c.Body = ex.BodyJSON
			}
			calls.Calls = append(calls.Calls, c)
		}
		if err := writeDrivenClient(work, specPath, pkg, calls, "sandbox_calls.json", "zz_sandbox_test.go", callerProgram); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		systems = append(systems, sys)
		pkgs = append(pkgs, pkg)
	}
	out, err := testModule(work)
	if err != nil {
		t.Errorf("calls through the generated clients failed: %v\n%s", err, out)
	}
	ok := strings.Count(string(out), "ok  \tsandboxed/")
	if ok != len(pkgs) {
		t.Errorf("%d of %d client packages passed:\n%s", ok, len(pkgs), out)
	}
	for _, s := range systems {
		for _, v := range s.Violations() {
			t.Errorf("violation: %v", v)
		}
	}
	t.Logf("%d specs, %d clients generated and driven through the sandbox", len(fixtures), ok)
}

// keyText is a record's key as text.
func keyText(rec map[string]any, cfg *config.File, ent string) string {
	for _, e := range cfg.Entities {
		if e.Name == ent {
			return fmt.Sprint(rec[e.Key.Text])
		}
	}
	return fmt.Sprint(rec["id"])
}

// callerProgram is the test the temporary module runs in each generated
// client package: it makes the calls of sandbox_calls.json through the
// generated Client by reflection.
const callerProgram = `package PKG

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/connectorgen/connectorgen/runtime/rest"
)

type sandboxCall struct {
	Op     string                     ` + "`json:\"op\"`" + `
	Method string                     ` + "`json:\"method\"`" + `
	Params map[string]json.RawMessage ` + "`json:\"params\"`" + `
	Body   json.RawMessage            ` + "`json:\"body\"`" + `
}

type sandboxCalls struct {
	BaseURL    string            ` + "`json:\"base_url\"`" + `
	AuthHeader map[string]string ` + "`json:\"auth_header\"`" + `
	AuthQuery  map[string]string ` + "`json:\"auth_query\"`" + `
	Calls      []sandboxCall     ` + "`json:\"calls\"`" + `
}

type sandboxAuth struct{ h, q map[string]string }

func (a sandboxAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range a.h {
		r.Header.Set(k, v)
	}
	if len(a.q) > 0 {
		q := r.URL.Query()
		for k, v := range a.q {
			q.Set(k, v)
		}
		r.URL.RawQuery = q.Encode()
	}
	return http.DefaultTransport.RoundTrip(r)
}

// setJSON decodes raw into v; a quoted number also fits a numeric field.
func setJSON(raw json.RawMessage, v any) error {
	err := json.Unmarshal(raw, v)
	if err != nil && len(raw) > 1 && raw[0] == '"' {
		if err2 := json.Unmarshal(raw[1:len(raw)-1], v); err2 == nil {
			return nil
		}
	}
	return err
}

func TestSandboxCalls(t *testing.T) {
	b, err := os.ReadFile("sandbox_calls.json")
	if err != nil {
		t.Fatal(err)
	}
	var cs sandboxCalls
	if err := json.Unmarshal(b, &cs); err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(cs.BaseURL, rest.WithHTTPClient(&http.Client{Transport: sandboxAuth{cs.AuthHeader, cs.AuthQuery}}))
	if err != nil {
		t.Fatal(err)
	}
	cv := reflect.ValueOf(c)
	for _, call := range cs.Calls {
		m := cv.MethodByName(call.Method)
		if !m.IsValid() {
			t.Errorf("%s: no method %s", call.Op, call.Method)
			continue
		}
		mt := m.Type()
		args := []reflect.Value{reflect.ValueOf(context.Background())}
		for i := 1; i < mt.NumIn(); i++ {
			in := mt.In(i)
			if in.Kind() == reflect.Struct && strings.HasSuffix(in.Name(), "Params") {
				v := reflect.New(in)
				for name, raw := range call.Params {
					f := v.Elem().FieldByName(name)
					if !f.IsValid() {
						t.Errorf("%s: %s has no field %s", call.Op, in.Name(), name)
						continue
					}
					if err := setJSON(raw, f.Addr().Interface()); err != nil {
						t.Errorf("%s: param %s: %v", call.Op, name, err)
					}
				}
				args = append(args, v.Elem())
				continue
			}
			switch {
			case in.Implements(reflect.TypeOf((*io.Reader)(nil)).Elem()) && in.Kind() == reflect.Interface:
				args = append(args, reflect.ValueOf(bytes.NewReader(call.Body)))
			case in.Kind() == reflect.Pointer:
				v := reflect.New(in.Elem())
				if err := json.Unmarshal(call.Body, v.Interface()); err != nil {
					t.Errorf("%s: body into %s: %v", call.Op, in, err)
				}
				args = append(args, v)
			default:
				v := reflect.New(in)
				if len(call.Body) > 0 {
					if err := json.Unmarshal(call.Body, v.Interface()); err != nil {
						t.Errorf("%s: body into %s: %v", call.Op, in, err)
					}
				}
				args = append(args, v.Elem())
			}
		}
		out := m.Call(args)
		if e := out[len(out)-1]; !e.IsNil() {
			t.Errorf("%s: %v", call.Op, e.Interface())
			continue
		}
		if len(out) == 2 {
			r := out[0]
			if (r.Kind() == reflect.Pointer || r.Kind() == reflect.Interface) && r.IsNil() {
				continue // an operation documented without a body (204)
			}
			b, err := json.Marshal(r.Interface())
			if err != nil || len(b) < 3 {
				t.Errorf("%s: decoded answer %s (%v)", call.Op, b, err)
			}
		}
	}
}
`
