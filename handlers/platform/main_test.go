package platform_test

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"switchboard/apitest"
	"switchboard/app"
	"switchboard/models/platform"
)

func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }

// region is the default region of every test env: national numbers are Pakistani.
const region = "PK"

// env is a Switchboard under test with an admin API key, made as `switchboard key add` makes it.
type env struct {
	*apitest.Env
	key string
}

func newEnv(t *testing.T, kind string) *env {
	return newEnvWithOptions(t, kind, app.Options{})
}

func newEnvWithOptions(t *testing.T, kind string, o app.Options) *env {
	t.Helper()
	o.PhoneRegion = region
	e := &env{Env: apitest.NewWithOptions(t, kind, o)}
	e.key = e.newKey(t, "test admin", platform.ScopeAdmin)
	return e
}

// newKey stores a platform API key of the scope directly and answers it.
func (e *env) newKey(t *testing.T, name, scope string) string { return e.APIKey(t, name, scope) }

// call sends a request to the platform API with the admin key; body nil sends none, a string is sent as
// it is (JSON), anything else encoded as JSON.
func (e *env) call(t testing.TB, method, path string, body any) *apitest.Response {
	t.Helper()
	return e.callWith(t, apitest.Headers("X-API-Key", e.key), method, path, body)
}

// callWith is call with other credentials (h may be empty: none).
func (e *env) callWith(t testing.TB, h http.Header, method, path string, body any) *apitest.Response {
	t.Helper()
	return e.SendJSON(t, h, method, "/platform"+path, body)
}

// problem is an RFC 7807 body.
type problem struct {
	Type, Title, Detail string
	Status              int
}

// errorCase is one request that must fail with a problem document.
type errorCase struct {
	name, method, path string
	body               any
	wantStatus         int
	wantDetail         string
}

// expectErrors sends each case with the admin key and checks the status, the problem's status and detail.
func (e *env) expectErrors(t *testing.T, cases []errorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expectProblem(t, e.call(t, tc.method, tc.path, tc.body), tc.wantStatus, tc.wantDetail)
		})
	}
}

// expectProblem checks that r is a problem document of the status whose detail contains detail.
func expectProblem(t *testing.T, r *apitest.Response, status int, detail string) {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("got %d %s (%s), want a problem document %d", r.Status, r.Body, ct, status)
	}
	var p problem
	r.JSON(t, &p)
	if r.Status != status || p.Status != status || p.Title != http.StatusText(status) || !strings.Contains(p.Detail, detail) {
		t.Fatalf("got %d %s, want %d containing %q", r.Status, r.Body, status, detail)
	}
}

// ictcoreToken signs in to ICTCore and answers the token.
func (e *env) ictcoreToken(t *testing.T, username, password string) string {
	t.Helper()
	r := e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/ictcore/authenticate",
		Body:   apitest.JSONBody(t, map[string]string{"username": username, "password": password}),
		Header: apitest.Headers("Content-Type", "application/json")})
	if r.Status != http.StatusOK {
		t.Fatalf("authenticate %s: %d %s", username, r.Status, r.Body)
	}
	var tok struct{ Token string }
	r.JSON(t, &tok)
	return tok.Token
}

// createCampaign makes an ICTCore campaign through ICTCore's API and answers its id.
func (e *env) createCampaign(t *testing.T) int64 {
	t.Helper()
	tok := e.ictcoreToken(t, "admin", apitest.AdminPassword)
	r := e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/ictcore/campaigns", Body: strings.NewReader(`{"cpm":10}`),
		Header: apitest.Headers("Content-Type", "application/json", "Authorization", "Bearer "+tok)})
	var out struct {
		CampaignID int64 `json:"campaign_id"`
	}
	r.JSON(t, &out)
	if r.Status != http.StatusOK || out.CampaignID == 0 {
		t.Fatalf("create campaign: %d %s", r.Status, r.Body)
	}
	return out.CampaignID
}

// createList makes a do-not-call list and answers its id.
func (e *env) createList(t *testing.T, name string, global bool) int64 {
	t.Helper()
	r := e.call(t, "POST", "/dnc-lists", map[string]any{"name": name, "global": global})
	var l dncList
	r.JSON(t, &l)
	if r.Status != http.StatusCreated || l.ID == 0 {
		t.Fatalf("create list: %d %s", r.Status, r.Body)
	}
	return l.ID
}

type dncList struct {
	ID          int64   `json:"id"`
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Global      bool    `json:"global"`
	CampaignIDs []int64 `json:"campaign_ids"`
	CreatedAt   string  `json:"created_at"`
	UpdatedAt   string  `json:"updated_at"`
}
