package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestEventsFeed: an entity read through an events feed (read.events)
// gets an event per change in the feed's list, filtered by created[gte].
func TestEventsFeed(t *testing.T) {
	sb, err := Load("../../golden/syncs/twoway/connector.yaml", Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	b := sb.System("billing")
	c, err := b.Create("Customer", Record{"email": "a@example.com", "name": "Ann", "created": 1})
	if err != nil {
		t.Fatal(err)
	}
	id := keyString(c["id"])
	if _, _, err := b.Update("Customer", id, func(r Record) { r["name"] = "Ann Lee" }); err != nil {
		t.Fatal(err)
	}
	list := func(q string) []map[string]any {
		resp, err := http.Get(b.BaseURL() + "/v1/events" + q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var page struct {
			Data []map[string]any `json:"data"`
		}
		if err := json.Unmarshal(raw, &page); err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET /v1/events%s: %d %v %s", q, resp.StatusCode, err, raw)
		}
		return page.Data
	}
	evs := list("")
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2: %v", len(evs), evs)
	}
	var types []string
	for _, ev := range evs {
		types = append(types, ev["type"].(string))
		obj := ev["data"].(map[string]any)["object"].(map[string]any)
		if obj["id"] != c["id"] {
			t.Errorf("event %v names %v, want %v", ev["id"], obj["id"], c["id"])
		}
	}
	if types[0] != "customer.created" || types[1] != "customer.updated" {
		t.Errorf("types %v", types)
	}
	last := int64(evs[1]["created"].(float64))
	if got := list("?created%5Bgte%5D=" + keyString(last+1)); len(got) != 0 {
		t.Errorf("created[gte] after the last event: %d events", len(got))
	}
	if got := list("?created%5Bgte%5D=" + keyString(last)); len(got) == 0 {
		t.Errorf("created[gte] at the last event: no events")
	}
	if vs := sb.Violations(); len(vs) > 0 {
		t.Errorf("violations: %v", vs)
	}
}

// TestFiltersOnShapes: object fields are not filters (HubSpot's
// properties= selects what to answer with); a record without a filtered
// field matches its default, or false for a boolean.
func TestFiltersOnShapes(t *testing.T) {
	obj := &openapi3.SchemaRef{Value: &openapi3.Schema{Type: &openapi3.Types{"object"}}}
	str := &openapi3.SchemaRef{Value: &openapi3.Schema{Type: &openapi3.Types{"string"}}}
	boolean := &openapi3.SchemaRef{Value: &openapi3.Schema{Type: &openapi3.Types{"boolean"}}}
	if scalarField(obj) || !scalarField(str) {
		t.Errorf("scalarField: object %v, string %v", scalarField(obj), scalarField(str))
	}
	if !absentMatches(boolean, "false") || absentMatches(boolean, "true") || absentMatches(str, "x") {
		t.Errorf("absentMatches wrong")
	}
	def := &openapi3.SchemaRef{Value: &openapi3.Schema{Type: &openapi3.Types{"string"}, Default: "open"}}
	if !absentMatches(def, "open") || absentMatches(def, "closed") {
		t.Errorf("absentMatches with a default wrong")
	}
}
