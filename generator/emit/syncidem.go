package emit

import (
	"github.com/dave/jennifer/jen"

	"github.com/connectorgen/connectorgen/generator/ir"
)

// upsertIdempotent returns the statement that marks an upsert's create
// request safe to repeat: an upsert finds the record by the natural key in
// its body, so sending it twice leaves one record, whatever its method
// (Klaviyo's POST /api/profile-import). The transport then retries it after
// a reset, a timeout or a 5xx like a PUT. A plain create gets nothing: it
// is repeated only through the engine's find-before-create.
func upsertIdempotent(s *ir.Sync) []jen.Code {
	if !s.To.Upsert {
		return nil
	}
	return []jen.Code{jen.Id("ctx").Op("=").Qual(ir.PkgTransport, "WithIdempotent").Call(jen.Id("ctx")).
		Comment(s.To.Create.Op.ID + " is an upsert by the natural key in its body: safe to repeat, so retried like a PUT")}
}
