package platform_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"switchboard/apitest"
	"switchboard/models/platform"
	"switchboard/models/ucontact"
)

type ucUser struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	Fullname string `json:"fullname"`
	Email    string `json:"email"`
	Phone    string `json:"phone"`
	Context  string `json:"context"`
	LoggedIn bool   `json:"logged_in"`
}

type ucCampaign struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Channel  string `json:"channel"`
	Callerid string `json:"callerid"`
}

// ucForm posts a form to the uContact API with a key ("" sends none).
func (e *env) ucForm(t *testing.T, path, key string, form url.Values) *apitest.Response {
	t.Helper()
	h := apitest.Headers("Content-Type", "application/x-www-form-urlencoded")
	if key != "" {
		h.Set("Authorization", "Basic "+key)
	}
	return e.Do(t, apitest.Request{Method: "POST", Path: "/ucontact/Integra/resources/" + path, Body: strings.NewReader(form.Encode()), Header: h})
}

// TestUContactUsers: the admin creates supervisors and agents (passwords hashed, names unique), lists them
// by role and page, reads and deletes them; a deleted user's uContact key stops at once. Only an admin
// may: an events key is refused, no credentials are unauthenticated.
func TestUContactUsers(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		r := e.call(t, "POST", "/ucontact-users", map[string]any{"name": "Supervisor", "role": "supervisor", "password": "pw-sup"})
		var sup ucUser
		r.JSON(t, &sup)
		if r.Status != http.StatusCreated || sup.Name != "Supervisor" || sup.Role != "supervisor" || sup.Context != "agentes" || sup.LoggedIn {
			t.Fatalf("create supervisor: %d %s", r.Status, r.Body)
		}
		r = e.call(t, "POST", "/ucontact-users", map[string]any{"name": "9999", "role": "agent", "password": "pw-agent", "fullname": "John Doe",
			"email": "john@example.com", "phone": "9999", "context": "entrantes"})
		var agent ucUser
		r.JSON(t, &agent)
		if r.Status != http.StatusCreated || agent.Fullname != "John Doe" || agent.Phone != "9999" || agent.Context != "entrantes" {
			t.Fatalf("create agent: %d %s", r.Status, r.Body)
		}
		var hash string
		if err := e.DB.Table("ucontact_users").Where("id = ?", agent.ID).Pluck("password_hash", &hash).Error; err != nil ||
			hash == "pw-agent" || !strings.HasPrefix(hash, "$2") {
			t.Fatalf("stored password %q (%v)", hash, err)
		}
		e.expectErrors(t, []errorCase{
			{"duplicate name", "POST", "/ucontact-users", map[string]any{"name": "9999", "role": "supervisor", "password": "x"}, http.StatusConflict, "exists already"},
			{"bad role", "POST", "/ucontact-users", map[string]any{"name": "x", "role": "boss", "password": "x"}, http.StatusBadRequest, "role"},
			{"colon in name", "POST", "/ucontact-users", map[string]any{"name": "a:b", "role": "agent", "password": "x"}, http.StatusBadRequest, "name"},
			{"no password", "POST", "/ucontact-users", map[string]any{"name": "x", "role": "agent"}, http.StatusBadRequest, "password"},
			{"unknown user", "GET", "/ucontact-users/999", nil, http.StatusNotFound, "999"},
			{"delete unknown", "DELETE", "/ucontact-users/999", nil, http.StatusNotFound, "999"},
		})

		r = e.call(t, "GET", "/ucontact-users?limit=1", nil)
		var page []ucUser
		r.JSON(t, &page)
		if r.Status != http.StatusOK || len(page) != 1 || page[0].ID != sup.ID || !strings.Contains(r.Header.Get("Link"), fmt.Sprintf("after=%d", sup.ID)) {
			t.Fatalf("page 1: %d %s %v", r.Status, r.Body, r.Header)
		}
		r = e.call(t, "GET", fmt.Sprintf("/ucontact-users?limit=1&after=%d", sup.ID), nil)
		r.JSON(t, &page)
		if len(page) != 1 || page[0].ID != agent.ID || r.Header.Get("Link") != "" {
			t.Fatalf("page 2: %s %v", r.Body, r.Header)
		}
		r = e.call(t, "GET", "/ucontact-users?role=agent", nil)
		r.JSON(t, &page)
		if len(page) != 1 || page[0].Name != "9999" {
			t.Fatalf("agents: %s", r.Body)
		}

		// The agent logs in to uContact; get shows it logged in; deleting it stops its key.
		lr := e.ucForm(t, "auth/AgentLogin", "", url.Values{"agent": {"9999"}, "password": {"pw-agent"}})
		var peer struct {
			Md5secret string `json:"md5secret"`
		}
		lr.JSON(t, &peer)
		if lr.Status != http.StatusOK || peer.Md5secret == "" {
			t.Fatalf("AgentLogin: %d %s", lr.Status, lr.Body)
		}
		r = e.call(t, "GET", fmt.Sprintf("/ucontact-users/%d", agent.ID), nil)
		var got ucUser
		r.JSON(t, &got)
		if r.Status != http.StatusOK || !got.LoggedIn {
			t.Fatalf("get: %d %s", r.Status, r.Body)
		}
		if r := e.ucForm(t, "api/DispositionCall", peer.Md5secret, url.Values{"l1": {"x"}}); r.Status != http.StatusOK {
			t.Fatalf("the agent's key before the delete: %d %s", r.Status, r.Body)
		}
		if r := e.call(t, "DELETE", fmt.Sprintf("/ucontact-users/%d", agent.ID), nil); r.Status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		if r := e.ucForm(t, "api/DispositionCall", peer.Md5secret, url.Values{"l1": {"x"}}); r.Status != http.StatusUnauthorized || string(r.Body) != "0" {
			t.Fatalf("a deleted agent's key: %d %s", r.Status, r.Body)
		}
		// The dispositions it made stay.
		var n int64
		if err := e.DB.Model(&ucontact.Disposition{}).Count(&n).Error; err != nil || n != 1 {
			t.Fatalf("%d dispositions (%v)", n, err)
		}

		events := e.newKey(t, "events only", platform.ScopeEvents)
		if r := e.callWith(t, apitest.Headers("X-API-Key", events), "GET", "/ucontact-users", nil); r.Status != http.StatusForbidden {
			t.Fatalf("an events key: %d %s", r.Status, r.Body)
		}
		if r := e.callWith(t, http.Header{}, "POST", "/ucontact-users", map[string]any{"name": "y", "role": "agent", "password": "x"}); r.Status != http.StatusUnauthorized {
			t.Fatalf("no credentials: %d %s", r.Status, r.Body)
		}
	})
}

// TestUContactCampaigns: the admin creates telephony (the default) and SMS campaigns, lists and deletes
// them; deleting a campaign cancels its calls still waiting for the dialer, in the same transaction.
func TestUContactCampaigns(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		r := e.call(t, "POST", "/ucontact-campaigns", map[string]any{"name": "POWER<-", "callerid": "24000000"})
		var voice ucCampaign
		r.JSON(t, &voice)
		if r.Status != http.StatusCreated || voice.Name != "POWER<-" || voice.Channel != "telephony" || voice.Callerid != "24000000" {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		r = e.call(t, "POST", "/ucontact-campaigns", map[string]any{"name": "SMS->", "channel": "sms"})
		var sms ucCampaign
		r.JSON(t, &sms)
		if r.Status != http.StatusCreated || sms.Channel != "sms" {
			t.Fatalf("create sms: %d %s", r.Status, r.Body)
		}
		e.expectErrors(t, []errorCase{
			{"duplicate", "POST", "/ucontact-campaigns", map[string]any{"name": "POWER<-", "channel": "sms"}, http.StatusConflict, "exists already"},
			{"bad channel", "POST", "/ucontact-campaigns", map[string]any{"name": "x", "channel": "fax"}, http.StatusBadRequest, "channel"},
			{"bad callerid", "POST", "/ucontact-campaigns", map[string]any{"name": "x", "callerid": "call me"}, http.StatusBadRequest, "callerid"},
			{"no name", "POST", "/ucontact-campaigns", map[string]any{"channel": "sms"}, http.StatusBadRequest, "name"},
			{"delete unknown", "DELETE", "/ucontact-campaigns/999", nil, http.StatusNotFound, "999"},
		})
		r = e.call(t, "GET", "/ucontact-campaigns", nil)
		var list []ucCampaign
		r.JSON(t, &list)
		if r.Status != http.StatusOK || len(list) != 2 || list[0].ID != voice.ID || list[1].ID != sms.ID {
			t.Fatalf("list: %d %s", r.Status, r.Body)
		}

		// A supervisor schedules a call for later; deleting the campaign cancels it.
		e.call(t, "POST", "/ucontact-users", map[string]any{"name": "Supervisor", "role": "supervisor", "password": "pw"})
		lr := e.ucForm(t, "auth/UserLogin", "", url.Values{"user": {"Supervisor"}, "password": {"pw"}})
		var keys []string
		if err := json.Unmarshal(lr.Body, &keys); err != nil || len(keys) != 1 {
			t.Fatalf("UserLogin: %d %s", lr.Status, lr.Body)
		}
		sched := `{"calldate":"2031-05-04 15:55:55","campaign":"POWER<-","destination":"099123456"}`
		if r := e.ucForm(t, "Dialers/ScheduleDialerCall", keys[0], url.Values{"callschedule": {sched}}); r.Status != http.StatusOK || string(r.Body) != "1" {
			t.Fatalf("ScheduleDialerCall: %d %s", r.Status, r.Body)
		}
		if r := e.call(t, "DELETE", fmt.Sprintf("/ucontact-campaigns/%d", voice.ID), nil); r.Status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		var c ucontact.Call
		if err := e.DB.Take(&c).Error; err != nil || c.Status != ucontact.CallCanceled || c.Reason != "campaign deleted" {
			t.Fatalf("the waiting call: %+v (%v)", c, err)
		}
		if r := e.ucForm(t, "Dialers/ScheduleDialerCall", keys[0], url.Values{"callschedule": {sched}}); r.Status != http.StatusNotFound {
			t.Fatalf("a deleted campaign: %d %s", r.Status, r.Body)
		}
		r = e.call(t, "GET", "/ucontact-campaigns", nil)
		if r.JSON(t, &list); len(list) != 1 || list[0].ID != sms.ID {
			t.Fatalf("after delete: %s", r.Body)
		}
	})
}
