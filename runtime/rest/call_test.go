package rest

import (
	"context"
	"errors"
	"io"
	"iter"
	"net/http"
	"strconv"
	"testing"
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
