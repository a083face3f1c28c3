package syncutil

import (
	"errors"
	"fmt"
	"testing"

	"github.com/connectorgen/connectorgen/runtime/engine"
	"github.com/connectorgen/connectorgen/runtime/oas"
	"github.com/connectorgen/connectorgen/runtime/rest"
)

func TestFieldJSON(t *testing.T) {
	for _, tc := range []struct {
		in     oas.Nullable[string]
		want   string
		wantOK bool
	}{
		{oas.Value("a\"b"), `"a\"b"`, true},
		{oas.Null[string](), "null", true},
		{oas.Nullable[string]{}, "", false},
	} {
		got, ok := FieldJSON(tc.in)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("FieldJSON(%v) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
	if _, ok := FieldJSON(oas.Value(func() {})); ok {
		t.Error("an unmarshalable value gave a snapshot")
	}
}

func TestErrorClassification(t *testing.T) {
	status := func(code int) error {
		return fmt.Errorf("call: %w", &rest.Error{Operation: "op", StatusCode: code})
	}
	if !IsNotFound(status(404)) || IsNotFound(status(410)) || IsNotFound(errors.New("x")) || IsNotFound(nil) {
		t.Error("IsNotFound misclassifies")
	}
	var perm *engine.PermanentError
	for _, code := range []int{400, 404, 409, 422} {
		if !errors.As(Rejected(status(code)), &perm) {
			t.Errorf("%d not permanent", code)
		}
	}
	for _, code := range []int{401, 403, 408, 429, 500, 503} {
		if errors.As(Rejected(status(code)), &perm) {
			t.Errorf("%d made permanent", code)
		}
	}
	if Rejected(nil) != nil {
		t.Error("Rejected(nil) != nil")
	}
}

func TestNonZeroAndSquash(t *testing.T) {
	if NonZero("") || !NonZero("x") || NonZero(0) || !NonZero(3) {
		t.Error("NonZero wrong")
	}
	if got := Squash("  Ada \t\n Lovelace  "); got != "Ada Lovelace" {
		t.Errorf("Squash = %q", got)
	}
}

func TestMap(t *testing.T) {
	type props map[string]string
	var p props
	Map(&p)["a"] = "1"
	Map(&p)["b"] = "2"
	if len(p) != 2 || p["a"] != "1" || p["b"] != "2" {
		t.Fatalf("map %v", p)
	}
}
