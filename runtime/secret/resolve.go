package secret

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// MaxFileSize bounds how many bytes a file:// reference may hold.
const MaxFileSize = 1 << 20

// Provider resolves the part of a reference after "scheme://" to a secret.
// Implementations for vaults (Vault, AWS Secrets Manager, ...) live outside
// the core runtime and are registered on a Resolver. Errors must name the
// reference, never a value.
type Provider interface {
	Resolve(ctx context.Context, name string) (Secret, error)
}

// ProviderFunc adapts a function to the Provider interface.
type ProviderFunc func(ctx context.Context, name string) (Secret, error)

// Resolve calls f.
func (f ProviderFunc) Resolve(ctx context.Context, name string) (Secret, error) { return f(ctx, name) }

// Env resolves "env://NAME" from the process environment.
type Env struct {
	// Lookup replaces os.LookupEnv (for tests). Nil means os.LookupEnv.
	Lookup func(string) (string, bool)
}

// Resolve returns the value of the environment variable name. An unset or
// empty variable is an error naming the variable.
func (e Env) Resolve(_ context.Context, name string) (Secret, error) {
	if name == "" {
		return Secret{}, errors.New("secret: env:// reference has no variable name")
	}
	lookup := e.Lookup
	if lookup == nil {
		lookup = os.LookupEnv
	}
	v, ok := lookup(name)
	if !ok {
		return Secret{}, &NotFoundError{Ref: "env://" + name, Reason: fmt.Sprintf("environment variable %q is not set", name)}
	}
	if v == "" {
		return Secret{}, &NotFoundError{Ref: "env://" + name, Reason: fmt.Sprintf("environment variable %q is empty", name)}
	}
	return New(v), nil
}

// File resolves "file://PATH" by reading the file (at most MaxFileSize bytes)
// and trimming trailing newline characters. "file:///run/secrets/token" names
// an absolute path, "file://secrets/token" a path relative to the working
// directory.
type File struct{}

// Resolve reads the file at path.
func (File) Resolve(_ context.Context, path string) (Secret, error) {
	if path == "" {
		return Secret{}, errors.New("secret: file:// reference has no path")
	}
	f, err := os.Open(path)
	if err != nil {
		return Secret{}, &NotFoundError{Ref: "file://" + path, Reason: fmt.Sprintf("cannot open file %q", path), Err: err}
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return Secret{}, &NotFoundError{Ref: "file://" + path, Reason: fmt.Sprintf("cannot read file %q", path), Err: err}
	}
	if len(b) > MaxFileSize {
		return Secret{}, &NotFoundError{Ref: "file://" + path, Reason: fmt.Sprintf("file %q is larger than %d bytes", path, MaxFileSize)}
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return Secret{}, &NotFoundError{Ref: "file://" + path, Reason: fmt.Sprintf("file %q is empty", path)}
	}
	return New(s), nil
}

// NotFoundError reports a reference that could not be resolved. Its message
// names the reference (variable name or path) and never contains a value.
type NotFoundError struct {
	Ref    string
	Reason string
	Err    error
}

func (e *NotFoundError) Error() string {
	if e.Err != nil {
		// Only the classification of the underlying error is shown; the
		// os errors carry the path, which is already in Reason.
		return "secret: " + e.Reason + ": " + describe(e.Err)
	}
	return "secret: " + e.Reason
}

// Unwrap returns the underlying error, if any.
func (e *NotFoundError) Unwrap() error { return e.Err }

func describe(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// Resolver turns references ("scheme://name") into secrets by dispatching to
// the Provider registered for the scheme. It is safe for concurrent use once
// configured; configure it before sharing it.
type Resolver struct {
	providers map[string]Provider
}

// NewResolver returns a Resolver that knows "env" and "file".
func NewResolver() *Resolver {
	return &Resolver{providers: map[string]Provider{"env": Env{}, "file": File{}}}
}

// Register makes p responsible for references "scheme://...", replacing any
// previous provider for that scheme. It returns r for chaining.
func (r *Resolver) Register(scheme string, p Provider) *Resolver {
	if r.providers == nil {
		r.providers = map[string]Provider{}
	}
	r.providers[strings.ToLower(scheme)] = p
	return r
}

// Resolve resolves ref. A reference without a scheme is rejected: credentials
// come from the environment, files or a vault, never from literals in code or
// configuration.
func (r *Resolver) Resolve(ctx context.Context, ref string) (Secret, error) {
	scheme, name, ok := strings.Cut(ref, "://")
	if !ok || scheme == "" {
		return Secret{}, errors.New("secret: reference must have the form scheme://name (env://NAME, file://PATH); literal values are not accepted")
	}
	p := r.providers[strings.ToLower(scheme)]
	if p == nil {
		return Secret{}, fmt.Errorf("secret: no provider registered for scheme %q", scheme)
	}
	return p.Resolve(ctx, name)
}

// MustResolve is Resolve for program initialisation: it panics with the
// (value-free) error when the reference cannot be resolved.
func (r *Resolver) MustResolve(ctx context.Context, ref string) Secret {
	s, err := r.Resolve(ctx, ref)
	if err != nil {
		panic(err)
	}
	return s
}
