package defects_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/connectorgen/connectorgen/golden/cases/defects/defects"
	"github.com/connectorgen/connectorgen/runtime/oas"
)

// The repaired spec still makes a working client.

// The numeric version is read as written, not as the float 1.1.
func TestVersionReadAsWritten(t *testing.T) {
	if defects.SpecVersion != "1.10" {
		t.Errorf("SpecVersion = %q, want 1.10", defects.SpecVersion)
	}
}

func TestRepairedOperations(t *testing.T) {
	var uris, bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		uris = append(uris, r.Method+" "+r.RequestURI)
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		w.Header().Set("Content-Type", "application/json")
		switch r.Method {
		case "POST":
			w.WriteHeader(201)
			io.WriteString(w, `{"id":"new"}`)
		default:
			if r.URL.Path == "/users" {
				io.WriteString(w, `[{"id":"u1","profile":{"any":["shape"]}}]`)
				return
			}
			io.WriteString(w, `{"id":"u2","name":"42","profile":null,"active":true}`)
		}
	}))
	defer srv.Close()
	c, err := defects.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// The undeclared path parameter userId is a required string; the
	// size default 10 was read as the string "10".
	u, err := c.GetUser(ctx, defects.GetUserParams{AccountID: 7, UserID: "a/b", Size: oas.Some("10")})
	if err != nil {
		t.Fatal(err)
	}
	if uris[0] != "GET /accounts/7/users/a%2Fb?size=10" {
		t.Errorf("request %s", uris[0])
	}
	// "required: true" on the property made id a required field.
	var _ string = u.ID
	if u.ID != "u2" || oas.Or(u.Name, "") != "42" || !oas.Or(u.Active, false) {
		t.Errorf("decoded %+v", u)
	}

	// The dangling $ref is raw JSON, whatever the server sends.
	users, err := c.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 1 || string(users[0].Profile) != `{"any":["shape"]}` {
		t.Errorf("users %+v", users)
	}
	b, _ := json.Marshal(users[0])
	if string(b) != `{"id":"u1","profile":{"any":["shape"]}}` {
		t.Errorf("re-encoded %s", b)
	}

	// The duplicate operationId got its own method, for its own operation.
	created, err := c.ListUsersPostUsers(ctx, &defects.NewUser{Name: oas.Some("n")})
	if err != nil {
		t.Fatal(err)
	}
	if uris[2] != "POST /users" || bodies[2] != `{"name":"n"}` || created.ID != "new" {
		t.Errorf("%s %s -> %+v", uris[2], bodies[2], created)
	}
	// "required: false" was ignored: name stays optional.
	if _, err := c.ListUsersPostUsers(ctx, &defects.NewUser{}); err != nil {
		t.Fatal(err)
	}
	if bodies[3] != `{}` {
		t.Errorf("sent %s", bodies[3])
	}
}
