package sandbox

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/connectorgen/connectorgen/generator/config"
	"github.com/connectorgen/connectorgen/generator/ir"
	"github.com/connectorgen/connectorgen/generator/load"
	"github.com/connectorgen/connectorgen/generator/lower"
	"github.com/connectorgen/connectorgen/generator/naming"
)

// System is one simulated system: its server, record stores, auth state,
// fault injector, webhook sender and violation log.
type System struct {
	name     string
	doc      *openapi3.T
	pkg      *ir.Package
	basePath string
	routes   []*route
	entities []*entity
	opts     Options
	creds    Credentials
	hasCreds bool

	in    *injector
	auth  *authState
	hooks *webhooks

	ln       net.Listener
	srv      *http.Server
	url      string
	tokenURL string // path of the OAuth 2.0 token endpoint, "" when none

	vmu        sync.Mutex
	violations []Violation
	perOp      map[string]int
	applied    map[string]int64
	lose       map[string]int // LoseAnswers: operation → answers still to lose (under vmu)
	gen        *rand.Rand     // guarded by vmu's sibling genMu
	genMu      sync.Mutex
}

// Name is the system's name in the config.
func (s *System) Name() string { return s.name }

// URL is the server's root URL (http://127.0.0.1:port).
func (s *System) URL() string { return s.url }

// BaseURL is the API base URL: the root URL plus the path of the spec's
// first server.
func (s *System) BaseURL() string { return s.url + s.basePath }

// TokenURL is the OAuth 2.0 token endpoint ("" when the spec has none).
func (s *System) TokenURL() string {
	if s.tokenURL == "" {
		return ""
	}
	return s.url + s.tokenURL
}

// AdminURL is the root of the admin API.
func (s *System) AdminURL() string { return s.url + adminPrefix }

func newSystem(cfg *config.File, sys *config.System, opts Options, index uint64) (*System, error) {
	// The system is served as the connector sees it: with its overlays
	// applied (declared parameters, pagination, fixed formats).
	spec, diags := load.Load(cfg.SpecPath(sys), load.Options{AllowRemoteRefs: sys.AllowRemoteRefs, Overlays: cfg.OverlayPaths(sys)})
	if diags.HasErrors() {
		return nil, fmt.Errorf("sandbox: system %s: %s", sys.Name, diags.Errors().String())
	}
	s, err := buildSystem(spec, sys.Name, sys.Package, opts, index)
	if err != nil {
		return nil, err
	}
	for _, e := range cfg.Entities {
		if e.System != sys.Name {
			continue
		}
		if err := s.declareEntity(cfg, e); err != nil {
			return nil, err
		}
	}
	s.deriveEntities()
	s.classify()
	s.feedEntities()
	return s, nil
}

func newSpecSystem(specPath, name string, opts Options) (*System, error) {
	spec, diags := load.Load(specPath, load.Options{})
	if diags.HasErrors() {
		return nil, fmt.Errorf("sandbox: %s: %s", specPath, diags.Errors().String())
	}
	s, err := buildSystem(spec, name, "", opts, 0)
	if err != nil {
		return nil, err
	}
	s.deriveEntities()
	s.classify()
	return s, nil
}

func buildSystem(spec *load.Spec, name, pkgName string, opts Options, index uint64) (*System, error) {
	if ok, _ := naming.PackageName(pkgName); !ok {
		pkgName = "sandboxed"
	}
	pkg, diags := lower.Lower(spec, lower.Options{Package: pkgName})
	if diags.HasErrors() {
		return nil, fmt.Errorf("sandbox: system %s: %s", name, diags.Errors().String())
	}
	s := &System{
		name:    name,
		doc:     spec.Doc,
		pkg:     pkg,
		opts:    opts,
		in:      newInjector(opts.Seed ^ (index+1)*0x9e3779b97f4a7c15),
		auth:    newAuthState(opts.TokenTTL),
		hooks:   &webhooks{},
		perOp:   map[string]int{},
		applied: map[string]int64{},
		gen:     rand.New(rand.NewPCG(opts.Seed, index+0x5eed)),
	}
	s.in.setFaults(opts.Faults)
	s.creds, s.hasCreds = opts.Credentials[name]
	if len(spec.Doc.Servers) > 0 {
		if u, err := url.Parse(spec.Doc.Servers[0].URL); err == nil {
			s.basePath = strings.TrimRight(u.Path, "/")
			// Server variables in the path ({version}) take their defaults.
			for k, v := range spec.Doc.Servers[0].Variables {
				s.basePath = strings.ReplaceAll(s.basePath, "{"+k+"}", v.Default)
			}
		}
	}
	s.tokenURL = tokenPath(spec.Doc)
	irOps := map[string]*ir.Operation{}
	for _, op := range pkg.Operations {
		irOps[op.HTTPMethod+" "+op.Path] = op
	}
	for _, p := range sortedPaths(spec.Doc) {
		item := spec.Doc.Paths.Value(p)
		item.Parameters = withoutIgnoredHeaders(item.Parameters)
		for _, m := range methods() {
			op := item.GetOperation(m)
			if op == nil {
				continue
			}
			op.Parameters = withoutIgnoredHeaders(op.Parameters)
			r := &route{method: m, path: p, item: item, op: op, ir: irOps[m+" "+p], segs: splitSegs(p), valOp: validatable(op)}
			r.id = op.OperationID
			if r.id == "" {
				r.id = m + " " + p
			}
			s.routes = append(s.routes, r)
		}
	}
	// Literal segments win over parameters: /members/search before
	// /members/{id}.
	sort.SliceStable(s.routes, func(i, j int) bool { return s.routes[i].literalRank() > s.routes[j].literalRank() })
	return s, nil
}

// withoutIgnoredHeaders drops header parameters named Accept, Content-Type
// or Authorization: OpenAPI says their definitions SHALL be ignored (the
// media types come from the request body and responses, credentials from
// the security schemes), so a client that does not send them is not wrong.
// The system's spec is its own copy; only the lists are replaced.
func withoutIgnoredHeaders(ps openapi3.Parameters) openapi3.Parameters {
	var out openapi3.Parameters
	for _, p := range ps {
		if p != nil && p.Value != nil && p.Value.In == "header" && nameIn(p.Value.Name, "accept", "content-type", "authorization") {
			continue
		}
		out = append(out, p)
	}
	return out
}

func methods() []string {
	return []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead, http.MethodOptions}
}

func sortedPaths(doc *openapi3.T) []string {
	if doc.Paths == nil {
		return nil
	}
	ps := doc.Paths.InMatchingOrder()
	slices.Sort(ps)
	return ps
}

// tokenPath is the path of the first OAuth 2.0 token URL in the spec.
func tokenPath(doc *openapi3.T) string {
	if doc.Components == nil {
		return ""
	}
	keys := make([]string, 0, len(doc.Components.SecuritySchemes))
	for k := range doc.Components.SecuritySchemes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		ref := doc.Components.SecuritySchemes[k]
		if ref == nil || ref.Value == nil || ref.Value.Flows == nil {
			continue
		}
		f := ref.Value.Flows
		for _, fl := range []*openapi3.OAuthFlow{f.ClientCredentials, f.AuthorizationCode, f.Password} {
			if fl == nil || fl.TokenURL == "" {
				continue
			}
			if u, err := url.Parse(fl.TokenURL); err == nil && u.Path != "" {
				return u.Path
			}
		}
	}
	return ""
}

func (s *System) start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("sandbox: system %s: %v", s.name, err)
	}
	s.ln = ln
	s.url = "http://" + ln.Addr().String()
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 0}
	go func() { _ = s.srv.Serve(ln) }()
	return nil
}

func (s *System) close() {
	s.in.close()
	if s.srv != nil {
		_ = s.srv.Close()
	}
}

func (s *System) shutdown(ctx context.Context) error {
	s.in.close()
	if s.srv == nil {
		return nil
	}
	if err := s.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Violations returns the recorded violations in the order they happened.
func (s *System) Violations() []Violation {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	return slices.Clone(s.violations)
}

// ViolationsByOperation counts violations per operation.
func (s *System) ViolationsByOperation() map[string]int {
	s.vmu.Lock()
	defer s.vmu.Unlock()
	out := make(map[string]int, len(s.perOp))
	for k, v := range s.perOp {
		out[k] = v
	}
	return out
}

func (s *System) violate(r *route, req *http.Request, kind, msg string) {
	op := "?"
	if r != nil {
		op = r.id
	}
	s.vmu.Lock()
	s.violations = append(s.violations, Violation{System: s.name, Operation: op, Kind: kind, Method: req.Method, Path: req.URL.Path, Message: msg})
	s.perOp[op]++
	s.vmu.Unlock()
}

// route is one operation of the spec.
type route struct {
	id     string
	method string
	path   string
	segs   []string
	item   *openapi3.PathItem
	op     *openapi3.Operation
	ir     *ir.Operation
	role   role
	ent    *entity
	// keyParam is the path parameter naming the record (get, update,
	// delete); other path parameters scope or are copied.
	keyParam string
	merge    bool // update merges (PATCH) rather than replaces (PUT)
	declared bool // the role comes from the mapping
	// list is the body field holding a bulk upsert's records (the
	// mapping's write.bulk.list; "" for the first array of the body).
	list string
	// valOp is op as the request validator sees it (events.go: without
	// the deepObject parameters kin-openapi cannot decode).
	valOp *openapi3.Operation
}

func (r *route) literalRank() int {
	n := 0
	for _, sg := range r.segs {
		if !strings.HasPrefix(sg, "{") {
			n++
		}
	}
	return n*1000 - len(r.segs)
}

func splitSegs(p string) []string {
	return strings.Split(strings.Trim(p, "/"), "/")
}

// match reports whether path (below the base path) matches r, with the
// path parameters.
func (r *route) match(segs []string) (map[string]string, bool) {
	if len(segs) != len(r.segs) {
		return nil, false
	}
	var params map[string]string
	for i, t := range r.segs {
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
			if segs[i] == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			v, err := url.PathUnescape(segs[i])
			if err != nil {
				return nil, false
			}
			params[t[1:len(t)-1]] = v
			continue
		}
		// Templates with a parameter inside a segment (/files/{name}.json)
		// match by prefix and suffix.
		if open := strings.IndexByte(t, '{'); open >= 0 {
			cl := strings.LastIndexByte(t, '}')
			if cl < open || !strings.HasPrefix(segs[i], t[:open]) || !strings.HasSuffix(segs[i], t[cl+1:]) {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[t[open+1:cl]] = strings.TrimSuffix(strings.TrimPrefix(segs[i], t[:open]), t[cl+1:])
			continue
		}
		if t != segs[i] {
			return nil, false
		}
	}
	return params, true
}

func (s *System) find(method, path string) (*route, map[string]string, bool) {
	rest, ok := strings.CutPrefix(path, s.basePath)
	if !ok {
		return nil, nil, false
	}
	segs := splitSegs(rest)
	pathFound := false
	for _, r := range s.routes {
		params, ok := r.match(segs)
		if !ok {
			continue
		}
		pathFound = true
		if r.method == method {
			return r, params, true
		}
	}
	return nil, nil, pathFound
}
