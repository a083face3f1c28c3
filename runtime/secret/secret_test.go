package secret

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const secretValue = "s3cr3t-VALUE-123"

type holder struct {
	Name   string
	Token  Secret
	hidden Secret
	Ptr    *Secret
	List   []Secret
	Map    map[string]Secret
}

type xmlHolder struct{ T Secret }

func TestSecretNeverPrints(t *testing.T) {
	s := New(secretValue)
	h := holder{Name: "x", Token: s, hidden: s, Ptr: &s, List: []Secret{s}, Map: map[string]Secret{"k": s}}
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s", "%-10v", "%T"} {
		outs = append(outs, fmt.Sprintf(verb, s), fmt.Sprintf(verb, &s), fmt.Sprintf(verb, h), fmt.Sprintf(verb, &h))
	}
	outs = append(outs, s.String(), s.GoString(), fmt.Sprint(s), fmt.Sprintln(s, h))
	for _, v := range []any{s, h, &h, map[Secret]int{s: 1}} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, string(b))
	}
	xb, err := xml.Marshal(xmlHolder{T: s})
	if err != nil {
		t.Fatal(err)
	}
	outs = append(outs, string(xb))
	var buf bytes.Buffer
	for _, hnd := range []slog.Handler{slog.NewJSONHandler(&buf, nil), slog.NewTextHandler(&buf, nil)} {
		l := slog.New(hnd)
		l.Info("msg", "secret", s, "holder", h, slog.Any("ptr", &s))
	}
	outs = append(outs, buf.String())
	for _, o := range outs {
		if strings.Contains(o, secretValue) || strings.Contains(o, fmt.Sprintf("%x", secretValue)) || strings.Contains(o, fmt.Sprintf("%X", secretValue)) {
			t.Errorf("secret leaked: %s", o)
		}
	}
	if got := fmt.Sprintf("%q", s); got != `"[REDACTED]"` {
		t.Errorf("%%q = %s", got)
	}
	if got := fmt.Sprintf("%v", s); got != Redacted {
		t.Errorf("%%v = %s", got)
	}
	if s.Reveal() != secretValue || s.Len() != len(secretValue) || s.IsZero() {
		t.Error("Reveal/Len/IsZero wrong")
	}
	if !(Secret{}).IsZero() || New("").Reveal() != "" {
		t.Error("zero secret")
	}
}

func TestEnvProvider(t *testing.T) {
	r := NewResolver().Register("env", Env{Lookup: func(k string) (string, bool) {
		switch k {
		case "SET":
			return secretValue, true
		case "EMPTY":
			return "", true
		}
		return "", false
	}})
	s, err := r.Resolve(context.Background(), "env://SET")
	if err != nil || s.Reveal() != secretValue {
		t.Fatalf("got %v, %v", s, err)
	}
	_, err = r.Resolve(context.Background(), "env://MISSING_VAR")
	var nf *NotFoundError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), `"MISSING_VAR"`) {
		t.Fatalf("missing var error = %v", err)
	}
	if _, err := r.Resolve(context.Background(), "env://EMPTY"); err == nil || !strings.Contains(err.Error(), "EMPTY") {
		t.Fatalf("empty var error = %v", err)
	}
}

func TestEnvProviderRealEnvironment(t *testing.T) {
	t.Setenv("CONNECTORGEN_TEST_SECRET", secretValue)
	s, err := NewResolver().Resolve(context.Background(), "env://CONNECTORGEN_TEST_SECRET")
	if err != nil || s.Reveal() != secretValue {
		t.Fatalf("got %v, %v", s, err)
	}
}

func TestFileProvider(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "token")
	if err := os.WriteFile(p, []byte(secretValue+"\r\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := NewResolver()
	s, err := r.Resolve(context.Background(), "file://"+p)
	if err != nil || s.Reveal() != secretValue {
		t.Fatalf("got %q, %v", s.Reveal(), err)
	}
	missing := filepath.Join(dir, "nope")
	_, err = r.Resolve(context.Background(), "file://"+missing)
	if err == nil || !strings.Contains(err.Error(), missing) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file error = %v", err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, bytes.Repeat([]byte("a"), MaxFileSize+10), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resolve(context.Background(), "file://"+big); err == nil || strings.Contains(err.Error(), "aaaa") {
		t.Fatalf("big file error = %v", err)
	}
}

func TestResolverDispatch(t *testing.T) {
	r := NewResolver().Register("vault", ProviderFunc(func(_ context.Context, name string) (Secret, error) {
		if name == "kv/crm#token" {
			return New(secretValue), nil
		}
		return Secret{}, fmt.Errorf("vault: %q not found", name)
	}))
	s, err := r.Resolve(context.Background(), "VAULT://kv/crm#token")
	if err != nil || s.Reveal() != secretValue {
		t.Fatalf("got %v, %v", s, err)
	}
	if _, err := r.Resolve(context.Background(), secretValue); err == nil || strings.Contains(err.Error(), secretValue) {
		t.Fatalf("literal accepted or leaked: %v", err)
	}
	if _, err := r.Resolve(context.Background(), "nope://"+secretValue); err == nil || strings.Contains(err.Error(), secretValue) {
		t.Fatalf("unknown scheme accepted or leaked: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("MustResolve did not panic")
		}
	}()
	r.MustResolve(context.Background(), "env://CONNECTORGEN_DEFINITELY_UNSET")
}
