package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"switchboard/apitest"
	"switchboard/app"
	"switchboard/auth"
	"switchboard/models"
	"switchboard/models/platform"
	"switchboard/server"
)

func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }

// TestServiceRoutes: the routes outside the vendor contracts.
func TestServiceRoutes(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := apitest.New(t, kind)
		for _, tc := range []struct {
			path       string
			wantStatus int
			wantBody   string
		}{
			{"/healthz", 200, "ok"},
			{"/readyz", 200, "ready"},
			{"/metrics", 200, "switchboard_http_request_duration_seconds"},
			{"/docs", 200, `href="/docs/ictcore/"`},
			{"/docs/cim/", 200, "swagger"},
			{"/docs/ictcore/swagger-ui-bundle.js", 200, ""},
			{"/openapi/ictcore.yaml", 200, "openapi: 3.0.3"},
			{"/openapi/asyncapi/accolades-crm.yaml", 200, "asyncapi:"},
			{"/openapi/../go.mod", 404, ""},
			{"/platform/health", 200, `"database":"ok"`},
			{"/accolades", 426, "Upgrade"}, // built: a plain GET is not an upgrade
			{"/docs/accolades-api/", 200, "swagger"},
			{"/collect/websocket", 426, "Upgrade"}, // built: a plain GET is not an upgrade
		} {
			r := e.Do(t, apitest.Request{Method: "GET", Path: tc.path})
			if r.Status != tc.wantStatus || !strings.Contains(string(r.Body), tc.wantBody) {
				t.Errorf("GET %s: %d %.200s, want %d containing %q", tc.path, r.Status, r.Body, tc.wantStatus, tc.wantBody)
			}
		}
	})
}

// TestErrorShapes: every API answers its credential, validation and not-found errors in its own
// vendor's error shape and status.
func TestErrorShapes(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, "sqlite")
	_, key, err := platform.CreateAPIKey(context.Background(), e.DB, "events", platform.ScopeEvents)
	if err != nil {
		t.Fatal(err)
	}
	form := "application/x-www-form-urlencoded"
	for _, tc := range []struct {
		name, method, path, ctype, body string
		withKey                         bool
		wantStatus                      int
		wantBody                        string
	}{
		{"collect login, no such database", "POST", "/collect/api/v1/auth/login", "application/json", `{"op_id":"OWN","op_password":"own"}`, false, 401, `"status":401`},
		{"collect secured without token", "GET", "/collect/api/v1/collect/data/debtor", "", "", false, 401, `"status":401`},
		{"collect bad body", "POST", "/collect/api/v1/auth/login", "application/json", `{"op_id":1}`, false, 400, `"status":400`},
		{"collect unknown path", "GET", "/collect/api/v1/data", "", "", false, 404, `"status":404`},
		{"cim secured without key", "GET", "/cim/getContactList", "", "", false, 401, `"statusCode":401`},
		{"cim with an events key", "GET", "/cim/getContactList", "", "", true, 403, `"statusCode":403`},
		{"cim unknown path", "GET", "/cim/nope", "", "", false, 404, `"statusCode":404`},
		{"ucontact bad login", "POST", "/ucontact/Integra/resources/auth/UserLogin", form, "user=a&password=b", false, 401, "0"},
		{"ucontact sms without key", "POST", "/ucontact/Integra/resources/SMS/SendSMS", form, "destination=1&message=hi", false, 401, "ERROR"},
		{"accolades unknown account", "POST", "/accolades-api/1/ping/", form, "password=x", false, 401, `"type":"Error"`},
		{"platform bad body", "POST", "/platform/call-events", "application/json", `{"direction":"sideways"}`, true, 400, `"status":400`},
		{"platform without credentials", "POST", "/platform/call-events", "", "", false, 401, `"status":401`},
		{"platform admin operation with an events key", "GET", "/platform/webhooks", "", "", true, 403, `"status":403`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := apitest.Request{Method: tc.method, Path: tc.path, Header: http.Header{}}
			if tc.withKey {
				req.Header.Set("X-API-Key", key)
			}
			if tc.body != "" {
				req.Body = strings.NewReader(tc.body)
				req.Header.Set("Content-Type", tc.ctype)
			}
			r := e.Do(t, req)
			if r.Status != tc.wantStatus || !strings.Contains(string(r.Body), tc.wantBody) {
				t.Fatalf("%d %s, want %d containing %q", r.Status, r.Body, tc.wantStatus, tc.wantBody)
			}
		})
	}
}

// TestBodyLimit: a JSON body over the limit is refused with the vendor's validation error before any handler runs.
func TestBodyLimit(t *testing.T) {
	t.Parallel()
	e := apitest.NewWithOptions(t, "sqlite", app.Options{Limits: server.Limits{Body: 64, Upload: 1 << 20}})
	body := `{"username":"admin","password":"` + strings.Repeat("p", 100) + `"}`
	for _, chunked := range []bool{false, true} {
		r := e.Do(t, apitest.Request{Method: "POST", Path: "/ictcore/authenticate", Body: strings.NewReader(body), Chunked: chunked,
			Header: apitest.Headers("Content-Type", "application/json")})
		if r.Status != 412 || !strings.Contains(string(r.Body), "larger than 64 bytes") {
			t.Fatalf("chunked=%v: %d %s", chunked, r.Status, r.Body)
		}
	}
}

// TestBadUTF8: a JSON body that is not UTF-8 is refused, not stored with replacement characters.
func TestBadUTF8(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, "sqlite")
	r := e.Do(t, apitest.Request{Method: "POST", Path: "/ictcore/authenticate",
		Body:   strings.NewReader("{\"username\":\"adm\xffin\",\"password\":\"x\"}"),
		Header: apitest.Headers("Content-Type", "application/json")})
	if r.Status != 412 || !strings.Contains(string(r.Body), "UTF-8") {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
}

// panicking is a server.API over the platform contract whose health handler panics.
type panicking struct{}

func (panicking) Name() string { return "platform" }
func (panicking) Register(g *echo.Group) {
	g.GET("/health", func(echo.Context) error { panic("boom") })
}
func (panicking) Identify(echo.Context) (*auth.Principal, error) { return &auth.Principal{}, nil }
func (panicking) Permissions() map[string][]string               { return nil }
func (panicking) Allows(*auth.Principal, string) bool            { return false }
func (panicking) Statuses() map[models.Kind]int                  { return models.Statuses(400) }
func (panicking) WriteError(c echo.Context, status int, msg string) error {
	return c.Blob(status, "application/problem+json", []byte(`{"type":"about:blank","title":"x","status":500,"detail":"`+msg+`"}`))
}

// TestPanicAnswersVendorError: a handler that panics answers a 500 in its API's own error shape, which
// the contract documents, and the server keeps serving.
func TestPanicAnswersVendorError(t *testing.T) {
	t.Parallel()
	h, err := server.New(server.Config{DB: apitest.NewDB(t, "sqlite"), APIs: []server.API{panicking{}},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/platform/health", nil))
		if rec.Code != 500 || rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%d %s %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
	}
}

// gated is a server.API over the platform contract whose secured operation (postCallEvent) is let in
// by Identify and judged by the permission table alone.
type gated struct {
	panicking
	table map[string][]string
}

func (g gated) Permissions() map[string][]string         { return g.table }
func (gated) Allows(_ *auth.Principal, perm string) bool { return perm == "granted" }
func (gated) Register(g *echo.Group) {
	g.POST("/call-events", func(c echo.Context) error { return c.NoContent(http.StatusAccepted) })
}

// TestPermissionTable: the contract middleware enforces each API's table after authentication, and an
// operation missing from it is refused (500, logged), never let through.
func TestPermissionTable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		table      map[string][]string
		wantStatus int
	}{
		{"no entry fails closed", map[string][]string{}, 500},
		{"permission held", map[string][]string{"postCallEvent": {"granted"}}, 0},
		{"one of two missing", map[string][]string{"postCallEvent": {"granted", "other"}}, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logged strings.Builder
			h, err := server.New(server.Config{DB: apitest.NewDB(t, "sqlite"), APIs: []server.API{gated{table: tc.table}},
				Log: slog.New(slog.NewTextHandler(&logged, nil))})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("POST", "/platform/call-events", strings.NewReader(`{}`))
			req.Header.Set("Content-Type", "application/json")
			h.ServeHTTP(rec, req)
			switch {
			case tc.wantStatus == 0 && (rec.Code == 403 || rec.Code >= 500):
				t.Fatalf("let through expected, got %d %s", rec.Code, rec.Body)
			case tc.wantStatus != 0 && rec.Code != tc.wantStatus:
				t.Fatalf("got %d %s, want %d", rec.Code, rec.Body, tc.wantStatus)
			case tc.wantStatus == 500 && !strings.Contains(logged.String(), "no entry in the permission table"):
				t.Fatalf("the missing entry was not logged: %s", logged.String())
			}
		})
	}
}

// TestOperationsIndexedByEchoRoute: every contract operation is mounted by echo under the route the
// contract middleware's index expects (method and path with :params), so no request of a contract's
// operation falls back to kin-openapi's slower route scan.
func TestOperationsIndexedByEchoRoute(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, "sqlite")
	mounted := map[string]bool{}
	for _, r := range e.Handler.(*echo.Echo).Routes() {
		mounted[r.Method+" "+r.Path] = true
	}
	param := regexp.MustCompile(`\{([^}/]+)\}`)
	for _, api := range []string{"ictcore", "collect", "cim", "ucontact", "platform", "accolades-api"} {
		doc, err := apitest.Contract(api)
		if err != nil {
			t.Fatal(err)
		}
		for path, item := range doc.Paths.Map() {
			for method := range item.Operations() {
				if key := method + " /" + api + param.ReplaceAllString(path, ":$1"); !mounted[key] {
					t.Errorf("%s: echo has no route %s", api, key)
				}
			}
		}
	}
}
