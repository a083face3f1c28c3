// Package load is the first stage of the generator pipeline: it reads an
// OpenAPI document (Swagger 2.0, OpenAPI 3.0 or 3.1; JSON or YAML; local
// multi-file $refs) into a kin-openapi model and keeps a position index so
// later stages can point diagnostics at file:line:col.
//
// Vendor specs are often slightly broken. Before kin-openapi sees a
// document, load repairs the common defects on the YAML node tree and
// reports each repair as a positioned warning: a non-string info.version,
// `required: true` on a property, $refs that resolve to nothing, and $refs
// to the wrong kind of object. Because repairs rewrite the tree, positions
// come from load's own index over the original nodes rather than from
// kin-openapi's origins (which would describe the rewritten text).
//
// load must not decide Go names or types, and must not emit code.
package load

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v4"

	"github.com/connectorgen/connectorgen/generator/diag"
)

// Options control loading.
type Options struct {
	// AllowRemoteRefs lets $refs fetch http(s) documents. Off by default:
	// generation must not depend on the network.
	AllowRemoteRefs bool
	// ReadFile reads input files; nil means os.ReadFile. Tests and fuzzers
	// substitute an in-memory file system.
	ReadFile func(path string) ([]byte, error)
	// Overlays are OpenAPI Overlay documents applied, in order, to the
	// root document at load time (overlay.go).
	Overlays []string
}

// Spec is a loaded OpenAPI document.
type Spec struct {
	// Path is the root file as shown in diagnostics.
	Path string
	// Doc is the document in OpenAPI 3 form (Swagger 2.0 converted), with
	// every $ref resolved.
	Doc *openapi3.T
	// Version is the openapi (or swagger) version string as written.
	Version string
	// Swagger is true for Swagger 2.0 input.
	Swagger bool
	// Hash is the SHA-256 of the root file and every file it refers to, in
	// a fixed order: it changes exactly when the input changes.
	Hash string

	rootAbs string
	docs    map[string]*document
}

// Loc names a place in the input: a file (absolute path; "" for the root
// file) and a JSON pointer within it.
type Loc struct {
	File    string
	Pointer string
}

// Child returns the location of a member of l.
func (l Loc) Child(segs ...string) Loc {
	return Loc{File: l.File, Pointer: JoinPointer(l.Pointer, segs...)}
}

// Root returns the location of the root document's top.
func (s *Spec) Root() Loc { return Loc{Pointer: "#"} }

// Pos returns the position of the node at l, or of its deepest existing
// ancestor when the exact node cannot be found (for example in a Swagger 2.0
// document whose layout differs from the converted model).
func (s *Spec) Pos(l Loc) diag.Pos {
	abs := l.File
	if abs == "" {
		abs = s.rootAbs
	}
	d := s.docs[abs]
	if d == nil {
		return diag.Pos{File: s.Path}
	}
	segs := splitPointer(l.Pointer)
	if s.Swagger && abs == s.rootAbs {
		segs = swaggerSegments(segs)
	}
	node, key, _ := walkPointer(d.top(), segs)
	if key != nil {
		return d.pos(key)
	}
	return d.pos(node)
}

// RefLoc returns the location a $ref string names, relative to the file of
// from. It is how later stages follow a SchemaRef's Ref to a position.
func (s *Spec) RefLoc(from Loc, ref string) Loc {
	file, ptr, _ := strings.Cut(ref, "#")
	abs := from.File
	if abs == "" {
		abs = s.rootAbs
	}
	if file != "" {
		abs = filepath.Join(filepath.Dir(abs), filepath.FromSlash(file))
	}
	if abs == s.rootAbs {
		abs = ""
	}
	return Loc{File: abs, Pointer: "#" + ptr}
}

// DisplayPath returns the diagnostic path of the file of l.
func (s *Spec) DisplayPath(l Loc) string {
	if l.File == "" {
		return s.Path
	}
	if d := s.docs[l.File]; d != nil {
		return d.display
	}
	return l.File
}

// swaggerSegments maps an OpenAPI 3 pointer of the converted document back
// to the Swagger 2.0 layout of the original file.
func swaggerSegments(segs []string) []string {
	if len(segs) >= 2 && segs[0] == "components" {
		switch segs[1] {
		case "schemas":
			return append([]string{"definitions"}, segs[2:]...)
		case "parameters", "responses":
			return segs[1:]
		case "securitySchemes":
			return append([]string{"securityDefinitions"}, segs[2:]...)
		}
	}
	out := make([]string, 0, len(segs))
	for i := 0; i < len(segs); i++ {
		switch segs[i] {
		case "requestBody":
			return append(out, "parameters")
		case "content":
			// responses/200/content/<type>/schema → responses/200/schema
			i++
			continue
		}
		out = append(out, segs[i])
	}
	return out
}

// Load reads the spec at path. The returned diagnostics hold warnings for
// repaired defects and errors for anything unusable; when they hold an
// error, the Spec is nil.
func Load(path string, opts Options) (*Spec, diag.List) {
	if opts.ReadFile == nil {
		opts.ReadFile = os.ReadFile
	}
	l := &loader{opts: opts, docs: map[string]*document{}}
	return l.load(path)
}

type loader struct {
	opts  Options
	docs  map[string]*document
	order []string // absolute paths in load order (root first)
	diags diag.List
	json  map[string][]byte
}

func displayPath(path string) string {
	if !filepath.IsAbs(path) {
		return filepath.ToSlash(filepath.Clean(path))
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.ToSlash(rel)
		}
	}
	return filepath.ToSlash(path)
}

func (l *loader) load(path string) (*Spec, diag.List) {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	display := displayPath(path)
	root := l.parse(abs, display)
	if root == nil {
		return nil, l.diags.Sort()
	}
	if len(l.opts.Overlays) > 0 {
		l.applyOverlays(root, l.opts.Overlays)
		if l.diags.HasErrors() {
			return nil, l.diags.Sort()
		}
	}
	top := root.top()
	if top == nil || top.Kind != yaml.MappingNode {
		l.diags.Errorf(root.pos(top), "not an OpenAPI document: the top level is not a mapping")
		return nil, l.diags.Sort()
	}
	spec := &Spec{Path: display, rootAbs: abs, docs: l.docs}
	if _, v := mapGet(top, "openapi"); v != nil {
		spec.Version = v.Value
		if !strings.HasPrefix(v.Value, "3.") {
			l.diags.Errorf(root.pos(v), "unsupported OpenAPI version %q (supported: 2.0, 3.0, 3.1)", v.Value)
		}
	} else if _, v := mapGet(top, "swagger"); v != nil {
		spec.Version, spec.Swagger = v.Value, true
		if v.Value != "2.0" {
			l.diags.Errorf(root.pos(v), "unsupported Swagger version %q (supported: 2.0)", v.Value)
		}
	} else {
		l.diags.Errorf(root.pos(top), "not an OpenAPI document: no \"openapi\" or \"swagger\" key at the top level")
	}
	if l.diags.HasErrors() {
		return nil, l.diags.Sort()
	}
	// Parse every referenced file, then repair references across them.
	l.loadReferenced(root)
	for _, abs := range l.order {
		l.repairDocument(l.docs[abs])
	}
	for _, abs := range l.order {
		l.repairRefs(l.docs[abs])
	}
	if l.diags.HasErrors() {
		return nil, l.diags.Sort()
	}
	spec.Hash = l.hash()
	doc, err := l.decode(spec, root)
	if err != nil {
		msg, ptr := cleanKinError(err)
		pos := root.pos(top)
		if ptr != "" {
			pos = spec.Pos(Loc{Pointer: "#" + ptr})
		}
		l.diags.Errorf(pos, "%s", msg)
		return nil, l.diags.Sort()
	}
	spec.Doc = doc
	return spec, l.diags.Sort()
}

// parse reads and parses one file into a document, recording it.
func (l *loader) parse(abs, display string) *document {
	if d, ok := l.docs[abs]; ok {
		return d
	}
	data, err := l.opts.ReadFile(abs)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		l.diags.Errorf(diag.Pos{File: display}, "cannot read spec: %v", err)
		return nil
	}
	var n yaml.Node
	if err := yaml.Unmarshal(fixJSONSurrogates(data), &n); err != nil {
		l.diags.Errorf(yamlErrorPos(display, err), "cannot parse: %s", yamlErrorText(err))
		return nil
	}
	d := &document{abs: abs, display: display, root: &n}
	l.docs[abs] = d
	l.order = append(l.order, abs)
	if l.json == nil {
		l.json = map[string][]byte{}
	}
	l.json[abs+"\x00raw"] = data
	return d
}

// loadReferenced parses, transitively, every local file d refers to.
func (l *loader) loadReferenced(d *document) {
	for _, r := range collectRefs(d) {
		file, _, _ := strings.Cut(r.ref, "#")
		if file == "" || isRemote(file) {
			continue
		}
		abs := filepath.Join(filepath.Dir(d.abs), filepath.FromSlash(unescapeFile(file)))
		if _, seen := l.docs[abs]; seen {
			continue
		}
		if _, err := l.opts.ReadFile(abs); err != nil {
			continue // reported as a dangling reference by repairRefs
		}
		display := displayPath(abs)
		if nd := l.parse(abs, display); nd != nil {
			l.loadReferenced(nd)
		}
	}
}

func unescapeFile(f string) string {
	if u, err := url.PathUnescape(f); err == nil {
		return u
	}
	return f
}

func isRemote(file string) bool {
	return strings.HasPrefix(file, "http://") || strings.HasPrefix(file, "https://")
}

// hash digests every input file in load order.
func (l *loader) hash() string {
	h := sha256.New()
	for _, abs := range l.order {
		h.Write(l.json[abs+"\x00raw"])
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// decode hands the repaired documents, as JSON, to kin-openapi.
func (l *loader) decode(spec *Spec, root *document) (*openapi3.T, error) {
	for _, abs := range l.order {
		l.json[abs] = nodeToJSON(l.docs[abs].root)
	}
	rootJSON := l.json[root.abs]
	kin := openapi3.NewLoader()
	kin.IsExternalRefsAllowed = true
	kin.Context = context.Background()
	kin.ReadFromURIFunc = func(_ *openapi3.Loader, u *url.URL) ([]byte, error) {
		if u.Scheme == "http" || u.Scheme == "https" {
			if !l.opts.AllowRemoteRefs {
				return nil, fmt.Errorf("remote reference %s is not allowed (use -allow-remote-refs)", u)
			}
			return openapi3.DefaultReadFromURI(kin, u)
		}
		p := filepath.FromSlash(u.Path)
		if b, ok := l.json[p]; ok {
			return b, nil
		}
		return nil, fmt.Errorf("referenced file %s was not loaded", displayPath(p))
	}
	location := &url.URL{Path: filepath.ToSlash(root.abs)}
	if !spec.Swagger {
		return kin.LoadFromDataWithPath(rootJSON, location)
	}
	var d2 openapi2.T
	if err := openapi2.UnmarshalFromData(rootJSON, &d2); err != nil {
		return nil, err
	}
	doc, err := openapi2conv.ToV3WithLoader(&d2, kin, location)
	if err != nil {
		return nil, err
	}
	return doc, nil
}

// cleanKinError shortens kin-openapi's wrapped error chains. A decoding
// error names the JSON pointer of the offending value ("… in /paths/~1a/get")
// and carries both the JSON and the YAML decoder's view of it; the pointer is
// returned for positioning and only the JSON decoder's message is kept.
func cleanKinError(err error) (msg, pointer string) {
	s := err.Error()
	s = strings.TrimPrefix(s, "failed to unmarshal data: ")
	if i := strings.LastIndex(s, " in /"); i >= 0 && !strings.ContainsAny(s[i+4:], " \t\n") {
		s, pointer = s[:i], s[i+4:]
	}
	if rest, ok := strings.CutPrefix(s, "json error: "); ok {
		if j := strings.Index(rest, ", yaml error: "); j >= 0 {
			rest = rest[:j]
		}
		s = strings.TrimPrefix(rest, "json: ")
	}
	return s, pointer
}

// yamlErrorPos extracts a position from a YAML parse error.
func yamlErrorPos(display string, err error) diag.Pos {
	var le *yaml.LoadError
	if errors.As(err, &le) {
		return diag.Pos{File: display, Line: le.Mark.Line, Col: le.Mark.Column}
	}
	return diag.Pos{File: display}
}

func yamlErrorText(err error) string {
	var le *yaml.LoadError
	if errors.As(err, &le) && le.Message != "" {
		return le.Message
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

// Keys returns the keys of the mapping at l in document order, or nil when
// l is not a mapping. Later stages use it to keep the spec's property order,
// which kin-openapi's maps do not preserve.
func (s *Spec) Keys(l Loc) []string {
	abs := l.File
	if abs == "" {
		abs = s.rootAbs
	}
	d := s.docs[abs]
	if d == nil {
		return nil
	}
	segs := splitPointer(l.Pointer)
	if s.Swagger && abs == s.rootAbs {
		segs = swaggerSegments(segs)
	}
	node, _, depth := walkPointer(d.top(), segs)
	if depth != len(segs) || node == nil || node.Kind != yaml.MappingNode {
		return nil
	}
	keys := make([]string, 0, len(node.Content)/2)
	for _, kv := range mappingPairs(node, 0) {
		keys = append(keys, kv[0].Value)
	}
	return keys
}
