package rest

import (
	"context"
	"encoding/json"
	"math"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/runtime/oas"
)

var (
	// The values of the OpenAPI "Style Examples" table.
	exEmpty  = Scalar("")
	exString = Scalar("blue")
	exArray  = List([]string{"blue", "black", "brown"})
	exObject = Object(KV{"R", Scalar("100")}, KV{"G", Scalar("200")}, KV{"B", Scalar("150")})
)

// styleCell is one cell of the style/explode table: how the parameter named
// "color" appears in its location.
type styleCell struct {
	in      string // path, query, header, cookie
	style   Style
	explode bool
	value   string // empty, string, array, object
	want    string
}

func exampleValue(name string) Param {
	switch name {
	case "empty":
		return exEmpty
	case "string":
		return exString
	case "array":
		return exArray
	}
	return exObject
}

// styleTable is the OpenAPI 3 style examples table, every defined cell (with
// label explode=false following RFC 6570, see the package documentation),
// plus the cells the spec marks n/a with this package's documented choice.
var styleTable = []styleCell{
	// path: matrix
	{"path", StyleMatrix, false, "empty", ";color"},
	{"path", StyleMatrix, false, "string", ";color=blue"},
	{"path", StyleMatrix, false, "array", ";color=blue,black,brown"},
	{"path", StyleMatrix, false, "object", ";color=R,100,G,200,B,150"},
	{"path", StyleMatrix, true, "empty", ";color"},
	{"path", StyleMatrix, true, "string", ";color=blue"},
	{"path", StyleMatrix, true, "array", ";color=blue;color=black;color=brown"},
	{"path", StyleMatrix, true, "object", ";R=100;G=200;B=150"},
	// path: label
	{"path", StyleLabel, false, "empty", "."},
	{"path", StyleLabel, false, "string", ".blue"},
	{"path", StyleLabel, false, "array", ".blue,black,brown"},
	{"path", StyleLabel, false, "object", ".R,100,G,200,B,150"},
	{"path", StyleLabel, true, "empty", "."},
	{"path", StyleLabel, true, "string", ".blue"},
	{"path", StyleLabel, true, "array", ".blue.black.brown"},
	{"path", StyleLabel, true, "object", ".R=100.G=200.B=150"},
	// path: simple
	{"path", StyleSimple, false, "empty", ""},
	{"path", StyleSimple, false, "string", "blue"},
	{"path", StyleSimple, false, "array", "blue,black,brown"},
	{"path", StyleSimple, false, "object", "R,100,G,200,B,150"},
	{"path", StyleSimple, true, "empty", ""},
	{"path", StyleSimple, true, "string", "blue"},
	{"path", StyleSimple, true, "array", "blue,black,brown"},
	{"path", StyleSimple, true, "object", "R=100,G=200,B=150"},
	// query: form
	{"query", StyleForm, false, "empty", "color="},
	{"query", StyleForm, false, "string", "color=blue"},
	{"query", StyleForm, false, "array", "color=blue,black,brown"},
	{"query", StyleForm, false, "object", "color=R,100,G,200,B,150"},
	{"query", StyleForm, true, "empty", "color="},
	{"query", StyleForm, true, "string", "color=blue"},
	{"query", StyleForm, true, "array", "color=blue&color=black&color=brown"},
	{"query", StyleForm, true, "object", "R=100&G=200&B=150"},
	// query: spaceDelimited
	{"query", StyleSpaceDelimited, false, "array", "color=blue%20black%20brown"},
	{"query", StyleSpaceDelimited, false, "object", "color=R%20100%20G%20200%20B%20150"},
	{"query", StyleSpaceDelimited, false, "string", "color=blue"},                       // n/a: form
	{"query", StyleSpaceDelimited, true, "array", "color=blue&color=black&color=brown"}, // n/a: form explode
	{"query", StyleSpaceDelimited, true, "object", "R=100&G=200&B=150"},                 // n/a: form explode
	// query: pipeDelimited
	{"query", StylePipeDelimited, false, "array", "color=blue|black|brown"},
	{"query", StylePipeDelimited, false, "object", "color=R|100|G|200|B|150"},
	{"query", StylePipeDelimited, false, "empty", "color="},                            // n/a: form
	{"query", StylePipeDelimited, true, "array", "color=blue&color=black&color=brown"}, // n/a: form explode
	// query: deepObject
	{"query", StyleDeepObject, true, "object", "color[R]=100&color[G]=200&color[B]=150"},
	{"query", StyleDeepObject, false, "object", "color[R]=100&color[G]=200&color[B]=150"},
	{"query", StyleDeepObject, true, "string", "color=blue"},                                 // n/a: form
	{"query", StyleDeepObject, true, "array", "color[0]=blue&color[1]=black&color[2]=brown"}, // n/a: indexed
	// header: simple
	{"header", StyleSimple, false, "empty", ""},
	{"header", StyleSimple, false, "string", "blue"},
	{"header", StyleSimple, false, "array", "blue,black,brown"},
	{"header", StyleSimple, false, "object", "R,100,G,200,B,150"},
	{"header", StyleSimple, true, "empty", ""},
	{"header", StyleSimple, true, "string", "blue"},
	{"header", StyleSimple, true, "array", "blue,black,brown"},
	{"header", StyleSimple, true, "object", "R=100,G=200,B=150"},
	// cookie: form
	{"cookie", StyleForm, false, "empty", "color="},
	{"cookie", StyleForm, false, "string", "color=blue"},
	{"cookie", StyleForm, false, "array", "color=blue,black,brown"},
	{"cookie", StyleForm, false, "object", "color=R,100,G,200,B,150"},
	{"cookie", StyleForm, true, "empty", "color="},
	{"cookie", StyleForm, true, "string", "color=blue"},
	{"cookie", StyleForm, true, "array", "color=blue; color=black; color=brown"},
	{"cookie", StyleForm, true, "object", "R=100; G=200; B=150"},
}

// render encodes one cell without a server.
func render(t *testing.T, c styleCell) string {
	t.Helper()
	p := exampleValue(c.value)
	switch c.in {
	case "path":
		b, ok := appendPathParam(nil, "color", c.style, c.explode, p)
		if !ok {
			t.Fatalf("style %v refused", c.style)
		}
		return string(b)
	case "query":
		b, ok := appendQueryParam(nil, "color", c.style, c.explode, p)
		if !ok {
			t.Fatalf("style %v refused", c.style)
		}
		return string(b)
	case "header":
		return string(appendHeaderValue(nil, c.explode, p))
	}
	return string(appendCookie(nil, "color", c.explode, p))
}

func cellName(c styleCell) string {
	e := "explode=false"
	if c.explode {
		e = "explode=true"
	}
	return c.in + "/" + c.style.String() + "/" + e + "/" + c.value
}

func TestStyleTable(t *testing.T) {
	for _, c := range styleTable {
		t.Run(cellName(c), func(t *testing.T) {
			if got := render(t, c); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestStylesRefusedByLocation(t *testing.T) {
	for _, s := range []Style{StyleForm, StyleSpaceDelimited, StylePipeDelimited, StyleDeepObject, Style(99)} {
		if _, ok := appendPathParam(nil, "x", s, false, exString); ok {
			t.Errorf("path accepted %v", s)
		}
	}
	for _, s := range []Style{StyleSimple, StyleLabel, StyleMatrix, Style(-1)} {
		if _, ok := appendQueryParam(nil, "x", s, false, exString); ok {
			t.Errorf("query accepted %v", s)
		}
	}
	if Style(42).String() != "Style(42)" || StyleDeepObject.String() != "deepObject" {
		t.Fatal("Style.String")
	}
}

func TestUndefinedValues(t *testing.T) {
	emptyList, emptyObj := List(nil), Object()
	for _, p := range []Param{emptyList, emptyObj} {
		for _, s := range []Style{StyleSimple, StyleLabel, StyleMatrix} {
			if b, _ := appendPathParam(nil, "x", s, true, p); len(b) != 0 {
				t.Errorf("path %v: %q", s, b)
			}
		}
		for _, s := range []Style{StyleForm, StyleSpaceDelimited, StylePipeDelimited, StyleDeepObject} {
			if b, _ := appendQueryParam(nil, "x", s, false, p); len(b) != 0 {
				t.Errorf("query %v: %q", s, b)
			}
		}
		if b := appendCookie(nil, "x", true, p); len(b) != 0 {
			t.Errorf("cookie %q", b)
		}
	}
	if !(Param{}).IsEmpty() || Scalar("").IsEmpty() || List(nil).IsEmpty() {
		t.Fatal("IsEmpty")
	}
}

func TestEscaping(t *testing.T) {
	inputs := []string{"a/b c", "a,b;c=d@e:f$g&h+i?j#k%l", "日本 語", "~._-", "[]{}|\\^`\"'<>", "\x00\x7f\xff", "",
		"100%", "a+b", strings.Repeat("é", 20)}
	for _, s := range inputs {
		if got, want := string(appendEscaped(nil, s, escPath)), url.PathEscape(s); got != want {
			t.Errorf("path %q: got %q want url.PathEscape %q", s, got, want)
		}
		want := strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
		if got := string(appendEscaped(nil, s, escQuery)); got != want {
			t.Errorf("query %q: got %q want %q", s, got, want)
		}
		// Whatever the query escaping produces decodes back.
		if back, err := url.QueryUnescape(string(appendEscaped(nil, s, escQuery))); err != nil || back != s {
			t.Errorf("query %q does not round-trip: %q %v", s, back, err)
		}
	}
	tests := []struct {
		name, got, want string
	}{
		{"path value", mustPath(t, StyleSimple, false, Scalar("a/b c")), "a%2Fb%20c"},
		{"path list values escape commas", mustPath(t, StyleSimple, false, List([]string{"a,b", "c"})), "a%2Cb,c"},
		{"matrix name and value", string(must(appendPathParam(nil, "a b", StyleMatrix, false, Scalar("x;y")))), ";a%20b=x%3By"},
		{"query value", mustQuery(t, StyleForm, true, Scalar("a/b c")), "color=a%2Fb%20c"},
		{"query list commas", mustQuery(t, StyleForm, false, List([]string{"a,b", "c"})), "color=a%2Cb,c"},
		{"query pipes", mustQuery(t, StylePipeDelimited, false, List([]string{"a|b", "c"})), "color=a%7Cb|c"},
		{"query spaces", mustQuery(t, StyleSpaceDelimited, false, List([]string{"a b", "c"})), "color=a%20b%20c"},
		{"query object keys", mustQuery(t, StyleForm, true, Object(KV{"k&=", Scalar("v&=")})), "k%26%3D=v%26%3D"},
		{"deep keys", mustQuery(t, StyleDeepObject, true, Object(KV{"a[b]", Scalar("x y")})), "color[a%5Bb%5D]=x%20y"},
		{"header unescaped", string(appendHeaderValue(nil, false, Scalar("a/b c%"))), "a/b c%"},
		{"cookie", string(appendCookie(nil, "c", false, List([]string{"a b", "x,y;z", "t=1+/"}))), "c=a%20b,x%2Cy%3Bz,t=1+/"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q want %q", tt.name, tt.got, tt.want)
		}
	}
}

func must(b []byte, ok bool) []byte {
	if !ok {
		panic("refused")
	}
	return b
}

func mustPath(t *testing.T, s Style, explode bool, p Param) string {
	t.Helper()
	b, ok := appendPathParam(nil, "color", s, explode, p)
	if !ok {
		t.Fatal("refused")
	}
	return string(b)
}

func mustQuery(t *testing.T, s Style, explode bool, p Param) string {
	t.Helper()
	b, ok := appendQueryParam(nil, "color", s, explode, p)
	if !ok {
		t.Fatal("refused")
	}
	return string(b)
}

func TestNestedValues(t *testing.T) {
	nested := Object(
		KV{"a", Object(KV{"b", Scalar("1")}, KV{"c", Object(KV{"d", Scalar("2")})})},
		KV{"l", List([]string{"x", "y"})},
		KV{"o", Param{kind: kindList, elems: []Param{Object(KV{"p", Scalar("3")}), Scalar("z")}}},
		KV{"skip", Object()},
	)
	if got, want := mustQuery(t, StyleDeepObject, true, nested),
		"color[a][b]=1&color[a][c][d]=2&color[l][0]=x&color[l][1]=y&color[o][0][p]=3&color[o][1]=z"; got != want {
		t.Fatalf("deepObject:\n got %s\nwant %s", got, want)
	}
	// Other styles flatten nested values with commas.
	if got, want := mustQuery(t, StyleForm, true, Object(KV{"a", List([]string{"x", "y"})})), "a=x,y"; got != want {
		t.Fatalf("form nested: got %s want %s", got, want)
	}
	if got, want := mustPath(t, StyleSimple, false, Object(KV{"a", Object(KV{"b", Scalar("1")})})), "a,b,1"; got != want {
		t.Fatalf("simple nested: got %s want %s", got, want)
	}
}

func TestAnyParam(t *testing.T) {
	type inner struct {
		Z string `json:"z"`
		A *int   `json:"a"`
	}
	type model struct {
		B    bool              `json:"b"`
		N    json.Number       `json:"n"`
		Opt  oas.Opt[string]   `json:"opt,omitzero"`
		Date oas.Date          `json:"date"`
		In   inner             `json:"in"`
		List []inner           `json:"list"`
		Nil  map[string]any    `json:"nil"`
		Nul  oas.Nullable[int] `json:"nul"`
	}
	two := 2
	tests := []struct {
		name string
		in   any
		want string // rendered with deepObject, name "p"
		omit bool
	}{
		{name: "nil", in: nil, omit: true},
		{name: "absent opt", in: oas.Opt[int]{}, omit: true},
		{name: "null nullable", in: oas.Null[string](), omit: true},
		{name: "string", in: "a b", want: "p=a%20b"},
		{name: "named string", in: oas.NewDate(2024, 1, 2), want: "p=2024-01-02"},
		{name: "int", in: 42, want: "p=42"},
		{name: "int64", in: int64(math.MaxInt64), want: "p=9223372036854775807"},
		{name: "uint64 exact", in: uint64(math.MaxUint64), want: "p=18446744073709551615"},
		{name: "float", in: 1.5, want: "p=1.5"},
		{name: "big float", in: 1e21, want: "p=1e%2B21"},
		{name: "bool", in: true, want: "p=true"},
		{name: "opt set", in: oas.Some(7), want: "p=7"},
		{name: "string slice", in: []string{"a", "b"}, want: "p[0]=a&p[1]=b"},
		{name: "int slice with nulls", in: []*int{&two, nil}, want: "p[0]=2"},
		{name: "map sorted, nulls dropped", in: map[string]any{"z": 1, "a": "x", "n": nil}, want: "p[a]=x&p[z]=1"},
		{name: "struct", in: model{B: true, N: "1.50", Date: oas.NewDate(2024, 5, 6), In: inner{Z: "z", A: &two},
			List: []inner{{Z: "q"}}, Nul: oas.Value(3)},
			want: "p[b]=true&p[date]=2024-05-06&p[in][a]=2&p[in][z]=z&p[list][0][z]=q&p[n]=1.50&p[nul]=3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := AnyParam(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if tt.omit {
				if !p.IsEmpty() {
					t.Fatalf("want absent, got %+v", p)
				}
				return
			}
			b, _ := appendQueryParam(nil, "p", StyleDeepObject, true, p)
			if string(b) != tt.want {
				t.Fatalf("got %s want %s", b, tt.want)
			}
		})
	}
	for _, bad := range []any{make(chan int), math.NaN(), func() {}} {
		if _, err := AnyParam(bad); err == nil {
			t.Errorf("AnyParam(%T) must fail", bad)
		}
	}
}

func TestFormat(t *testing.T) {
	type myInt int16
	type myFloat float32
	type myStr string
	tests := []struct{ got, want string }{
		{FormatInt(-42), "-42"},
		{FormatInt(myInt(7)), "7"},
		{FormatInt(int64(math.MinInt64)), "-9223372036854775808"},
		{FormatUint(uint64(math.MaxUint64)), "18446744073709551615"},
		{FormatUint(uint8(255)), "255"},
		{FormatFloat(1.5), "1.5"},
		{FormatFloat(0.1), "0.1"},
		{FormatFloat(100.0), "100"},
		{FormatFloat(-0.0), "0"},
		{FormatFloat(123456789.125), "123456789.125"},
		{FormatFloat(1e20), "100000000000000000000"},
		{FormatFloat(1e21), "1e+21"},
		{FormatFloat(1e-7), "1e-7"},
		{FormatFloat(0.000001), "0.000001"},
		{FormatFloat(float32(0.1)), "0.1"},
		{FormatFloat(myFloat(3.14)), "3.14"},
		{FormatFloat(math.Inf(1)), "+Inf"},
		{FormatFloat(math.NaN()), "NaN"},
		{FormatBool(true), "true"},
		{FormatBool(false), "false"},
		{FormatTime(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)), "2024-01-02T03:04:05Z"},
		{FormatTime(time.Date(2024, 1, 2, 3, 4, 5, 120000000, time.FixedZone("", 3600))), "2024-01-02T03:04:05.12+01:00"},
		{strings.Join(FormatStrings([]myStr{"a", "b"}), ","), "a,b"},
		{strings.Join(FormatInts([]int32{1, -2}), ","), "1,-2"},
		{strings.Join(FormatFloats([]float64{1.25, 2}), ","), "1.25,2"},
		{strings.Join(FormatBools([]bool{true, false}), ","), "true,false"},
		{strings.Join(FormatTimes([]time.Time{time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), time.Date(2024, 1, 2, 3, 4, 5, 1e6, time.FixedZone("", -3600))}), ","), "2024-01-02T03:04:05Z,2024-01-02T03:04:05.001-01:00"},
		{strings.Join(FormatStringers([]oas.Date{oas.NewDate(2024, 1, 2)}), ","), "2024-01-02"},
		{strings.Join(FormatStringers([]oas.UUID{{1}}), ","), "01000000-0000-0000-0000-000000000000"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%d: got %q want %q", i, tt.got, tt.want)
		}
	}
	// FormatFloat agrees with encoding/json for finite values.
	for _, f := range []float64{0.1, 1e-6, 9.9e-7, 1e21, 5e-324, math.MaxFloat64, 12.5, -3} {
		j, _ := json.Marshal(f)
		if FormatFloat(f) != string(j) {
			t.Errorf("FormatFloat(%v) = %s, json %s", f, FormatFloat(f), j)
		}
	}
}

func TestPathParamEmptyAndDotSegments(t *testing.T) {
	srv, s := newServer(t, nil)
	c := newClient(t, srv.URL)
	for _, tc := range []struct{ value, wantPath, wantErr string }{
		{"", "", "is empty"},
		{".", "/files/%2E", ""},
		{"..", "/files/%2E%2E", ""},
		{"a..b", "/files/a..b", ""},
	} {
		r := c.NewRequest(context.Background(), getLead)
		r.AppendPath("/files/")
		r.AppendPathParam("name", StyleSimple, false, Scalar(tc.value))
		if tc.wantErr != "" {
			if r.Err() == nil || !strings.Contains(r.Err().Error(), tc.wantErr) {
				t.Errorf("%q: err = %v, want %q", tc.value, r.Err(), tc.wantErr)
			}
			continue
		}
		send(t, c, r)
		req, _ := s.last(t)
		if got := req.URL.EscapedPath(); got != tc.wantPath {
			t.Errorf("%q: server saw %s, want %s", tc.value, got, tc.wantPath)
		}
	}
}
