package nullable_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/connectorgen/connectorgen/golden/cases/nullable/nullable"
	"github.com/connectorgen/connectorgen/runtime/oas"
)

// server answers every request with reply (or, when reply is "", echoes
// the request body) and records the bodies it received.
func server(t *testing.T, reply string) (*nullable.Client, *[]string) {
	t.Helper()
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, string(b))
		w.Header().Set("Content-Type", "application/json")
		if reply != "" {
			io.WriteString(w, reply)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	c, err := nullable.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c, &got
}

// The zero Record sends only its required members: required nullable ones
// as null (never omitted), optional ones not at all.
func TestRequiredMembersAlwaysSent(t *testing.T) {
	c, got := server(t, "")
	out, err := c.PutRecord(context.Background(), nullable.Record{})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"req":"","reqNull":null,"reqList":null,"reqNullObj":null}`; (*got)[0] != want {
		t.Errorf("sent %s\nwant %s", (*got)[0], want)
	}
	if !out.ReqNull.IsNull() || !out.ReqNullObj.IsNull() || !out.Opt.IsZero() || !out.OptNull.IsZero() {
		t.Errorf("decoded %+v", out)
	}
}

// Every optional member in each of its three states travels as such, to the
// server and back.
func TestAbsentNullValueRoundTrip(t *testing.T) {
	c, got := server(t, "")
	ctx := context.Background()

	in := nullable.Record{
		Req:            "r",
		ReqNull:        oas.Value("rn"),
		Opt:            oas.Some(int64(0)), // a present zero is not absent
		OptNull:        oas.Null[int64](),
		ReqList:        []string{},
		OptList:        []string{}, // empty but present
		OptNullList:    oas.Null[[]string](),
		ListOfNullable: []oas.Nullable[string]{oas.Value("a"), oas.Null[string](), oas.Value("")},
		OptObj:         oas.Value(nullable.Note{Text: oas.Some("t")}),
		ReqNullObj:     oas.Value(nullable.Note{}),
		OptMap:         map[string]oas.Nullable[int64]{"n": oas.Null[int64](), "v": oas.Value(int64(7))},
		OptNullBool:    oas.Value(false),
		RefNull:        oas.Null[nullable.Inner](),
	}
	out, err := c.PutRecord(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"req":"r","reqNull":"rn","opt":0,"optNull":null,"reqList":[],"optList":[],"optNullList":null,` +
		`"listOfNullable":["a",null,""],"optObj":{"text":"t"},"reqNullObj":{},"optMap":{"n":null,"v":7},"optNullBool":false,"refNull":null}`
	if (*got)[0] != want {
		t.Fatalf("sent %s\nwant %s", (*got)[0], want)
	}
	if v, ok := out.Opt.Get(); !ok || v != 0 {
		t.Errorf("Opt = %v", out.Opt)
	}
	if !out.OptNull.IsNull() || !out.OptNullList.IsNull() || !out.RefNull.IsNull() {
		t.Errorf("nulls lost: %v %v %v", out.OptNull, out.OptNullList, out.RefNull)
	}
	if out.OptList == nil || len(out.OptList) != 0 {
		t.Errorf("OptList = %#v, want present and empty", out.OptList)
	}
	if len(out.ListOfNullable) != 3 || !out.ListOfNullable[1].IsNull() || oas.Or(out.ListOfNullable[2], "x") != "" {
		t.Errorf("ListOfNullable = %v", out.ListOfNullable)
	}
	if !out.OptMap["n"].IsNull() || oas.Or(out.OptMap["v"], 0) != 7 {
		t.Errorf("OptMap = %v", out.OptMap)
	}
	if b, ok := out.OptNullBool.Get(); !ok || b {
		t.Errorf("OptNullBool = %v", out.OptNullBool)
	}
	if n, ok := out.OptObj.Get(); !ok || oas.Or(n.Text, "") != "t" {
		t.Errorf("OptObj = %v", out.OptObj)
	}
	// Re-encoding the decoded value gives the same bytes: nothing was
	// turned from null into absent or back.
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != want {
		t.Errorf("re-encoded %s\nwant       %s", b, want)
	}
}

// Decoding tells the three states apart for each nullable member.
func TestDecodeThreeStates(t *testing.T) {
	cases := []struct {
		body  string
		state string // of optNull
	}{
		{`{"req":"x","reqNull":null,"reqList":[],"reqNullObj":null}`, "absent"},
		{`{"req":"x","reqNull":null,"reqList":[],"reqNullObj":null,"optNull":null}`, "null"},
		{`{"req":"x","reqNull":null,"reqList":[],"reqNullObj":null,"optNull":5}`, "value"},
	}
	for _, tc := range cases {
		c, _ := server(t, tc.body)
		out, err := c.PutRecord(context.Background(), nullable.Record{})
		if err != nil {
			t.Fatal(err)
		}
		var state string
		switch {
		case out.OptNull.IsZero():
			state = "absent"
		case out.OptNull.IsNull():
			state = "null"
		default:
			state = "value"
			if oas.Or(out.OptNull, 0) != 5 {
				t.Errorf("%s: value %v", tc.body, out.OptNull)
			}
		}
		if state != tc.state {
			t.Errorf("%s: optNull is %s, want %s", tc.body, state, tc.state)
		}
	}
	// A null sent for a non-nullable optional member reads as absent.
	c, _ := server(t, `{"req":"x","reqNull":null,"reqList":[],"reqNullObj":null,"opt":null}`)
	out, err := c.PutRecord(context.Background(), nullable.Record{})
	if err != nil {
		t.Fatal(err)
	}
	if !out.Opt.IsZero() {
		t.Errorf("opt: null decoded as %v, want absent", out.Opt)
	}
}

// A nullable optional body: nil sends no body at all; a value is sent; a
// response of literally null decodes to a zero Note rather than an error.
func TestOptionalBody(t *testing.T) {
	var got []string
	var types []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, string(b))
		types = append(types, r.Header.Get("Content-Type"))
		w.Header().Set("Content-Type", "application/json")
		if len(b) == 0 {
			io.WriteString(w, `null`)
			return
		}
		w.Write(b)
	}))
	defer srv.Close()
	c, err := nullable.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	out, err := c.PatchNote(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != "" || types[0] != "" {
		t.Errorf("nil body sent %q with Content-Type %q", got[0], types[0])
	}
	if out == nil || !out.Text.IsZero() {
		t.Errorf("null response decoded as %+v", out)
	}
	out, err = c.PatchNote(ctx, &nullable.Note{Text: oas.Some("hi")})
	if err != nil {
		t.Fatal(err)
	}
	if got[1] != `{"text":"hi"}` || types[1] != "application/json" || oas.Or(out.Text, "") != "hi" {
		t.Errorf("sent %s (%s), decoded %+v", got[1], types[1], out)
	}
}
