package cim_test

import (
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"

	"switchboard/apitest"
	"switchboard/models/platform"
)

func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }

// env is a Switchboard under test with a CIM API key, made as `switchboard key add NAME cim` makes it.
type env struct {
	*apitest.Env
	key string
}

func newEnv(t *testing.T, kind string) *env {
	t.Helper()
	e := &env{Env: apitest.New(t, kind)}
	e.key = e.newKey(t, "cim test", platform.ScopeCIM)
	return e
}

// newKey stores a platform API key of the scope directly and answers it.
func (e *env) newKey(t *testing.T, name, scope string) string { return e.APIKey(t, name, scope) }

// call sends a request to a CIM path with the CIM key as X-API-Key; body nil sends none, a string is sent
// as it is (JSON), anything else is encoded as JSON. The answer is checked against the contract.
func (e *env) call(t testing.TB, method, path string, body any) *apitest.Response {
	t.Helper()
	return e.callWith(t, apitest.Headers("X-API-Key", e.key), method, path, body)
}

// callWith is call with other credentials (h may be empty: none).
func (e *env) callWith(t testing.TB, h http.Header, method, path string, body any) *apitest.Response {
	t.Helper()
	return e.SendJSON(t, h, method, "/cim"+path, body)
}

// ok sends a request that must answer 200 and decodes its body into out (when not nil).
func (e *env) ok(t testing.TB, method, path string, body, out any) *apitest.Response {
	t.Helper()
	r := e.call(t, method, path, body)
	if r.Status != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
	}
	if out != nil {
		reflect.ValueOf(out).Elem().SetZero() // decoding into a used map would keep its old keys
		r.JSON(t, out)
	}
	return r
}

// cimError is the contract's CimError.
type cimError struct {
	StatusCode int    `json:"statusCode"`
	Error      string `json:"error"`
	Message    string `json:"message"`
}

// expectError checks that r is a CimError of the status whose message contains msg.
func expectError(t testing.TB, r *apitest.Response, status int, msg string) {
	t.Helper()
	var e cimError
	r.JSON(t, &e)
	if r.Status != status || e.StatusCode != status || e.Error != http.StatusText(status) || !strings.Contains(e.Message, msg) {
		t.Fatalf("got %d %s, want %d containing %q", r.Status, r.Body, status, msg)
	}
}

// errorCase is one request that must fail with a CimError.
type errorCase struct {
	name, method, path string
	body               any
	status             int
	msg                string
}

// expectErrors sends each case with the CIM key.
func (e *env) expectErrors(t *testing.T, cases []errorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expectError(t, e.call(t, tc.method, tc.path, tc.body), tc.status, tc.msg)
		})
	}
}

// contact is a contact as answered: attribute key → value.
type contact map[string]any

func (c contact) id() string { s, _ := c["_id"].(string); return s }

// save stores a contact through POST /saveContact and answers it.
func (e *env) save(t testing.TB, body any) contact {
	t.Helper()
	var c contact
	e.ok(t, "POST", "/saveContact", body, &c)
	if len(c.id()) != 24 {
		t.Fatalf("saved contact without an _id: %v", c)
	}
	return c
}

// attribute is a SchemaAttribute.
type attribute struct {
	ID         string `json:"_id"`
	Label      string `json:"label"`
	Key        string `json:"key"`
	Type       string `json:"type"`
	Predefined bool   `json:"predefined"`
}

// addAttribute adds a custom attribute and answers it.
func (e *env) addAttribute(t testing.TB, key, typ string) attribute {
	t.Helper()
	var a attribute
	e.ok(t, "POST", "/saveSchema", map[string]string{"label": key, "key": key, "type": typ}, &a)
	return a
}

// ids answers the _ids of contacts, in order.
func ids(cs []contact) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.id()
	}
	return out
}
