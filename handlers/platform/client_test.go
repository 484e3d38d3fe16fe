package platform_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"switchboard/apitest"
	"switchboard/gen/platformapi"
)

// TestGeneratedClient drives the platform API with the generated Go client over a real listener, as a
// partner would: a key from the CLI's path, a list, a CSV import, a lookup, and a problem document.
func TestGeneratedClient(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		srv := httptest.NewServer(e.Handler)
		defer srv.Close()
		ctx := context.Background()
		withKey := func(_ context.Context, req *http.Request) error {
			req.Header.Set("X-API-Key", e.key)
			return nil
		}
		c, err := platformapi.NewClientWithResponses(srv.URL+"/platform", platformapi.WithRequestEditorFn(withKey))
		if err != nil {
			t.Fatal(err)
		}
		global := true
		created, err := c.CreateDncListWithResponse(ctx, platformapi.CreateDncListJSONRequestBody{Name: "registry", Global: &global})
		if err != nil || created.JSON201 == nil {
			t.Fatalf("create: %v %s", err, created.Body)
		}
		imported, err := c.ImportDncNumbersCsvWithBodyWithResponse(ctx, created.JSON201.Id, "text/csv", strings.NewReader("03001234567\n"))
		if err != nil || imported.JSON200 == nil || imported.JSON200.Added != 1 {
			t.Fatalf("import: %v %s", err, imported.Body)
		}
		found, err := c.LookupDncWithResponse(ctx, &platformapi.LookupDncParams{Number: "+923001234567"})
		if err != nil || found.JSON200 == nil || len(found.JSON200.Lists) != 1 || found.JSON200.Lists[0].Name != "registry" {
			t.Fatalf("lookup: %v %s", err, found.Body)
		}
		bad, err := c.LookupDncWithResponse(ctx, &platformapi.LookupDncParams{Number: "12ab"})
		if err != nil || bad.ApplicationproblemJSON400 == nil || bad.ApplicationproblemJSON400.Status != 400 {
			t.Fatalf("400 through the client: %v %s", err, bad.Body)
		}
	})
}
