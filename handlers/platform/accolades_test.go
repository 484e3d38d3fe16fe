package platform_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"switchboard/apitest"
	"switchboard/models/platform"
)

type accoladesAccount struct {
	ID            int64  `json:"id"`
	AccountNumber string `json:"account_number"`
	Name          string `json:"name"`
	Data          string `json:"data"`
	CreatedAt     string `json:"created_at"`
	Password      string `json:"password"`
}

type accoladesAgent struct {
	ID         int64    `json:"id"`
	AccountID  int64    `json:"account_id"`
	Name       string   `json:"name"`
	CrmID      string   `json:"crm_id"`
	DeviceID   string   `json:"device_id"`
	AllowedIPs []string `json:"allowed_ips"`
	Data       string   `json:"data"`
	PhoneData  string   `json:"phone_data"`
	CreatedAt  string   `json:"created_at"`
}

var crmIDShape = regexp.MustCompile(`^[0-9a-f]{20}$`)

// TestAccoladesAdmin: accounts and agents through the platform API (R30): a create answers the agent's
// CRM id, lists page, an agent of another account is not found, what is taken is a 409, an account with
// agents is not deleted; the account's password opens its REST API and nothing answers it back.
func TestAccoladesAdmin(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		var acct, other accoladesAccount
		r := e.call(t, "POST", "/accolades-accounts", map[string]any{"account_number": "1001", "name": "Demo", "password": "accolades-pw", "data": "INFO_ACCOUNT"})
		r.JSON(t, &acct)
		if r.Status != 201 || acct.ID == 0 || acct.AccountNumber != "1001" || acct.Data != "INFO_ACCOUNT" || acct.Password != "" ||
			strings.Contains(string(r.Body), "accolades-pw") || acct.CreatedAt == "" {
			t.Fatalf("create account: %d %s", r.Status, r.Body)
		}
		e.call(t, "POST", "/accolades-accounts", map[string]any{"account_number": "2002", "password": "other-password"}).JSON(t, &other)
		var accts []accoladesAccount
		r = e.call(t, "GET", "/accolades-accounts?limit=1", nil)
		r.JSON(t, &accts)
		if r.Status != 200 || len(accts) != 1 || accts[0].ID != acct.ID || !strings.Contains(r.Header.Get("Link"), "after="+itoa(acct.ID)) {
			t.Fatalf("list accounts: %d %s (Link %q)", r.Status, r.Body, r.Header.Get("Link"))
		}
		var got accoladesAccount
		if e.call(t, "GET", "/accolades-accounts/"+itoa(other.ID), nil).JSON(t, &got); got != other {
			t.Fatalf("get account: %+v, want %+v", got, other)
		}
		// The password opens the account's REST API.
		ping := e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/accolades-api/1001/ping/",
			Body: strings.NewReader(url.Values{"password": {"accolades-pw"}}.Encode()), Header: apitest.Headers("Content-Type", "application/x-www-form-urlencoded")})
		if ping.Status != 200 {
			t.Fatalf("ping with the new account: %d %s", ping.Status, ping.Body)
		}

		base := "/accolades-accounts/" + itoa(acct.ID) + "/agents"
		var ana accoladesAgent
		r = e.call(t, "POST", base, map[string]any{"name": "Ana", "device_id": "27", "data": "INFO_AGENT", "phone_data": "INFO_PHONE",
			"allowed_ips": []string{"::ffff:192.0.2.1", "10.1.2.3/8", "2001:db8::/32", "192.0.2.1"}})
		r.JSON(t, &ana)
		if r.Status != 201 || !crmIDShape.MatchString(ana.CrmID) || ana.AccountID != acct.ID || ana.DeviceID != "27" || ana.Data != "INFO_AGENT" ||
			ana.PhoneData != "INFO_PHONE" || !slices.Equal(ana.AllowedIPs, []string{"192.0.2.1", "10.0.0.0/8", "2001:db8::/32"}) {
			t.Fatalf("create agent: %d %s", r.Status, r.Body)
		}
		var bob accoladesAgent
		r = e.call(t, "POST", base, map[string]any{"name": "Bob", "device_id": "28"})
		r.JSON(t, &bob)
		if r.Status != 201 || bob.CrmID == ana.CrmID || !crmIDShape.MatchString(bob.CrmID) || bob.AllowedIPs == nil || len(bob.AllowedIPs) != 0 || bob.Data != "" {
			t.Fatalf("create bob: %d %s", r.Status, r.Body)
		}
		var agents []accoladesAgent
		r = e.call(t, "GET", base+"?limit=1", nil)
		r.JSON(t, &agents)
		if r.Status != 200 || len(agents) != 1 || agents[0].CrmID != ana.CrmID || r.Header.Get("Link") == "" {
			t.Fatalf("list agents: %d %s", r.Status, r.Body)
		}
		e.call(t, "GET", base+"?after="+itoa(ana.ID), nil).JSON(t, &agents)
		if len(agents) != 1 || agents[0].ID != bob.ID {
			t.Fatalf("second page: %+v", agents)
		}
		var one accoladesAgent
		if e.call(t, "GET", base+"/"+itoa(ana.ID), nil).JSON(t, &one); one.CrmID != ana.CrmID || one.Name != "Ana" {
			t.Fatalf("get agent: %+v", one)
		}
		otherBase := "/accolades-accounts/" + itoa(other.ID) + "/agents"
		e.expectErrors(t, []errorCase{
			{"duplicate account number", "POST", "/accolades-accounts", map[string]any{"account_number": "1001", "password": "another-pw"}, 409, "exists already"},
			{"account number not digits", "POST", "/accolades-accounts", map[string]any{"account_number": "10a1", "password": "another-pw"}, 400, "account_number"},
			{"short password", "POST", "/accolades-accounts", map[string]any{"account_number": "3003", "password": "short"}, 400, "password"},
			{"data over 2000", "POST", "/accolades-accounts", map[string]any{"account_number": "3003", "password": "another-pw", "data": strings.Repeat("é", 2001)}, 400, "data"},
			{"unknown field", "POST", "/accolades-accounts", map[string]any{"account_number": "3003", "password": "another-pw", "crm": 1}, 400, ""},
			{"no such account", "GET", "/accolades-accounts/999999", nil, 404, "Accolades account 999999 not found"},
			{"agents of no account", "GET", "/accolades-accounts/999999/agents", nil, 404, "not found"},
			{"agent in no account", "POST", "/accolades-accounts/999999/agents", map[string]any{"name": "X", "device_id": "30"}, 404, "not found"},
			{"device taken", "POST", otherBase, map[string]any{"name": "X", "device_id": "27"}, 409, "device 27"},
			{"device not digits", "POST", base, map[string]any{"name": "X", "device_id": "phone"}, 400, "device_id"},
			{"no name", "POST", base, map[string]any{"device_id": "31"}, 400, ""},
			{"blank name", "POST", base, map[string]any{"name": "  ", "device_id": "31"}, 400, "name"},
			{"bad address", "POST", base, map[string]any{"name": "X", "device_id": "31", "allowed_ips": []string{"300.1.1.1"}}, 400, "300.1.1.1"},
			{"zoned address", "POST", base, map[string]any{"name": "X", "device_id": "31", "allowed_ips": []string{"fe80::1%eth0"}}, 400, "fe80::1%eth0"},
			{"too many addresses", "POST", base, map[string]any{"name": "X", "device_id": "31", "allowed_ips": slices.Repeat([]string{"10.0.0.1"}, 33)}, 400, ""},
			{"crm id is not chosen", "POST", base, map[string]any{"name": "X", "device_id": "31", "crm_id": "f8cb549544"}, 400, ""},
			{"phone data over 2000", "POST", base, map[string]any{"name": "X", "device_id": "31", "phone_data": strings.Repeat("x", 2001)}, 400, "phone_data"},
			{"agent of another account", "GET", otherBase + "/" + itoa(ana.ID), nil, 404, "Accolades agent"},
			{"delete agent of another account", "DELETE", otherBase + "/" + itoa(ana.ID), nil, 404, "Accolades agent"},
			{"account with agents", "DELETE", "/accolades-accounts/" + itoa(acct.ID), nil, 409, "still has 2 agents"},
		})

		// Keys: an events key may not administer, no key is a 401.
		events := e.newKey(t, "events only", platform.ScopeEvents)
		expectProblem(t, e.callWith(t, apitest.Headers("X-API-Key", events), "GET", "/accolades-accounts", nil), 403, "not permitted")
		expectProblem(t, e.callWith(t, http.Header{}, "POST", base, map[string]any{"name": "X", "device_id": "31"}), 401, "")

		for _, id := range []int64{ana.ID, bob.ID} {
			if r := e.call(t, "DELETE", base+"/"+itoa(id), nil); r.Status != 204 {
				t.Fatalf("delete agent: %d %s", r.Status, r.Body)
			}
		}
		expectProblem(t, e.call(t, "GET", base+"/"+itoa(ana.ID), nil), 404, "not found")
		if r := e.call(t, "DELETE", "/accolades-accounts/"+itoa(acct.ID), nil); r.Status != 204 {
			t.Fatalf("delete account: %d %s", r.Status, r.Body)
		}
		expectProblem(t, e.call(t, "GET", "/accolades-accounts/"+itoa(acct.ID), nil), 404, "not found")
	})
}
