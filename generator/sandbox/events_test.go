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
	// types[] lists the event types wanted, in each of its forms.
	for _, q := range []string{"?types%5B%5D=customer.updated", "?types%5B0%5D=customer.updated", "?types=customer.updated"} {
		if got := list(q); len(got) != 1 || got[0]["type"] != "customer.updated" {
			t.Errorf("%s: %d events %v, want the update only", q, len(got), got)
		}
	}
	if got := list("?types%5B0%5D=customer.created&types%5B1%5D=customer.updated"); len(got) != 2 {
		t.Errorf("both types: %d events, want 2", len(got))
	}
	if got := list("?types%5B0%5D=customer.deleted"); len(got) != 0 {
		t.Errorf("customer.deleted: %d events, want none", len(got))
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

// TestEventsFeedDeletion: deleting a record (System.Delete, or DELETE
// /_sandbox/records/{entity}/{key}) removes it from the API and appends a
// customer.deleted event naming it to the events feed (the record as it
// was last under data.object).
func TestEventsFeedDeletion(t *testing.T) {
	sb, err := Load("../../golden/syncs/twoway/connector.yaml", Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	b := sb.System("billing")
	var ids []string
	for _, email := range []string{"a@example.com", "b@example.com"} {
		c, err := b.Create("Customer", Record{"email": email, "created": 1})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, keyString(c["id"]))
	}
	if _, err := b.Delete("Customer", ids[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Delete("Customer", ids[0]); err == nil {
		t.Error("deleting a deleted record: no error")
	}
	req, _ := http.NewRequest(http.MethodDelete, b.BaseURL()+"/_sandbox/records/Customer/"+ids[1], nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("admin DELETE: %d", resp.StatusCode)
	}
	for _, id := range ids {
		if _, ok := b.Record("Customer", id); ok {
			t.Errorf("%s still readable after its deletion", id)
		}
		resp, err := http.Get(b.BaseURL() + "/v1/customers/" + id)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET deleted customer %s: %d, want 404", id, resp.StatusCode)
		}
	}
	resp, err = http.Get(b.BaseURL() + "/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Data []struct {
			Type string
			Data struct{ Object map[string]any }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 4 {
		t.Fatalf("%d events, want 4 (2 created, 2 deleted): %+v", len(page.Data), page.Data)
	}
	for i, ev := range page.Data[2:] {
		if ev.Type != "customer.deleted" || keyString(ev.Data.Object["id"]) != ids[i] {
			t.Errorf("event %d: %s naming %v, want customer.deleted naming %s", i, ev.Type, ev.Data.Object["id"], ids[i])
		}
	}
	if vs := sb.Violations(); len(vs) > 0 {
		t.Errorf("violations: %v", vs)
	}
}

// TestFeedEventType: the event type is the entity's name and the change,
// or the value of the event schema's type enum for them.
func TestFeedEventType(t *testing.T) {
	enum := &openapi3.Schema{Properties: openapi3.Schemas{"type": openapi3.NewSchemaRef("", &openapi3.Schema{
		Enum: []any{"coupon.deleted", "customer.created"}})}}
	for _, c := range []struct {
		sch        *openapi3.Schema
		kind, want string
	}{
		{&openapi3.Schema{}, "deleted", "customer.deleted"},
		{enum, "created", "customer.created"},
		{enum, "updated", "customer.updated"}, // none in the enum: the plain name
	} {
		if got := feedEventType(c.sch, "customer", c.kind); got != c.want {
			t.Errorf("%s: %q, want %q", c.kind, got, c.want)
		}
	}
}
