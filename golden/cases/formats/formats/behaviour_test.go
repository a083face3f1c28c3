package formats_test

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/connectorgen/connectorgen/golden/cases/formats/formats"
	"github.com/connectorgen/connectorgen/runtime/oas"
)

func echo(t *testing.T) (*formats.Client, *[]string) {
	t.Helper()
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, string(b))
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	c, err := formats.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c, &got
}

var ctx = context.Background()

func TestFormatsRoundTrip(t *testing.T) {
	c, got := echo(t)
	at := time.Date(2024, 2, 29, 23, 59, 58, 123456789, time.FixedZone("", -5*3600))
	in := formats.Record{
		At:        at,
		Day:       oas.NewDate(2024, 2, 29),
		Big:       math.MaxInt64,
		BigString: oas.Some("9223372036854775807"),
		Small:     oas.Some(int32(math.MinInt32)),
		Unsigned:  oas.Some(uint64(math.MaxUint64)),
		Ratio:     oas.Some(float32(0.1)),
		Amount:    oas.Some(json.Number("12345678901234567890.000000001")),
		ID:        oas.MustParseUUID("123e4567-e89b-12d3-a456-426614174000"),
		Blob:      []byte{0, 1, 2, 0xff},
		Labels:    map[string]string{"env": "prod"},
		Anything:  map[string]json.RawMessage{"n": json.RawMessage(`[1,{"a":null}]`)},
	}
	out, err := c.EchoRecord(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"at":"2024-02-29T23:59:58.123456789-05:00","day":"2024-02-29","big":9223372036854775807,"bigString":"9223372036854775807",` +
		`"small":-2147483648,"unsigned":18446744073709551615,"ratio":0.1,"amount":12345678901234567890.000000001,` +
		`"id":"123e4567-e89b-12d3-a456-426614174000","blob":"AAEC/w==","labels":{"env":"prod"},"anything":{"n":[1,{"a":null}]}}`
	if (*got)[0] != want {
		t.Fatalf("sent %s\nwant %s", (*got)[0], want)
	}
	if !out.At.Equal(at) || out.Day != in.Day || out.Big != math.MaxInt64 || oas.Or(out.Unsigned, 0) != math.MaxUint64 ||
		out.ID != in.ID || string(out.Blob) != string(in.Blob) || oas.Or(out.Amount, "") != oas.Or(in.Amount, "x") {
		t.Errorf("decoded %+v", out)
	}
	if _, off := out.At.Zone(); off != -5*3600 {
		t.Errorf("offset %d lost", off)
	}
	b, _ := json.Marshal(out)
	if string(b) != want {
		t.Errorf("re-encoded %s", b)
	}
}

func TestFormatErrors(t *testing.T) {
	for _, body := range []string{
		`{"at":"yesterday","day":"2024-01-01","big":1,"id":"123e4567-e89b-12d3-a456-426614174000"}`,
		`{"at":"2024-01-01T00:00:00Z","day":"2024-02-30","big":1,"id":"123e4567-e89b-12d3-a456-426614174000"}`,
		`{"at":"2024-01-01T00:00:00Z","day":"2024-01-01","big":1.5,"id":"123e4567-e89b-12d3-a456-426614174000"}`,
		`{"at":"2024-01-01T00:00:00Z","day":"2024-01-01","big":1,"id":"not-a-uuid"}`,
	} {
		var r formats.Record
		if err := json.Unmarshal([]byte(body), &r); err == nil {
			t.Errorf("%s: decoded without error: %+v", body, r)
		}
	}
}

// Declared properties and additional ones live side by side; the extra
// properties survive a round trip.
func TestExtraFields(t *testing.T) {
	c, got := echo(t)
	out, err := c.EchoCounters(ctx, formats.Counters{Total: 3, AdditionalProperties: map[string]int64{"a": 1, "b": 2}})
	if err != nil {
		t.Fatal(err)
	}
	if (*got)[0] != `{"total":3,"a":1,"b":2}` {
		t.Errorf("sent %s", (*got)[0])
	}
	if out.Total != 3 || len(out.AdditionalProperties) != 2 || out.AdditionalProperties["b"] != 2 {
		t.Errorf("decoded %+v", out)
	}
	// An extra value of the wrong type is an error, not silently dropped.
	var bad formats.Counters
	if err := json.Unmarshal([]byte(`{"total":1,"x":"str"}`), &bad); err == nil {
		t.Errorf("decoded %+v", bad)
	}

	var o formats.Open
	const doc = `{"name":"n","z":{"deep":[true]},"a":null}`
	if err := json.Unmarshal([]byte(doc), &o); err != nil {
		t.Fatal(err)
	}
	if oas.Or(o.Name, "") != "n" || string(o.AdditionalProperties["z"]) != `{"deep":[true]}` || string(o.AdditionalProperties["a"]) != "null" {
		t.Errorf("decoded %+v", o)
	}
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	json.Unmarshal(b, &back)
	if len(back) != 3 || back["name"] != "n" || back["a"] != nil {
		t.Errorf("re-encoded %s", b)
	}
}
