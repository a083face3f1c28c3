package generator

import "testing"

// OpenAPI 3.2 operations kin-openapi does not load are counted, so the
// summary shows they were not generated (they used to vanish silently).
func TestOpenAPI32OperationsAreCounted(t *testing.T) {
	res := GenerateSpec("../golden/cases/openapi32/spec.yaml", "openapi32", Options{})
	if !res.OK() || len(res.Stats) != 1 {
		t.Fatalf("generation: %s", res.Diagnostics)
	}
	if st := res.Stats[0]; st.Operations != 4 || st.Methods != 1 {
		t.Errorf("operations %d, methods %d; want 4 and 1", st.Operations, st.Methods)
	}
	if n := len(res.Diagnostics.Warnings()); n != 2 {
		t.Errorf("%d warnings, want 2:\n%s", n, res.Diagnostics)
	}
}
