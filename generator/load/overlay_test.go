package load

import (
	"strings"
	"testing"
)

const overlaySpec = `openapi: 3.0.3
info: { title: t, version: "1" }
paths:
  /tickets:
    get:
      operationId: listTickets
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: { type: array, items: { $ref: '#/components/schemas/Ticket' } }
components:
  schemas:
    Ticket:
      type: object
      properties:
        id: { type: integer }
        priority: { type: integer, format: uuid }
`

const overlayDoc = `overlay: 1.0.0
info: { title: fixes, version: 1.0.0 }
actions:
  - target: $.paths['/tickets'].get
    description: the real API takes updated_since
    update:
      parameters:
        - { name: updated_since, in: query, schema: { type: string, format: date-time } }
  - target: $.components.schemas.Ticket.properties.priority
    update: { format: int32 }
`

func memFS(files map[string]string) func(string) ([]byte, error) {
	return func(path string) ([]byte, error) {
		for name, content := range files {
			if strings.HasSuffix(path, name) {
				return []byte(content), nil
			}
		}
		return nil, &notFound{path}
	}
}

type notFound struct{ path string }

func (e *notFound) Error() string { return e.path + ": no such file" }

// TestOverlayApplied: overlay actions change the loaded description (a
// parameter added, a wrong format replaced), nodes an overlay added are
// positioned in the overlay file, and the overlay is part of the hash.
func TestOverlayApplied(t *testing.T) {
	fs := memFS(map[string]string{"spec.yaml": overlaySpec, "fixes.yaml": overlayDoc})
	plain, diags := Load("spec.yaml", Options{ReadFile: fs})
	if plain == nil {
		t.Fatal(diags)
	}
	spec, diags := Load("spec.yaml", Options{ReadFile: fs, Overlays: []string{"fixes.yaml"}})
	if spec == nil {
		t.Fatal(diags)
	}
	op := spec.Doc.Paths.Find("/tickets").Get
	if len(op.Parameters) != 1 || op.Parameters[0].Value.Name != "updated_since" {
		t.Errorf("parameters = %+v, want updated_since from the overlay", op.Parameters)
	}
	if f := spec.Doc.Components.Schemas["Ticket"].Value.Properties["priority"].Value.Format; f != "int32" {
		t.Errorf("priority format = %q, want int32", f)
	}
	pos := spec.Pos(Loc{Pointer: "#/paths/~1tickets/get/parameters/0/name"})
	if pos.File != "fixes.yaml" || pos.Line != 7 {
		t.Errorf("overlay-added node at %v, want fixes.yaml:7", pos)
	}
	if pos := spec.Pos(Loc{Pointer: "#/components/schemas/Ticket/properties/id"}); pos.File != "spec.yaml" || pos.Line != 18 {
		t.Errorf("untouched node at %v, want spec.yaml:18", pos)
	}
	if plain.Hash == spec.Hash {
		t.Error("the overlay does not change the hash")
	}
}

func TestOverlayErrors(t *testing.T) {
	for _, tc := range []struct {
		name, overlay, want string
	}{
		{"no match", "overlay: 1.0.0\ninfo: {title: x, version: '1'}\nactions:\n  - target: $.paths['/nope']\n    update: {x: 1}\n", `fixes.yaml:4:13: overlay action 1: target "$.paths['/nope']" matches nothing in spec.yaml`},
		{"not an overlay", "openapi: 3.0.3\n", `fixes.yaml:1:1: not an OpenAPI Overlay 1.0 or 1.1 document (overlay: "")`},
		{"bad path", "overlay: 1.1.0\ninfo: {title: x, version: '1'}\nactions:\n  - target: '$[['\n    remove: true\n", `fixes.yaml:4:13: overlay action 1: target "$[[" is not a JSONPath`},
		{"missing", "", `fixes.yaml: cannot read overlay`},
	} {
		files := map[string]string{"spec.yaml": overlaySpec}
		if tc.overlay != "" {
			files["fixes.yaml"] = tc.overlay
		}
		spec, diags := Load("spec.yaml", Options{ReadFile: memFS(files), Overlays: []string{"fixes.yaml"}})
		if spec != nil || !strings.HasPrefix(diags.String(), tc.want) {
			t.Errorf("%s: got %q, want prefix %q", tc.name, diags.String(), tc.want)
		}
	}
}
