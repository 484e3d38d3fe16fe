package platform_test

import (
	"net/http"
	"strings"
	"testing"

	"switchboard/apitest"
)

type collectDatabase struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	CreatedAt string `json:"created_at"`
}

// twoDatabases makes cv_demodb and cv_other through the platform API: one to work in, one that must see
// none of it.
func (e *env) twoDatabases(t *testing.T) (demo, other collectDatabase) {
	t.Helper()
	e.call(t, "POST", "/collect-databases", map[string]any{"name": "cv_demodb"}).JSON(t, &demo)
	e.call(t, "POST", "/collect-databases", map[string]any{"name": "cv_other"}).JSON(t, &other)
	if demo.ID == 0 || other.ID == 0 {
		t.Fatalf("databases not made: %+v %+v", demo, other)
	}
	return demo, other
}

type collectOperator struct {
	ID         int64  `json:"id"`
	DatabaseID int64  `json:"database_id"`
	OpID       string `json:"op_id"`
	OpName     string `json:"op_name"`
	OpLevel    int32  `json:"op_level"`
	OpFunction int32  `json:"op_function"`
	Active     bool   `json:"active"`
	CreatedAt  string `json:"created_at"`
	UpdatedAt  string `json:"updated_at"`
	Password   string `json:"password"`
}

// collectLogin logs in to the Collect! API and answers the status and the access token.
func (e *env) collectLogin(t *testing.T, database, opID, password string) (int, string) {
	t.Helper()
	r := e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/collect/api/v1/auth/login",
		Body:   strings.NewReader(`{"op_id":"` + opID + `","op_password":"` + password + `"}`),
		Header: apitest.Headers("Content-Type", "application/json", "x-collect-database", database)})
	var out struct {
		Result struct {
			AccessToken string `json:"access_token"`
		} `json:"result"`
	}
	r.JSON(t, &out)
	return r.Status, out.Result.AccessToken
}

// collectProbe answers the status of getForm for a form no database has, with the token: 404 once
// authenticated, else 401.
func (e *env) collectProbe(t *testing.T, database, token string) int {
	t.Helper()
	return e.Do(t, apitest.Request{Method: http.MethodGet, Path: "/collect/api/v1/collect/ui/forms/35d01ff2-775d-ccb4-8f53-25d36f517384",
		Header: apitest.Headers("x-collect-database", database, "Authorization", "Bearer "+token)}).Status
}

func TestCollectAdmin(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		var demo, other collectDatabase
		r := e.call(t, "POST", "/collect-databases", map[string]any{"name": "cv_demodb"})
		r.JSON(t, &demo)
		if r.Status != 201 || demo.ID == 0 || demo.Name != "cv_demodb" || demo.CreatedAt == "" {
			t.Fatalf("create database: %d %s", r.Status, r.Body)
		}
		e.call(t, "POST", "/collect-databases", map[string]any{"name": "cv_other"}).JSON(t, &other)
		var dbs []collectDatabase
		r = e.call(t, "GET", "/collect-databases?limit=1", nil)
		r.JSON(t, &dbs)
		if r.Status != 200 || len(dbs) != 1 || dbs[0].ID != demo.ID || !strings.Contains(r.Header.Get("Link"), "after="+itoa(demo.ID)) {
			t.Fatalf("list databases: %d %s (Link %q)", r.Status, r.Body, r.Header.Get("Link"))
		}
		var got collectDatabase
		if e.call(t, "GET", "/collect-databases/"+itoa(other.ID), nil).JSON(t, &got); got != other {
			t.Fatalf("get database: %+v, want %+v", got, other)
		}

		base := "/collect-databases/" + itoa(demo.ID) + "/operators"
		var own collectOperator
		r = e.call(t, "POST", base, map[string]any{"op_id": "OWN", "op_name": "Owner Of The Company", "password": "own",
			"op_level": 10, "op_function": 1})
		r.JSON(t, &own)
		if r.Status != 201 || own.OpID != "OWN" || own.DatabaseID != demo.ID || own.OpLevel != 10 || own.OpFunction != 1 ||
			!own.Active || own.Password != "" || strings.Contains(string(r.Body), "own\"") {
			t.Fatalf("create operator: %d %s", r.Status, r.Body)
		}
		// The same op_id in another database is another operator.
		if r := e.call(t, "POST", "/collect-databases/"+itoa(other.ID)+"/operators", map[string]any{"op_id": "OWN", "password": "x"}); r.Status != 201 {
			t.Fatalf("OWN in another database: %d %s", r.Status, r.Body)
		}
		var ops []collectOperator
		if e.call(t, "GET", base, nil).JSON(t, &ops); len(ops) != 1 || ops[0].ID != own.ID {
			t.Fatalf("list operators: %+v", ops)
		}
		var one collectOperator
		if e.call(t, "GET", base+"/"+itoa(own.ID), nil).JSON(t, &one); one != own {
			t.Fatalf("get operator: %+v, want %+v", one, own)
		}

		// The operator logs in to the Collect! API; a new password ends its sessions.
		status, tok := e.collectLogin(t, "cv_demodb", "OWN", "own")
		if status != 200 || e.collectProbe(t, "cv_demodb", tok) != 404 {
			t.Fatalf("login of the new operator: %d", status)
		}
		var changed collectOperator
		r = e.call(t, "PATCH", base+"/"+itoa(own.ID), map[string]any{"op_name": "Owner", "password": "new-secret"})
		r.JSON(t, &changed)
		if r.Status != 200 || changed.OpName != "Owner" || changed.OpLevel != 10 || !changed.Active {
			t.Fatalf("patch: %d %s", r.Status, r.Body)
		}
		if s := e.collectProbe(t, "cv_demodb", tok); s != 401 {
			t.Fatalf("token after a new password: %d", s)
		}
		if s, _ := e.collectLogin(t, "cv_demodb", "OWN", "own"); s != 401 {
			t.Fatalf("old password: %d", s)
		}
		status, tok = e.collectLogin(t, "cv_demodb", "OWN", "new-secret")
		if status != 200 {
			t.Fatalf("new password: %d", status)
		}
		// Deactivation ends the sessions too, and refuses logins.
		if r := e.call(t, "PATCH", base+"/"+itoa(own.ID), map[string]any{"active": false}); r.Status != 200 || !strings.Contains(string(r.Body), `"active":false`) {
			t.Fatalf("deactivate: %d %s", r.Status, r.Body)
		}
		if s := e.collectProbe(t, "cv_demodb", tok); s != 401 {
			t.Fatalf("token after deactivation: %d", s)
		}
		if s, _ := e.collectLogin(t, "cv_demodb", "OWN", "new-secret"); s != 401 {
			t.Fatalf("login of an inactive operator: %d", s)
		}
		e.call(t, "PATCH", base+"/"+itoa(own.ID), map[string]any{"active": true})
		status, tok = e.collectLogin(t, "cv_demodb", "OWN", "new-secret")
		if status != 200 {
			t.Fatalf("login after reactivation: %d", status)
		}

		e.call(t, "POST", base, map[string]any{"op_id": "SAL", "password": "sal"})
		otherBase := "/collect-databases/" + itoa(other.ID) + "/operators"
		e.expectErrors(t, []errorCase{
			{"database name without cv_", "POST", "/collect-databases", map[string]any{"name": "demodb"}, 400, "name"},
			{"database name missing", "POST", "/collect-databases", map[string]any{}, 400, "name"},
			{"database name taken", "POST", "/collect-databases", map[string]any{"name": "cv_demodb"}, 409, `"cv_demodb" exists already`},
			{"get unknown database", "GET", "/collect-databases/999", nil, 404, "database 999 not found"},
			{"database id zero", "GET", "/collect-databases/0", nil, 400, "database_id"},
			{"delete unknown database", "DELETE", "/collect-databases/999", nil, 404, "database 999 not found"},
			{"delete a database with operators", "DELETE", "/collect-databases/" + itoa(demo.ID), nil, 409, "still has 2 operators"},
			{"operator in unknown database", "POST", "/collect-databases/999/operators", map[string]any{"op_id": "X", "password": "x"}, 404, "database 999 not found"},
			{"operators of unknown database", "GET", "/collect-databases/999/operators", nil, 404, "database 999 not found"},
			{"op_id taken", "POST", base, map[string]any{"op_id": "OWN", "password": "x"}, 409, `operator "OWN" already`},
			{"password missing", "POST", base, map[string]any{"op_id": "NEW"}, 400, "password"},
			{"password too long", "POST", base, map[string]any{"op_id": "NEW", "password": strings.Repeat("p", 73)}, 400, "password"},
			{"negative level", "POST", base, map[string]any{"op_id": "NEW", "password": "x", "op_level": -1}, 400, "op_level"},
			{"unknown field", "POST", base, map[string]any{"op_id": "NEW", "password": "x", "password_hash": "x"}, 400, "password_hash"},
			{"operator of another database", "GET", otherBase + "/" + itoa(own.ID), nil, 404, "not found"},
			{"patch operator of another database", "PATCH", otherBase + "/" + itoa(own.ID), map[string]any{"op_name": "x"}, 404, "not found"},
			{"delete operator of another database", "DELETE", otherBase + "/" + itoa(own.ID), nil, 404, "not found"},
			{"get unknown operator", "GET", base + "/999", nil, 404, "operator 999 not found"},
			{"patch nothing", "PATCH", base + "/" + itoa(own.ID), map[string]any{}, 400, ""},
			{"patch op_id to a taken one", "PATCH", base + "/" + itoa(own.ID), map[string]any{"op_id": "SAL"}, 409, `operator "SAL" already`},
			{"patch unknown operator", "PATCH", base + "/999", map[string]any{"op_name": "x"}, 404, "operator 999 not found"},
			{"delete unknown operator", "DELETE", base + "/999", nil, 404, "operator 999 not found"},
		})
		if s := e.collectProbe(t, "cv_demodb", tok); s != 404 {
			t.Fatalf("refused requests ended a session: %d", s)
		}

		// Deleting an operator ends its sessions; an emptied database can be deleted.
		if r := e.call(t, "DELETE", base+"/"+itoa(own.ID), nil); r.Status != 204 {
			t.Fatalf("delete operator: %d %s", r.Status, r.Body)
		}
		if s := e.collectProbe(t, "cv_demodb", tok); s != 401 {
			t.Fatalf("token of a deleted operator: %d", s)
		}
		e.call(t, "GET", base, nil).JSON(t, &ops)
		for _, o := range ops {
			e.call(t, "DELETE", base+"/"+itoa(o.ID), nil)
		}
		if r := e.call(t, "DELETE", "/collect-databases/"+itoa(demo.ID), nil); r.Status != 204 {
			t.Fatalf("delete emptied database: %d %s", r.Status, r.Body)
		}
		expectProblem(t, e.call(t, "GET", "/collect-databases/"+itoa(demo.ID), nil), 404, "not found")
	})
}

// TestCollectAdminCredentials: the Collect! administration is the admin's: 401 without credentials, 403
// with an events key or an ICTCore user who is not an admin; an ICTCore admin's token works.
func TestCollectAdminCredentials(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		events := e.newKey(t, "crm", "events")
		admin := e.ictcoreToken(t, "admin", apitest.AdminPassword)
		for _, op := range []struct{ method, path string }{
			{"POST", "/collect-databases"}, {"GET", "/collect-databases"}, {"GET", "/collect-databases/1"},
			{"DELETE", "/collect-databases/1"}, {"POST", "/collect-databases/1/operators"},
			{"GET", "/collect-databases/1/operators"}, {"GET", "/collect-databases/1/operators/1"},
			{"PATCH", "/collect-databases/1/operators/1"}, {"DELETE", "/collect-databases/1/operators/1"},
		} {
			var body any
			if op.method == "POST" || op.method == "PATCH" {
				body = map[string]any{"name": "cv_x"}
			}
			expectProblem(t, e.callWith(t, http.Header{}, op.method, op.path, body), 401, "missing credentials")
			expectProblem(t, e.callWith(t, apitest.Headers("X-API-Key", events), op.method, op.path, body), 403, "not permitted")
		}
		r := e.callWith(t, apitest.Headers("Authorization", "Bearer "+admin), "POST", "/collect-databases", map[string]any{"name": "cv_x"})
		if r.Status != 201 {
			t.Fatalf("ICTCore admin token: %d %s", r.Status, r.Body)
		}
	})
}
