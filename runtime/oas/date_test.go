package oas

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want Date
		err  bool
	}{
		{in: "2024-02-29", want: Date{2024, time.February, 29}},
		{in: "0000-01-01", want: Date{0, time.January, 1}},
		{in: "9999-12-31", want: Date{9999, time.December, 31}},
		{in: "2000-02-29", want: Date{2000, time.February, 29}},
		{in: "2024-06-30T23:59:59Z", want: Date{2024, time.June, 30}},
		{in: "2024-06-30T23:59:59.123-08:00", want: Date{2024, time.June, 30}},
		{in: "2024-06-30t01:00:00+14:00", err: true},
		{in: "2023-02-29", err: true},
		{in: "1900-02-29", err: true},
		{in: "2024-04-31", err: true},
		{in: "2024-13-01", err: true},
		{in: "2024-00-10", err: true},
		{in: "2024-01-00", err: true},
		{in: "2024-1-01", err: true},
		{in: "24-01-01", err: true},
		{in: "2024/01/01", err: true},
		{in: "+024-01-01", err: true},
		{in: "2024-01-01 ", err: true},
		{in: "2024-01-01T", err: true},
		{in: "2024-01-01T25:00:00Z", err: true},
		{in: "2024-01-01Tjunk", err: true},
		{in: "", err: true},
		{in: strings.Repeat("9", 500), err: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDate(tt.in)
			if tt.err {
				if err == nil {
					t.Fatalf("ParseDate(%q) = %v, want error", tt.in, got)
				}
				if !strings.Contains(err.Error(), "invalid date") || len(err.Error()) > 200 {
					t.Fatalf("unhelpful error: %v", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseDate(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestDateText(t *testing.T) {
	valid := []Date{{2024, 1, 2}, {7, 3, 4}, {0, 1, 1}, {9999, 12, 31}}
	for _, d := range valid {
		b, err := d.MarshalText()
		if err != nil {
			t.Fatalf("%v: %v", d, err)
		}
		if string(b) != d.String() || len(b) != 10 {
			t.Fatalf("MarshalText %s vs String %s", b, d.String())
		}
		var back Date
		if err := back.UnmarshalText(b); err != nil || back != d {
			t.Fatalf("round trip %v -> %s -> %v, %v", d, b, back, err)
		}
	}
	if s := NewDate(7, 3, 4).String(); s != "0007-03-04" {
		t.Fatalf("String = %q", s)
	}
	invalid := []Date{{}, {2023, 2, 29}, {-1, 1, 1}, {10000, 1, 1}, {2024, 13, 1}, {2024, 1, 32}}
	for _, d := range invalid {
		if _, err := d.MarshalText(); err == nil {
			t.Fatalf("MarshalText(%v) must fail", d)
		}
		if _, err := json.Marshal(d); err == nil {
			t.Fatalf("json.Marshal(%v) must fail", d)
		}
		if d.String() == "" {
			t.Fatal("String of an invalid date must not be empty")
		}
	}
	if s := (Date{2024, 13, 1}).String(); s != "2024-13-1" {
		t.Fatalf("invalid String = %q", s)
	}
	b, err := NewDate(2024, 5, 6).AppendText([]byte("x="))
	if err != nil || string(b) != "x=2024-05-06" {
		t.Fatalf("AppendText = %s, %v", b, err)
	}
	var d Date
	if err := d.UnmarshalText([]byte("bad")); err == nil || d != (Date{}) {
		t.Fatal("UnmarshalText must fail and leave the date unchanged")
	}
}

func TestDateJSON(t *testing.T) {
	type model struct {
		Req  Date   `json:"req"`
		Opt  Date   `json:"opt,omitzero"`
		P    *Date  `json:"p,omitempty"`
		List []Date `json:"list"`
	}
	in := model{Req: NewDate(2024, 1, 31), P: ptr(NewDate(1970, 1, 1)), List: []Date{NewDate(2000, 2, 29)}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"req":"2024-01-31","p":"1970-01-01","list":["2000-02-29"]}`
	if string(b) != want {
		t.Fatalf("got %s want %s", b, want)
	}
	var back model
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Req != in.Req || *back.P != *in.P || back.List[0] != in.List[0] || !back.Opt.IsZero() {
		t.Fatalf("round trip: %+v", back)
	}
	for _, bad := range []string{`{"req":"2024-02-30"}`, `{"req":20240101}`, `{"req":""}`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Fatalf("%s: want error", bad)
		}
	}
	var n model
	if err := json.Unmarshal([]byte(`{"req":null}`), &n); err != nil || !n.Req.IsZero() {
		t.Fatalf("null leaves the zero Date: %v %v", n.Req, err)
	}
}

func TestDateCompareAndTime(t *testing.T) {
	a, b, c := NewDate(2024, 1, 31), NewDate(2024, 2, 1), NewDate(2025, 1, 1)
	tests := []struct {
		x, y Date
		want int
	}{{a, b, -1}, {b, a, 1}, {a, a, 0}, {b, c, -1}, {NewDate(2024, 1, 1), NewDate(2024, 1, 2), -1}}
	for _, tt := range tests {
		if got := tt.x.Compare(tt.y); got != tt.want {
			t.Errorf("%v.Compare(%v) = %d", tt.x, tt.y, got)
		}
		if tt.x.Before(tt.y) != (tt.want < 0) || tt.x.After(tt.y) != (tt.want > 0) {
			t.Errorf("Before/After %v %v", tt.x, tt.y)
		}
	}
	if got := a.Time(nil); !got.Equal(time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC)) || got.Location() != time.UTC {
		t.Fatalf("Time(nil) = %v", got)
	}
	loc := time.FixedZone("X", -5*3600)
	if got := a.Time(loc); got.Location() != loc || got.Hour() != 0 || got.Day() != 31 {
		t.Fatalf("Time(loc) = %v", got)
	}
	if got := DateOf(time.Date(2024, 3, 1, 1, 0, 0, 0, time.UTC).In(loc)); got != NewDate(2024, 2, 29) {
		t.Fatalf("DateOf uses the time's location: %v", got)
	}
	if !(Date{}).IsZero() || a.IsZero() {
		t.Fatal("IsZero")
	}
}

func TestUUID(t *testing.T) {
	const canon = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
	want := UUID{0xf4, 0x7a, 0xc1, 0x0b, 0x58, 0xcc, 0x43, 0x72, 0xa5, 0x67, 0x0e, 0x02, 0xb2, 0xc3, 0xd4, 0x79}
	good := []string{canon, strings.ToUpper(canon), "F47ac10B-58cC-4372-A567-0e02b2c3d479"}
	for _, s := range good {
		u, err := ParseUUID(s)
		if err != nil || u != want {
			t.Fatalf("ParseUUID(%q) = %v, %v", s, u, err)
		}
		if u.String() != canon {
			t.Fatalf("String = %q", u.String())
		}
	}
	bad := []string{"", "{" + canon + "}", "urn:uuid:" + canon, strings.ReplaceAll(canon, "-", ""),
		"f47ac10b-58cc-4372-a567-0e02b2c3d47", "f47ac10b-58cc-4372-a567-0e02b2c3d4799", "g47ac10b-58cc-4372-a567-0e02b2c3d479",
		"f47ac10b_58cc-4372-a567-0e02b2c3d479", "f47ac10b-58cc-4372-a5670-e02b2c3d479", " f47ac10b-58cc-4372-a567-0e02b2c3d47"}
	for _, s := range bad {
		u, err := ParseUUID(s)
		if err == nil {
			t.Fatalf("ParseUUID(%q) = %v, want error", s, u)
		}
		if !strings.Contains(err.Error(), "invalid UUID") {
			t.Fatalf("unhelpful error %v", err)
		}
	}
	type model struct {
		ID   UUID   `json:"id"`
		Opt  UUID   `json:"opt,omitzero"`
		IDs  []UUID `json:"ids"`
		Zero UUID   `json:"zero"`
	}
	b, err := json.Marshal(model{ID: want, IDs: []UUID{want}})
	if err != nil {
		t.Fatal(err)
	}
	if exp := `{"id":"` + canon + `","ids":["` + canon + `"],"zero":"00000000-0000-0000-0000-000000000000"}`; string(b) != exp {
		t.Fatalf("got %s want %s", b, exp)
	}
	var back model
	if err := json.Unmarshal([]byte(`{"id":"`+strings.ToUpper(canon)+`","ids":[]}`), &back); err != nil || back.ID != want {
		t.Fatalf("decode: %v %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"id":"{`+canon+`}"}`), &back); err == nil {
		t.Fatal("braces must be rejected")
	}
	if !(UUID{}).IsZero() || want.IsZero() {
		t.Fatal("IsZero")
	}
	if b, _ := want.AppendText([]byte("id=")); string(b) != "id="+canon {
		t.Fatalf("AppendText = %s", b)
	}
	if MustParseUUID(canon) != want {
		t.Fatal("MustParseUUID")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("MustParseUUID must panic on bad input")
		}
	}()
	MustParseUUID("nope")
}

func TestFileIsZero(t *testing.T) {
	if !(File{Name: "a.txt"}).IsZero() {
		t.Fatal("a File without content is zero")
	}
	if (File{Content: strings.NewReader("")}).IsZero() {
		t.Fatal("a File with content is not zero")
	}
}

func TestDateAndUUIDAsMapKeys(t *testing.T) {
	u := MustParseUUID("00000000-0000-4000-8000-000000000001")
	in := struct {
		ByDate map[Date]int    `json:"by_date"`
		ByID   map[UUID]string `json:"by_id"`
	}{map[Date]int{NewDate(2024, 1, 2): 1, NewDate(2023, 12, 31): 2}, map[UUID]string{u: "x"}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"by_date":{"2023-12-31":2,"2024-01-02":1},"by_id":{"00000000-0000-4000-8000-000000000001":"x"}}`
	if string(b) != want {
		t.Fatalf("got %s", b)
	}
	out := in
	out.ByDate, out.ByID = nil, nil
	if err := json.Unmarshal(b, &out); err != nil || out.ByDate[NewDate(2024, 1, 2)] != 1 || out.ByID[u] != "x" {
		t.Fatalf("round trip: %+v %v", out, err)
	}
}
