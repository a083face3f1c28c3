package rest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/connectorgen/connectorgen/runtime/auth"
	"github.com/connectorgen/connectorgen/runtime/secret"
)

// TestErrorsRedactTheClientsCredentials: a server that echoes the client's
// own credential where no name gives it away (prose, a custom header) gets
// it replaced in Error.Body, Error.Header, Error's text, %#v and
// DecodeError's snippet.
func TestErrorsRedactTheClientsCredentials(t *testing.T) {
	const key = "key-7f3a9c1e"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get("X-Key")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Echo", "seen "+got)
		if r.URL.Path == "/bad" {
			w.WriteHeader(403)
			fmt.Fprintf(w, `{"message":"the key %s may not read this"}`, got)
			return
		}
		fmt.Fprintf(w, `{"id":1,"note":"%s","x":`, got)
	}))
	defer srv.Close()
	op := &Operation{ID: "getLead", Method: "GET", Idempotent: true, Security: []SecurityRequirement{{"key"}}}
	c := newClient(t, srv.URL, WithoutRetries(), WithCredential("key", auth.APIKeyHeader("X-Key", secret.New(key))))
	r := c.NewRequest(context.Background(), op)
	r.AppendPath("/bad")
	resp := send(t, c, r)
	err := c.NewError(r, resp, nil)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatal(err)
	}
	if string(e.Body) != `{"message":"the key [REDACTED] may not read this"}` || e.Header.Get("X-Echo") != "seen [REDACTED]" {
		t.Fatalf("body %s, header %q", e.Body, e.Header.Get("X-Echo"))
	}
	if resp.Header.Get("X-Echo") != "seen "+key {
		t.Fatal("the response's own header map must not be modified")
	}
	for _, s := range []string{err.Error(), fmt.Sprintf("%v %+v %s %q %#v", err, err, err, err, err)} {
		if strings.Contains(s, key) {
			t.Fatalf("leak: %s", s)
		}
	}
	if gs := fmt.Sprintf("%#v", err); !strings.HasPrefix(gs, `&rest.Error{Operation:"getLead", Method:"GET"`) || !strings.Contains(gs, "StatusCode:403") {
		t.Fatalf("%%#v = %s", gs)
	}
	var v map[string]any
	err = DecodeJSON(send(t, c, c.NewRequest(context.Background(), op)), &v)
	var de *DecodeError
	if !errors.As(err, &de) || strings.Contains(fmt.Sprintf("%v %#v", err, err), key) || !strings.Contains(de.Snippet, `"note":"[REDACTED]"`) {
		t.Fatalf("decode error: %v", err)
	}
	// A client without credentials leaves bodies alone.
	c = newClient(t, srv.URL, WithoutRetries())
	r = c.NewRequest(context.Background(), getLead)
	r.AppendPath("/bad")
	r.SetHeader("X-Key", false, Scalar(key))
	err = c.NewError(r, send(t, c, r), nil)
	if !errors.As(err, &e) || !strings.Contains(string(e.Body), key) {
		t.Fatalf("body %s", e.Body)
	}
}
