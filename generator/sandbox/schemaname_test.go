package sandbox

import (
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
