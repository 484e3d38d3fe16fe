package contracttest

import (
	"context"
	"maps"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"switchboard/apitest"
	"switchboard/app"
	"switchboard/models"
)

// TestPermissionTables lists every secured operation that its API's permission table lacks. The server
// refuses such an operation with a 500 (fail closed); this test names them before a client finds one.
// APIs whose authentication is not built yet are skipped: all their secured operations answer 501.
func TestPermissionTables(t *testing.T) {
	t.Parallel()
	apis, err := app.APIs(context.Background(), app.Options{DB: apitest.NewDB(t, "sqlite")})
	if err != nil {
		t.Fatal(err)
	}
	for _, api := range apis {
		_, err := api.Identify(echo.New().NewContext(httptest.NewRequest("GET", "/", nil), httptest.NewRecorder()))
		if models.KindOf(err) == models.NotBuilt {
			t.Logf("%s: authentication not built yet, no table to check", api.Name())
			continue
		}
		doc, err := apitest.Contract(api.Name())
		if err != nil {
			t.Fatal(err)
		}
		table := maps.Clone(api.Permissions())
		secured := 0
		for _, path := range doc.Paths.InMatchingOrder() {
			for _, op := range doc.Paths.Value(path).Operations() {
				sec := doc.Security
				if op.Security != nil {
					sec = *op.Security
				}
				if len(sec) == 0 {
					continue
				}
				secured++
				if _, ok := table[op.OperationID]; !ok {
					t.Errorf("%s: secured operation %s has no entry in the permission table", api.Name(), op.OperationID)
				}
				delete(table, op.OperationID)
			}
		}
		for op := range table {
			t.Errorf("%s: the permission table lists %s, which the contract does not have", api.Name(), op)
		}
		t.Logf("%s: %d secured operations, each in the permission table", api.Name(), secured)
	}
}
