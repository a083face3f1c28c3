package rest

import (
	"context"
	"errors"
	"io"
	"iter"
	"net/http"
	"strconv"
	"testing"

	"github.com/connectorgen/connectorgen/runtime/oas"
	"github.com/connectorgen/connectorgen/runtime/transport"
)

// callServer answers /s/{status} with that status and body `{"n":1}`.
func callServer(t *testing.T) *Client {
	t.Helper()
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Path[len("/s/"):])
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		if code != http.StatusNoContent {
			io.WriteString(w, `{"n":1}`)
		}
	})
	c, err := New(srv.URL, WithInsecureHTTP())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func callReq(c *Client, status int) *Request {
	r := c.NewRequest(context.Background(), &Operation{ID: "op", Method: "GET", PathTemplate: "/s/{status}"})
	r.AppendPath("/s/")
	r.PathString("status", StyleSimple, false, strconv.Itoa(status))
	return r
}

type callModel struct{ N int }

func decodeCallModel(status int, body []byte) any {
	if status == 404 {
		return "model"
	}
	return nil
}

func TestCallJSON(t *testing.T) {
	c := callServer(t)
	var out callModel
	if ok, err := c.CallJSON(callReq(c, 200), &out, nil); !ok || err != nil || out.N != 1 {
		t.Fatalf("200: ok=%v err=%v out=%+v", ok, err, out)
	}
	for _, status := range []int{204, 202} {
		out = callModel{}
		if ok, err := c.CallJSON(callReq(c, status), &out, nil, 202); ok || err != nil || out.N != 0 {
			t.Fatalf("%d (empty): ok=%v err=%v out=%+v", status, ok, err, out)
		}
	}
	ok, err := c.CallJSON(callReq(c, 404), &out, decodeCallModel)
	var e *Error
	if ok || !errors.As(err, &e) || e.StatusCode != 404 || e.Model != "model" || e.Operation != "op" {
		t.Fatalf("404: ok=%v err=%#v", ok, err)
	}
	var wrong []int
	if ok, err := c.CallJSON(callReq(c, 200), &wrong, nil); ok || !errors.As(err, new(*DecodeError)) {
		t.Fatalf("decode failure: ok=%v err=%v", ok, err)
	}
}

func TestCallAndCallBytes(t *testing.T) {
	c := callServer(t)
	if err := c.Call(callReq(c, 201), nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Call(callReq(c, 500), nil); !errors.As(err, new(*Error)) {
		t.Fatalf("500: %v", err)
	}
	b, err := c.CallBytes(callReq(c, 200), nil)
	if err != nil || string(b) != `{"n":1}` {
		t.Fatalf("200: %q %v", b, err)
	}
	if b, err := c.CallBytes(callReq(c, 206), nil, 206); b != nil || err != nil {
		t.Fatalf("206 (empty): %q %v", b, err)
	}
	if b, err := c.CallBytes(callReq(c, 404), decodeCallModel); b != nil || !errors.As(err, new(*Error)) {
		t.Fatalf("404: %q %v", b, err)
	}
}

func TestItems(t *testing.T) {
	boom := errors.New("boom")
	pages := func(yield func(*[]int, error) bool) {
		for _, p := range []*[]int{{1, 2}, nil, {}, {3}} {
			if !yield(p, nil) {
				return
			}
		}
		yield(nil, boom)
	}
	items := func(p *[]int) []int {
		if p == nil {
			return nil
		}
		return *p
	}
	var got []int
	var gotErr error
	for it, err := range Items(iter.Seq2[*[]int, error](pages), items) {
		if err != nil {
			gotErr = err
			break
		}
		got = append(got, it)
	}
	if len(got) != 3 || got[0] != 1 || got[2] != 3 || gotErr != boom {
		t.Fatalf("got %v, %v", got, gotErr)
	}
	n := 0
	for range Items(iter.Seq2[*[]int, error](pages), items) {
		n++
		break
	}
	if n != 1 {
		t.Fatalf("stopping early: %d items", n)
	}
}

func TestCallStatus(t *testing.T) {
	c := callServer(t)
	type result struct {
		json  *callModel
		bytes []byte
		text  *string
	}
	into := func(out *result) func(status int) Into {
		return func(status int) Into {
			switch status {
			case 200:
				out.json = new(callModel)
				return IntoJSON(out.json)
			case 201:
				return IntoBytes(&out.bytes)
			case 202:
				out.text = new(string)
				return IntoText(out.text)
			}
			return Into{}
		}
	}
	var out result
	if st, err := c.CallStatus(callReq(c, 200), into(&out), nil); st != 200 || err != nil || out.json.N != 1 {
		t.Fatalf("200: %d %v %+v", st, err, out)
	}
	out = result{}
	if st, err := c.CallStatus(callReq(c, 201), into(&out), nil); st != 201 || err != nil || string(out.bytes) != `{"n":1}` || out.json != nil {
		t.Fatalf("201: %d %v %+v", st, err, out)
	}
	out = result{}
	if st, err := c.CallStatus(callReq(c, 202), into(&out), nil); st != 202 || err != nil || *out.text != `{"n":1}` {
		t.Fatalf("202: %d %v %+v", st, err, out)
	}
	for _, status := range []int{204, 206} {
		out = result{}
		if st, err := c.CallStatus(callReq(c, status), into(&out), nil); st != status || err != nil || out.json != nil || out.bytes != nil || out.text != nil {
			t.Fatalf("%d: %d %v %+v", status, st, err, out)
		}
	}
	st, err := c.CallStatus(callReq(c, 404), into(&out), decodeCallModel)
	var e *Error
	if st != 0 || !errors.As(err, &e) || e.StatusCode != 404 || e.Model != "model" {
		t.Fatalf("404: %d %#v", st, err)
	}
	var wrong []int
	if st, err := c.CallStatus(callReq(c, 200), func(int) Into { return IntoJSON(&wrong) }, nil); st != 0 || !errors.As(err, new(*DecodeError)) {
		t.Fatalf("decode failure: %d %v", st, err)
	}
}

func TestCallJSONLink(t *testing.T) {
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Path[len("/s/"):])
		w.Header().Set("Link", `<?page=2>; rel="next", </first>; rel="first"`)
		w.WriteHeader(code)
		if code != http.StatusNoContent {
			io.WriteString(w, `{"n":1}`)
		}
	})
	c, err := New(srv.URL, WithInsecureHTTP())
	if err != nil {
		t.Fatal(err)
	}
	var out callModel
	ok, next, err := c.CallJSONLink(callReq(c, 200), &out, nil)
	if !ok || err != nil || out.N != 1 || next != srv.URL+"/s/200?page=2" {
		t.Fatalf("200: %v %q %v %+v", ok, next, err, out)
	}
	out = callModel{}
	if ok, next, err := c.CallJSONLink(callReq(c, 204), &out, nil); ok || err != nil || next != srv.URL+"/s/204?page=2" || out.N != 0 {
		t.Fatalf("204: %v %q %v", ok, next, err)
	}
	if ok, next, err := c.CallJSONLink(callReq(c, 404), &out, decodeCallModel); ok || next != "" || !errors.As(err, new(*Error)) {
		t.Fatalf("404: %v %q %v", ok, next, err)
	}
}

func TestOptionalParams(t *testing.T) {
	c, err := New("https://api.example.com")
	if err != nil {
		t.Fatal(err)
	}
	type color string
	r := c.NewRequest(context.Background(), &Operation{ID: "op"})
	QueryOpt(r, "a", StyleForm, true, oas.Some(int64(5)), FormatInt)
	QueryOpt(r, "b", StyleForm, true, oas.Opt[int64]{}, FormatInt)
	QueryOpt(r, "c", StyleForm, true, oas.Some(color("red")), FormatString)
	QueryOpt(r, "d", StyleForm, true, oas.Some(oas.NewDate(2026, 1, 2)), oas.Date.String)
	HeaderOpt(r, "X-Set", oas.Some(true), FormatBool)
	HeaderOpt(r, "X-Unset", oas.Opt[string]{}, FormatString)
	CookieOpt(r, "k", oas.Some("v"), FormatString)
	CookieOpt(r, "u", oas.Opt[float64]{}, FormatFloat)
	if string(r.query) != "a=5&c=red&d=2026-01-02" {
		t.Fatalf("query %q", r.query)
	}
	if r.header.Get("X-Set") != "true" || r.header.Get("X-Unset") != "" || len(r.header) != 1 {
		t.Fatalf("header %v", r.header)
	}
	if string(r.cookie) != "k=v" {
		t.Fatalf("cookie %q", r.cookie)
	}
}

func TestAnyParams(t *testing.T) {
	c, err := New("https://api.example.com")
	if err != nil {
		t.Fatal(err)
	}
	type point struct {
		X int `json:"x"`
		Y int `json:"y"`
	}
	r := c.NewRequest(context.Background(), &Operation{ID: "op"})
	r.AppendPath("/p/")
	r.PathAny("pt", StyleSimple, false, point{1, 2})
	r.QueryAny("f", StyleDeepObject, true, oas.Some(point{3, 4}))
	r.QueryAny("absent", StyleForm, true, oas.Opt[point]{})
	r.QueryAny("nilmap", StyleForm, true, map[string]int(nil))
	r.HeaderAny("X-Pt", true, point{5, 6})
	r.CookieAny("c", false, []any{"a", 1})
	r.CookieAny("none", false, oas.Opt[[]int]{})
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	if string(r.path) != "/p/x,1,y,2" || string(r.query) != "f[x]=3&f[y]=4" || r.header.Get("X-Pt") != "x=5,y=6" || string(r.cookie) != "c=a,1" {
		t.Fatalf("path %q query %q header %v cookie %q", r.path, r.query, r.header, r.cookie)
	}
	r = c.NewRequest(context.Background(), &Operation{ID: "op"})
	r.QueryAny("bad", StyleForm, true, func() {})
	r.QueryAny("after", StyleForm, true, "x")
	if r.Err() == nil || len(r.query) != 0 {
		t.Fatalf("unencodable value: err %v, query %q", r.Err(), r.query)
	}
	if _, err := c.Do(r); !errors.Is(err, transport.ErrValidation) {
		t.Fatalf("send: %v", err)
	}
}
