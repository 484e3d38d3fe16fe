package accolades_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard/apitest"
	"switchboard/app"
	"switchboard/auth"
	"switchboard/gateway"
	"switchboard/gen/accoladesapi"
	"switchboard/handlers/accolades"
	"switchboard/models/events"
	"switchboard/models/platform"
)

// TestPing: the right credentials answer pong; an unknown account, no password and a wrong one answer 401
// alike; what is not the contract answers in the vendor's shape (404, 400, 413).
func TestPing(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		n := newNode(t, kind, nil, accolades.Config{})
		s := n.seed(t)
		r := n.form(t, "/1001/ping/", url.Values{"password": {s.password}})
		if r.Status != 200 || strings.TrimSpace(string(r.Body)) != `{"type":"pong"}` || r.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("ping: %d %s (%s)", r.Status, r.Body, r.Header.Get("Content-Type"))
		}
		// GET values are ignored; the form's password counts.
		r = n.Do(t, apitest.Request{Method: "POST", Path: "/accolades-api/1001/ping/?password=nope", Body: strings.NewReader("password=" + s.password),
			Header: apitest.Headers("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")})
		if r.Status != 200 {
			t.Fatalf("ping with a query: %d %s", r.Status, r.Body)
		}
		expectError(t, n.form(t, "/1001/ping/", url.Values{"password": {"wrong-password"}}), 401, "Unauthorized", "401")
		expectError(t, n.form(t, "/1001/ping/", url.Values{"password": {s.otherAccountPw}}), 401, "Unauthorized", "401")
		expectError(t, n.form(t, "/9999/ping/", url.Values{"password": {s.password}}), 401, "Unauthorized", "401")
		expectError(t, n.form(t, "/1001/ping/", url.Values{}), 401, "Unauthorized", "401")
		expectError(t, n.Do(t, apitest.Request{Method: "POST", Path: "/accolades-api/1001/ping/"}), 401, "Unauthorized", "401")
		expectError(t, n.Do(t, apitest.Request{Method: "GET", Path: "/accolades-api/1001/ping/"}), 404, "Not found", "404")
		expectError(t, n.form(t, "/1001/ping", url.Values{"password": {s.password}}), 404, "Not found", "404")
		expectError(t, n.form(t, "/1001/nope/", url.Values{"password": {s.password}}), 404, "Not found", "404")
		expectError(t, n.Do(t, apitest.Request{Method: "POST", Path: "/accolades-api/1001/ping/", Body: strings.NewReader(`{"password":"x"}`),
			Header: apitest.Headers("Content-Type", "application/json")}), 400, "Bad request: ", "400")
		expectError(t, n.form(t, "/"+strings.Repeat("9", 65)+"/ping/", url.Values{"password": {s.password}}), 400, "Bad request: ", "400")
		big := url.Values{"password": {s.password}, "pad": {strings.Repeat("x", 1<<20)}}
		expectError(t, n.form(t, "/1001/ping/", big), 413, "Payload Too Large", "413")
	})
}

// TestThrottled: too many failed passwords for an account or from an address answer 403 "IP address
// rejected", code 403.6, even with the right password, until the window passes.
func TestThrottled(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		n := newNode(t, kind, nil, accolades.Config{Logins: auth.NewGuard(auth.GuardConfig{MaxFailures: 3, Window: time.Minute})})
		s := n.seed(t)
		for range 3 {
			expectError(t, n.form(t, "/1001/ping/", url.Values{"password": {"wrong-password"}}), 401, "Unauthorized", "401")
		}
		expectError(t, n.form(t, "/1001/ping/", url.Values{"password": {s.password}}), 403, "IP address rejected", "403.6")
		expectError(t, n.form(t, "/1001/dial/", url.Values{"password": {s.password}, "deviceId": {"27"}, "phoneNumber": {"1"}}), 403, "IP address rejected", "403.6")
	})
}

// TestDial: dial/ publishes the outbound ringing event of the device's agent (whose CRM gets outgoingCall
// with the call's uniqueId) before answering ok, then rings the device through the simulator and publishes
// answered, or ended when the simulated device does not answer. Bad requests answer the vendor's errors.
func TestDial(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		n := newNode(t, kind, nil, accolades.Config{})
		s := n.seed(t)
		ana, bob := n.connect(t), n.connect(t)
		ana.auth(t, s.ana.CrmID)
		bob.auth(t, s.bob.CrmID)
		r := n.form(t, "/1001/dial/", url.Values{"password": {s.password}, "deviceId": {"27"}, "phoneNumber": {"0211234567"}})
		if r.Status != 200 || strings.TrimSpace(string(r.Body)) != `{"type":"ok"}` {
			t.Fatalf("dial: %d %s", r.Status, r.Body)
		}
		m := ana.read(t, "outgoingCall")
		ringing := n.pub.waitFor(t, func(e events.CallEvent) bool { return e.State == events.Ringing })
		if ringing.Direction != events.Outbound || ringing.Agent != s.ana.CrmID || ringing.Phone != "0211234567" || ringing.CallCenter ||
			ringing.Source != "accolades" || m["uniqueId"] != ringing.UniqueID || m["phoneNumber"] != "0211234567" || m["callCenter"] != "no" {
			t.Fatalf("ringing %+v, pushed %v", ringing, m)
		}
		n.pub.waitFor(t, func(e events.CallEvent) bool { return e.State == events.Answered && e.UniqueID == ringing.UniqueID })
		bob.quiet(t)
		ana.quiet(t) // answered pushes nothing

		expectError(t, n.form(t, "/1001/dial/", url.Values{"password": {s.password}, "deviceId": {"29"}, "phoneNumber": {"1"}}), 404, "Not found: no device 29", "404")
		expectError(t, n.form(t, "/1001/dial/", url.Values{"password": {s.password}, "deviceId": {"99"}, "phoneNumber": {"1"}}), 404, "Not found", "404")
		expectError(t, n.form(t, "/1001/dial/", url.Values{"password": {s.password}, "deviceId": {"27"}}), 400, "Bad request: ", "400")
		expectError(t, n.form(t, "/1001/dial/", url.Values{"password": {s.password}, "deviceId": {"27"}, "phoneNumber": {"call me"}}), 400, "Bad request: ", "400")
		expectError(t, n.form(t, "/1001/dial/", url.Values{"password": {s.password}, "deviceId": {"x27"}, "phoneNumber": {"1"}}), 400, "Bad request: ", "400")
		expectError(t, n.form(t, "/1001/dial/", url.Values{"password": {"wrong-password"}, "deviceId": {"27"}, "phoneNumber": {"1"}}), 401, "Unauthorized", "401")
		expectError(t, n.form(t, "/1001/dial/", url.Values{"deviceId": {"27"}, "phoneNumber": {"1"}}), 401, "Unauthorized", "401")
		if got := len(n.pub.published()); got != 2 {
			t.Fatalf("%d events published, want the one call's ringing and answered", got)
		}

		// A simulated device that never answers ends the call.
		quiet := newNode(t, kind, n.Env, accolades.Config{Sim: gateway.SimConfig{NoAnswerRate: 1}})
		if r := quiet.form(t, "/2002/dial/", url.Values{"password": {s.otherAccountPw}, "deviceId": {"29"}, "phoneNumber": {"+40211234567"}}); r.Status != 200 {
			t.Fatalf("dial: %d %s", r.Status, r.Body)
		}
		quiet.pub.waitFor(t, func(e events.CallEvent) bool { return e.State == events.Ended && e.Agent == s.otherAgent.CrmID })
	})
}

// TestGeneratedClient drives the REST API with the generated Go client over a real listener, as a partner
// would.
func TestGeneratedClient(t *testing.T) {
	t.Parallel()
	n := newNode(t, "sqlite", nil, accolades.Config{})
	s := n.seed(t)
	srv := httptest.NewServer(n.Handler)
	defer srv.Close()
	c, err := accoladesapi.NewClientWithResponses(srv.URL + "/accolades-api")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pong, err := c.PingWithFormdataBodyWithResponse(ctx, "1001", accoladesapi.PingFormdataRequestBody{Password: &s.password})
	if err != nil || pong.JSON200 == nil || pong.JSON200.Type != accoladesapi.PongTypePong {
		t.Fatalf("ping: %v %s", err, pong.Body)
	}
	bad := "wrong-password"
	denied, err := c.PingWithFormdataBodyWithResponse(ctx, "1001", accoladesapi.PingFormdataRequestBody{Password: &bad})
	if err != nil || denied.JSON401 == nil || denied.JSON401.Code != "401" || denied.JSON401.Type != accoladesapi.ErrorTypeError {
		t.Fatalf("ping with a wrong password: %v %s", err, denied.Body)
	}
	ok, err := c.DialWithFormdataBodyWithResponse(ctx, "1001", accoladesapi.DialFormdataRequestBody{Password: &s.password, DeviceId: "28", PhoneNumber: "0211234567"})
	if err != nil || ok.JSON200 == nil || ok.JSON200.Type != accoladesapi.OkTypeOk {
		t.Fatalf("dial: %v %s", err, ok.Body)
	}
	n.pub.waitFor(t, func(e events.CallEvent) bool { return e.Agent == s.bob.CrmID && e.State == events.Ringing })
}

// TestThroughApp: the Accolades API as app.Build assembles it, on the real call-event stream: an agent made
// through the platform API authenticates on /accolades; a call event POSTed to the platform API for its CRM
// id reaches it as incomingCall, and dial/ as outgoingCall; the other agent's CRM hears nothing.
func TestThroughApp(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := apitest.NewWithOptions(t, kind, app.Options{})
		_, key, err := platform.CreateAPIKey(context.Background(), e.DB, "admin", platform.ScopeAdmin)
		if err != nil {
			t.Fatal(err)
		}
		call := func(method, path, body string) *apitest.Response {
			h := apitest.Headers("X-API-Key", key)
			req := apitest.Request{Method: method, Path: "/platform" + path, Header: h}
			if body != "" {
				h.Set("Content-Type", "application/json")
				req.Body = strings.NewReader(body)
			}
			return e.Do(t, req)
		}
		var acct struct{ ID int64 }
		r := call("POST", "/accolades-accounts", `{"account_number":"1001","password":"accolades-pw"}`)
		r.JSON(t, &acct)
		var ana, bob struct {
			CrmID string `json:"crm_id"`
		}
		call("POST", "/accolades-accounts/"+itoa(acct.ID)+"/agents", `{"name":"Ana","device_id":"27"}`).JSON(t, &ana)
		call("POST", "/accolades-accounts/"+itoa(acct.ID)+"/agents", `{"name":"Bob","device_id":"28"}`).JSON(t, &bob)
		if ana.CrmID == "" || bob.CrmID == "" {
			t.Fatalf("agents not made: %s", r.Body)
		}
		a, b := connectTo(t, e.URL()), connectTo(t, e.URL())
		a.auth(t, ana.CrmID)
		b.auth(t, bob.CrmID)
		if r := call("POST", "/call-events", `{"direction":"inbound","phone":"0211234567","agent":"`+ana.CrmID+`","unique_id":"1608743891.1344","call_center":true,"state":"ringing"}`); r.Status != 202 {
			t.Fatalf("call event: %d %s", r.Status, r.Body)
		}
		if m := a.read(t, "incomingCall"); m["uniqueId"] != "1608743891.1344" || m["callCenter"] != "yes" {
			t.Fatalf("incomingCall: %v", m)
		}
		r = e.Do(t, apitest.Request{Method: "POST", Path: "/accolades-api/1001/dial/", Body: strings.NewReader("password=accolades-pw&deviceId=27&phoneNumber=0211234567"),
			Header: apitest.Headers("Content-Type", "application/x-www-form-urlencoded")})
		if r.Status != http.StatusOK {
			t.Fatalf("dial: %d %s", r.Status, r.Body)
		}
		a.read(t, "outgoingCall")
		b.quiet(t)
		a.quiet(t)
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
