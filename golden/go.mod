module github.com/connectorgen/connectorgen/golden

go 1.25

require (
	github.com/connectorgen/connectorgen v0.0.0
	github.com/connectorgen/connectorgen/runtime v0.0.0
)

replace (
	github.com/connectorgen/connectorgen => ../
	github.com/connectorgen/connectorgen/runtime => ../runtime
)
