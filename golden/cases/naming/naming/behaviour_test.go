package naming_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/connectorgen/connectorgen/golden/cases/naming/naming"
	"github.com/connectorgen/connectorgen/runtime/oas"
)

// The names below are the contract: this file only compiles when the
// generator resolves every collision the way the naming phases document.
var (
	// Phase 0 keeps Client; the "Client" schema yields.
	_ naming.Client
	_ naming.ClientModel
	// Phase 1, sorted keys: "User" keeps User, "UserModel" keeps UserModel,
	// so "user" gets the next free candidate.
	_ naming.User
	_ naming.UserModel
	_ naming.UserModel2
	// Phase 1 types win over phase 2/3 names derived from operations.
	_ naming.PaintParams
	_ naming.PaintParams2
	_ naming.PaintRequest
	_ naming.PaintRequest2
	// Phase 1 type ColorRed wins over the phase 4 enum constant.
	_ naming.ColorRed
	_ naming.Color = naming.ColorRed2
)

func TestFieldNamesAndTags(t *testing.T) {
	u := naming.UserModel2{
		ID:         oas.Some("a"),
		ID2:        oas.Some(int64(2)),
		HTMLURL:    oas.Some("https://x"),
		Plus1:      oas.Some(int64(1)),
		Minus1:     oas.Some(int64(-1)),
		Type:       oas.Some("t"),
		AtType:     oas.Some("at"),
		X3dSecure:  oas.Some(true),
		UserIDs:    []string{"u"},
		OAuthToken: oas.Some("tok"),
		APIKeyIDs:  []string{"k"},
		Status:     oas.Some(naming.UserModel2Status1_10),
	}
	b, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"a","ID":2,"html_url":"https://x","+1":1,"-1":-1,"type":"t","@type":"at","3d_secure":true,"user_ids":["u"],"oauth_token":"tok","api_key_ids":["k"],"status":"1-10"}`
	if string(b) != want {
		t.Errorf("marshal:\n got %s\nwant %s", b, want)
	}
	var back naming.UserModel2
	if err := json.Unmarshal([]byte(want), &back); err != nil {
		t.Fatal(err)
	}
	if v, _ := back.ID2.Get(); v != 2 {
		t.Errorf("ID2 = %d, want 2 (\"ID\" must not be folded into \"id\")", v)
	}
	if v, _ := back.ID.Get(); v != "a" {
		t.Errorf("ID = %q, want a", v)
	}
	if v, _ := back.AtType.Get(); v != "at" {
		t.Errorf("AtType = %q", v)
	}
}

func TestEnumConstants(t *testing.T) {
	cases := []struct {
		got  naming.UserModel2Status
		want string
	}{
		{naming.UserModel2StatusActive, "active"},
		{naming.UserModel2StatusInActive, "in-active"},
		{naming.UserModel2StatusInActive2, "in_active"},
		{naming.UserModel2StatusEmpty, ""},
		{naming.UserModel2Status1_10, "1-10"},
		{naming.UserModel2Status110, "110"},
	}
	for _, c := range cases {
		if string(c.got) != c.want {
			t.Errorf("constant = %q, want %q", c.got, c.want)
		}
	}
	colors := map[naming.Color]string{
		naming.ColorRed2: "red", naming.ColorGreen: "green", naming.ColorPlus: "+",
		naming.ColorMinus: "-", naming.Color1000Plus: "1000+", naming.ColorAB: "a b",
	}
	for c, want := range colors {
		if string(c) != want || !c.IsKnown() {
			t.Errorf("%q: want %q and known", c, want)
		}
	}
	if naming.Color("blue").IsKnown() {
		t.Error("blue is not in the spec")
	}
}

// recorder is a server that records each request's method, URI and a few
// headers and answers with body for the path.
type recorder struct {
	got []string
}

func (r *recorder) server(t *testing.T, bodies map[string]string) *naming.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		line := req.Method + " " + req.URL.RequestURI()
		if h := req.Header.Get("Type"); h != "" {
			line += " Type=" + h
		}
		r.got = append(r.got, line)
		body, ok := bodies[req.URL.EscapedPath()]
		if !ok {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	c, err := naming.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMethodsReachTheirOperations(t *testing.T) {
	var rec recorder
	c := rec.server(t, map[string]string{
		"/v1/users":    `[{"name":"one"}]`,
		"/v2/users":    `[{"nickname":"two"}]`,
		"/users/u%2F1": `{"ID":7,"@type":"person"}`,
	})
	ctx := context.Background()
	v1, err := c.ListUsers(ctx)
	if err != nil || len(v1) != 1 || oas.Or(v1[0].Name, "") != "one" {
		t.Fatalf("ListUsers = %+v, %v", v1, err)
	}
	v2, err := c.ListUsersGetV2Users(ctx)
	if err != nil || len(v2) != 1 || oas.Or(v2[0].Nickname, "") != "two" {
		t.Fatalf("ListUsersGetV2Users = %+v, %v", v2, err)
	}
	if err := c.GetHealth(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.BaseURLGetBaseURL(ctx, naming.BaseURLGetBaseURLParams{Q: oas.Some("x")}); err != nil {
		t.Fatal(err)
	}
	u, err := c.GetUserByID(ctx, naming.GetUserByIDParams{
		UserID:     "u/1",
		Type:       oas.Some("query"),
		QueryType:  oas.Some("at"),
		HeaderType: oas.Some("header"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if oas.Or(u.ID2, 0) != 7 || oas.Or(u.AtType, "") != "person" {
		t.Errorf("GetUserByID = %+v", u)
	}
	if err := c.Paint(ctx, naming.PaintParams2{DryRun: oas.Some(true)}, naming.PaintRequest2{Color: oas.Some(naming.ColorAB)}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"GET /v1/users",
		"GET /v2/users",
		"GET /health",
		"GET /base-url?q=x",
		"GET /users/u%2F1?type=query&%40type=at Type=header",
		"POST /colors?dry-run=true",
	}
	if len(rec.got) != len(want) {
		t.Fatalf("requests:\n%q\nwant\n%q", rec.got, want)
	}
	for i := range want {
		if rec.got[i] != want[i] {
			t.Errorf("request %d = %q, want %q", i, rec.got[i], want[i])
		}
	}
	if got := c.BaseURL().Path; got != "" {
		t.Errorf("BaseURL().Path = %q: the client's own BaseURL must not be shadowed", got)
	}
}
