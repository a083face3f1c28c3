package sandbox

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"
)

func TestSearchFilterMatch(t *testing.T) {
	rec := Record{"id": "7", "updatedAt": "2026-01-02T03:04:05Z",
		"properties": map[string]any{"email": "a@b.example", "lastmodifieddate": "2026-01-02T03:04:05.123Z", "score": "12"}}
	for _, c := range []struct {
		body string
		want bool
	}{
		{`{"filterGroups":[{"filters":[{"propertyName":"lastmodifieddate","operator":"GTE","value":"2026-01-02T03:04:05.123Z"}]}]}`, true},
		{`{"filterGroups":[{"filters":[{"propertyName":"lastmodifieddate","operator":"GT","value":"2026-01-02T03:04:05.123Z"}]}]}`, false},
		// Epoch milliseconds compare as times.
		{`{"filterGroups":[{"filters":[{"propertyName":"lastmodifieddate","operator":"LT","value":"1767323045124"}]}]}`, true},
		{`{"filterGroups":[{"filters":[{"propertyName":"updatedAt","operator":"LTE","value":"2026-01-02T03:04:04Z"}]}]}`, false},
		// Numbers compare as numbers, strings case-insensitively.
		{`{"filterGroups":[{"filters":[{"propertyName":"score","operator":"GT","value":"9"}]}]}`, true},
		{`{"filterGroups":[{"filters":[{"propertyName":"email","operator":"EQ","value":"A@B.example"}]}]}`, true},
		{`{"filterGroups":[{"filters":[{"propertyName":"phone","operator":"HAS_PROPERTY"}]}]}`, false},
		// Filters of a group are ANDed, groups ORed.
		{`{"filterGroups":[{"filters":[{"propertyName":"score","operator":"EQ","value":"12"},{"propertyName":"email","operator":"EQ","value":"x"}]}]}`, false},
		{`{"filterGroups":[{"filters":[{"propertyName":"email","operator":"EQ","value":"x"}]},{"filters":[{"propertyName":"score","operator":"IN","values":["3","12"]}]}]}`, true},
		{`{"filterGroups":[],"sorts":["lastmodifieddate"],"after":""}`, true},
	} {
		q, ok, err := parseSearch([]byte(c.body))
		if !ok || err != nil {
			t.Fatalf("%s: not parsed: %v %v", c.body, ok, err)
		}
		if got := q.match(rec); got != c.want {
			t.Errorf("%s: match = %v, want %v", c.body, got, c.want)
		}
	}
	if _, ok, _ := parseSearch([]byte(`{"email":"a@b.example"}`)); ok {
		t.Error("a body without filterGroups, sorts or after taken for a search")
	}
	for _, bad := range []string{
		`{"filterGroups":[{"filters":[{"propertyName":"x","operator":"LIKE","value":"1"}]}]}`,
		`{"filterGroups":[],"after":"not-a-position"}`,
		`{"sorts":[{"direction":"ASCENDING"}]}`,
	} {
		if _, ok, err := parseSearch([]byte(bad)); !ok || err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
}

// TestHubSpotSearch serves pairing 1's HubSpot spec: the search filters on
// a key of the properties map, sorts, pages with after and answers only the
// asked properties.
func TestHubSpotSearch(t *testing.T) {
	const cfg = "../../specs/hubspot-sendgrid/connector.yaml"
	if _, err := os.Stat("../../../shared/corpus/hubspot__crm-contacts__v3.json"); err != nil {
		t.Skip("../shared/corpus (the vendor specs) is absent")
	}
	sb, err := Load(cfg, Options{Seed: 1, Credentials: map[string]Credentials{"hubspot": {Bearer: "tok"}, "sendgrid": {Bearer: "sg"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	hs := sb.System("hubspot")
	var ids []string
	for i := range 5 {
		c, err := hs.Create("hubspot.Contact", Record{"archived": false, "properties": map[string]any{
			"email": fmt.Sprintf("c%d@x.example", i), "firstname": "C", "hs_lead_status": "OPEN"}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, keyString(c["id"]))
	}
	// The change time is kept in properties.lastmodifieddate too.
	c2, _ := hs.Record("hubspot.Contact", ids[2])
	lm, _ := c2["properties"].(map[string]any)["lastmodifieddate"].(string)
	if lm == "" || lm != c2["updatedAt"] {
		t.Fatalf("lastmodifieddate %q, updatedAt %v: want the change time in both", lm, c2["updatedAt"])
	}
	// Contact 0 changes: it moves to the end of the order.
	time.Sleep(time.Millisecond)
	if _, _, err := hs.Update("hubspot.Contact", ids[0], func(r Record) { r["properties"].(map[string]any)["firstname"] = "Changed" }); err != nil {
		t.Fatal(err)
	}
	url := hs.BaseURL() + "/crm/v3/objects/contacts/search"
	auth := map[string]string{"Authorization": "Bearer tok"}
	search := func(after string) (ids []string, next string, props []map[string]any) {
		t.Helper()
		body := fmt.Sprintf(`{"filterGroups":[{"filters":[{"propertyName":"lastmodifieddate","operator":"GTE","value":%q}]}],"sorts":["lastmodifieddate"],"limit":2,"after":%q,"properties":["email"]}`, lm, after)
		a := call(t, "POST", url, "application/json", body, auth)
		if a.status != 200 {
			t.Fatalf("search: %d %s", a.status, a.body)
		}
		var page struct {
			Results []struct {
				ID         string         `json:"id"`
				Properties map[string]any `json:"properties"`
			} `json:"results"`
			Total  int `json:"total"`
			Paging struct {
				Next struct {
					After string `json:"after"`
				} `json:"next"`
			} `json:"paging"`
		}
		if err := json.Unmarshal([]byte(a.body), &page); err != nil {
			t.Fatal(err)
		}
		if page.Total != 4 {
			t.Errorf("total %d, want 4", page.Total)
		}
		for _, r := range page.Results {
			ids = append(ids, r.ID)
			props = append(props, r.Properties)
		}
		return ids, page.Paging.Next.After, props
	}
	got, next, props := search("")
	if want := []string{ids[2], ids[3]}; !slices.Equal(got, want) || next == "" {
		t.Fatalf("first page %v (next %q), want %v and a next page", got, next, want)
	}
	for _, p := range props {
		if _, ok := p["email"]; !ok || p["firstname"] != nil || p["hs_lead_status"] != nil || p["lastmodifieddate"] == nil {
			t.Errorf("properties %v: want email and lastmodifieddate only", p)
		}
	}
	got, next, _ = search(next)
	if want := []string{ids[4], ids[0]}; !slices.Equal(got, want) || next != "" {
		t.Fatalf("second page %v (next %q), want %v and no next page", got, next, want)
	}
	if vs := sb.Violations(); len(vs) > 0 {
		t.Fatalf("violations: %v", vs)
	}
}
