// Package templates holds the text/template sources of connectorgen's
// non-Go output (the runbook README of each generated connector). They are
// embedded so the installed binary needs no files beside it.
//
// Stage: emit (data only). Templates receive view models built by
// generator/emit; they make no decisions beyond layout.
package templates

import "embed"

// FS holds every *.tmpl file. An embed.FS is read-only.
//
//go:embed *.tmpl
var FS embed.FS
