package ictcore_test

import (
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"switchboard/apitest"
	"switchboard/app"
)

func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }

// ictEnv is a Switchboard under test with an admin token for ICTCore.
type ictEnv struct {
	*apitest.Env
	token string
}

func newEnv(t *testing.T, kind string) *ictEnv {
	return newEnvWithOptions(t, kind, app.Options{})
}

func newEnvWithOptions(t *testing.T, kind string, o app.Options) *ictEnv {
	t.Helper()
	e := &ictEnv{Env: apitest.NewWithOptions(t, kind, o)}
	r := e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/ictcore/authenticate",
		Body:   apitest.JSONBody(t, map[string]string{"username": "admin", "password": apitest.AdminPassword}),
		Header: apitest.Headers("Content-Type", "application/json")})
	if r.Status != http.StatusOK {
		t.Fatalf("authenticate: %d %s", r.Status, r.Body)
	}
	var tok struct{ Token string }
	r.JSON(t, &tok)
	e.token = tok.Token
	return e
}

// call sends a JSON request as the admin; body nil sends none.
func (e *ictEnv) call(t testing.TB, method, path string, body any) *apitest.Response {
	t.Helper()
	h := apitest.Headers("Authorization", "Bearer "+e.token)
	var r io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			r = strings.NewReader(s)
		} else {
			r = apitest.JSONBody(t, body)
		}
		h.Set("Content-Type", "application/json")
	}
	return e.Do(t, apitest.Request{Method: method, Path: "/ictcore" + path, Body: r, Header: h})
}

// errorMessage reads ICTCore's error body.
func errorMessage(t *testing.T, r *apitest.Response) (int, string) {
	t.Helper()
	var body struct {
		Error struct {
			Code    int
			Message string
		}
	}
	r.JSON(t, &body)
	return body.Error.Code, body.Error.Message
}

// errorCase is one request that must fail with ICTCore's error body.
type errorCase struct {
	name, method, path string
	body               any
	wantStatus         int
	wantMessage        string
}

// expectErrors sends each case as the admin and checks the status, the body's code and its message.
func (e *ictEnv) expectErrors(t *testing.T, cases []errorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.call(t, tc.method, tc.path, tc.body)
			code, msg := errorMessage(t, r)
			if r.Status != tc.wantStatus || code != tc.wantStatus || !strings.Contains(msg, tc.wantMessage) {
				t.Fatalf("got %d %s, want %d containing %q", r.Status, r.Body, tc.wantStatus, tc.wantMessage)
			}
		})
	}
}
