package cli

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateDrift = flag.Bool("update-drift", false, "rewrite the connectorgen diff goldens in ../testdata/drift")

const corpus = "../../../shared/corpus"

// TestDiffGoldens runs connectorgen diff on real spec version pairs from
// the corpus: a mapping the new version breaks (exit 1, each break
// positioned in the mapping file) and one it does not (exit 0).
func TestDiffGoldens(t *testing.T) {
	if _, err := os.Stat(corpus); err != nil {
		t.Skipf("corpus not found at %s (../shared/corpus from the repository root): %v", corpus, err)
	}
	cases := []struct {
		name, spec string
		exit       int
		wantBreaks []string // substrings of break lines, each with a position
	}{
		{"okta_ok", "okta=" + corpus + "/okta__management__current.yaml", 0, nil},
		{"okta_break", "okta=" + corpus + "/okta__management__current.yaml", 1,
			[]string{"okta_break.yaml:25:15: break: ", "now addGroup", "okta_break.yaml:26:15: break: ", "now replaceGroup"}},
		{"hydra_break", "hydra=" + corpus + "/ory__hydra__v26.2.0.json", 1,
			[]string{"hydra_break.yaml:22:13: break: ", "listOAuth2Clients"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Main([]string{"diff", "-config", "../testdata/drift/" + tc.name + ".yaml", "-spec", tc.spec}, &out, &errb)
			if code != tc.exit {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.exit, out.String(), errb.String())
			}
			for _, w := range tc.wantBreaks {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if tc.exit == 0 && strings.Contains(out.String(), ": break: ") {
				t.Errorf("exit 0 with a break:\n%s", out.String())
			}
			golden := filepath.Join("..", "testdata", "drift", tc.name+".out")
			if *updateDrift {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update-drift)", err)
			}
			if !bytes.Equal(want, out.Bytes()) {
				t.Errorf("output differs from %s (run with -update-drift after checking):\n%s", golden, out.String())
			}
		})
	}
}

// TestDiffUsage: a missing -spec, an unknown system and a spec that does
// not exist are usage errors (exit 2), not verdicts.
func TestDiffUsage(t *testing.T) {
	for _, args := range [][]string{
		{"diff", "-config", "../../specs/crmemail/connector.yaml"},
		{"diff", "-config", "../../specs/crmemail/connector.yaml", "-spec", "nosuch=../../specs/crm/openapi.yaml"},
		{"diff", "-config", "../../specs/crmemail/connector.yaml", "-spec", "crm=/does/not/exist.yaml"},
	} {
		var out, errb bytes.Buffer
		if code := Main(args, &out, &errb); code != ExitUsage {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errb.String())
		}
	}
}

// TestDiffSameSpec: diffing a connector against the spec it was generated
// from reports nothing and exits 0.
func TestDiffSameSpec(t *testing.T) {
	var out, errb bytes.Buffer
	code := Main([]string{"diff", "-config", "../../specs/crmemail/connector.yaml", "-spec", "crm=../../specs/crm/openapi.yaml"}, &out, &errb)
	if code != 0 || strings.Contains(out.String(), "break") || !strings.Contains(out.String(), "0 finding(s)") {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
}

// TestCheckNotesSpecDrift: check says when a spec changed since its client
// was generated.
func TestCheckNotesSpecDrift(t *testing.T) {
	dir := t.TempDir()
	spec, err := os.ReadFile("../../specs/crm/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sp := filepath.Join(dir, "crm.yaml")
	if err := os.WriteFile(sp, spec, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "crm")
	var so, se bytes.Buffer
	if code := Main([]string{"generate", "-q", "-spec", sp, "-package", "crm", "-out", out}, &so, &se); code != 0 {
		t.Fatalf("generate: %s", se.String())
	}
	so.Reset()
	Main([]string{"check", "-q", "-spec", sp, "-package", "crm", "-out", out}, &so, &se)
	if strings.Contains(so.String(), "note: the spec") {
		t.Fatalf("note without a change:\n%s", so.String())
	}
	if err := os.WriteFile(sp, append(spec, []byte("\n# changed\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	so.Reset()
	Main([]string{"check", "-q", "-spec", sp, "-package", "crm", "-out", out}, &so, &se)
	if !strings.Contains(so.String(), "note: the spec of package . changed since its client was generated") {
		t.Fatalf("check did not note the changed spec:\n%s", so.String())
	}
}
