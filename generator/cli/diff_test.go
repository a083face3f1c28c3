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

// diffEmailVariant diffs the example connector against a copy of its
// email spec changed by the old → new replacements.
func diffEmailVariant(t *testing.T, edits ...string) (int, string) {
	t.Helper()
	return diffVariant(t, "email", edits...)
}

// diffVariant diffs the example connector against a copy of one system's
// spec changed by the old → new replacements.
func diffVariant(t *testing.T, system string, edits ...string) (int, string) {
	t.Helper()
	data, err := os.ReadFile("../../specs/" + system + "/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(text, edits[i]) {
			t.Fatalf("email spec lacks %q", edits[i])
		}
		text = strings.Replace(text, edits[i], edits[i+1], 1)
	}
	p := filepath.Join(t.TempDir(), system+".yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := Main([]string{"diff", "-config", "../../specs/crmemail/connector.yaml", "-spec", system + "=" + p}, &out, &errb)
	if code == ExitUsage {
		t.Fatalf("diff could not compare: %s", errb.String())
	}
	return code, out.String()
}

// TestDiffKinds: each kind of change the diff looks for, on the example
// connector: an enum value a value map writes is removed (break, at the
// map), a request field becomes required (break), an operation in use is
// deprecated (note only), a field the mapping does not use changes type
// (note only).
func TestDiffKinds(t *testing.T) {
	code, out := diffEmailVariant(t, "          enum:\n            - gold\n", "          enum:\n")
	if code != 1 || !strings.Contains(out, `connector.yaml:96:54: break: sync "qualified_leads_to_nurture": field "merge_fields.TIER": map value: "gold" is not a value of enum`) {
		t.Fatalf("enum value removed: exit %d\n%s", code, out)
	}
	code, out = diffEmailVariant(t, "      required:\n        - email\n        - name\n      properties:\n        email:\n          type: string\n          format: email\n        name:\n          type: string\n",
		"      required:\n        - email\n        - name\n        - reply_to\n      properties:\n        email:\n          type: string\n          format: email\n        name:\n          type: string\n        reply_to:\n          type: string\n")
	if code != 1 || !strings.Contains(out, `request field "reply_to" is now required`) {
		t.Fatalf("new required request field: exit %d\n%s", code, out)
	}
	code, out = diffEmailVariant(t, "      operationId: updateSender\n", "      operationId: updateSender\n      deprecated: true\n")
	if code != 0 || !strings.Contains(out, "note: operation updateSender is deprecated in the new spec") || strings.Contains(out, ": break: ") {
		t.Fatalf("deprecated operation: exit %d\n%s", code, out)
	}
	code, out = diffVariant(t, "crm", "        version:\n          type: integer\n          format: int64\n", "        version:\n          type: integer\n          format: int32\n")
	if code != 0 || !strings.Contains(out, `note: entity crm.Lead: field "version" changed type from int64 to int32`) {
		t.Fatalf("type change of a used field: exit %d\n%s", code, out)
	}
}
