module github.com/connectorgen/connectorgen/runtime

go 1.24.0

require (
	golang.org/x/oauth2 v0.35.0
	golang.org/x/time v0.14.0
)
