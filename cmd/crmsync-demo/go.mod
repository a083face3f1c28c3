module github.com/connectorgen/connectorgen/cmd/crmsync-demo

go 1.25.0

require (
	github.com/connectorgen/connectorgen/golden v0.0.0
	github.com/connectorgen/connectorgen/runtime v0.0.0
	golang.org/x/oauth2 v0.35.0
)

require golang.org/x/time v0.14.0 // indirect

replace (
	github.com/connectorgen/connectorgen => ../..
	github.com/connectorgen/connectorgen/golden => ../../golden
	github.com/connectorgen/connectorgen/runtime => ../../runtime
)
