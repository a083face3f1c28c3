package multifile_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/connectorgen/connectorgen/golden/cases/multifile/multifile"
	"github.com/connectorgen/connectorgen/runtime/oas"
	"github.com/connectorgen/connectorgen/runtime/rest"
)

// A schema in another file, reached through several $refs (from the
// component, from a response, from inside its own file), is one Go type.
var (
	_ func(context.Context, multifile.GetWidgetParams) (*multifile.Widget, error)                   = (*multifile.Client)(nil).GetWidget
	_ func(context.Context, multifile.PutWidgetParams, multifile.Widget) (*multifile.Widget, error) = (*multifile.Client)(nil).PutWidget
	_ []multifile.Part                                                                              = multifile.Widget{}.Parts
	_ *multifile.Part                                                                               = multifile.Part{}.Sub
)

func TestSiblingFiles(t *testing.T) {
	var paths, bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.Method+" "+r.RequestURI)
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/widgets/missing":
			w.WriteHeader(404)
			io.WriteString(w, `{"title":"no such widget"}`)
		case r.Method == "PUT":
			w.Write(b)
		default:
			io.WriteString(w, `{"id":"w 1","parts":[{"sku":"p","sub":{"sku":"q"}}],"color":"green"}`)
		}
	}))
	defer srv.Close()
	c, err := multifile.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// The path parameter comes from common.yaml.
	w, err := c.GetWidget(ctx, multifile.GetWidgetParams{ID: "w 1"})
	if err != nil {
		t.Fatal(err)
	}
	if paths[0] != "GET /widgets/w%201" {
		t.Errorf("request %s", paths[0])
	}
	if w.ID != "w 1" || oas.Or(w.Parts[0].Sub.SKU, "") != "q" || oas.Or(w.Color, "") != multifile.ColorGreen {
		t.Errorf("decoded %+v", w)
	}

	out, err := c.PutWidget(ctx, multifile.PutWidgetParams{ID: "w2"}, multifile.Widget{ID: "w2", Color: oas.Some(multifile.ColorRed)})
	if err != nil {
		t.Fatal(err)
	}
	if bodies[1] != `{"id":"w2","color":"red"}` || oas.Or(out.Color, "") != multifile.ColorRed {
		t.Errorf("sent %s, decoded %+v", bodies[1], out)
	}

	// The 404 response, and its model, come from common.yaml.
	_, err = c.GetWidget(ctx, multifile.GetWidgetParams{ID: "missing"})
	var apiErr *rest.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Fatalf("err = %v", err)
	}
	if p, ok := apiErr.Model.(*multifile.Problem); !ok || oas.Or(p.Title, "") != "no such widget" {
		t.Errorf("Model = %#v", apiErr.Model)
	}
}
