package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/connectorgen/connectorgen/generator/sandbox"
)

// TestSandboxCommand: the sandbox command serves every system, seeds from
// a file, prints the URLs, and saves its state when stopped; a second run
// loads that state.
func TestSandboxCommand(t *testing.T) {
	dir := t.TempDir()
	seed := filepath.Join(dir, "seed.yaml")
	os.WriteFile(seed, []byte("crm.Owner:\n  - {id: own_1, name: Ada, email: ada@acme.example, active: true}\n"), 0o644)
	state := filepath.Join(dir, "state")
	run := func(args ...string) (string, int) {
		ctx, cancel := context.WithCancel(context.Background())
		var out, errb bytes.Buffer
		code := runSandbox(ctx, args, &out, &errb, func(sb *sandbox.Sandbox) {
			crm := sb.System("crm")
			resp, err := http.Get(crm.AdminURL() + "/records/Owner")
			if err != nil {
				t.Error(err)
			} else {
				var recs []map[string]any
				json.NewDecoder(resp.Body).Decode(&recs)
				resp.Body.Close()
				if len(recs) != 1 || recs[0]["id"] != "own_1" {
					t.Errorf("owners: %v", recs)
				}
			}
			cancel()
		})
		if errb.Len() > 0 {
			t.Logf("stderr: %s", errb.String())
		}
		return out.String(), code
	}
	out, code := run("-config", "../../specs/crmemail/connector.yaml", "-seed", seed, "-state", state)
	if code != ExitOK || !strings.Contains(out, "crm: http://127.0.0.1:") || !strings.Contains(out, "/v1  token http://") || !strings.Contains(out, "email: http://127.0.0.1:") {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(state, "crm.json")); err != nil {
		t.Fatalf("state not saved: %v", err)
	}
	if _, code := run("-config", "../../specs/crmemail/connector.yaml", "-state", state); code != ExitOK {
		t.Fatalf("second run: exit %d", code)
	}
	var errb bytes.Buffer
	if code := runSandbox(context.Background(), []string{"-config", "x", "-spec", "y"}, &bytes.Buffer{}, &errb, nil); code != ExitUsage {
		t.Errorf("both -config and -spec: exit %d", code)
	}
	if code := runSandbox(context.Background(), []string{"-config", "../../specs/crmemail/connector.yaml", "-listen", "0.0.0.0:0"}, &bytes.Buffer{}, &errb, nil); code != ExitDiags || !strings.Contains(errb.String(), "not loopback") {
		t.Errorf("non-loopback listen: exit %d %s", code, errb.String())
	}
}
