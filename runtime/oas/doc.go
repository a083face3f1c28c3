// Package oas holds the value types that connectorgen-generated models use
// to represent OpenAPI schema features Go has no direct spelling for:
// optional fields ([Opt]), nullable fields with three states ([Nullable]),
// calendar dates ([Date]), UUIDs ([UUID]), multipart file parts ([File]) and
// the helpers generated code uses for additionalProperties ([MarshalExtra],
// [UnmarshalExtra]) and union discriminators ([PeekString]).
//
// Every type works with the standard encoding/json package, including the
// omitzero struct tag option (Go 1.24 and later): the IsZero methods report
// "absent", so absent values are left out of the encoded object.
//
// Date-time values inside Opt and Nullable decode leniently ([ParseDateTime]:
// RFC 3339, or without an offset, read as UTC, with a space for the "T", any
// number of fractional digits) and always encode as strict RFC 3339.
//
// The package must stay small and dependency free: it imports only the
// standard library, holds no package-level mutable state, performs no I/O and
// never panics on malformed input (the Must functions are the documented
// exception, meant for values written in source code).
package oas

// SupportPackageIsVersion1 is referenced by generated code
// (const _ = oas.SupportPackageIsVersion1) so that code generated for a newer
// runtime fails to compile against an older one with a clear message.
const SupportPackageIsVersion1 = true
