package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
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

// corpusCall makes the sandbox's example request for r.
func corpusCall(t *testing.T, s *System, r *route, key string) answer {
	t.Helper()
	c, err := s.Example(r.id, key)
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{}
	for k, v := range c.Query {
		q.Set(k, v)
	}
	for k, v := range c.AuthQuery {
		q.Set(k, v)
	}
	u := s.BaseURL() + c.Path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequest(c.Method, u, bytes.NewReader(c.Body))
	if err != nil {
		t.Fatal(err)
	}
	if c.ContentType != "" {
		req.Header.Set("Content-Type", c.ContentType)
	}
	for k, v := range c.Header {
		req.Header.Set(k, v)
	}
	for k, v := range c.AuthHeader {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}
