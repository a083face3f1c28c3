package sandbox

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// envelopeSpec has the answer and request shapes of real specs the sandbox
// once got wrong: a Pipedrive-style allOf envelope around an inlined copy
// of the entity schema, an Intercom-style answer extending the entity with
// allOf, a PagerDuty-style request envelope ({"thing": {…}}) and required
// Accept and Content-Type header parameters (which OpenAPI ignores).
const envelopeSpec = `openapi: 3.0.3
info: {title: envelopes, version: "1"}
servers: [{url: "https://api.example.com/v1"}]
paths:
  /things:
    get:
      operationId: listThings
      parameters:
        - {name: Accept, in: header, required: true, schema: {type: string, default: "application/vnd.example+json;version=2"}}
        - {name: Content-Type, in: header, required: true, schema: {type: string, enum: [application/json]}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  data: {type: array, items: {$ref: "#/components/schemas/Thing"}}
    post:
      operationId: createThing
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [thing]
              properties:
                thing: {$ref: "#/components/schemas/Thing"}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                allOf: [{$ref: "#/components/schemas/Thing"}]
                properties:
                  extra: {type: boolean}
  /things/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: string}}
    get:
      operationId: getThing
      parameters:
        - {name: Content-Type, in: header, required: true, schema: {type: string}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                allOf:
                  - {type: object, properties: {success: {type: boolean}}}
                  - type: object
                    properties:
                      data:
                        type: object
                        allOf:
                          - type: object
                            properties:
                              id: {type: string}
                              name: {type: string}
                              size: {type: integer}
                      additional_data: {type: object, properties: {id: {type: string}}}
    patch:
      operationId: updateThing
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              properties:
                thing: {$ref: "#/components/schemas/Thing"}
          application/json-patch+json:
            schema:
              type: array
              items:
                type: object
                required: [op, path]
                properties:
                  op: {type: string, enum: [add, remove, replace, move, copy, test]}
                  path: {type: string}
                  from: {type: string}
                  value: {}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  thing: {$ref: "#/components/schemas/Thing"}
        "409": {description: a failed test}
        "422": {description: a patch that does not apply}
components:
  schemas:
    Thing:
      type: object
      properties:
        id: {type: string, readOnly: true}
        name: {type: string}
        size: {type: integer}
`

// TestEnvelopesAndIgnoredHeaders: the record is found in, and answered
// within, the envelope the spec describes, and requests without the
// Accept and Content-Type header parameters OpenAPI ignores are valid.
func TestEnvelopesAndIgnoredHeaders(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "spec.yaml"), []byte(envelopeSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := "version: 1\nsystems:\n  ex: { spec: spec.yaml }\nentities:\n  ex.Thing:\n    schema: Thing\n    key: id\n" +
		"    read: { list: listThings, get: getThing }\n    write: { create: createThing, update: updateThing }\n"
	if err := os.WriteFile(filepath.Join(dir, "connector.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	sb, err := Load(filepath.Join(dir, "connector.yaml"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	s := sb.System("ex")
	base := s.BaseURL()
	decode := func(a answer) map[string]any {
		t.Helper()
		if a.status != 200 {
			t.Fatalf("%d %s", a.status, a.body)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(a.body), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}

	// The request envelope is unwrapped; the answer extends the entity.
	created := decode(call(t, "POST", base+"/things", "application/json", `{"thing":{"name":"a","size":2}}`, nil))
	id, _ := created["id"].(string)
	if id == "" || created["name"] != "a" || created["thing"] != nil {
		t.Fatalf("create answered %v, want the stored record at the top level", created)
	}
	rec, ok := s.Record("ex.Thing", id)
	if !ok || rec["name"] != "a" || rec["thing"] != nil {
		t.Fatalf("stored %v, want the record without its envelope", rec)
	}

	// The inlined copy of the entity under data holds the record.
	got := decode(call(t, "GET", base+"/things/"+id, "", "", nil))
	data, _ := got["data"].(map[string]any)
	if data["id"] != id || data["name"] != "a" || got["name"] != nil {
		t.Fatalf("get answered %v, want the record under data", got)
	}

	// PATCH merges the enveloped fields and answers within the envelope.
	upd := decode(call(t, "PATCH", base+"/things/"+id, "application/json", `{"thing":{"size":5}}`, nil))
	th, _ := upd["thing"].(map[string]any)
	if th["id"] != id || th["name"] != "a" || th["size"] != float64(5) {
		t.Fatalf("update answered %v", upd)
	}

	// A JSON Patch applies to the stored record, all operations or none.
	const jp = "application/json-patch+json"
	upd = decode(call(t, "PATCH", base+"/things/"+id, jp,
		`[{"op":"test","path":"/size","value":5},{"op":"replace","path":"/name","value":"b"},{"op":"remove","path":"/size"},{"op":"add","path":"/tags","value":["x"]},{"op":"add","path":"/tags/0","value":"w"}]`, nil))
	th, _ = upd["thing"].(map[string]any)
	if th["id"] != id || th["name"] != "b" || th["size"] != nil || len(th["tags"].([]any)) != 2 || th["tags"].([]any)[0] != "w" {
		t.Fatalf("JSON Patch answered %v", upd)
	}
	if a := call(t, "PATCH", base+"/things/"+id, jp, `[{"op":"replace","path":"/name","value":"c"},{"op":"test","path":"/name","value":"b"}]`, nil); a.status != 409 {
		t.Errorf("failed test: %d %s, want 409", a.status, a.body)
	}
	if a := call(t, "PATCH", base+"/things/"+id, jp, `[{"op":"remove","path":"/missing"}]`, nil); a.status != 422 {
		t.Errorf("remove of a missing member: %d %s, want 422", a.status, a.body)
	}
	if rec, _ := s.Record("ex.Thing", id); rec["name"] != "b" {
		t.Errorf("a refused patch changed the record: %v", rec)
	}

	list := decode(call(t, "GET", base+"/things", "", "", nil))
	if items, _ := list["data"].([]any); len(items) != 1 {
		t.Fatalf("list answered %v", list)
	}
	for _, v := range s.Violations() {
		t.Errorf("violation: %v", v)
	}
}
