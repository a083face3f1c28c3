// Command connectorgen generates typed Go API clients and sync code from
// OpenAPI specs and connector (mapping) files. See the README.
package main

import (
	"os"

	"github.com/connectorgen/connectorgen/generator/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
