// Package rest is the HTTP seam of every connectorgen-generated client: it
// builds requests (path, query, header and cookie parameters encoded by the
// OpenAPI 3 style/explode rules; JSON, form, multipart and raw bodies), sends
// them through a configurable chain of http.RoundTripper middlewares and an
// http.Client, and turns responses into decoded values or typed errors.
//
// Generated code is its main caller. The package knows nothing about any
// particular API. [New] installs the runtime's transport chain
//
//	auth → rate limit → retry → circuit breaker → observer → net/http
//
// (transport.ChainMiddleware, with auth.Set as the authenticator) with safe
// defaults, so every client is resilient without configuration; options
// such as [WithRetry], [WithRateLimit], [WithBreaker], [WithObserver],
// [WithLogger] and [WithCredential] tune it. The package holds no
// package-level mutable state, never panics on bad input and imports only
// the standard library and the runtime's transport, auth and observe
// packages (and, through auth, golang.org/x/oauth2).
//
// Credentials never leave the base URL's origin: requests sent with
// [Request.SetURL] to another origin skip the auth middleware, the
// [WithMiddleware] middlewares and the static headers; redirects to another
// origin lose the static headers and credential headers, and a redirect
// chain that has left the origin never gets credentials again; plain-http
// redirects are refused like plain-http base URLs.
//
// Encoding conventions, where OpenAPI leaves a choice:
//   - Percent-encoding of values: path values use url.PathEscape semantics per
//     value; query and form values escape every byte outside the RFC 3986
//     unreserved set, and a space is always written as %20 (never '+').
//     Separators the style introduces (',', '|', '%20', '&', '=', '[', ']',
//     '.', ';') are written unescaped.
//   - Empty lists and objects are "undefined" as in RFC 6570: they produce
//     nothing at all. An empty string is a defined value (color=, ;color, .).
//   - label with explode=false joins with ',' as RFC 6570 does (.blue,black,brown;
//     the OpenAPI 3.0.3 example table shows '.' there, an erratum fixed in 3.1).
//   - Cells the style table marks n/a fall back to the nearest defined style:
//     a scalar with spaceDelimited, pipeDelimited or deepObject is encoded as
//     form; those delimited styles with explode=true behave like form
//     explode=true; deepObject on a list indexes it (color[0]=blue).
//   - Values nested inside objects or lists are flattened for every style but
//     deepObject (comma-joined); deepObject nests brackets (a[b][c]=v) and
//     indexes lists (a[list][0]=x), the convention Stripe-style APIs use.
//   - Cookie values are sent as-is except bytes a cookie-octet may not contain
//     (controls, space, '"', ',', ';', '\', non-ASCII), which are
//     percent-encoded; explode=true lists and objects become separate
//     cookie pairs.
//   - Header values are never percent-encoded; values containing control
//     characters (CR, LF, NUL …) are refused.
package rest

import "github.com/connectorgen/connectorgen/runtime/transport"

// SupportPackageIsVersion1 is referenced by generated code
// (const _ = rest.SupportPackageIsVersion1) so that code generated for a
// newer runtime fails to compile against an older one with a clear message.
const SupportPackageIsVersion1 = true

// Operation is the per-operation metadata generated code declares and passes
// to [Client.NewRequest].
type Operation = transport.Operation

// SecurityRequirement is one alternative of an operation's security.
type SecurityRequirement = transport.SecurityRequirement
