package collect_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"switchboard/apitest"
	"switchboard/app"
	"switchboard/models/collect"
)

func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }

// env is a Switchboard under test with its Collect! token clock.
type env struct {
	*apitest.Env
	clock *apitest.Clock // Collect!'s token clock
}

func newEnv(t *testing.T, kind string) *env {
	return newEnvWithOptions(t, kind, app.Options{})
}

func newEnvWithOptions(t *testing.T, kind string, o app.Options) *env {
	t.Helper()
	c := apitest.NewClock(time.Now())
	o.CollectClock = c.Now
	return &env{Env: apitest.NewWithOptions(t, kind, o), clock: c}
}

// addDatabase stores a database directly (as `switchboard collect add-database` does).
func (e *env) addDatabase(t *testing.T, name string) *collect.Database {
	t.Helper()
	d, err := collect.CreateDatabase(context.Background(), e.DB, name)
	if err != nil {
		t.Fatalf("database %s: %v", name, err)
	}
	return d
}

// addOperator stores an operator of d directly.
func (e *env) addOperator(t *testing.T, d *collect.Database, opID, name, password string, active bool) *collect.Operator {
	t.Helper()
	level, function := int32(10), int32(1)
	o, err := collect.CreateOperator(context.Background(), e.DB, d.Scope(), collect.OperatorFields{
		OpID: &opID, OpName: &name, Password: &password, OpLevel: &level, OpFunction: &function, Active: &active})
	if err != nil {
		t.Fatalf("operator %s: %v", opID, err)
	}
	return o
}

// post sends a JSON body to a Collect! path with the given database header ("" sends none) and bearer
// token ("" sends none).
func (e *env) post(t *testing.T, path, database, token, body string) *apitest.Response {
	t.Helper()
	h := http.Header{}
	if database != "" {
		h.Set("x-collect-database", database)
	}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	req := apitest.Request{Method: http.MethodPost, Path: "/collect" + path, Header: h}
	if body != "" {
		req.Body = strings.NewReader(body)
		h.Set("Content-Type", "application/json")
	}
	return e.Do(t, req)
}

// loginReply is the contract's LoginReply.
type loginReply struct {
	Status int `json:"status"`
	Result struct {
		NxOperator struct {
			OpRowid    string `json:"op_rowid"`
			OpID       string `json:"op_id"`
			OpName     string `json:"op_name"`
			OpLevel    int    `json:"op_level"`
			OpFunction int    `json:"op_function"`
		} `json:"nx_operator"`
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	} `json:"result"`
}

// login logs in and answers the reply, failing the test unless it is a 200.
func (e *env) login(t *testing.T, database, opID, password string) loginReply {
	t.Helper()
	r := e.post(t, "/api/v1/auth/login", database, "", `{"op_id":"`+opID+`","op_password":"`+password+`"}`)
	var out loginReply
	r.JSON(t, &out)
	if r.Status != http.StatusOK || out.Status != 200 || out.Result.AccessToken == "" || out.Result.RefreshToken == "" {
		t.Fatalf("login %s/%s: %d %s", database, opID, r.Status, r.Body)
	}
	return out
}

// refresh sends a refresh token and answers the response.
func (e *env) refresh(t *testing.T, database, refreshToken string) *apitest.Response {
	t.Helper()
	return e.post(t, "/api/v1/auth/refresh", database, "", `{"refresh_token":"`+refreshToken+`"}`)
}

// authed is what probe answers once authenticated: 404, the form it reads is not there.
const authed = http.StatusNotFound

// probe answers the status of getForm for a form no database has: 404 once authenticated, else 401.
func (e *env) probe(t *testing.T, database, token string) int {
	t.Helper()
	h := http.Header{}
	if database != "" {
		h.Set("x-collect-database", database)
	}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	r := e.Do(t, apitest.Request{Method: http.MethodGet, Path: "/collect/api/v1/collect/ui/forms/35d01ff2-775d-ccb4-8f53-25d36f517384", Header: h})
	return r.Status
}

// expectError checks a Collect! failure: the HTTP status, the body's equal status, and its message.
func expectError(t *testing.T, r *apitest.Response, status int, msg string) {
	t.Helper()
	var body struct {
		Status  int    `json:"status"`
		Message string `json:"message"`
	}
	r.JSON(t, &body)
	if r.Status != status || body.Status != status || !strings.Contains(body.Message, msg) {
		t.Fatalf("got %d %s, want %d containing %q", r.Status, r.Body, status, msg)
	}
}
