package service

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/runtime/engine"
)

// validate checks v (decoded JSON) against the subset of JSON Schema that
// status.schema.json uses: type (with null), enum, required,
// additionalProperties false, properties, items, minimum and maximum. It
// returns every violation, with its JSON path.
func validate(schema map[string]any, v any, path string) []string {
	var errs []string
	if ts, ok := schema["type"]; ok {
		var types []string
		switch t := ts.(type) {
		case string:
			types = []string{t}
		case []any:
			for _, x := range t {
				types = append(types, x.(string))
			}
		}
		if !slices.Contains(types, jsonType(v)) && !(jsonType(v) == "integer" && slices.Contains(types, "number")) {
			return append(errs, fmt.Sprintf("%s: %s, want %v", path, jsonType(v), types))
		}
	}
	if en, ok := schema["enum"].([]any); ok && !slices.Contains(en, v) {
		errs = append(errs, fmt.Sprintf("%s: %v not in %v", path, v, en))
	}
	if n, ok := v.(float64); ok {
		if m, ok := schema["minimum"].(float64); ok && n < m {
			errs = append(errs, fmt.Sprintf("%s: %v < %v", path, n, m))
		}
		if m, ok := schema["maximum"].(float64); ok && n > m {
			errs = append(errs, fmt.Sprintf("%s: %v > %v", path, n, m))
		}
	}
	if obj, ok := v.(map[string]any); ok {
		props, _ := schema["properties"].(map[string]any)
		for _, r := range schema["required"].([]any) {
			if _, ok := obj[r.(string)]; !ok {
				errs = append(errs, fmt.Sprintf("%s: missing %s", path, r))
			}
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ps, ok := props[k].(map[string]any)
			if !ok {
				if schema["additionalProperties"] == false {
					errs = append(errs, fmt.Sprintf("%s: property %s not in the schema", path, k))
				}
				continue
			}
			errs = append(errs, validate(ps, obj[k], path+"."+k)...)
		}
	}
	if arr, ok := v.([]any); ok {
		if is, ok := schema["items"].(map[string]any); ok {
			for i, x := range arr {
				errs = append(errs, validate(is, x, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	}
	return errs
}

func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case float64:
		if x == float64(int64(x)) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "?"
}

func loadSchema(t *testing.T) map[string]any {
	b, err := os.ReadFile("status.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func checkAgainstSchema(t *testing.T, schema map[string]any, b []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if errs := validate(schema, v, "$"); len(errs) > 0 {
		t.Fatalf("status JSON does not match status.schema.json:\n%s\n%s", strings.Join(errs, "\n"), b)
	}
}

// TestStatusSchema: a StatusReport with every field set, and one with none
// of the optional ones, both match the schema; the schema refuses a report
// with a field it does not know or a wrong enum value (so the check can
// fail).
func TestStatusSchema(t *testing.T) {
	schema := loadSchema(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := 12.5
	full := StatusReport{Connector: "c", GeneratedAt: now, Live: true, NonProduction: []string{"crm"}, NeverRan: []string{"b"},
		Systems: []SystemStatus{{Name: "crm", Environment: "sandbox", URL: "https://x", Credential: CredExpiring, CredentialDetail: "d",
			Breaker: "half_open", SpecVersion: "1.0", SpecHash: "sha256:00"}},
		Syncs: []SyncHealth{{Name: "a", Source: "crm.Lead", Target: "email.Member", LastSuccess: &now, LastRun: &now, FreshnessSeconds: &f,
			RecentRuns: 3, Applied: 10, Failed: 1, ErrorRate: 1.0 / 3, ConsecutiveFailures: 1, LastError: "e", QueueDepth: 2, DeadLetters: 1, Conflicts: 1,
			Alerts: []engine.Alert{{Sync: "a", Kind: engine.AlertSystemDown, System: "email", Message: "m", At: now}}},
			{Name: "b", NeverRan: true, Alerts: []engine.Alert{}}}}
	b, _ := json.Marshal(full)
	checkAgainstSchema(t, schema, b)
	var v map[string]any
	_ = json.Unmarshal(b, &v)
	v["extra"] = 1
	v["systems"].([]any)[0].(map[string]any)["credential"] = "fine"
	if errs := validate(schema, v, "$"); len(errs) != 2 {
		t.Fatalf("schema accepted an unknown property or enum value: %v", errs)
	}
}

// TestLiveStatusSchema: the report /status serves (with environments,
// breaker states and firing alerts) matches the schema too.
func TestLiveStatusSchema(t *testing.T) {
	c, st := fakeConnector(t, nil, &fakeTarget{})
	h := &host{c: c, io: IO{Getenv: func(string) string { return "" }}}
	mem := newMemory()
	now := time.Now()
	l := &live{mem: mem,
		envs:   []Selected{{System: "crm", Environment: "sandbox", URL: "https://sandbox.crm.example"}, {System: "mail", Environment: "production", URL: "https://mail.example", Production: true}},
		alerts: []engine.Alert{{Sync: "people", Kind: engine.AlertReauthorize, System: "crm", Message: "crm refused the credentials", At: now}}}
	rep, err := h.collect(context.Background(), st, l, now)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Live || len(rep.NonProduction) != 1 || rep.NonProduction[0] != "crm" || rep.Systems[0].Credential != CredReauthorize || rep.Systems[0].Breaker != "closed" {
		t.Fatalf("live report %+v", rep)
	}
	b, _ := json.Marshal(rep)
	checkAgainstSchema(t, loadSchema(t), b)
}
