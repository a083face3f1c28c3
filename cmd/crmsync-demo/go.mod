module github.com/connectorgen/connectorgen/cmd/crmsync-demo

go 1.25.0

require (
	github.com/connectorgen/connectorgen v0.0.0-00010101000000-000000000000
	github.com/connectorgen/connectorgen/golden v0.0.0
	github.com/connectorgen/connectorgen/runtime v0.0.0
	github.com/connectorgen/connectorgen/runtime/sqlitestore v0.0.0
	golang.org/x/oauth2 v0.35.0
)

require (
	github.com/dustin/go-humanize v1.0.1 // indirect
	github.com/getkin/kin-openapi v0.153.0 // indirect
	github.com/go-openapi/jsonpointer v0.22.5 // indirect
	github.com/go-openapi/swag/jsonname v0.25.5 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/iancoleman/strcase v0.3.0 // indirect
	github.com/mattn/go-isatty v0.0.20 // indirect
	github.com/ncruces/go-strftime v1.0.0 // indirect
	github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec // indirect
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3 // indirect
	go.yaml.in/yaml/v4 v4.0.0 // indirect
	golang.org/x/exp v0.0.0-20251023183803-a4bb9ffd2546 // indirect
	golang.org/x/sys v0.37.0 // indirect
	golang.org/x/text v0.14.0 // indirect
	golang.org/x/time v0.14.0 // indirect
	modernc.org/libc v1.67.6 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.11.0 // indirect
	modernc.org/sqlite v1.46.1 // indirect
)

replace (
	github.com/connectorgen/connectorgen => ../..
	github.com/connectorgen/connectorgen/golden => ../../golden
	github.com/connectorgen/connectorgen/runtime => ../../runtime
	github.com/connectorgen/connectorgen/runtime/sqlitestore => ../../runtime/sqlitestore
)
