package generator

import (
	"os"
	"strings"
	"testing"

	"github.com/connectorgen/connectorgen/generator/config"
)

// generateVariant generates the example connector with its config text
// changed by edit (old → new replacements).
func generateVariant(t *testing.T, edits ...string) *Result {
	t.Helper()
	data, err := os.ReadFile("../specs/crmemail/connector.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(text, edits[i]) {
			t.Fatalf("config lacks %q", edits[i])
		}
		text = strings.Replace(text, edits[i], edits[i+1], 1)
	}
	cfg, diags := config.Parse("../specs/crmemail/connector.yaml", []byte(text))
	if cfg == nil {
		t.Fatalf("config: %s", diags)
	}
	return GenerateConfig(cfg, Options{OutputDir: cfg.OutputDir()})
}

func file(res *Result, path string) string {
	for _, f := range res.Files {
		if f.Path == path {
			return string(f.Content)
		}
	}
	return ""
}

// TestLeastPrivilege: the runbook lists the scopes the operations need;
// requesting more is a warning at the scopes entry and in the runbook, and
// the requested scopes reach the OAuth config.
func TestLeastPrivilege(t *testing.T) {
	res := generateVariant(t, "        refresh_token: env://CRM_REFRESH_TOKEN\n", "        refresh_token: env://CRM_REFRESH_TOKEN\n        scopes: crm.read crm.write\n")
	if !res.OK() {
		t.Fatalf("generation failed: %s", res.Diagnostics)
	}
	var warn string
	for _, d := range res.Diagnostics {
		if strings.Contains(d.Msg, "least privilege") {
			warn = d.String()
		}
	}
	if !strings.Contains(warn, "connector.yaml:18:17") || !strings.Contains(warn, "crm.write") {
		t.Fatalf("no positioned least-privilege warning: %q\n%s", warn, res.Diagnostics)
	}
	rb := file(res, "README.md")
	if !strings.Contains(rb, "need (least privilege; from the spec's security requirements): `crm.read`") || !strings.Contains(rb, "**Warning:** the mapping requests scopes no operation of this connector needs: `crm.write`") {
		t.Fatalf("runbook:\n%s", rb)
	}
	if !strings.Contains(file(res, "sync_gen.go"), `cfg.Scopes = strings.Fields("crm.read crm.write")`) {
		t.Fatal("NewClients does not request the configured scopes")
	}
	// Exactly what is needed: no warning.
	res = generateVariant(t, "        refresh_token: env://CRM_REFRESH_TOKEN\n", "        refresh_token: env://CRM_REFRESH_TOKEN\n        scopes: crm.read\n")
	if strings.Contains(res.Diagnostics.String(), "least privilege") || strings.Contains(file(res, "README.md"), "**Warning:**") {
		t.Fatalf("warning for the needed scopes: %s", res.Diagnostics)
	}
}

// TestServiceConfig: environment and base_url are checked against the
// spec; service: {main: false} drops the main package; the default emits
// it with the environment and base URL.
func TestServiceConfig(t *testing.T) {
	res := generateVariant(t, "    package: crm\n", "    package: crm\n    environment: staging\n")
	if res.OK() || !strings.Contains(res.Diagnostics.String(), `connector.yaml:13:18: system "crm": no environment "staging"; the spec's servers are: production, sandbox`) {
		t.Fatalf("unknown environment: %s", res.Diagnostics)
	}
	res = generateVariant(t, "    package: email\n", "    package: email\n    base_url: http://postbox.example/3.0\n")
	if res.OK() || !strings.Contains(res.Diagnostics.String(), "HTTPS is required except on loopback") {
		t.Fatalf("plain-HTTP base_url: %s", res.Diagnostics)
	}
	res = generateVariant(t, "    package: crm\n", "    package: crm\n    environment: sandbox\n", "    package: email\n", "    package: email\n    base_url: https://eu.postbox.example/3.0\n")
	if !res.OK() {
		t.Fatal(res.Diagnostics)
	}
	svc := file(res, "service_gen.go")
	if !strings.Contains(svc, `DefaultEnvironment: "sandbox"`) || !strings.Contains(svc, `BaseURL: "https://eu.postbox.example/3.0"`) || file(res, "cmd/crmemail/main_gen.go") == "" {
		t.Fatalf("service_gen.go:\n%s", svc)
	}
	res = generateVariant(t, "service: { state: [sqlite, postgres] }\n", "service: { main: false }\n")
	if !res.OK() || file(res, "cmd/crmemail/main_gen.go") != "" || file(res, "service_gen.go") == "" {
		t.Fatalf("main: false still emits the main package (%d files): %s", len(res.Files), res.Diagnostics)
	}
}
