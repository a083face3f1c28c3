package bind

import (
	"github.com/connectorgen/connectorgen/generator/fieldpath"
	"github.com/connectorgen/connectorgen/generator/ir"
)

// bulkJobFields are the names under which bulk APIs answer with the id of
// the job applying a batch (SendGrid's job_id), tried in order.
func bulkJobFields() []string { return []string{"job_id", "jobId", "batch_id", "batchId", "id"} }

// bulkJob returns the path of the job id in a bulk upsert's answer: the
// first top-level string field named like one, or an empty path.
func (b *binder) bulkJob(oc *ir.OpCall) ir.Path {
	r := oc.Op.Result
	if r == nil || r.Kind != ir.ResultSingle || r.Single == nil || r.Single.Type == nil {
		return ir.Path{}
	}
	for _, name := range bulkJobFields() {
		res, err := fieldpath.Resolve(clientTypes{b, oc.Client}, r.Single.Type, name)
		if err != nil || len(res.Steps) != 1 || !isString(res.Leaf.Type.Unwrapped()) {
			continue
		}
		p := ir.Path{Text: name}
		for _, st := range res.Steps {
			st.Type = qualify(st.Type, oc.Client.ImportPath)
			p.Steps = append(p.Steps, st)
		}
		return p
	}
	return ir.Path{}
}
