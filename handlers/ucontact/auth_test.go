package ucontact_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"switchboard/apitest"
	"switchboard/models/platform"
	mu "switchboard/models/ucontact"
)

var keyText = regexp.MustCompile(`^[^:]+:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestUserLogin: UserLogin and getUserToken answer the documented list whose last item is the key (and,
// for a supervisor with a phone, the peer whose md5secret is that key first); the key is base64 of
// `user:uuid` and the store keeps only its hash; wrong credentials, an agent's name and a missing field
// answer the documented 0.
func TestUserLogin(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		e.addUser(t, "Admin", mu.RoleSupervisor, "pw-admin", "")
		e.addUser(t, "Carina", mu.RoleSupervisor, "pw-carina", "1042")
		e.addUser(t, "9999", mu.RoleAgent, "pw-agent", "9999")

		for _, op := range []string{"auth/UserLogin", "auth/getUserToken"} {
			r := e.post(t, op, "", url.Values{"user": {"Admin"}, "password": {"pw-admin"}})
			var keys []string
			r.JSON(t, &keys)
			if r.Status != http.StatusOK || len(keys) != 1 {
				t.Fatalf("%s without phone: %d %s", op, r.Status, r.Body)
			}
			raw, err := base64.StdEncoding.DecodeString(keys[0])
			if err != nil || !keyText.Match(raw) || !strings.HasPrefix(string(raw), "Admin:") {
				t.Fatalf("%s: key %q decodes to %q, want Admin:<uuid>", op, keys[0], raw)
			}
			sum := sha256.Sum256([]byte(keys[0]))
			if n := e.count(t, &mu.Session{}, "key_hash = ?", hex.EncodeToString(sum[:])); n != 1 {
				t.Fatalf("%s: %d sessions hold the key's hash", op, n)
			}
			if n := e.count(t, &mu.Session{}, "key_hash = ?", keys[0]); n != 0 {
				t.Fatalf("%s: the key itself is stored", op)
			}

			r = e.post(t, op, "", url.Values{"user": {"Carina"}, "password": {"pw-carina"}})
			var list []json.RawMessage
			r.JSON(t, &list)
			var peer struct {
				ID        int64  `json:"id"`
				Name      string `json:"name"`
				Callerid  string `json:"callerid"`
				Md5secret string `json:"md5secret"`
			}
			var last string
			if r.Status != http.StatusOK || len(list) != 2 || json.Unmarshal(list[0], &peer) != nil || json.Unmarshal(list[1], &last) != nil ||
				peer.Md5secret != last || peer.Name != "Carina" || peer.Callerid != "1042" {
				t.Fatalf("%s with phone: %d %s", op, r.Status, r.Body)
			}
		}
		for _, tc := range []struct {
			name string
			form url.Values
			want int
		}{
			{"wrong password", url.Values{"user": {"Admin"}, "password": {"nope"}}, http.StatusUnauthorized},
			{"unknown user", url.Values{"user": {"Nobody"}, "password": {"pw-admin"}}, http.StatusUnauthorized},
			{"an agent", url.Values{"user": {"9999"}, "password": {"pw-agent"}}, http.StatusUnauthorized},
			{"no password", url.Values{"user": {"Admin"}}, http.StatusBadRequest},
		} {
			t.Run(tc.name, func(t *testing.T) {
				expect(t, e.post(t, "auth/UserLogin", "", tc.form), tc.want, "0", "")
			})
		}
	})
}

// TestAgentLoginLogoff: AgentLogin answers the peer with the key as md5secret and marks the agent logged
// in; a supervisor's name is refused; AgentLogoff logs the agent off with its interface and message, an
// agent only itself, a supervisor any agent; an unknown agent is 404.
func TestAgentLoginLogoff(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		e.addUser(t, "Admin", mu.RoleSupervisor, "pw-admin", "")
		agent := e.addUser(t, "9999", mu.RoleAgent, "pw-agent", "1997")
		e.addUser(t, "8888", mu.RoleAgent, "pw-other", "")

		r := e.post(t, "auth/AgentLogin", "", url.Values{"agent": {"9999"}, "password": {"pw-agent"}})
		var p struct {
			ID          int64  `json:"id"`
			Name        string `json:"name"`
			Callerid    string `json:"callerid"`
			Fullname    string `json:"fullname"`
			Context     string `json:"context"`
			Secret      string `json:"secret"`
			Md5secret   string `json:"md5secret"`
			Defaultuser string `json:"defaultuser"`
		}
		r.JSON(t, &p)
		if r.Status != http.StatusOK || p.ID != agent.ID || p.Name != "9999" || p.Callerid != "1997" || p.Fullname != "Full 9999" ||
			p.Context != mu.DefaultContext || p.Secret != "" || p.Md5secret == "" {
			t.Fatalf("AgentLogin: %d %s", r.Status, r.Body)
		}
		key := p.Md5secret
		if u, _ := mu.GetUser(context.Background(), e.DB, agent.ID); !u.LoggedIn || u.LoginAt == 0 {
			t.Fatalf("AgentLogin did not mark the agent logged in: %+v", u)
		}
		expect(t, e.post(t, "auth/AgentLogin", "", url.Values{"agent": {"9999"}, "password": {"nope"}}), http.StatusUnauthorized, "0", "invalid credentials")
		expect(t, e.post(t, "auth/AgentLogin", "", url.Values{"agent": {"Admin"}, "password": {"pw-admin"}}), http.StatusUnauthorized, "0", "invalid credentials")

		// An agent logs off only itself.
		expect(t, e.post(t, "api/AgentLogoff", key, url.Values{"agent": {"8888"}}), http.StatusForbidden, "0", "8888")
		expect(t, e.post(t, "api/AgentLogoff", key, url.Values{"agent": {"9999"}, "interface": {"SIP/1997"}, "message": {"End of shift"}}),
			http.StatusOK, "1", "")
		u, _ := mu.GetUser(context.Background(), e.DB, agent.ID)
		if u.LoggedIn || u.Interface != "SIP/1997" || u.LogoffMessage != "End of shift" || u.LogoffAt == 0 {
			t.Fatalf("AgentLogoff did not record the logoff: %+v", u)
		}
		// Logging off again is no error; the key still works until EndSession.
		expect(t, e.post(t, "api/AgentLogoff", key, url.Values{"agent": {"9999"}}), http.StatusOK, "1", "")
		sup := e.login(t, "Admin", "pw-admin")
		expect(t, e.post(t, "api/AgentLogoff", sup, url.Values{"agent": {"8888"}}), http.StatusOK, "1", "")
		expect(t, e.post(t, "api/AgentLogoff", sup, url.Values{"agent": {"7777"}}), http.StatusNotFound, "0", "7777")
		expect(t, e.post(t, "api/AgentLogoff", sup, url.Values{"agent": {"Admin"}}), http.StatusNotFound, "0", "Admin")
		expect(t, e.post(t, "api/AgentLogoff", sup, url.Values{}), http.StatusBadRequest, "0", "required")
	})
}

// TestKeys: every secured service refuses a missing, malformed, unknown or ended key with its own error
// body; EndSession disables exactly the key it names, only for its own user; a deleted user's keys stop.
func TestKeys(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		admin := e.addUser(t, "Admin", mu.RoleSupervisor, "pw-admin", "")
		e.addUser(t, "Other", mu.RoleSupervisor, "pw-other", "")
		key := e.login(t, "Admin", "pw-admin")
		second := e.login(t, "Admin", "pw-admin")
		other := e.login(t, "Other", "pw-other")
		if key == second {
			t.Fatal("two logins answered the same key")
		}
		forged := base64.StdEncoding.EncodeToString([]byte("Admin:00000000-0000-4000-8000-000000000000"))
		for _, tc := range []struct{ name, header string }{
			{"none", ""}, {"bearer", "Bearer " + key}, {"not base64", "Basic %%%"}, {"no colon", "Basic " + base64.StdEncoding.EncodeToString([]byte("Admin"))},
			{"forged", "Basic " + forged},
		} {
			t.Run(tc.name, func(t *testing.T) {
				for _, op := range []struct{ method, path, body string }{
					{"POST", "api/DispositionCall", "l1=x"}, {"GET", "api/Dispositions", ""}, {"POST", "SMS/SendSMS", "destination=1&message=x"},
					{"GET", "InboundSMS/ReceiveURLSMS?phone=1&message=x", ""}, {"POST", "auth/EndSession", "user=Admin&token=" + url.QueryEscape(key)},
				} {
					h := apitest.Headers("Content-Type", "application/x-www-form-urlencoded")
					if tc.header != "" {
						h.Set("Authorization", tc.header)
					}
					req := apitest.Request{Method: op.method, Path: base + op.path, Header: h}
					if op.body != "" {
						req.Body = strings.NewReader(op.body)
					}
					want := "0"
					if strings.Contains(op.path, "SMS/SendSMS") || strings.Contains(op.path, "ReceiveURLSMS") {
						want = "ERROR"
					}
					expect(t, e.Do(t, req), http.StatusUnauthorized, want, "API key")
				}
			})
		}
		listWith := func(k string) int { return e.get(t, "api/Dispositions", k).Status }
		// EndSession: the token must be a key in force of that user.
		expect(t, e.post(t, "auth/EndSession", key, url.Values{"user": {"Other"}, "token": {key}}), http.StatusUnauthorized, "0", "not a key in force")
		expect(t, e.post(t, "auth/EndSession", key, url.Values{"user": {"Admin"}, "token": {forged}}), http.StatusUnauthorized, "0", "not a key in force")
		expect(t, e.post(t, "auth/EndSession", key, url.Values{"user": {"Admin"}}), http.StatusBadRequest, "0", "token")
		if listWith(key) != http.StatusOK {
			t.Fatal("a refused EndSession disabled the key")
		}
		expect(t, e.post(t, "auth/EndSession", key, url.Values{"user": {"Admin"}, "token": {key}}), http.StatusOK, "1", "")
		if s := listWith(key); s != http.StatusUnauthorized {
			t.Fatalf("an ended key answered %d", s)
		}
		expect(t, e.post(t, "auth/EndSession", second, url.Values{"user": {"Admin"}, "token": {key}}), http.StatusUnauthorized, "0", "not a key in force")
		if listWith(second) != http.StatusOK || listWith(other) != http.StatusOK {
			t.Fatal("EndSession disabled another key")
		}
		// A deleted user's keys stop at once.
		if err := mu.DeleteUser(context.Background(), e.DB, admin.ID); err != nil {
			t.Fatal(err)
		}
		if s := listWith(second); s != http.StatusUnauthorized {
			t.Fatalf("a deleted user's key answered %d", s)
		}
		if n := e.count(t, &mu.Session{}, "user_id = ?", admin.ID); n != 0 {
			t.Fatalf("%d sessions of a deleted user remain", n)
		}
	})
}

// TestRoles: an agent's key opens the agent's services only (403 with the service's body elsewhere), and
// acts for its own agent only; a supervisor's key opens everything.
func TestRoles(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		e.addUser(t, "Admin", mu.RoleSupervisor, "pw-admin", "")
		e.addUser(t, "9999", mu.RoleAgent, "pw-agent", "9999")
		e.addUser(t, "8888", mu.RoleAgent, "pw-other", "")
		e.addCampaign(t, "POWER<-", mu.ChannelTelephony, "")
		agent := e.agentLogin(t, "9999", "pw-agent")
		sup := e.login(t, "Admin", "pw-admin")
		call := `{"campaign":"POWER<-","destination":"099123456"}`
		for _, tc := range []struct{ name, method, path, body, want string }{
			{"list dispositions", "GET", "api/Dispositions", "", "0"},
			{"dialer task", "POST", "Dialers/DialerTask", "call=" + url.QueryEscape(call), "0"},
			{"schedule", "POST", "Dialers/ScheduleDialerCall", "callschedule=" + url.QueryEscape(call), "0"},
			{"upload base", "POST", "Dialers/uploadbase", "campaign=x&fileb64=eA==", "0"},
			{"webcallback", "POST", "Dialers/Webcallback", "campaign=x&phone=1", "0"},
			{"sms base", "POST", "SMS/uploadbase", "campaign=x&fileb64=eA==", "0"},
			{"inbound sms", "GET", "InboundSMS/ReceiveURLSMS?phone=1&message=x", "", "ERROR"},
			{"call as another agent", "POST", "Agents/AgentCall", "agent=8888&destination=099123456", "0"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h := apitest.Headers("Authorization", "Basic "+agent, "Content-Type", "application/x-www-form-urlencoded")
				req := apitest.Request{Method: tc.method, Path: base + tc.path, Header: h}
				if tc.body != "" {
					req.Body = strings.NewReader(tc.body)
				}
				expect(t, e.Do(t, req), http.StatusForbidden, tc.want, "")
			})
		}
		if r := e.post(t, "Agents/AgentCall", agent, url.Values{"agent": {"9999"}, "destination": {"099123456"}}); r.Status != http.StatusOK {
			t.Fatalf("an agent's own call: %d %s", r.Status, r.Body)
		}
		if r := e.post(t, "Agents/AgentCall", sup, url.Values{"agent": {"8888"}, "destination": {"099123456"}}); r.Status != http.StatusOK {
			t.Fatalf("a supervisor's call for an agent: %d %s", r.Status, r.Body)
		}
		if r := e.post(t, "Dialers/DialerTask", sup, url.Values{"call": {call}}); r.Status != http.StatusOK {
			t.Fatalf("a supervisor's dialer task: %d %s", r.Status, r.Body)
		}
	})
}

// TestIsolation: in the whole service, a uContact key opens neither ICTCore, CIM nor the platform API, and
// none of their credentials (an ICTCore token or password, a platform admin key) opens uContact.
func TestIsolation(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := apitest.New(t, kind)
		ctx := context.Background()
		if _, err := mu.CreateUser(ctx, e.DB, mu.UserInput{Name: "admin", Role: mu.RoleSupervisor, Password: "uc-secret"}); err != nil {
			t.Fatal(err)
		}
		_, adminKey, err := platform.CreateAPIKey(ctx, e.DB, "ops", platform.ScopeAdmin)
		if err != nil {
			t.Fatal(err)
		}
		form := func(h ...string) apitest.Request {
			hdr := apitest.Headers(append([]string{"Content-Type", "application/x-www-form-urlencoded"}, h...)...)
			return apitest.Request{Method: "POST", Path: base + "auth/UserLogin", Header: hdr, Body: strings.NewReader("user=admin&password=uc-secret")}
		}
		r := e.Do(t, form())
		var keys []string
		r.JSON(t, &keys)
		if r.Status != http.StatusOK || len(keys) != 1 {
			t.Fatalf("UserLogin: %d %s", r.Status, r.Body)
		}
		ucKey := keys[0]
		// The uContact key works where it belongs.
		if r := e.Do(t, apitest.Request{Method: "GET", Path: base + "api/Dispositions", Header: apitest.Headers("Authorization", "Basic "+ucKey)}); r.Status != http.StatusOK {
			t.Fatalf("uContact with its own key: %d %s", r.Status, r.Body)
		}
		// ... and nowhere else, however it is sent.
		for _, tc := range []struct{ name, method, path string }{
			{"ictcore", "GET", "/ictcore/contacts"}, {"cim", "GET", "/cim/getContactList"}, {"platform", "GET", "/platform/ucontact-users"},
		} {
			for _, h := range []http.Header{apitest.Headers("Authorization", "Basic "+ucKey), apitest.Headers("Authorization", "Bearer "+ucKey),
				apitest.Headers("X-API-Key", ucKey)} {
				if r := e.Do(t, apitest.Request{Method: tc.method, Path: tc.path, Header: h}); r.Status != http.StatusUnauthorized {
					t.Errorf("%s with a uContact key (%v): %d %s", tc.name, h, r.Status, r.Body)
				}
			}
		}
		// The ICTCore admin's token (and password), and the platform's admin key, do not open uContact.
		tr := e.Do(t, apitest.Request{Method: "POST", Path: "/ictcore/authenticate", Header: apitest.Headers("Content-Type", "application/json"),
			Body: apitest.JSONBody(t, map[string]string{"username": "admin", "password": apitest.AdminPassword})})
		var tok struct{ Token string }
		tr.JSON(t, &tok)
		if tr.Status != http.StatusOK || tok.Token == "" {
			t.Fatalf("ICTCore authenticate: %d %s", tr.Status, tr.Body)
		}
		basicICT := base64.StdEncoding.EncodeToString([]byte("admin:" + apitest.AdminPassword))
		for _, h := range []http.Header{apitest.Headers("Authorization", "Bearer "+tok.Token), apitest.Headers("Authorization", "Basic "+tok.Token),
			apitest.Headers("Authorization", "Basic "+basicICT), apitest.Headers("X-API-Key", adminKey), apitest.Headers("Authorization", "Basic "+adminKey)} {
			r := e.Do(t, apitest.Request{Method: "GET", Path: base + "api/Dispositions", Header: h})
			if r.Status != http.StatusUnauthorized || string(r.Body) != "0" {
				t.Errorf("uContact with %v: %d %s", h, r.Status, r.Body)
			}
		}
		// The ICTCore admin's password is not the uContact admin's: UserLogin refuses it.
		if r := e.Do(t, apitest.Request{Method: "POST", Path: base + "auth/UserLogin", Header: apitest.Headers("Content-Type", "application/x-www-form-urlencoded"),
			Body: strings.NewReader("user=admin&password=" + apitest.AdminPassword)}); r.Status != http.StatusUnauthorized {
			t.Errorf("UserLogin with the ICTCore admin's password: %d %s", r.Status, r.Body)
		}
	})
}

// TestLoginThrottle: after ten failed logins of one agent name, even its right password answers 429 with
// the body 0 and an integer Retry-After, until the window passes.
func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		e.addUser(t, "9999", mu.RoleAgent, "pw-agent", "")
		for i := range 10 {
			expect(t, e.post(t, "auth/AgentLogin", "", url.Values{"agent": {"9999"}, "password": {fmt.Sprint("guess", i)}}), http.StatusUnauthorized, "0", "")
		}
		r := e.post(t, "auth/AgentLogin", "", url.Values{"agent": {"9999"}, "password": {"pw-agent"}})
		expect(t, r, http.StatusTooManyRequests, "0", "too many failed logins")
		if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 {
			t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
		}
	})
}
