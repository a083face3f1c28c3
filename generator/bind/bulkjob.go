package bind

import (
	"strings"

	"github.com/connectorgen/connectorgen/generator/config"
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

// bodyConsts binds the entity's params that name a top-level field of
// body (a string, a UUID, or a list of either, as comma-separated values)
// as constants of every request body; params naming no body field are
// left to the operations' parameters.
func (b *binder) bodyConsts(e *config.Entity, c *ir.Client, body *ir.TypeRef, op string) ([]ir.BodyConst, bool) {
	var out []ir.BodyConst
	ok := true
	for _, cp := range e.Params {
		p, leaf, err := b.searchPath(c, body, cp.Name)
		if err != nil || len(p.Steps) != 1 {
			continue
		}
		u := leaf.Type.Unwrapped()
		bc := ir.BodyConst{Path: p}
		elem := u
		if u.Kind == ir.Slice {
			bc.List, elem = true, u.Elem
		}
		switch {
		case isString(elem):
		case elem.Kind == ir.Named && elem.Pkg == ir.PkgOAS && elem.Name == "UUID":
			bc.UUID = true
		default:
			b.errorf(cp.Pos, "entity %q: param %q fixes body field %q of %s, which is %s; only strings, UUIDs and lists of them can be fixed", e.Name, cp.Name, cp.Name, op, leaf.Type)
			ok = false
			continue
		}
		for _, v := range strings.Split(cp.Value.Text, ",") {
			if !bc.List {
				v = cp.Value.Text
			}
			v = strings.TrimSpace(v)
			if bc.UUID && !isUUID(v) {
				b.errorf(cp.Value.Pos, "entity %q: param %q: %q is not a UUID (body field %q of %s takes UUIDs)", e.Name, cp.Name, v, cp.Name, op)
				ok = false
			}
			bc.Values = append(bc.Values, v)
			if !bc.List {
				break
			}
		}
		out = append(out, bc)
	}
	return out, ok
}

// isUUID reports whether s is a UUID in its canonical 8-4-4-4-12 form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}
