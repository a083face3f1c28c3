package emit

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/dave/jennifer/jen"

	"github.com/connectorgen/connectorgen/generator/ir"
)

// PkgEngine is the runtime package generated sync code runs on.
const PkgEngine = "github.com/connectorgen/connectorgen/runtime/engine"

// PkgSyncUtil holds the small helpers generated sync code calls (field
// snapshots, error classification, zero tests, squash) instead of
// declaring copies in every connector.
const PkgSyncUtil = "github.com/connectorgen/connectorgen/runtime/syncutil"

// Syncs renders the sync code of a bound connector: one file with the
// Clients struct, per sync its write type, constructor and mapping
// functions, and Register.
func Syncs(c *ir.Connector) (File, error) {
	e := &syncEmitter{c: c}
	f := jen.NewFile(c.Package)
	f.HeaderComment(Header)
	f.HeaderComment("Source: " + c.Source.Path)
	f.ImportName(ir.PkgOAS, "oas")
	f.ImportName(ir.PkgRest, "rest")
	f.ImportName(PkgEngine, "engine")
	f.ImportName(PkgSyncUtil, "syncutil")
	f.ImportName(ir.PkgTransport, "transport")
	f.ImportName(ir.PkgSecret, "secret")
	f.ImportName(ir.PkgAuth, "auth")
	for _, cl := range c.Clients {
		f.ImportName(cl.ImportPath, cl.Pkg.Name)
	}
	e.packageDoc(f)
	e.clientsType(f)
	e.endpointsType(f)
	e.newClientsFunc(f)
	for _, s := range c.Syncs {
		e.writeType(f, s)
		e.constructor(f, s)
		e.mapFunc(f, s)
		if s.Enter != nil {
			e.predFunc(f, s, s.Funcs.Enter, "the enter trigger", s.Enter)
		}
		if s.Exit != nil {
			e.predFunc(f, s, s.Funcs.Exit, "the exit trigger", s.Exit)
		}
		if s.OnExit != nil && s.OnExit.When != nil {
			e.predFunc(f, s, s.Funcs.ExitWhen, "the exit action's condition (on_exit when)", s.OnExit.When)
		}
		if s.OnExit != nil && s.OnExit.Kind == ir.ExitSet && s.To.Bulk != nil {
			e.exitBodyFunc(f, s)
		}
		e.fieldsFunc(f, s)
		if s.From.Webhook != nil {
			e.webhookFunc(f, s)
		}
		if s.To.Create != nil {
			e.bodyFunc(f, s, s.Funcs.CreateBody, false, s.To.Create, func(w *ir.WField) ir.Path { return w.Create })
		}
		if s.To.Update != nil {
			e.bodyFunc(f, s, s.Funcs.UpdateBody, true, s.To.Update, func(w *ir.WField) ir.Path {
				if w.CreateOnly {
					return ir.Path{}
				}
				return w.Update
			})
		}
	}
	e.registerFunc(f)
	var buf bytes.Buffer
	if err := f.Render(&buf); err != nil {
		return File{}, fmt.Errorf("rendering sync_gen.go: %w (this is a connectorgen bug; please report it)", err)
	}
	return File{Name: "sync_gen.go", Content: buf.Bytes()}, nil
}

type syncEmitter struct {
	c *ir.Connector
}

func (e *syncEmitter) packageDoc(f *jen.File) {
	var names []string
	for _, s := range e.c.Syncs {
		names = append(names, s.Name)
	}
	f.PackageComment(fmt.Sprintf("Package %s holds the syncs of a connectorgen connector (%s), generated from its mapping file; see README.md beside this file for the runbook.", e.c.Package, strings.Join(names, ", ")))
}

func (e *syncEmitter) clientsType(f *jen.File) {
	var fields []jen.Code
	for _, c := range e.c.Clients {
		fields = append(fields, jen.Id(c.Field).Op("*").Qual(c.ImportPath, "Client"))
	}
	f.Add(comment("Clients holds the API clients the syncs use, one per system."))
	f.Type().Id("Clients").Struct(fields...)
}

func (e *syncEmitter) writeType(f *jen.File, s *ir.Sync) {
	var fields []jen.Code
	for _, w := range s.Fields {
		doc := w.Path
		if w.CreateOnly {
			doc += " (written on create only)"
		}
		fields = append(fields, jen.Comment(doc), jen.Id(w.GoName).Qual(ir.PkgOAS, "Nullable").Types(typeCode(w.Type)))
	}
	f.Add(comment(fmt.Sprintf("%s is what sync %s writes to %s, one value per mapped target field: absent leaves the target's value, null clears it (its source lost its value), a value writes it.", s.WriteType, s.Name, s.To.Name)))
	f.Type().Id(s.WriteType).Struct(fields...)
}

func (e *syncEmitter) syncType(s *ir.Sync) *jen.Statement {
	return jen.Qual(PkgEngine, "Sync").Types(typeCode(s.From.Type), jen.Id(s.WriteType))
}

func (e *syncEmitter) constructor(f *jen.File, s *ir.Sync) {
	from, to := s.From, s.To
	d := jen.Dict{
		jen.Id("Name"):         jen.Lit(s.Name),
		jen.Id("SourceSystem"): jen.Lit(from.Client.System),
		jen.Id("TargetSystem"): jen.Lit(to.Client.System),
		jen.Id("Source"):       jen.Lit(from.Name),
		jen.Id("Target"):       jen.Lit(to.Name),
		jen.Id("Key"):          e.keyFunc(from),
		jen.Id("Map"):          jen.Id(s.Funcs.Map),
		jen.Id("Fields"):       jen.Id(s.Funcs.Fields).Call(),
		jen.Id("Match"):        e.matchList(s),
		jen.Id("Retry"):        jen.Qual(PkgEngine, "RetryPolicy").Values(jen.Dict{jen.Id("MaxAttempts"): jen.Lit(s.MaxAttempts)}),
		jen.Id("DeadLetter"):   jen.Lit(s.DeadLetter),
		jen.Id("Realtime"):     jen.Lit(s.Realtime),
		jen.Id("Alerts"): jen.Qual(PkgEngine, "AlertRules").Values(jen.Dict{
			jen.Id("ConsecutiveFailures"): jen.Lit(s.AlertFailures),
			jen.Id("Freshness"):           duration(s.Freshness),
			jen.Id("DeadLetters"):         jen.Lit(s.AlertDeadLetters),
		}),
	}
	if s.Every > 0 {
		d[jen.Id("Every")] = duration(s.Every)
	}
	if s.Xref != "" {
		d[jen.Id("Xref")] = jen.Lit(s.Xref)
	}
	if from.List != nil {
		d[jen.Id("Poll")] = e.pollFunc(from)
	}
	if from.Search != nil {
		d[jen.Id("Poll")] = e.searchPollFunc(from)
	}
	if from.Get != nil {
		d[jen.Id("Fetch")] = e.fetchFunc(from)
	}
	switch from.VersionFrom {
	case ir.VersionField:
		d[jen.Id("Version")] = e.intFunc(from, from.Version)
	case ir.VersionTimeCursor:
		d[jen.Id("Version")] = jen.Func().Params(jen.Id("s").Op("*").Add(typeCode(from.Type))).Int64().Block(
			valueAt("s", from.Cursor, jen.Lit(0), func(v jen.Code) jen.Code { return jen.Add(v).Dot("UnixNano").Call() })...)
	case ir.VersionIntCursor:
		// An integer cursor grows with every change: it orders versions.
		d[jen.Id("Version")] = e.intFunc(from, from.Cursor)
	default:
		// No version field and no cursor: every change looks alike, and
		// unchanged writes are skipped by their field snapshot.
		d[jen.Id("Version")] = jen.Func().Params(jen.Id("s").Op("*").Add(typeCode(from.Type))).Int64().Block(jen.Return(jen.Lit(0)))
	}
	switch from.CursorKind {
	case ir.CursorTime:
		d[jen.Id("Cursor")] = e.cursorFunc(from)
		d[jen.Id("CursorKind")] = jen.Qual(PkgEngine, "CursorTime")
		d[jen.Id("SourceTime")] = e.timeFunc(from)
	case ir.CursorInt:
		d[jen.Id("Cursor")] = e.cursorFunc(from)
		d[jen.Id("CursorKind")] = jen.Qual(PkgEngine, "CursorInt")
	default:
		// No cursor: every poll reads the whole list (or an events feed,
		// whose cursor is its events').
		d[jen.Id("CursorKind")] = jen.Qual(PkgEngine, feedCursorKind(from))
		d[jen.Id("Cursor")] = jen.Func().Params(jen.Id("s").Op("*").Add(typeCode(from.Type))).Qual(PkgEngine, "Cursor").Block(jen.Return(jen.Qual(PkgEngine, "Cursor").Values()))
	}
	if from.Events != nil {
		d[jen.Id("Feed")] = e.feedFunc(from)
	}
	if from.Lookback > 0 {
		d[jen.Id("Lookback")] = duration(from.Lookback)
	}
	if len(from.Deleted.Steps) > 0 {
		d[jen.Id("Deleted")] = e.boolFunc(from, from.Deleted)
	}
	if s.Enter != nil {
		d[jen.Id("Enter")] = jen.Id(s.Funcs.Enter)
	}
	if s.Exit != nil {
		d[jen.Id("Exit")] = jen.Id(s.Funcs.Exit)
	}
	if s.NaturalKey != nil {
		d[jen.Id("NaturalKey")] = jen.Func().Params(jen.Id("w").Op("*").Id(s.WriteType)).String().Block(
			jen.List(jen.Id("v"), jen.Id("_")).Op(":=").Id("w").Dot(s.NaturalKey.GoName).Dot("Get").Call(),
			jen.Return(jen.Id("v")))
		d[jen.Id("Find")] = e.findFunc(s)
	}
	if len(s.KeyFrom.Steps) > 0 {
		d[jen.Id("KeyFrom")] = keyAtFunc(from.Type, s.KeyFrom, s.KeyFromKind)
	}
	if to.Create != nil {
		d[jen.Id("Create")] = e.createFunc(s)
	}
	if to.Update != nil {
		d[jen.Id("Update")] = e.updateFunc(s)
	}
	if bk := to.Bulk; bk != nil && bk.Batch > 1 {
		d[jen.Id("WriteBatch")] = e.batchFunc(s)
		d[jen.Id("BatchSize")] = jen.Lit(bk.Batch)
		if s.OnExit != nil && s.OnExit.Kind == ir.ExitSet {
			// The exit write goes in the poll's batches.
			d[jen.Id("BatchExit")] = jen.True()
		}
	}
	if s.OnExit != nil {
		d[jen.Id("OnExit")] = e.exitFunc(s)
		if s.OnExit.When != nil {
			d[jen.Id("OnExitWhen")] = jen.Id(s.Funcs.ExitWhen)
		}
	}
	if (s.HasConflicts || len(s.KeyFrom.Steps) > 0) && to.Get != nil {
		d[jen.Id("Current")] = e.currentFunc(s)
	}
	if from.Webhook != nil {
		d[jen.Id("ParseEvent")] = e.parseEventFunc(from)
	}
	if s.Echo != nil {
		d[jen.Id("Echo")] = e.echoValue(s)
	}
	doc := fmt.Sprintf("%s returns sync %s: %s records become %s writes.", s.FuncName, s.Name, from.Name, to.Name)
	f.Add(comment(doc))
	f.Func().Id(s.FuncName).Params(jen.Id("c").Id("Clients")).Op("*").Add(e.syncType(s)).Block(
		jen.Return(jen.Op("&").Add(e.syncType(s)).Values(d)),
	)
}

// duration renders d as a readable constant expression (5 * time.Minute).
func duration(d time.Duration) jen.Code {
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{time.Hour, "Hour"}, {time.Minute, "Minute"}, {time.Second, "Second"}, {time.Millisecond, "Millisecond"}} {
		if d%u.unit == 0 {
			return jen.Lit(int(d/u.unit)).Op("*").Qual("time", u.name)
		}
	}
	return jen.Qual("time", "Duration").Call(jen.Lit(int64(d)))
}

func (e *syncEmitter) matchList(s *ir.Sync) jen.Code {
	var steps []jen.Code
	for _, m := range s.Match {
		switch m {
		case ir.MatchXref:
			steps = append(steps, jen.Qual(PkgEngine, "MatchXref"))
		case ir.MatchNaturalKey:
			steps = append(steps, jen.Qual(PkgEngine, "MatchNaturalKey"))
		case ir.MatchCreate:
			steps = append(steps, jen.Qual(PkgEngine, "MatchCreate"))
		case ir.MatchKeyFrom:
			steps = append(steps, jen.Qual(PkgEngine, "MatchKeyFrom"))
		}
	}
	return jen.Index().Qual(PkgEngine, "MatchStep").Values(steps...)
}

// returnAt emits code that follows path p from root and returns ret(v) of
// its value, and the absent statement when a step on the way is absent.
func returnAt(root string, p ir.Path, ret func(v jen.Code) jen.Code, absent jen.Code) []jen.Code {
	stmts := walk(func() jen.Code { return jen.Id(root) }, p.Steps, func(v func() jen.Code) []jen.Code {
		return []jen.Code{ret(v())}
	}, 0)
	if alwaysReturns(p) {
		return stmts
	}
	return append(stmts, absent)
}

// valueAt emits code that returns conv of the value at path p of root (or
// zero when a step is absent).
func valueAt(root string, p ir.Path, zero jen.Code, conv func(jen.Code) jen.Code) []jen.Code {
	return returnAt(root, p, func(v jen.Code) jen.Code { return jen.Return(conv(v)) }, jen.Return(zero))
}

func alwaysReturns(p ir.Path) bool {
	for _, s := range p.Steps {
		if s.MapKey {
			return false // a key may be absent
		}
		switch s.Type.Kind {
		case ir.Opt, ir.Nullable, ir.Pointer:
			return false
		}
	}
	return true
}

func (e *syncEmitter) keyFunc(ent *ir.Entity) jen.Code {
	return keyAtFunc(ent.Type, ent.Key, ent.KeyKind)
}

// keyAtFunc emits a func(*T) string returning the key of kind k at path p
// of a record ("" when a step on the way is absent).
func keyAtFunc(t *ir.TypeRef, p ir.Path, k ir.KeyKind) jen.Code {
	return jen.Func().Params(jen.Id("s").Op("*").Add(typeCode(t))).String().Block(
		valueAt("s", p, jen.Lit(""), func(v jen.Code) jen.Code { return keyString(k, v) })...)
}

// keyString renders a key value of the given kind as the engine's string
// key.
func keyString(k ir.KeyKind, v jen.Code) jen.Code {
	switch k {
	case ir.KeyInt:
		return jen.Qual("strconv", "FormatInt").Call(jen.Int64().Call(v), jen.Lit(10))
	case ir.KeyUUID:
		return jen.Add(v).Dot("String").Call()
	}
	return jen.String().Call(v)
}

// keyArg converts the engine's string key (the variable key) into the
// call's key parameter: statements to run first (a parse that returns
// zeros and a permanent error when the key does not parse) and the
// argument.
func keyArg(oc *ir.OpCall, key string, zeros ...jen.Code) ([]jen.Code, jen.Code) {
	fail := func(parse jen.Code) []jen.Code {
		ret := append(append([]jen.Code{}, zeros...), jen.Qual(PkgEngine, "Permanent").Call(
			jen.Qual("fmt", "Errorf").Call(jen.Lit(oc.Op.ID+": key %q: %w"), jen.Id(key), jen.Id("kerr"))))
		return []jen.Code{
			jen.List(jen.Id("kp"), jen.Id("kerr")).Op(":=").Add(parse),
			jen.If(jen.Id("kerr").Op("!=").Nil()).Block(jen.Return(ret...)),
		}
	}
	switch oc.KeyKind {
	case ir.KeyInt:
		return fail(jen.Qual("strconv", "ParseInt").Call(jen.Id(key), jen.Lit(10), jen.Lit(64))), jen.Add(typeCode(oc.KeyParam.Type.Unwrapped())).Call(jen.Id("kp"))
	case ir.KeyUUID:
		return fail(jen.Qual(ir.PkgOAS, "ParseUUID").Call(jen.Id(key))), jen.Id("kp")
	}
	return nil, jen.Id(key)
}

func (e *syncEmitter) intFunc(ent *ir.Entity, p ir.Path) jen.Code {
	return jen.Func().Params(jen.Id("s").Op("*").Add(typeCode(ent.Type))).Int64().Block(
		valueAt("s", p, jen.Lit(0), func(v jen.Code) jen.Code { return jen.Int64().Call(v) })...)
}

func (e *syncEmitter) boolFunc(ent *ir.Entity, p ir.Path) jen.Code {
	return jen.Func().Params(jen.Id("s").Op("*").Add(typeCode(ent.Type))).Bool().Block(
		valueAt("s", p, jen.False(), func(v jen.Code) jen.Code { return v })...)
}

func (e *syncEmitter) timeFunc(ent *ir.Entity) jen.Code {
	return jen.Func().Params(jen.Id("s").Op("*").Add(typeCode(ent.Type))).Qual("time", "Time").Block(
		valueAt("s", ent.Cursor, jen.Qual("time", "Time").Values(), func(v jen.Code) jen.Code { return v })...)
}

func (e *syncEmitter) cursorFunc(ent *ir.Entity) jen.Code {
	conv := func(v jen.Code) jen.Code {
		return jen.Qual(PkgEngine, "Cursor").Values(jen.Dict{jen.Id("Int"): jen.Int64().Call(v)})
	}
	if ent.CursorKind == ir.CursorTime {
		conv = func(v jen.Code) jen.Code {
			return jen.Qual(PkgEngine, "Cursor").Values(jen.Dict{jen.Id("Time"): v})
		}
	}
	return jen.Func().Params(jen.Id("s").Op("*").Add(typeCode(ent.Type))).Qual(PkgEngine, "Cursor").Block(
		valueAt("s", ent.Cursor, jen.Qual(PkgEngine, "Cursor").Values(), conv)...)
}

// params emits the params struct literal of a call: constants, plus the
// given param set to value.
func params(oc *ir.OpCall, set map[*ir.Param]jen.Code) jen.Code {
	if oc.Op.ParamsType == "" {
		return nil
	}
	d := jen.Dict{}
	for _, cp := range oc.Consts {
		var v jen.Code = jen.Lit(cp.Value)
		if u := cp.Param.Type.Unwrapped(); u.Kind == ir.Slice {
			// A list of strings is fixed as comma-separated values
			// (HubSpot's properties=email,firstname).
			var items []jen.Code
			for _, it := range strings.Split(cp.Value, ",") {
				items = append(items, jen.Lit(strings.TrimSpace(it)))
			}
			v = jen.Index().String().Values(items...)
		}
		d[jen.Id(cp.Param.FieldName)] = paramValue(cp.Param, v)
	}
	for p, v := range set {
		if p != nil {
			d[jen.Id(p.FieldName)] = paramValue(p, v)
		}
	}
	return jen.Qual(oc.Client.ImportPath, oc.Op.ParamsType).Values(d)
}

// paramValue wraps a value for a params field (string-typed params only;
// bind checks that).
func paramValue(p *ir.Param, v jen.Code) jen.Code {
	if p.Type.Kind == ir.Opt {
		return jen.Qual(ir.PkgOAS, "Some").Call(v)
	}
	return v
}

// callArgs are the arguments of a client call.
func callArgs(oc *ir.OpCall, set map[*ir.Param]jen.Code, body jen.Code) []jen.Code {
	args := []jen.Code{jen.Id("ctx")}
	if p := params(oc, set); p != nil {
		args = append(args, p)
	}
	if body != nil {
		args = append(args, body)
	} else if b := oc.Op.Body; b != nil && !b.Required {
		// An optional body the sync does not send (Stripe's GETs declare
		// an empty form body).
		args = append(args, jen.Nil())
	}
	return args
}

func clientCall(oc *ir.OpCall, method string) *jen.Statement {
	return jen.Id("c").Dot(oc.Client.Field).Dot(method)
}

func (e *syncEmitter) pollFunc(ent *ir.Entity) jen.Code {
	oc := ent.List
	body := []jen.Code{}
	set := map[*ir.Param]jen.Code{}
	call := clientCall(oc, oc.Op.Pagination.ItemsMethod)
	if oc.Op.ParamsType == "" {
		body = append(body, jen.Return(call.Call(jen.Id("ctx"))))
	} else {
		body = append(body, jen.Id("p").Op(":=").Add(params(oc, set)))
		if lp := oc.Op.Pagination.LimitParam; oc.PageSize > 0 && lp != nil {
			body = append(body, jen.Id("p").Dot(lp.FieldName).Op("=").Add(paramValue(lp, jen.Add(typeCode(lp.Type.Unwrapped())).Call(jen.Lit(oc.PageSize)))))
		}
		if sp := oc.SinceParam; sp != nil {
			if ent.CursorKind == ir.CursorTime {
				body = append(body, jen.If(jen.Op("!").Id("since").Dot("Time").Dot("IsZero").Call()).Block(
					jen.Id("p").Dot(sp.FieldName).Op("=").Add(paramValue(sp, jen.Id("since").Dot("Time")))))
			} else {
				body = append(body, jen.If(jen.Id("since").Dot("Int").Op("!=").Lit(0)).Block(
					jen.Id("p").Dot(sp.FieldName).Op("=").Add(paramValue(sp, jen.Add(typeCode(sp.Type.Unwrapped())).Call(jen.Id("since").Dot("Int"))))))
			}
		} else {
			body = append(body, jen.Id("_").Op("=").Id("since").Comment("the list operation takes no lower bound: every poll reads everything"))
		}
		args := []jen.Code{jen.Id("ctx"), jen.Id("p")}
		if b := oc.Op.Body; b != nil && !b.Required {
			args = append(args, jen.Nil())
		}
		body = append(body, jen.Return(call.Call(args...)))
	}
	return jen.Func().Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("since").Qual(PkgEngine, "Cursor")).
		Qual("iter", "Seq2").Types(typeCode(ent.Type), jen.Error()).Block(body...)
}

// deref turns a call result into the record value.
func deref(oc *ir.OpCall, v jen.Code) jen.Code {
	if oc.Op.Result.Single != nil && oc.Op.Result.Single.Pointer {
		return jen.Op("*").Add(v)
	}
	return v
}

func (e *syncEmitter) fetchFunc(ent *ir.Entity) jen.Code {
	oc := ent.Get
	pre, arg := keyArg(oc, "key", jen.Add(typeCode(ent.Type)).Values())
	set := map[*ir.Param]jen.Code{oc.KeyParam: arg}
	body := append(pre,
		jen.List(jen.Id("r"), jen.Err()).Op(":=").Add(clientCall(oc, oc.Op.MethodName)).Call(callArgs(oc, set, nil)...),
		jen.If(jen.Qual(PkgSyncUtil, "IsNotFound").Call(jen.Err())).Block(
			jen.Return(jen.Add(typeCode(ent.Type)).Values(), jen.Qual("fmt", "Errorf").Call(jen.Lit("%w: %w"), jen.Qual(PkgEngine, "ErrNotFound"), jen.Err()))),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Add(typeCode(ent.Type)).Values(), jen.Err())),
	)
	if len(oc.Envelope) == 1 {
		rec, check := unwrapEnvelope(oc, jen.Add(typeCode(ent.Type)).Values())
		return jen.Func().Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("key").String()).Params(typeCode(ent.Type), jen.Error()).Block(append(body,
			append(check, jen.Return(rec, jen.Nil()))...)...)
	}
	return jen.Func().Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("key").String()).Params(typeCode(ent.Type), jen.Error()).Block(append(body,
		jen.Return(convertResult(oc, ent, deref(oc, jen.Id("r"))), jen.Nil()),
	)...)
}

// unwrapEnvelope returns the record inside a get's envelope answer r
// (oc.Envelope) and, when the envelope's field is a pointer, the check
// that returns an error with the zero values zero when it is absent.
func unwrapEnvelope(oc *ir.OpCall, zero ...jen.Code) (jen.Code, []jen.Code) {
	st := oc.Envelope[0]
	f := jen.Id("r").Dot(st.Field)
	if st.Type.Kind != ir.Pointer {
		return f, nil
	}
	return jen.Op("*").Add(f), []jen.Code{jen.If(f.Clone().Op("==").Nil()).Block(
		jen.Return(append(zero, jen.Qual("errors", "New").Call(jen.Lit(oc.Op.ID+": the answer has no record (field "+st.Field+" absent)")))...))}
}

// convertResult converts a structurally identical result to the record's
// type (bind checked the fields match).
func convertResult(oc *ir.OpCall, ent *ir.Entity, v jen.Code) jen.Code {
	if oc.ConvertResult {
		return jen.Add(typeCode(ent.Type)).Call(v)
	}
	return v
}

func (e *syncEmitter) findFunc(s *ir.Sync) jen.Code {
	if s.FindSearch != "" {
		return e.searchFindFunc(s)
	}
	ent := s.To
	oc := ent.Find
	set := map[*ir.Param]jen.Code{}
	var body []jen.Code
	var reqBody jen.Code
	if len(s.FindBody.Steps) > 0 {
		// The natural key goes into the find's request body (a search
		// filter).
		body = append(body, jen.Var().Id("fb").Add(typeCode(oc.BodyType)), jen.Id("v").Op(":=").Add(findValue(s)))
		body = append(body, setPath(jen.Id("fb"), s.FindBody.Steps, 1, storeValue)...)
		reqBody = jen.Id("fb")
	} else {
		set[s.FindParam] = findValue(s)
	}
	body = append(body, jen.List(jen.Id("r"), jen.Err()).Op(":=").Add(clientCall(oc, oc.Op.MethodName)).Call(callArgs(oc, set, reqBody)...))
	keyOf := func(rec jen.Code) []jen.Code {
		return append([]jen.Code{jen.Id("rec").Op(":=").Add(rec)}, returnAt("rec", ent.Key,
			func(v jen.Code) jen.Code { return jen.Return(keyString(ent.KeyKind, v), jen.True(), jen.Nil()) },
			jen.Return(jen.Lit(""), jen.False(), jen.Nil()))...)
	}
	if len(oc.Items) == 0 {
		body = append(body,
			jen.If(jen.Qual(PkgSyncUtil, "IsNotFound").Call(jen.Err())).Block(jen.Return(jen.Lit(""), jen.False(), jen.Nil())),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Lit(""), jen.False(), jen.Err())),
		)
		body = append(body, keyOf(jen.Id("r"))...)
	} else {
		items := jen.Id("r").Dot(oc.Items[0].Field)
		body = append(body,
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Lit(""), jen.False(), jen.Err())),
			jen.If(jen.Len(items).Op("==").Lit(0)).Block(jen.Return(jen.Lit(""), jen.False(), jen.Nil())),
		)
		body = append(body, keyOf(jen.Op("&").Add(jen.Id("r").Dot(oc.Items[0].Field).Index(jen.Lit(0))))...)
	}
	return jen.Func().Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("naturalKey").String()).Params(jen.String(), jen.Bool(), jen.Error()).Block(body...)
}

// bulkBody wraps one record built by the named body function into the
// bulk upsert's request body, as the only element of its list, and
// returns the statements and the body expression.
func bulkBody(bk *ir.Bulk, bodyFunc string) ([]jen.Code, jen.Code) {
	stmts := []jen.Code{
		jen.Id("item").Op(":=").Id(bodyFunc).Call(jen.Id("w")),
		jen.Var().Id("bb").Add(typeCode(bk.BodyType)),
		jen.Id("v").Op(":=").Index().Add(typeCode(bk.ItemType)).Values(jen.Id("item")),
	}
	stmts = append(stmts, bodyConsts(bk.Consts, "bb")...)
	stmts = append(stmts, setPath(jen.Id("bb"), bk.List.Steps, 1, storeValue)...)
	return stmts, jen.Id("bb")
}

// bodyRef passes a request body as the operation takes it: by pointer
// when the spec makes the body optional.
func bodyRef(oc *ir.OpCall, v jen.Code) jen.Code {
	if oc.Op.Body != nil && oc.Op.Body.Type.Kind == ir.Pointer {
		return jen.Op("&").Add(v)
	}
	return v
}

// bulkCreateFunc emits Create for a bulk upsert: the record goes as a
// list of one, and its target key is its natural key as written (the
// answer, often an async job id, names no record).
func (e *syncEmitter) bulkCreateFunc(s *ir.Sync) jen.Code {
	oc, bk := s.To.Create, s.To.Bulk
	set := map[*ir.Param]jen.Code{}
	if oc.IdemParam != nil {
		set[oc.IdemParam] = jen.Id("idempotencyKey")
	}
	body, arg := bulkBody(bk, s.Funcs.CreateBody)
	arg = bodyRef(oc, arg)
	if oc.IdemParam == nil {
		body = append(body, jen.Id("_").Op("=").Id("idempotencyKey").Comment(oc.Op.ID+" takes no idempotency key; an upsert by natural key is safe to repeat"))
	}
	call := clientCall(oc, oc.Op.MethodName).Call(callArgs(oc, set, arg)...)
	if resultType(oc.Op) == nil {
		body = append(body, jen.If(jen.Err().Op(":=").Add(call), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Lit(""), jen.Qual(PkgSyncUtil, "Rejected").Call(jen.Err()))))
	} else {
		body = append(body, jen.If(jen.List(jen.Id("_"), jen.Err()).Op(":=").Add(call), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Lit(""), jen.Qual(PkgSyncUtil, "Rejected").Call(jen.Err()))))
	}
	body = append(body, returnAt("item", bk.ItemKey,
		func(v jen.Code) jen.Code { return jen.Return(keyString(s.To.KeyKind, v), jen.Nil()) },
		jen.Return(jen.Lit(""), jen.Qual(PkgEngine, "Permanent").Call(jen.Qual("fmt", "Errorf").Call(jen.Lit(oc.Op.ID+": the record has no "+s.To.Key.Text+" to find it by")))))...)
	return jen.Func().Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("w").Op("*").Id(s.WriteType), jen.Id("idempotencyKey").String()).Params(jen.String(), jen.Error()).Block(body...)
}

func (e *syncEmitter) createFunc(s *ir.Sync) jen.Code {
	if s.To.Bulk != nil {
		return e.bulkCreateFunc(s)
	}
	oc := s.To.Create
	set := map[*ir.Param]jen.Code{}
	if oc.IdemParam != nil {
		set[oc.IdemParam] = jen.Id("idempotencyKey")
	}
	var bodyArg jen.Code = jen.Id(s.Funcs.CreateBody).Call(jen.Id("w"))
	var pre []jen.Code
	if oc.Op.Body != nil && oc.Op.Body.Type.Kind == ir.Pointer {
		pre = append(pre, jen.Id("reqBody").Op(":=").Add(bodyArg))
		bodyArg = jen.Op("&").Id("reqBody")
	}
	body := []jen.Code{
		jen.List(jen.Id("r"), jen.Err()).Op(":=").Add(clientCall(oc, oc.Op.MethodName)).Call(callArgs(oc, set, bodyArg)...),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Lit(""), jen.Qual(PkgSyncUtil, "Rejected").Call(jen.Err()))),
	}
	body = append(pre, body...)
	if oc.IdemParam == nil {
		body = append([]jen.Code{jen.Id("_").Op("=").Id("idempotencyKey").Comment(oc.Op.ID + " takes no idempotency key: the engine finds an earlier create by natural key or xref")}, body...)
	}
	body = append(upsertIdempotent(s), body...)
	body = append(body, returnAt("r", oc.ResultKey,
		func(v jen.Code) jen.Code { return jen.Return(keyString(s.To.KeyKind, v), jen.Nil()) },
		jen.Return(jen.Lit(""), jen.Qual("fmt", "Errorf").Call(jen.Lit(oc.Op.ID+": the response carries no "+s.To.Key.Text))))...)
	return jen.Func().Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("w").Op("*").Id(s.WriteType), jen.Id("idempotencyKey").String()).Params(jen.String(), jen.Error()).Block(body...)
}

func (e *syncEmitter) updateFunc(s *ir.Sync) jen.Code {
	oc := s.To.Update
	pre, arg := keyArg(oc, "key")
	set := map[*ir.Param]jen.Code{oc.KeyParam: arg}
	for _, p := range oc.Op.Params {
		if p.In == ir.InHeader && strings.EqualFold(p.Name, oc.Op.IdempotencyKeyHeader) {
			set[p] = jen.Id("idempotencyKey")
		}
	}
	var bodyArg jen.Code = jen.Id(s.Funcs.UpdateBody).Call(jen.Id("w"))
	if s.To.Bulk == nil && oc.Op.Body != nil && oc.Op.Body.Type.Kind == ir.Pointer {
		// An optional body (Stripe's form-encoded POSTs) is taken by
		// pointer.
		pre = append(pre, jen.Id("reqBody").Op(":=").Add(bodyArg))
		bodyArg = jen.Op("&").Id("reqBody")
	}
	if s.To.Bulk != nil {
		var stmts []jen.Code
		stmts, bodyArg = bulkBody(s.To.Bulk, s.Funcs.UpdateBody)
		bodyArg = bodyRef(oc, bodyArg)
		pre = append(pre, stmts...)
	}
	call := clientCall(oc, oc.Op.MethodName).Call(callArgs(oc, set, bodyArg)...)
	// An update sets absolute values, so repeating it is safe: let the
	// transport retry it even when the API documents no idempotency.
	body := append(pre, jen.Id("ctx").Op("=").Qual(ir.PkgTransport, "WithIdempotent").Call(jen.Id("ctx")))
	if len(set) == 1 {
		body = append(body, jen.Id("_").Op("=").Id("idempotencyKey"))
	}
	if s.To.Upsert {
		body = append(body, jen.Id("_").Op("=").Id("key").Comment(oc.Op.ID+" is an upsert: it finds the record by the natural key in its body"))
	}
	if resultType(oc.Op) == nil {
		body = append(body, jen.Return(jen.Qual(PkgSyncUtil, "Rejected").Call(call)))
	} else {
		body = append(body, jen.List(jen.Id("_"), jen.Err()).Op(":=").Add(call), jen.Return(jen.Qual(PkgSyncUtil, "Rejected").Call(jen.Err())))
	}
	return jen.Func().Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("key").String(), jen.Id("w").Op("*").Id(s.WriteType), jen.Id("idempotencyKey").String()).Error().Block(body...)
}

// exitFunc emits OnExit: the mapping's final write of constants, or its
// archive or delete operation, on the target record of a record that left
// the scope.
func (e *syncEmitter) exitFunc(s *ir.Sync) jen.Code {
	a := s.OnExit
	oc := a.Op
	set := map[*ir.Param]jen.Code{}
	var body []jen.Code
	if oc.KeyParam != nil {
		pre, arg := keyArg(oc, "key")
		set[oc.KeyParam] = arg
		body = pre
	}
	var reqBody jen.Code
	if a.Kind == ir.ExitSet {
		if bk := s.To.Bulk; bk != nil {
			// A bulk upsert finds the record by the key in its body
			// (ExitBody writes it there): send the record as a list of one.
			body = append(body, jen.Id("b").Op(":=").Id(s.Funcs.ExitBody).Call(jen.Id("key")))
			body = append(body, jen.Var().Id("bb").Add(typeCode(bk.BodyType)))
			body = append(body, bodyConsts(bk.Consts, "bb")...)
			body = append(body, jen.Id("v").Op(":=").Index().Add(typeCode(bk.ItemType)).Values(jen.Id("b")))
			body = append(body, setPath(jen.Id("bb"), bk.List.Steps, 1, storeValue)...)
			reqBody = jen.Id("bb")
		} else {
			body = append(body, exitSetBody(oc, a)...)
			reqBody = jen.Id("b")
		}
		reqBody = bodyRef(oc, reqBody)
	}
	// Setting constants, archiving and deleting are all safe to repeat.
	body = append(body, jen.Id("ctx").Op("=").Qual(ir.PkgTransport, "WithIdempotent").Call(jen.Id("ctx")))
	call := clientCall(oc, oc.Op.MethodName).Call(callArgs(oc, set, reqBody)...)
	if resultType(oc.Op) == nil {
		body = append(body, jen.Err().Op(":=").Add(call))
	} else {
		body = append(body, jen.List(jen.Id("_"), jen.Err()).Op(":=").Add(call))
	}
	if a.Kind != ir.ExitSet {
		body = append(body, jen.If(jen.Qual(PkgSyncUtil, "IsNotFound").Call(jen.Err())).Block(
			jen.Return(jen.Nil()).Comment("already gone: archived or deleted before")))
	}
	body = append(body, jen.Return(jen.Qual(PkgSyncUtil, "Rejected").Call(jen.Err())))
	return jen.Func().Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("key").String()).Error().Block(body...)
}

// exitSetBody declares b, the exit write's body with its constants.
func exitSetBody(oc *ir.OpCall, a *ir.ExitAction) []jen.Code {
	body := []jen.Code{jen.Var().Id("b").Add(typeCode(oc.BodyType))}
	for _, f := range a.Set {
		leaf := f.Path.Steps[len(f.Path.Steps)-1].Type.Unwrapped()
		body = append(body, jen.Block(append([]jen.Code{jen.Var().Id("v").Add(typeCode(leaf)).Op("=").Add(literal(f.Value))},
			setPath(jen.Id("b"), f.Path.Steps, 1, storeValue)...)...))
	}
	return body
}

// exitBodyFunc emits ExitBody for a bulk target: the record of the exit
// write, its constants and the target key (the bulk upsert finds the
// record by the key in its body). OnExit sends it alone; WriteBatch
// carries it in a batch (BatchWrite.Exit).
func (e *syncEmitter) exitBodyFunc(f *jen.File, s *ir.Sync) {
	a, bk := s.OnExit, s.To.Bulk
	body := exitSetBody(a.Op, a)
	leaf := bk.ItemKey.Steps[len(bk.ItemKey.Steps)-1].Type.Unwrapped()
	body = append(body, jen.Block(append([]jen.Code{jen.Var().Id("v").Add(typeCode(leaf)).Op("=").Add(typeCode(leaf)).Call(jen.Id("key"))},
		setPath(jen.Id("b"), bk.ItemKey.Steps, 1, storeValue)...)...))
	body = append(body, jen.Return(jen.Id("b")))
	f.Add(comment(fmt.Sprintf("%s is the exit write of sync %s (on_exit set) to the %s record with key key.", s.Funcs.ExitBody, s.Name, s.To.Name)))
	f.Func().Id(s.Funcs.ExitBody).Params(jen.Id("key").String()).Add(typeCode(a.Op.BodyType)).Block(body...)
}

func (e *syncEmitter) currentFunc(s *ir.Sync) jen.Code {
	oc := s.To.Get
	pre, arg := keyArg(oc, "key", jen.Nil(), jen.Qual("time", "Time").Values())
	set := map[*ir.Param]jen.Code{oc.KeyParam: arg}
	body := append(pre, []jen.Code{
		jen.List(jen.Id("r"), jen.Err()).Op(":=").Add(clientCall(oc, oc.Op.MethodName)).Call(callArgs(oc, set, nil)...),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Qual("time", "Time").Values(), jen.Err())),
	}...)
	root := "r"
	if len(oc.Envelope) == 1 {
		rec, check := unwrapEnvelope(oc, jen.Nil(), jen.Qual("time", "Time").Values())
		body = append(append(body, check...), jen.Id("rec").Op(":=").Add(rec))
		root = "rec"
	}
	body = append(body, jen.Id("fields").Op(":=").Map(jen.String()).String().Values())
	// Every readable field, not only those with a policy: the engine skips
	// writing values the target already holds (runtime/engine, apply).
	for _, w := range s.Fields {
		if len(w.Read.Steps) == 0 {
			continue
		}
		body = append(body, walk(func() jen.Code { return jen.Id(root) }, w.Read.Steps, func(v func() jen.Code) []jen.Code {
			return []jen.Code{jen.If(jen.List(jen.Id("j"), jen.Id("ok")).Op(":=").Qual(PkgSyncUtil, "FieldJSON").Call(jen.Qual(ir.PkgOAS, "Value").Call(v())), jen.Id("ok")).Block(
				jen.Id("fields").Index(jen.Lit(w.Path)).Op("=").Id("j"))}
		}, 0)...)
	}
	// The target's change time (bind guarantees one for last_writer_wins);
	// zero when the record has none, so the source wins.
	if len(s.To.Changed.Steps) == 0 {
		body = append(body, jen.Return(jen.Id("fields"), jen.Qual("time", "Time").Values(), jen.Nil()))
	} else {
		body = append(body, jen.Var().Id("changed").Qual("time", "Time"))
		body = append(body, walk(func() jen.Code { return jen.Id(root) }, s.To.Changed.Steps, func(v func() jen.Code) []jen.Code {
			return []jen.Code{jen.Id("changed").Op("=").Add(v())}
		}, 0)...)
		body = append(body, jen.Return(jen.Id("fields"), jen.Id("changed"), jen.Nil()))
	}
	return jen.Func().Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("key").String()).Params(jen.Map(jen.String()).String(), jen.Qual("time", "Time"), jen.Error()).Block(body...)
}

func (e *syncEmitter) parseEventFunc(ent *ir.Entity) jen.Code {
	w := ent.Webhook
	stmts := []jen.Code{
		jen.Var().Id("ev").Add(typeCode(w.Event)),
		jen.If(jen.Err().Op(":=").Qual("encoding/json", "Unmarshal").Call(jen.Id("body"), jen.Op("&").Id("ev")), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Qual(PkgEngine, "Event").Values(), jen.Qual("fmt", "Errorf").Call(jen.Lit("webhook event: %w"), jen.Err()))),
		jen.Var().Id("out").Qual(PkgEngine, "Event"),
	}
	for _, pair := range []struct {
		field string
		p     ir.Path
		conv  func(jen.Code) jen.Code
	}{
		{"ID", w.ID, func(v jen.Code) jen.Code { return jen.String().Call(v) }},
		{"Key", w.Key, func(v jen.Code) jen.Code { return keyString(w.KeyKind, v) }},
		{"Version", w.Version, func(v jen.Code) jen.Code { return jen.Int64().Call(v) }},
	} {
		if len(pair.p.Steps) == 0 {
			continue
		}
		stmts = append(stmts, walk(func() jen.Code { return jen.Id("ev") }, pair.p.Steps, func(v func() jen.Code) []jen.Code {
			return []jen.Code{jen.Id("out").Dot(pair.field).Op("=").Add(pair.conv(v()))}
		}, 0)...)
	}
	if w.IDHeader != "" {
		// The body is the record (or names no delivery): the engine takes
		// the event ID from the IDHeader request header.
		stmts = append(stmts,
			jen.If(jen.Id("out").Dot("Key").Op("==").Lit("")).Block(
				jen.Return(jen.Qual(PkgEngine, "Event").Values(), jen.Qual("errors", "New").Call(jen.Lit("webhook event: missing "+w.Key.Text)))),
			jen.Return(jen.Id("out"), jen.Nil()))
	} else {
		stmts = append(stmts,
			jen.If(jen.Id("out").Dot("ID").Op("==").Lit("").Op("||").Id("out").Dot("Key").Op("==").Lit("")).Block(
				jen.Return(jen.Qual(PkgEngine, "Event").Values(), jen.Qual("errors", "New").Call(jen.Lit("webhook event: missing "+w.ID.Text+" or "+w.Key.Text)))),
			jen.Return(jen.Id("out"), jen.Nil()))
	}
	return jen.Func().Params(jen.Id("body").Index().Byte()).Params(jen.Qual(PkgEngine, "Event"), jen.Error()).Block(stmts...)
}

// webhookFunc emits the sync's webhook configuration: the declared
// signature scheme and header, and the secret resolved from its source.
func (e *syncEmitter) webhookFunc(f *jen.File, s *ir.Sync) {
	w := s.From.Webhook
	d := jen.Dict{jen.Id("Scheme"): jen.Qual(PkgEngine, w.Scheme)}
	if w.SignatureHeader != "" {
		d[jen.Id("Header")] = jen.Lit(w.SignatureHeader)
	}
	if w.IDHeader != "" {
		d[jen.Id("IDHeader")] = jen.Lit(w.IDHeader)
	}
	body := []jen.Code{jen.Id("cfg").Op(":=").Qual(PkgEngine, "WebhookConfig").Values(d)}
	if w.SecretSource != "" {
		body = append(body,
			jen.List(jen.Id("key"), jen.Err()).Op(":=").Id("r").Dot("Resolve").Call(jen.Id("ctx"), jen.Lit(w.SecretSource)),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Id("cfg"), jen.Qual("fmt", "Errorf").Call(jen.Lit("sync "+s.Name+": webhook secret: %w"), jen.Err()))),
			jen.Id("cfg").Dot("Secret").Op("=").Id("key"))
	} else {
		body = append(body, jen.Id("_").Op("=").Id("ctx"), jen.Id("_").Op("=").Id("r").Comment("no secret declared: the handler refuses every delivery until cfg.Secret is set"))
	}
	body = append(body, jen.Return(jen.Id("cfg"), jen.Nil()))
	declares := "the signature scheme and header the mapping declares"
	if w.IDHeader != "" {
		declares += ", the header naming each delivery (" + w.IDHeader + ")"
	}
	f.Add(comment(fmt.Sprintf("%s returns the webhook configuration of sync %s (serve it with engine.Webhook): %s, and the signing secret resolved with r.", s.Funcs.Webhook, s.Name, declares)))
	f.Func().Id(s.Funcs.Webhook).Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("r").Op("*").Qual(ir.PkgSecret, "Resolver")).Params(jen.Qual(PkgEngine, "WebhookConfig"), jen.Error()).Block(body...)
}

func (e *syncEmitter) registerFunc(f *jen.File) {
	var body []jen.Code
	for _, s := range e.c.Syncs {
		body = append(body, jen.If(jen.Err().Op(":=").Qual(PkgEngine, "Add").Call(jen.Id("e"), jen.Id(s.FuncName).Call(jen.Id("c"))), jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Err())))
	}
	body = append(body, jen.Return(jen.Nil()))
	f.Add(comment("Register adds every sync of the connector to e, in mapping-file order."))
	f.Func().Id("Register").Params(jen.Id("e").Op("*").Qual(PkgEngine, "Engine"), jen.Id("c").Id("Clients")).Error().Block(body...)
}
