package oneway_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/golden/cases/oneway/oneway"
	"github.com/connectorgen/connectorgen/runtime/oas"
	"github.com/connectorgen/connectorgen/runtime/rest"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

var ctx = context.Background()

// recorder answers every request with status and body and keeps what it
// received.
type recorder struct {
	reqs   []*http.Request
	bodies []string
}

func serve(t *testing.T, status int, body string) (*oneway.Client, *recorder) {
	t.Helper()
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.reqs = append(rec.reqs, r)
		rec.bodies = append(rec.bodies, string(b))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	c, err := oneway.NewClient(srv.URL, rest.WithRetry(transport.RetryConfig{Disabled: true}))
	if err != nil {
		t.Fatal(err)
	}
	return c, rec
}

// keys returns every member name in the JSON text, at any depth.
func keys(t *testing.T, text string) map[string]int {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		t.Fatalf("%v: %s", err, text)
	}
	out := map[string]int{}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				out[k]++
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

// fullAccount sets every readOnly and writeOnly property, at every depth.
func fullAccount() oneway.Account {
	user := func(id int64) oneway.User {
		return oneway.User{ID: oas.Some(id), Email: oas.Some("u@example.com"), Pin: oas.Some("1234")}
	}
	owner := user(1)
	return oneway.Account{
		ID: "acc_1", CreatedAt: oas.Some(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), Name: "Acme",
		Password: oas.Some("hunter2"),
		Owner:    &owner,
		Members:  []oneway.User{user(2), user(3)},
		Labels:   map[string]oneway.Label{"a": {ID: oas.Some("lab_1"), Text: oas.Some("vip")}},
		Parent:   &oneway.Account{ID: "acc_0", Name: "Parent", Members: []oneway.User{user(4)}},
		Note:     oas.Value(oneway.Label{ID: oas.Some("lab_2"), Text: oas.Some("n")}),
	}
}

// A request body leaves out readOnly properties at any depth (nested
// objects, arrays, maps, nullable values, a recursive parent) and keeps
// writeOnly ones.
func TestRequestBodyLeavesOutReadOnly(t *testing.T) {
	c, rec := serve(t, 201, `{"id":"acc_1","name":"Acme"}`)
	if _, err := c.CreateAccount(ctx, fullAccount()); err != nil {
		t.Fatal(err)
	}
	k := keys(t, rec.bodies[0])
	if k["id"] != 0 || k["createdAt"] != 0 {
		t.Errorf("readOnly properties sent: %s", rec.bodies[0])
	}
	// name twice (account, parent), email and pin once per user (5), text twice.
	if k["name"] != 2 || k["password"] != 1 || k["email"] != 4 || k["pin"] != 4 || k["text"] != 2 {
		t.Errorf("properties lost: %v in %s", k, rec.bodies[0])
	}
}

// A model read from the server can be sent back as it is: the server's ids
// stay out of the PUT body. The caller's value is left untouched.
func TestReadModifyWrite(t *testing.T) {
	got := `{"id":"acc_1","createdAt":"2026-01-02T03:04:05Z","name":"Acme","owner":{"id":7,"email":"o@example.com"},` +
		`"members":[{"id":8,"email":"m@example.com"}],"labels":{"x":{"id":"l1","text":"t"}}}`
	var acc oneway.Account
	if err := json.Unmarshal([]byte(got), &acc); err != nil {
		t.Fatal(err)
	}
	acc.Name = "Acme 2"
	c, rec := serve(t, 200, got)
	res, err := c.ReplaceAccount(ctx, oneway.ReplaceAccountParams{ID: acc.ID}, acc)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"name":"Acme 2","owner":{"email":"o@example.com"},"members":[{"email":"m@example.com"}],"labels":{"x":{"text":"t"}}}`
	if rec.bodies[0] != want {
		t.Errorf("PUT body\n got %s\nwant %s", rec.bodies[0], want)
	}
	if rec.reqs[0].URL.Path != "/accounts/acc_1" {
		t.Errorf("path %s", rec.reqs[0].URL.Path)
	}
	if acc.ID != "acc_1" || oas.Or(acc.Owner.ID, 0) != 7 {
		t.Errorf("the caller's value changed: %+v", acc)
	}
	if res.StatusCode != 200 || res.Status200 == nil || res.Status200.ID != "acc_1" || oas.Or(res.Status200.Owner.ID, 0) != 7 {
		t.Errorf("result %+v", res)
	}
}

// Decoding a response ignores writeOnly properties a server sends anyway,
// at any depth, through every Call helper (CallJSON, CallStatus); readOnly
// ones decode.
func TestResponsesIgnoreWriteOnly(t *testing.T) {
	acct := `{"id":"acc_1","name":"A","password":"leak","owner":{"id":1,"pin":"0000","email":"e"},` +
		`"members":[{"id":2,"pin":"1111"}],"parent":{"id":"acc_0","name":"P","password":"leak2"}}`
	check := func(what string, a *oneway.Account) {
		t.Helper()
		if a == nil {
			t.Fatalf("%s: no account", what)
		}
		if _, ok := a.Password.Get(); ok {
			t.Errorf("%s: password decoded", what)
		}
		if _, ok := a.Owner.Pin.Get(); ok {
			t.Errorf("%s: owner pin decoded", what)
		}
		if _, ok := a.Members[0].Pin.Get(); ok {
			t.Errorf("%s: member pin decoded", what)
		}
		if _, ok := a.Parent.Password.Get(); ok {
			t.Errorf("%s: parent password decoded", what)
		}
		if a.ID != "acc_1" || oas.Or(a.Owner.ID, 0) != 1 || oas.Or(a.Members[0].ID, 0) != 2 || a.Parent.ID != "acc_0" || oas.Or(a.Owner.Email, "") != "e" {
			t.Errorf("%s: readOnly or plain properties lost: %+v", what, a)
		}
	}
	c, _ := serve(t, 201, acct)
	a, err := c.CreateAccount(ctx, oneway.Account{Name: "A"})
	if err != nil {
		t.Fatal(err)
	}
	check("CallJSON", a)

	c, _ = serve(t, 200, "["+acct+"]")
	list, err := c.ListAccounts(ctx, oneway.ListAccountsParams{})
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %v %v", list, err)
	}
	check("CallJSON list", &list[0])

	c, _ = serve(t, 200, acct)
	res, err := c.ReplaceAccount(ctx, oneway.ReplaceAccountParams{ID: "acc_1"}, oneway.Account{Name: "A"})
	if err != nil {
		t.Fatal(err)
	}
	check("CallStatus 200", res.Status200)

	c, _ = serve(t, 202, `{"jobId":"j1","account":`+acct+`}`)
	res, err = c.ReplaceAccount(ctx, oneway.ReplaceAccountParams{ID: "acc_1"}, oneway.Account{Name: "A"})
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 202 || res.Status200 != nil || res.Status202 == nil || oas.Or(res.Status202.JobID, "") != "j1" {
		t.Fatalf("202: %+v", res)
	}
	check("CallStatus 202", res.Status202.Account)
}

// A multi-status method still returns the documented error model, and a
// body that does not decode is a *rest.DecodeError.
func TestMultiStatusErrors(t *testing.T) {
	c, _ := serve(t, 409, `{"title":"busy"}`)
	res, err := c.ReplaceAccount(ctx, oneway.ReplaceAccountParams{ID: "a"}, oneway.Account{Name: "A"})
	var apiErr *rest.Error
	if res != nil || !errors.As(err, &apiErr) || apiErr.StatusCode != 409 {
		t.Fatalf("409: %+v %v", res, err)
	}
	if p, ok := apiErr.Model.(*oneway.Problem); !ok || oas.Or(p.Title, "") != "busy" {
		t.Fatalf("model %#v", apiErr.Model)
	}
	c, _ = serve(t, 200, `{"name":`)
	res, err = c.ReplaceAccount(ctx, oneway.ReplaceAccountParams{ID: "a"}, oneway.Account{Name: "A"})
	if res != nil || !errors.As(err, new(*rest.DecodeError)) {
		t.Fatalf("malformed: %+v %v", res, err)
	}
	c, _ = serve(t, 500, `oops`)
	if _, err := c.ReplaceAccount(ctx, oneway.ReplaceAccountParams{ID: "a"}, oneway.Account{Name: "A"}); !errors.As(err, &apiErr) || apiErr.StatusCode != 500 || apiErr.Model != nil {
		t.Fatalf("500: %v", err)
	}
}

// A form body leaves out readOnly properties too.
func TestFormBodyLeavesOutReadOnly(t *testing.T) {
	c, rec := serve(t, 204, ``)
	err := c.PatchAccountForm(ctx, oneway.PatchAccountFormParams{ID: "a"}, oneway.User{ID: oas.Some(int64(5)), Email: oas.Some("x@example.com"), Pin: oas.Some("9")})
	if err != nil {
		t.Fatal(err)
	}
	if rec.bodies[0] != "email=x%40example.com&pin=9" {
		t.Fatalf("form body %q", rec.bodies[0])
	}
}

// Optional query, header and cookie parameters are sent when set, and
// only then.
func TestOptionalParameters(t *testing.T) {
	c, rec := serve(t, 200, `[]`)
	if _, err := c.ListAccounts(ctx, oneway.ListAccountsParams{}); err != nil {
		t.Fatal(err)
	}
	r := rec.reqs[0]
	if r.URL.RawQuery != "" || r.Header.Get("X-Trace") != "" || r.Header.Get("Cookie") != "" {
		t.Fatalf("unset parameters sent: %q %v", r.URL.RawQuery, r.Header)
	}
	p := oneway.ListAccountsParams{
		Since:   oas.Some(oas.NewDate(2026, 2, 3)),
		After:   oas.Some(time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)),
		Kind:    oas.Some(oneway.KindBusiness),
		Owner:   oas.Some(oas.MustParseUUID("0f8fad5b-d9cb-469f-a165-70867728950e")),
		Min:     oas.Some(1.5),
		IDs:     []int64{1, 2},
		XTrace:  oas.Some(false),
		Session: oas.Some("s 1"),
	}
	if _, err := c.ListAccounts(ctx, p); err != nil {
		t.Fatal(err)
	}
	r = rec.reqs[1]
	want := "since=2026-02-03&after=2026-02-03T04%3A05%3A06Z&kind=business&owner=0f8fad5b-d9cb-469f-a165-70867728950e&min=1.5&ids=1&ids=2"
	if r.URL.RawQuery != want {
		t.Errorf("query\n got %s\nwant %s", r.URL.RawQuery, want)
	}
	if r.Header.Get("X-Trace") != "false" {
		t.Errorf("X-Trace %q", r.Header.Get("X-Trace"))
	}
	if ck, err := r.Cookie("session"); err != nil || !strings.HasPrefix(ck.Value, "s") {
		t.Errorf("cookie %v %v (header %q)", ck, err, r.Header.Get("Cookie"))
	}
	// An empty list is left out, as a nil one is.
	p = oneway.ListAccountsParams{IDs: []int64{}}
	if _, err := c.ListAccounts(ctx, p); err != nil {
		t.Fatal(err)
	}
	if q := rec.reqs[2].URL.RawQuery; q != "" {
		t.Errorf("empty list: %q", q)
	}
}
