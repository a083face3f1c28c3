package swagger2_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/connectorgen/connectorgen/golden/cases/swagger2/swagger2"
	"github.com/connectorgen/connectorgen/runtime/oas"
	"github.com/connectorgen/connectorgen/runtime/rest"
	"github.com/connectorgen/connectorgen/runtime/secret"
)

type got struct {
	method, uri, contentType, accept, key, reqID string
	body                                         string
	form                                         map[string][]string
	file                                         string
	fileName                                     string
}

// server answers with status and reply and records what it got. The API
// lives under the spec's basePath, /v2.
func server(t *testing.T, status int, ctype, reply string) (*swagger2.Client, *got) {
	t.Helper()
	g := &got{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.method, g.uri = r.Method, r.RequestURI
		g.contentType, g.accept = r.Header.Get("Content-Type"), r.Header.Get("Accept")
		g.key, g.reqID = r.Header.Get("X-API-Key"), r.Header.Get("X-Request-Id")
		if strings.HasPrefix(g.contentType, "multipart/") {
			if err := r.ParseMultipartForm(1 << 20); err != nil {
				t.Error(err)
			}
			g.form = r.MultipartForm.Value
			if fh := r.MultipartForm.File["file"]; len(fh) == 1 {
				f, _ := fh[0].Open()
				b, _ := io.ReadAll(f)
				g.file, g.fileName = string(b), fh[0].Filename
			}
		} else {
			b, _ := io.ReadAll(r.Body)
			g.body = string(b)
		}
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(status)
		io.WriteString(w, reply)
	}))
	t.Cleanup(srv.Close)
	c, err := swagger2.NewClient(srv.URL+"/v2", swagger2.WithKey(secret.New("k-123")))
	if err != nil {
		t.Fatal(err)
	}
	return c, g
}

var ctx = context.Background()

func TestServerFromHostAndBasePath(t *testing.T) {
	if swagger2.ServerDefault != "https://api.example.com/v2" {
		t.Errorf("ServerDefault = %q", swagger2.ServerDefault)
	}
	if swagger2.OpenAPIVersion != "2.0" {
		t.Errorf("OpenAPIVersion = %q", swagger2.OpenAPIVersion)
	}
}

func TestCollectionFormats(t *testing.T) {
	c, g := server(t, 200, "application/json", `[{"id":1,"name":"Rex","tag":null,"born":"2020-02-29"}]`)
	pets, err := c.ListPets(ctx, swagger2.ListPetsParams{
		Tags:  []string{"a", "b"},
		IDs:   []int64{1, 2},
		Piped: []string{"x", "y"},
		Limit: oas.Some(int32(5)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "/v2/pets?tags=a,b&ids=1&ids=2&piped=x|y&limit=5"; g.uri != want {
		t.Errorf("sent %s, want %s", g.uri, want)
	}
	if g.key != "k-123" || g.accept != "application/json" {
		t.Errorf("X-API-Key %q, Accept %q", g.key, g.accept)
	}
	if len(pets) != 1 || oas.Or(pets[0].ID, 0) != 1 || !pets[0].Tag.IsNull() || oas.Or(pets[0].Born, oas.Date{}) != oas.NewDate(2020, 2, 29) {
		t.Errorf("decoded %+v", pets)
	}
}

func TestBodyParameterAndDefaultError(t *testing.T) {
	c, g := server(t, 201, "application/json", `{"id":7,"name":"Rex"}`)
	pet, err := c.CreatePet(ctx, swagger2.CreatePetParams{XRequestID: oas.Some("r1")}, swagger2.Pet{Name: "Rex", Tag: oas.Value("good")})
	if err != nil {
		t.Fatal(err)
	}
	if g.method != "POST" || g.contentType != "application/json" || g.body != `{"name":"Rex","tag":"good"}` || g.reqID != "r1" {
		t.Errorf("%s %s %q %s", g.method, g.contentType, g.body, g.reqID)
	}
	if oas.Or(pet.ID, 0) != 7 {
		t.Errorf("decoded %+v", pet)
	}

	c, _ = server(t, 409, "application/json", `{"code":17,"message":"exists"}`)
	_, err = c.CreatePet(ctx, swagger2.CreatePetParams{}, swagger2.Pet{Name: "Rex"})
	var apiErr *rest.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 409 {
		t.Fatalf("err = %v", err)
	}
	m, ok := apiErr.Model.(*swagger2.Error)
	if !ok || oas.Or(m.Code, 0) != 17 || oas.Or(m.Message, "") != "exists" {
		t.Errorf("Model = %#v", apiErr.Model)
	}
}

func TestFormDataMultipart(t *testing.T) {
	c, g := server(t, 200, "application/json", `{"name":"Rex"}`)
	_, err := c.UploadPhoto(ctx, swagger2.UploadPhotoParams{PetID: 42}, swagger2.UploadPhotoRequest{
		Caption: oas.Some("smile"),
		File:    oas.File{Name: "rex.png", ContentType: "image/png", Content: strings.NewReader("\x89PNG")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if g.uri != "/v2/pets/42/photo" || g.form["caption"][0] != "smile" || g.file != "\x89PNG" || g.fileName != "rex.png" {
		t.Errorf("%s: form %v, file %q named %q", g.uri, g.form, g.file, g.fileName)
	}
}

func TestFormDataURLEncoded(t *testing.T) {
	c, g := server(t, 204, "", "")
	if err := c.RenamePet(ctx, swagger2.RenamePetParams{PetID: 3}, swagger2.RenamePetRequest{Name: "Max Power"}); err != nil {
		t.Fatal(err)
	}
	if g.uri != "/v2/pets/3/rename" || g.contentType != "application/x-www-form-urlencoded" || g.body != "name=Max%20Power" {
		t.Errorf("%s %s %q", g.uri, g.contentType, g.body)
	}
}

func TestProducesText(t *testing.T) {
	c, g := server(t, 200, "text/csv", "id,name\n1,Rex\n")
	out, err := c.ExportPet(ctx, swagger2.ExportPetParams{PetID: 1})
	if err != nil {
		t.Fatal(err)
	}
	if g.accept != "text/csv" || out != "id,name\n1,Rex\n" {
		t.Errorf("Accept %q, got %q", g.accept, out)
	}
}
