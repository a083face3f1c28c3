package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestCorpusSpecs serves real vendor specs from the shared corpus, unedited,
// with small connector configs (testdata/corpus) declaring one entity
// each, and calls every declared list, get, create and update operation
// with a request built from the spec (required parameters, credentials,
// a body generated from the request schema). Every call must succeed with
// a decodable answer, and no request or answer may violate the spec.
func TestCorpusSpecs(t *testing.T) {
	const corpus = "../../../shared/corpus"
	if _, err := os.Stat(corpus); err != nil {
		t.Skipf("no corpus at %s (it lives outside the repository, in ../shared/corpus): %v", corpus, err)
	}
	configs, _ := filepath.Glob("testdata/corpus/*.yaml")
	if len(configs) < 15 {
		t.Fatalf("only %d corpus fixtures", len(configs))
	}
	for _, cfg := range configs {
		t.Run(strings.TrimSuffix(filepath.Base(cfg), ".yaml"), func(t *testing.T) {
			sb, err := Load(cfg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer sb.Close()
			s := sb.Systems()[0]
			calls := 0
			for _, e := range s.entities {
				if !e.declared {
					continue
				}
				if err := s.Generate(e.full, 3); err != nil {
					t.Fatalf("generate %s: %v", e.full, err)
				}
				recs, _ := s.Records(e.full)
				key := keyString(recs[1][e.key])
				for _, r := range s.routes {
					if r.ent != e || !r.declared {
						continue
					}
					calls++
					a := corpusCall(t, s, r, key)
					if a.status/100 != 2 {
						t.Errorf("%s (%s): %d %s", r.id, r.role, a.status, truncate(a.body))
						continue
					}
					if strings.TrimSpace(a.body) != "" {
						var v any
						if err := json.Unmarshal([]byte(a.body), &v); err != nil {
							t.Errorf("%s: answer does not decode: %v", r.id, err)
						}
					}
				}
				after, _ := s.Records(e.full)
				for _, r := range s.routes {
					if r.ent == e && r.declared && (r.role == roleCreate || r.role == roleUpsert) && len(after) <= len(recs) {
						t.Errorf("%s: create stored nothing (%d records before, %d after)", r.id, len(recs), len(after))
					}
				}
			}
			if calls == 0 {
				t.Fatal("no operations called")
			}
			for _, v := range s.Violations() {
				t.Errorf("violation: %v", v)
			}
		})
	}
}

func truncate(s string) string {
	if len(s) > 400 {
		return s[:400] + "…"
	}
	return s
}

// corpusCall makes a spec-valid request for r.
func corpusCall(t *testing.T, s *System, r *route, key string) answer {
	t.Helper()
	g := s.newGen()
	g.request = true
	path := r.path
	q := url.Values{}
	hdr := http.Header{}
	params := append(append(openapi3.Parameters{}, r.item.Parameters...), r.op.Parameters...)
	for _, pr := range params {
		p := pr.Value
		if p == nil {
			continue
		}
		var val string
		switch {
		case p.In == "path" && p.Name == r.keyParam && r.role != roleList && r.role != roleCreate:
			val = key
		case r.ent.params[p.Name] != "":
			val = r.ent.params[p.Name]
		case p.Required || p.In == "path":
			if p.Schema != nil && p.Schema.Value != nil {
				val = scalarText(g.value(p.Schema.Value, p.Name, 0))
			}
			if val == "" {
				val = "x"
			}
		default:
			continue
		}
		switch p.In {
		case "path":
			path = strings.ReplaceAll(path, "{"+p.Name+"}", url.PathEscape(val))
		case "query":
			q.Set(p.Name, val)
		case "header":
			hdr.Set(p.Name, val)
		}
	}
	u := s.BaseURL() + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var body io.Reader
	if rb := r.op.RequestBody; rb != nil && rb.Value != nil {
		cts := sortedKeys(rb.Value.Content)
		sort.SliceStable(cts, func(i, j int) bool { return isJSON(cts[i]) && !isJSON(cts[j]) })
		ct := cts[0]
		mt := rb.Value.Content[ct]
		var v any = map[string]any{}
		if mt.Schema != nil && mt.Schema.Value != nil {
			v = g.value(mt.Schema.Value, "", 0)
		}
		if strings.Contains(ct, "x-www-form-urlencoded") {
			form := url.Values{}
			if m, ok := v.(map[string]any); ok {
				for k, x := range m {
					form.Set(k, scalarText(x))
				}
			}
			body = strings.NewReader(form.Encode())
		} else {
			b, _ := json.Marshal(v)
			body = bytes.NewReader(b)
		}
		if strings.Contains(ct, "*") {
			ct = "application/json" // a wildcard media type takes JSON
		}
		hdr.Set("Content-Type", ct)
	}
	req, err := http.NewRequest(r.method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	authorize(s, r, req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
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

// authorize adds a credential for every scheme of the operation's first
// security requirement (the sandbox accepts any when none is configured).
func authorize(s *System, r *route, req *http.Request) {
	reqs := s.doc.Security
	if r.op.Security != nil {
		reqs = *r.op.Security
	}
	if len(reqs) == 0 || s.doc.Components == nil {
		return
	}
	for name := range reqs[0] {
		ref := s.doc.Components.SecuritySchemes[name]
		if ref == nil || ref.Value == nil {
			continue
		}
		sc := ref.Value
		switch strings.ToLower(sc.Type) {
		case "apikey":
			switch sc.In {
			case "header":
				req.Header.Set(sc.Name, "sandbox-key")
			case "query":
				qq := req.URL.Query()
				qq.Set(sc.Name, "sandbox-key")
				req.URL.RawQuery = qq.Encode()
			case "cookie":
				req.AddCookie(&http.Cookie{Name: sc.Name, Value: "sandbox-key"})
			}
		case "http":
			if strings.EqualFold(sc.Scheme, "basic") {
				req.SetBasicAuth("user", "pass")
			} else {
				req.Header.Set("Authorization", "Bearer sandbox-token")
			}
		default:
			req.Header.Set("Authorization", "Bearer sandbox-token")
		}
	}
}
