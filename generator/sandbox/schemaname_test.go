package sandbox

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// An entity without schema: uses the schema named like the entity, as the
// generator does; the sandbox used to refuse it ("schema \"\" not in the
// spec").
func TestEntitySchemaDefaultsToItsName(t *testing.T) {
	spec, err := filepath.Abs("../../specs/crm/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// Spec paths in a config are relative to it.
	rel, err := filepath.Rel(dir, spec)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "connector.yaml")
	body := "version: 1\npackage: p\noutput: .\nsystems:\n  crm: { spec: " + filepath.ToSlash(rel) + " }\n" +
		"entities:\n  crm.Lead:\n    key: id\n    read: { list: listLeads, get: getLead }\n"
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	sb, err := Load(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	if _, err := sb.System("crm").Create("Lead", Record{"email": "a@example.com", "status": "new"}); err != nil {
		t.Fatalf("create a lead: %v", err)
	}
}

// A system's overlays are applied before it is served: a query parameter
// an overlay declares is validated (here: its maximum), and a list is
// paged the way the overlay's x-connectorgen-pagination says.
func TestOverlaysApplied(t *testing.T) {
	spec, err := filepath.Abs("../../specs/crm/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rel, err := filepath.Rel(dir, spec)
	if err != nil {
		t.Fatal(err)
	}
	overlay := "overlay: 1.0.0\ninfo: { title: t, version: 1.0.0 }\nactions:\n" +
		"  - target: $.paths['/owners'].get\n    update:\n      parameters:\n" +
		"        - { name: team_filter, in: query, schema: { type: string, maxLength: 3 } }\n"
	if err := os.WriteFile(filepath.Join(dir, "crm.overlay.yaml"), []byte(overlay), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "connector.yaml")
	body := "version: 1\npackage: p\noutput: .\nsystems:\n  crm: { spec: " + filepath.ToSlash(rel) + ", overlays: [crm.overlay.yaml] }\n" +
		"entities:\n  crm.Owner:\n    key: id\n    read: { list: listOwners, get: getOwner }\n"
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	sb, err := Load(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	crm := sb.System("crm")
	req, err := http.NewRequest("GET", crm.BaseURL()+"/owners?team_filter=toolong", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || len(crm.Violations()) == 0 {
		t.Fatalf("a query parameter violating the overlay's schema: status %d, %d violations; want 400 and a violation", resp.StatusCode, len(crm.Violations()))
	}
}

// A PUT update replaces the record unless the entity's hint says the API
// merges it (Jira's editIssue).
func TestMergeOnPut(t *testing.T) {
	spec := `openapi: 3.0.3
info: { title: t, version: "1" }
paths:
  /things/{id}:
    parameters: [ { name: id, in: path, required: true, schema: { type: string } } ]
    get:
      operationId: getThing
      responses: { "200": { description: ok, content: { application/json: { schema: { $ref: '#/components/schemas/Thing' } } } } }
    put:
      operationId: putThing
      requestBody: { content: { application/json: { schema: { $ref: '#/components/schemas/Thing' } } } }
      responses: { "204": { description: done } }
components:
  schemas:
    Thing:
      type: object
      properties: { id: { type: string, readOnly: true }, a: { type: string }, b: { type: string } }
`
	for _, merge := range []bool{false, true} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "spec.yaml"), []byte(spec), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg := "version: 1\npackage: p\noutput: .\nsystems:\n  s: { spec: spec.yaml }\n" +
			"entities:\n  s.Thing:\n    key: id\n    read: { get: getThing }\n    write: { update: putThing }\n"
		if err := os.WriteFile(filepath.Join(dir, "connector.yaml"), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		sb, err := Load(filepath.Join(dir, "connector.yaml"), Options{Hints: map[string]Hint{"s.Thing": {MergeOnPut: merge}}})
		if err != nil {
			t.Fatal(err)
		}
		defer sb.Close()
		s := sb.System("s")
		rec, err := s.Create("Thing", Record{"a": "1", "b": "2"})
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest("PUT", s.BaseURL()+"/things/"+rec["id"].(string), strings.NewReader(`{"a":"changed"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got, _ := s.Record("Thing", rec["id"].(string))
		_, kept := got["b"]
		if got["a"] != "changed" || kept != merge {
			t.Errorf("MergeOnPut=%v: after PUT {a: changed} the record is %v (status %d)", merge, got, resp.StatusCode)
		}
	}
}

// write.upsert names a bulk create-or-update (SendGrid's PUT of a contact
// list, answered with a job id); the sandbox used to leave it unclassified
// and answer without storing anything.
func TestDeclaredUpsert(t *testing.T) {
	spec := `openapi: 3.0.3
info: { title: t, version: "1" }
paths:
  /contacts:
    put:
      operationId: upsertContacts
      requestBody:
        content: { application/json: { schema: { type: object, required: [contacts], properties: { contacts: { type: array, items: { $ref: '#/components/schemas/Contact' } } } } } }
      responses:
        "202": { description: queued, content: { application/json: { schema: { type: object, properties: { job_id: { type: string } } } } } }
components:
  schemas:
    Contact:
      type: object
      properties: { email: { type: string }, first_name: { type: string } }
`
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "spec.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := "version: 1\npackage: p\noutput: .\nsystems:\n  s: { spec: spec.yaml }\n" +
		"entities:\n  s.Contact:\n    key: email\n    write: { upsert: upsertContacts }\n"
	if err := os.WriteFile(filepath.Join(dir, "connector.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	sb, err := Load(filepath.Join(dir, "connector.yaml"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	s := sb.System("s")
	for _, name := range []string{"Ada", "Grace"} {
		req, err := http.NewRequest("PUT", s.BaseURL()+"/contacts", strings.NewReader(`{"contacts":[{"email":"a@x.example","first_name":"`+name+`"},{"email":"b@x.example"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted || !strings.Contains(string(b), `"job_id":"`) {
			t.Fatalf("PUT /contacts: %d %s; want 202 with a job id (operations %v)", resp.StatusCode, b, s.Operations())
		}
	}
	recs, err := s.Records("Contact")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("after two upserts of the same two contacts: %d records %v; want 2", len(recs), recs)
	}
	if got, _ := s.Record("Contact", "a@x.example"); got["first_name"] != "Grace" {
		t.Errorf("a@x.example after the second upsert: %v; want first_name Grace", got)
	}
	if v := s.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
}

// An array beside a bulk upsert's record list (SendGrid's list_ids: the
// lists the contacts join) is kept per record as a set: each upsert adds
// its members, lists joined before stay, a repeat adds nothing, and only
// the request's records join.
func TestUpsertJoinsLists(t *testing.T) {
	spec := `openapi: 3.0.3
info: { title: t, version: "1" }
paths:
  /contacts:
    put:
      operationId: upsertContacts
      requestBody:
        content: { application/json: { schema: { type: object, required: [contacts], properties: {
          list_ids: { type: array, items: { type: string } },
          contacts: { type: array, items: { $ref: '#/components/schemas/Contact' } } } } } }
      responses:
        "202": { description: queued, content: { application/json: { schema: { type: object, properties: { job_id: { type: string } } } } } }
components:
  schemas:
    Contact:
      type: object
      properties: { email: { type: string }, first_name: { type: string } }
`
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "spec.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := "version: 1\npackage: p\noutput: .\nsystems:\n  s: { spec: spec.yaml }\n" +
		"entities:\n  s.Contact:\n    key: email\n    write: { upsert: upsertContacts, bulk: { list: contacts } }\n"
	if err := os.WriteFile(filepath.Join(dir, "connector.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	sb, err := Load(filepath.Join(dir, "connector.yaml"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	s := sb.System("s")
	for _, body := range []string{
		`{"list_ids":["L1"],"contacts":[{"email":"a@x.example"},{"email":"b@x.example"}]}`,
		`{"list_ids":["L2","L1"],"contacts":[{"email":"a@x.example","first_name":"Ada"}]}`,
		`{"list_ids":["L2"],"contacts":[{"email":"a@x.example"}]}`,
		`{"contacts":[{"email":"c@x.example"}]}`,
	} {
		req, err := http.NewRequest("PUT", s.BaseURL()+"/contacts", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("PUT /contacts %s: %d %s", body, resp.StatusCode, b)
		}
	}
	for email, want := range map[string][]any{"a@x.example": {"L1", "L2"}, "b@x.example": {"L1"}, "c@x.example": nil} {
		got, ok := s.Record("Contact", email)
		if !ok {
			t.Fatalf("no contact %s", email)
		}
		lists, has := got["list_ids"]
		if want == nil {
			if has {
				t.Errorf("%s joined lists %v without a list_ids in its request", email, lists)
			}
			continue
		}
		if !reflect.DeepEqual(lists, want) {
			t.Errorf("%s: list_ids %v, want %v (record %v)", email, lists, want, got)
		}
	}
	if got, _ := s.Record("Contact", "a@x.example"); got["first_name"] != "Ada" {
		t.Errorf("a@x.example: %v; want first_name Ada kept", got)
	}
	if v := s.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
}
