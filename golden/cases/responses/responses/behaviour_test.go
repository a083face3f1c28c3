package responses_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/connectorgen/connectorgen/golden/cases/responses/responses"
	"github.com/connectorgen/connectorgen/runtime/oas"
	"github.com/connectorgen/connectorgen/runtime/rest"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

// reply is one canned response.
type reply struct {
	status int
	ctype  string
	body   string
}

func server(t *testing.T, r reply) *responses.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if r.ctype != "" {
			w.Header().Set("Content-Type", r.ctype)
		}
		w.Header().Set("X-Request-Id", "req-9")
		w.WriteHeader(r.status)
		io.WriteString(w, r.body)
	}))
	t.Cleanup(srv.Close)
	c, err := responses.NewClient(srv.URL, rest.WithRetry(transport.RetryConfig{Disabled: true}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var ctx = context.Background()

// Each documented success status fills its own field of the result.
func TestSeveralTypedResults(t *testing.T) {
	cases := []struct {
		r     reply
		check func(*responses.SubmitJobResult) bool
	}{
		{reply{200, "application/json", `{"value":3}`}, func(o *responses.SubmitJobResult) bool {
			return o.Status200 != nil && oas.Or(o.Status200.Value, 0) == 3 && o.Status202 == nil && o.Status203 == nil
		}},
		{reply{202, "application/json", `{"jobId":"j1"}`}, func(o *responses.SubmitJobResult) bool {
			return o.Status202 != nil && oas.Or(o.Status202.JobID, "") == "j1" && o.Status200 == nil
		}},
		{reply{203, "text/plain", "see you later"}, func(o *responses.SubmitJobResult) bool {
			return o.Status203 != nil && *o.Status203 == "see you later" && o.Status200 == nil
		}},
		{reply{204, "", ""}, func(o *responses.SubmitJobResult) bool {
			return o.Status200 == nil && o.Status202 == nil && o.Status203 == nil
		}},
		// An undocumented 2xx is a success without a body to decode.
		{reply{206, "application/json", `{"value":1}`}, func(o *responses.SubmitJobResult) bool {
			return o.Status200 == nil && o.Status202 == nil && o.Status203 == nil
		}},
	}
	for _, tc := range cases {
		out, err := server(t, tc.r).SubmitJob(ctx)
		if err != nil {
			t.Fatalf("%d: %v", tc.r.status, err)
		}
		if out.StatusCode != tc.r.status || !tc.check(out) {
			t.Errorf("%d: %+v", tc.r.status, out)
		}
	}
}

// Every non-2xx is a *rest.Error with the status, headers, raw body and
// the model documented for the status (exact, class, then default).
func TestTypedErrors(t *testing.T) {
	cases := []struct {
		r     reply
		check func(any) bool
	}{
		{reply{404, "application/json", `{"missing":"item"}`}, func(m any) bool {
			nf, ok := m.(*responses.NotFound)
			return ok && oas.Or(nf.Missing, "") == "item"
		}},
		{reply{503, "application/json", `{"title":"down","status":503}`}, func(m any) bool {
			p, ok := m.(*responses.Problem)
			return ok && oas.Or(p.Title, "") == "down" && oas.Or(p.Status, 0) == 503
		}},
		{reply{418, "application/json", `{"message":"teapot"}`}, func(m any) bool {
			e, ok := m.(*responses.Error)
			return ok && oas.Or(e.Message, "") == "teapot"
		}},
		// A body that is not JSON has no model, but is kept raw.
		{reply{404, "text/html", `<h1>gone</h1>`}, func(m any) bool { return m == nil }},
	}
	for _, tc := range cases {
		_, err := server(t, tc.r).GetItem(ctx, responses.GetItemParams{ID: "x"})
		var apiErr *rest.Error
		if !errors.As(err, &apiErr) {
			t.Fatalf("%d: err = %v, want *rest.Error", tc.r.status, err)
		}
		if apiErr.StatusCode != tc.r.status || string(apiErr.Body) != tc.r.body || apiErr.Header.Get("X-Request-Id") != "req-9" ||
			apiErr.RequestID != "req-9" || apiErr.Operation != "getItem" {
			t.Errorf("%d: %+v", tc.r.status, apiErr)
		}
		if !tc.check(apiErr.Model) {
			t.Errorf("%d: Model = %#v", tc.r.status, apiErr.Model)
		}
	}
	// The kinds classify errors for callers that do not care about models.
	_, err := server(t, reply{404, "application/json", `{}`}).GetItem(ctx, responses.GetItemParams{ID: "x"})
	if !errors.Is(err, transport.ErrClient) {
		t.Errorf("404: errors.Is(ErrClient) = false for %v", err)
	}
}

func TestNoContentAndProblemJSON(t *testing.T) {
	if err := server(t, reply{204, "", ""}).DeleteItem(ctx, responses.DeleteItemParams{ID: "x"}); err != nil {
		t.Fatal(err)
	}
	err := server(t, reply{409, "application/problem+json", `{"title":"in use"}`}).DeleteItem(ctx, responses.DeleteItemParams{ID: "x"})
	var apiErr *rest.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v", err)
	}
	if p, ok := apiErr.Model.(*responses.Problem); !ok || oas.Or(p.Title, "") != "in use" {
		t.Errorf("Model = %#v", apiErr.Model)
	}
	// An error model documented for one status is not used for another.
	err = server(t, reply{412, "application/problem+json", `{"title":"x"}`}).DeleteItem(ctx, responses.DeleteItemParams{ID: "x"})
	if !errors.As(err, &apiErr) || apiErr.Model != nil {
		t.Errorf("412: %v, Model %#v", err, apiErr.Model)
	}
}

// A spec whose only response is "default" describes success.
func TestDefaultOnly(t *testing.T) {
	out, err := server(t, reply{200, "application/json", `{"value":5}`}).GetStatus(ctx)
	if err != nil || oas.Or(out.Value, 0) != 5 {
		t.Fatalf("%+v, %v", out, err)
	}
	if _, err := server(t, reply{400, "application/json", `{"value":5}`}).GetStatus(ctx); err == nil {
		t.Error("400: want an error")
	}
}

func TestTextAndBinary(t *testing.T) {
	pdf := []byte("%PDF-1.7\x00\xff\xfe")
	out, err := server(t, reply{200, "application/pdf", string(pdf)}).GetReport(ctx)
	if err != nil || !bytes.Equal(out, pdf) {
		t.Errorf("report %q, %v", out, err)
	}
	s, err := server(t, reply{200, "text/plain; charset=utf-8", "hello\n"}).GetMotd(ctx)
	if err != nil || s != "hello\n" {
		t.Errorf("motd %q, %v", s, err)
	}
	// Malformed JSON in a success body is a decode error that says so.
	_, err = server(t, reply{200, "application/json", `{"value":`}).GetItem(ctx, responses.GetItemParams{ID: "x"})
	var de *rest.DecodeError
	if !errors.As(err, &de) || !errors.Is(err, transport.ErrValidation) {
		t.Errorf("err = %v, want a *rest.DecodeError", err)
	}
}
