package dedupe_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/connectorgen/connectorgen/golden/cases/dedupe/dedupe"
	"github.com/connectorgen/connectorgen/runtime/oas"
	"github.com/connectorgen/connectorgen/runtime/rest"
)

// One Go type serves every copy of an identical inline schema: these
// assignments compile only because the copies were merged.
var (
	// The created volume and a listed volume are the same shape.
	_ func(context.Context, dedupe.CreateVolumeRequest) (*dedupe.ListVolumesResponseDataItem, error) = (*dedupe.Client)(nil).CreateVolume
	// The order enum of both list operations, named after what they share.
	_ oas.Opt[dedupe.ListParamsOrder] = dedupe.ListVolumesParams{}.Order
	_ oas.Opt[dedupe.ListParamsOrder] = dedupe.ListLinodesParams{}.Order
	// The pinned request body keeps its name but shares the region type.
	_ = dedupe.LinodeSpec{Region: dedupe.CreateVolumeRequest{}.Region}
)

func TestSharedErrorModel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"errors":[{"field":"label","reason":"too long"}]}`))
	}))
	t.Cleanup(srv.Close)
	c, err := dedupe.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, errList := c.ListVolumes(context.Background(), dedupe.ListVolumesParams{Order: oas.Some(dedupe.ListParamsOrderAsc)})
	_, errCreate := c.CreateVolume(context.Background(), dedupe.CreateVolumeRequest{Label: "v"})
	var models []*dedupe.ErrorDefault
	for _, err := range []error{errList, errCreate} {
		var re *rest.Error
		if !errors.As(err, &re) {
			t.Fatalf("want *rest.Error, got %T %v", err, err)
		}
		m, ok := re.Model.(*dedupe.ErrorDefault)
		if !ok {
			t.Fatalf("model is %T, want *dedupe.ErrorDefault", re.Model)
		}
		models = append(models, m)
	}
	for _, m := range models {
		if len(m.Errors) != 1 || oas.Or(m.Errors[0].Field, "") != "label" || oas.Or(m.Errors[0].Reason, "") != "too long" {
			t.Fatalf("errors = %+v", m.Errors)
		}
	}
}

// A copy with its own description is a type of its own, so its doc comment
// stays true, though its fields are the same.
func TestDocumentedCopyStaysApart(t *testing.T) {
	linode := reflect.TypeFor[dedupe.ListLinodesResponseDataItem]()
	volume := reflect.TypeFor[dedupe.ListVolumesResponseDataItem]()
	if linode == volume || !volume.ConvertibleTo(linode) {
		t.Fatalf("linode %v, volume %v: want two types of one shape", linode, volume)
	}
}
