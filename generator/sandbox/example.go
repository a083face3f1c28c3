package sandbox

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// ExampleCall is a request for one operation that validates against the
// spec: required parameters, a body generated from the request schema
// (read-only properties left out), and a credential for the operation's
// first security requirement. Tests use it to drive clients.
type ExampleCall struct {
	Operation string
	Role      string // list, get, create, update, upsert, find, delete, none
	Method    string
	// Path is the path below the base URL, parameters substituted.
	Path        string
	PathParams  map[string]string
	Query       map[string]string
	Header      map[string]string
	ContentType string
	Body        []byte // JSON, or form-encoded for form bodies
	// BodyJSON is the body as JSON whatever its content type.
	BodyJSON []byte
	// AuthHeader and AuthQuery carry the credential.
	AuthHeader map[string]string
	AuthQuery  map[string]string
}

// DeclaredOperations lists the operations the mapping's entity
// declarations name, in spec order.
func (s *System) DeclaredOperations() []string {
	var out []string
	for _, r := range s.routes {
		if r.declared {
			out = append(out, r.id)
		}
	}
	sort.Strings(out)
	return out
}

// EntityOf names the entity an operation serves ("" when none).
func (s *System) EntityOf(opID string) string {
	if r := s.routeByID(opID); r != nil && r.ent != nil {
		return r.ent.full
	}
	return ""
}

// Example builds a valid request for operation opID; key fills the path
// parameter naming the record (get, update, delete); an empty key is
// generated from the parameter's schema like any other parameter.
func (s *System) Example(opID, key string) (ExampleCall, error) {
	r := s.routeByID(opID)
	if r == nil {
		return ExampleCall{}, fmt.Errorf("sandbox: system %s has no operation %q", s.name, opID)
	}
	g := s.newGen()
	g.request = true
	c := ExampleCall{Operation: r.id, Role: r.role.String(), Method: r.method, PathParams: map[string]string{},
		Query: map[string]string{}, Header: map[string]string{}, AuthHeader: map[string]string{}, AuthQuery: map[string]string{}}
	path := r.path
	for _, pr := range append(append(openapi3.Parameters{}, r.item.Parameters...), r.op.Parameters...) {
		p := pr.Value
		if p == nil {
			continue
		}
		var val string
		switch {
		case p.In == "path" && p.Name == r.keyParam && r.role != roleList && r.role != roleCreate && r.role != roleFind && key != "":
			val = key
		case r.ent != nil && r.ent.params[p.Name] != "":
			val = r.ent.params[p.Name]
		case p.Required || p.In == "path":
			if p.Schema != nil && p.Schema.Value != nil {
				v := g.value(p.Schema.Value, p.Name, 0)
				if arr, ok := v.([]any); ok && len(arr) == 0 && p.Schema.Value.Items != nil && p.Schema.Value.Items.Value != nil {
					// A required array parameter sent empty is absent on
					// the wire: give it one item.
					v = []any{g.value(p.Schema.Value.Items.Value, p.Name, 1)}
				}
				val = scalarText(v)
			}
			if val == "" {
				val = "x"
			}
		default:
			continue
		}
		switch p.In {
		case "path":
			c.PathParams[p.Name] = val
			path = strings.ReplaceAll(path, "{"+p.Name+"}", url.PathEscape(val))
		case "query":
			c.Query[p.Name] = val
		case "header":
			c.Header[p.Name] = val
		}
	}
	c.Path = path
	if rb := r.op.RequestBody; rb != nil && rb.Value != nil && len(rb.Value.Content) > 0 {
		cts := sortedKeys(rb.Value.Content)
		sort.SliceStable(cts, func(i, j int) bool { return isJSON(cts[i]) && !isJSON(cts[j]) })
		ct := cts[0]
		mt := rb.Value.Content[ct]
		var v any = map[string]any{}
		if mt.Schema != nil && mt.Schema.Value != nil {
			v = g.value(mt.Schema.Value, "", 0)
			if v == nil && !mt.Schema.Value.Nullable && (mt.Schema.Value.Type == nil || typeIs(mt.Schema.Value, "object")) {
				v = map[string]any{} // a free-form object, never null
			}
		}
		c.BodyJSON, _ = json.Marshal(v)
		if strings.Contains(ct, "x-www-form-urlencoded") {
			form := url.Values{}
			if m, ok := v.(map[string]any); ok {
				for k, x := range m {
					form.Set(k, scalarText(x))
				}
			}
			c.Body = []byte(form.Encode())
		} else {
			c.Body = c.BodyJSON
		}
		if strings.Contains(ct, "*") {
			ct = "application/json" // a wildcard media type takes JSON
		}
		c.ContentType = ct
	}
	s.exampleCredential(r, &c)
	return c, nil
}

func scalarText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case map[string]any, []any:
		b, _ := json.Marshal(x)
		return string(b)
	}
	return fmt.Sprint(v)
}

// exampleCredential adds a credential for every scheme of the operation's
// first security requirement (any value passes when no Credentials are
// configured).
func (s *System) exampleCredential(r *route, c *ExampleCall) {
	reqs := s.doc.Security
	if r.op.Security != nil {
		reqs = *r.op.Security
	}
	if len(reqs) == 0 || s.doc.Components == nil {
		return
	}
	for _, name := range sortedKeys(reqs[0]) {
		ref := s.doc.Components.SecuritySchemes[name]
		if ref == nil || ref.Value == nil {
			continue
		}
		sc := ref.Value
		switch strings.ToLower(sc.Type) {
		case "apikey":
			switch sc.In {
			case "header":
				c.AuthHeader[sc.Name] = "sandbox-key"
			case "query":
				c.AuthQuery[sc.Name] = "sandbox-key"
			case "cookie":
				c.AuthHeader["Cookie"] = sc.Name + "=sandbox-key"
			}
		case "http":
			if strings.EqualFold(sc.Scheme, "basic") {
				c.AuthHeader["Authorization"] = "Basic dXNlcjpwYXNz" // user:pass
			} else {
				c.AuthHeader["Authorization"] = "Bearer sandbox-token"
			}
		default:
			c.AuthHeader["Authorization"] = "Bearer sandbox-token"
		}
	}
}
