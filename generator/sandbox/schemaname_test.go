package sandbox

import (
	"net/http"
	"os"
	"path/filepath"
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
