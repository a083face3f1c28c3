module github.com/connectorgen/connectorgen/golden

go 1.25.0

require github.com/connectorgen/connectorgen/runtime v0.0.0

require golang.org/x/time v0.14.0 // indirect

replace (
	github.com/connectorgen/connectorgen => ../
	github.com/connectorgen/connectorgen/runtime => ../runtime
)
