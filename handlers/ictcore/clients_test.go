package ictcore_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"switchboard/apitest"
	"switchboard/gateway"
)

// TestIDsAsStrings (review R2): ids sent as strings of digits, as the n8n node sends them, are accepted in
// every request body that takes one, and answered as integers; a string that is not digits stays refused.
func TestIDsAsStrings(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		textID := created(t, e.call(t, "POST", "/messages/texts", map[string]any{"name": "t", "data": "Hi"}), "text_id")
		program := created(t, e.call(t, "POST", "/programs/sendsms", map[string]any{"name": "sms", "text_id": fmt.Sprint(textID)}), "program_id")
		contactID := e.createContact(t, map[string]any{"first_name": "Ada", "phone": "03001234567"})
		account := created(t, e.call(t, "POST", "/accounts", map[string]any{"username": "acc", "user_id": "1"}), "account_id")
		tx := created(t, e.call(t, "POST", "/transmissions", map[string]any{"program_id": fmt.Sprint(program),
			"contact_id": fmt.Sprint(contactID), "account_id": fmt.Sprint(account), "try_allowed": "2"}), "transmission_id")
		var got map[string]any
		r := e.call(t, "GET", fmt.Sprintf("/transmissions/%d", tx), nil)
		r.JSON(t, &got)
		if got["program_id"] != float64(program) || got["contact_id"] != float64(contactID) || got["try_allowed"] != float64(2) {
			t.Fatalf("read back: %s", r.Body)
		}
		created(t, e.call(t, "PUT", fmt.Sprintf("/programs/%d/transmissions", program),
			map[string]any{"program_id": fmt.Sprint(program), "contact_id": fmt.Sprint(contactID)}), "transmission_id")
		created(t, e.call(t, "POST", fmt.Sprintf("/programs/%d/transmissions", program), map[string]any{
			"program_data": map[string]any{"text_id": fmt.Sprint(textID)}, "transmission_data": map[string]any{"contact_id": fmt.Sprint(contactID)}}), "transmission_id")
		e.expectErrors(t, []errorCase{
			{"not digits", "POST", "/transmissions", map[string]any{"program_id": "5a", "contact_id": contactID}, 412, "program_id"},
			{"negative", "POST", "/transmissions", map[string]any{"program_id": "-5", "contact_id": contactID}, 412, "program_id"},
			{"too large", "POST", "/transmissions", map[string]any{"program_id": "99999999999999999999", "contact_id": contactID}, 412, "program_id"},
			{"missing program", "POST", "/transmissions", map[string]any{"program_id": "0099999", "contact_id": contactID}, 404, ""},
		})
	})
}

// TestPhonesAsNumbers (review R1): phones (contact, account, user) and the provider prefix sent as JSON
// numbers, as the guide types them, are stored and answered as strings.
func TestPhonesAsNumbers(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		contactID := e.createContact(t, map[string]any{"first_name": "Ada", "phone": 3001234567})
		var c contact
		e.call(t, "GET", fmt.Sprintf("/contacts/%d", contactID), nil).JSON(t, &c)
		if c.Phone != "3001234567" {
			t.Fatalf("contact phone %q", c.Phone)
		}
		if r := e.call(t, "PUT", fmt.Sprintf("/contacts/%d", contactID), map[string]any{"phone": 42}); r.Status != 200 {
			t.Fatalf("update with a number: %d %s", r.Status, r.Body)
		}
		for _, tc := range []struct{ create, field, want string }{
			{"/accounts", "account_id", "3001234568"},
			{"/users", "user_id", "3001234569"},
		} {
			body := map[string]any{"username": "u" + tc.want, "phone": mustInt(t, tc.want)}
			if tc.create == "/users" {
				body["password"] = "s3cret-pw"
			}
			id := created(t, e.call(t, "POST", tc.create, body), tc.field)
			var got map[string]any
			e.call(t, "GET", fmt.Sprintf("%s/%d", tc.create, id), nil).JSON(t, &got)
			if got["phone"] != tc.want {
				t.Fatalf("%s phone answered %#v", tc.create, got["phone"])
			}
		}
		provider := created(t, e.call(t, "POST", "/providers", map[string]any{"name": "trunk", "type": "sip", "host": "192.0.2.10", "prefix": 12}), "provider_id")
		var p map[string]any
		e.call(t, "GET", fmt.Sprintf("/providers/%d", provider), nil).JSON(t, &p)
		if p["prefix"] != "12" {
			t.Fatalf("prefix answered %#v", p["prefix"])
		}
		e.expectErrors(t, []errorCase{
			{"negative phone", "POST", "/contacts", map[string]any{"first_name": "x", "phone": -5}, 412, "phone"},
			{"fraction", "POST", "/contacts", map[string]any{"first_name": "x", "phone": 1.5}, 412, "phone"},
			{"number where no pattern", "POST", "/contacts", map[string]any{"first_name": 12}, 412, "first_name"},
		})
	})
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestReadOnlyFieldsAccepted (review R4): the guide's Transmission body carries `status` and `response`;
// both are accepted and ignored, on POST /transmissions and on the program shortcut.
func TestReadOnlyFieldsAccepted(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		program, _ := e.smsProgram(t, "Hi")
		contactID := e.createContact(t, map[string]any{"first_name": "Ada", "phone": "03001234567"})
		tx := created(t, e.call(t, "POST", "/transmissions", map[string]any{"program_id": program, "contact_id": contactID,
			"status": "completed", "response": "busy"}), "transmission_id")
		if got := e.txStatus(t, tx); got != "pending" {
			t.Fatalf("status %q, want pending: the client's status must be ignored", got)
		}
		created(t, e.call(t, "PUT", fmt.Sprintf("/programs/%d/transmissions", program), map[string]any{"contact_id": contactID,
			"status": "failed", "response": "x"}), "transmission_id")
		created(t, e.call(t, "POST", fmt.Sprintf("/programs/%d/transmissions", program), map[string]any{
			"transmission_data": map[string]any{"contact_id": contactID, "status": "failed", "response": "x"}}), "transmission_id")
		// The guide's campaign body carries status: active; the campaign is created new all the same.
		group := e.createGroup(t, "g")
		campaign := created(t, e.call(t, "POST", "/campaigns", map[string]any{"program_id": program, "group_id": group, "status": "active"}), "campaign_id")
		if c := e.campaign(t, campaign); c.Status != "new" {
			t.Fatalf("campaign created with status active: %+v", c)
		}
	})
}

// TestAuthenticationAlias (review R8): POST /authentication is POST /authenticate.
func TestAuthenticationAlias(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		r := e.Do(t, apitest.Request{Method: "POST", Path: "/ictcore/authentication",
			Body:   apitest.JSONBody(t, map[string]string{"username": "admin", "password": apitest.AdminPassword}),
			Header: apitest.Headers("Content-Type", "application/json")})
		var tok struct{ Token string }
		r.JSON(t, &tok)
		if r.Status != 200 || tok.Token == "" {
			t.Fatalf("authentication: %d %s", r.Status, r.Body)
		}
		e.token = tok.Token
		if r := e.call(t, "GET", "/contacts", nil); r.Status != 200 {
			t.Fatalf("the alias's token: %d %s", r.Status, r.Body)
		}
		r = e.Do(t, apitest.Request{Method: "POST", Path: "/ictcore/authentication",
			Body:   apitest.JSONBody(t, map[string]string{"username": "admin", "password": "wrong"}),
			Header: apitest.Headers("Content-Type", "application/json")})
		if r.Status != 401 {
			t.Fatalf("wrong password: %d %s", r.Status, r.Body)
		}
	})
}

// TestClientAliases (review R9): the reference code's bare message paths, CSV uploaded as text/plain, and
// the n8n node's GET /faxes and /calls.
func TestClientAliases(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		for _, kind := range []string{"documents", "recordings", "templates", "texts"} {
			body := map[string]any{"name": "n"}
			switch kind {
			case "texts":
				body["data"] = "Hi"
			case "templates":
				body["subject"], body["body"] = "Hello", "Hi"
			}
			field := kind[:len(kind)-1] + "_id"
			id := created(t, e.call(t, "POST", "/"+kind, body), field)
			var got map[string]any
			if r := e.call(t, "GET", fmt.Sprintf("/messages/%s/%d", kind, id), nil); r.Status != 200 {
				t.Fatalf("created through /%s, read through /messages: %d %s", kind, r.Status, r.Body)
			}
			e.call(t, "GET", fmt.Sprintf("/%s/%d", kind, id), nil).JSON(t, &got)
			if got[field] != float64(id) {
				t.Fatalf("GET /%s/%d: %v", kind, id, got)
			}
			var list []map[string]any
			e.call(t, "GET", "/"+kind, nil).JSON(t, &list)
			if len(list) != 1 {
				t.Fatalf("GET /%s: %v", kind, list)
			}
			if r := e.call(t, "PUT", fmt.Sprintf("/%s/%d", kind, id), map[string]any{"name": "m"}); r.Status != 200 {
				t.Fatalf("PUT /%s/%d: %d %s", kind, id, r.Status, r.Body)
			}
			if kind == "documents" {
				pdf := []byte("%PDF-1.4\n%%EOF\n")
				if r := e.send(t, "PUT", fmt.Sprintf("/documents/%d/media", id), "application/pdf", pdf); r.Status != 200 {
					t.Fatalf("PUT /documents/%d/media: %d %s", id, r.Status, r.Body)
				}
				if r := e.call(t, "GET", fmt.Sprintf("/documents/%d/media", id), nil); r.Status != 200 || string(r.Body) != string(pdf) {
					t.Fatalf("GET /documents/%d/media: %d %s", id, r.Status, r.Body)
				}
			}
			if r := e.call(t, "DELETE", fmt.Sprintf("/%s/%d", kind, id), nil); r.Status != 200 {
				t.Fatalf("DELETE /%s/%d: %d %s", kind, id, r.Status, r.Body)
			}
		}

		group := created(t, e.call(t, "POST", "/groups", map[string]any{"name": "g"}), "group_id")
		r := e.send(t, "POST", fmt.Sprintf("/groups/%d/csv", group), "text/plain; charset=utf-8", []byte("03001234567\n03007654321\n"))
		var rep struct{ Imported int }
		r.JSON(t, &rep)
		if r.Status != 200 || rep.Imported != 2 {
			t.Fatalf("CSV as text/plain: %d %s", r.Status, r.Body)
		}
		if r := e.send(t, "POST", fmt.Sprintf("/groups/%d/csv", group), "application/octet-stream", []byte("1\n")); r.Status != 415 {
			t.Fatalf("CSV as octet-stream: %d %s", r.Status, r.Body)
		}

		program, _ := e.smsProgram(t, "Hi")
		contactID := e.createContact(t, map[string]any{"first_name": "Ada", "phone": "03001234567"})
		sms := e.txCreate(t, map[string]any{"program_id": program, "contact_id": contactID})
		for _, path := range []string{"/faxes", "/calls", "/faxes?service_flag=4", "/calls?service_flag=4"} {
			var list []map[string]any
			r := e.call(t, "GET", path, nil)
			r.JSON(t, &list)
			if r.Status != 200 || len(list) != 0 {
				t.Fatalf("GET %s lists the SMS transmission: %d %s", path, r.Status, r.Body)
			}
		}
		var all []map[string]any
		e.call(t, "GET", "/transmissions?service_flag=4", nil).JSON(t, &all)
		if len(all) != 1 || all[0]["transmission_id"] != float64(sms) {
			t.Fatalf("GET /transmissions?service_flag=4: %v", all)
		}
		tts := created(t, e.call(t, "POST", "/programs/voicetts", map[string]any{"name": "call", "text": "Hello"}), "program_id")
		call := e.txCreate(t, map[string]any{"program_id": tts, "contact_id": contactID})
		e.call(t, "GET", "/calls", nil).JSON(t, &all)
		if len(all) != 1 || all[0]["transmission_id"] != float64(call) {
			t.Fatalf("GET /calls: %v", all)
		}
	})
}

// TestGetAsDelete (review R7): where a path has no GET, GET stands for its DELETE (the guide, line 27).
func TestGetAsDelete(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		user := created(t, e.call(t, "POST", "/users", map[string]any{"username": "alice", "password": "s3cret-a"}), "user_id")
		if r := e.call(t, "PUT", fmt.Sprintf("/users/%d/roles/1", user), nil); r.Status != 200 {
			t.Fatalf("grant admin: %d %s", r.Status, r.Body)
		}
		if r := e.call(t, "GET", fmt.Sprintf("/users/%d/roles/1", user), nil); r.Status != 200 {
			t.Fatalf("GET as DELETE of a role: %d %s", r.Status, r.Body)
		}
		var got map[string]any
		e.call(t, "GET", fmt.Sprintf("/users/%d", user), nil).JSON(t, &got)
		if got["role_id"] == float64(1) {
			t.Fatalf("the role stayed: %v", got)
		}
		var perms []struct {
			PermissionID int64 `json:"permission_id"`
		}
		e.call(t, "GET", "/permissions", nil).JSON(t, &perms)
		if len(perms) == 0 {
			t.Fatal("no permissions listed")
		}
		perm := fmt.Sprintf("/users/%d/permissions/%d", user, perms[0].PermissionID)
		if r := e.call(t, "PUT", perm, nil); r.Status != 200 {
			t.Fatalf("grant permission: %d %s", r.Status, r.Body)
		}
		if r := e.call(t, "GET", perm, nil); r.Status != 200 {
			t.Fatalf("GET as DELETE of a permission: %d %s", r.Status, r.Body)
		}
		account := created(t, e.call(t, "POST", "/accounts", map[string]any{"username": "acc"}), "account_id")
		if r := e.call(t, "PUT", fmt.Sprintf("/accounts/%d/users/%d", account, user), nil); r.Status != 200 {
			t.Fatalf("assign: %d %s", r.Status, r.Body)
		}
		if r := e.call(t, "GET", fmt.Sprintf("/accounts/%d/users", account), nil); r.Status != 200 {
			t.Fatalf("GET as DELETE of the account's user: %d %s", r.Status, r.Body)
		}
		for _, path := range []string{fmt.Sprintf("/accounts/%d/programs", account), fmt.Sprintf("/accounts/%d/programs/999", account)} {
			if r := e.call(t, "GET", path, nil); r.Status == 405 || r.Status == 501 {
				t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
			}
		}
		// The schedules' GET forms are tested with the schedules (TestScheduleTransmission, TestCampaignSchedules).
	})
}

// TestProviderGatewayFlag (review R26): the guide's gateway_flag is stored and answered.
func TestProviderGatewayFlag(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		id := created(t, e.call(t, "POST", "/providers", map[string]any{"name": "trunk", "type": "sip", "host": "192.0.2.10",
			"gateway_flag": 8}), "provider_id")
		var got map[string]any
		e.call(t, "GET", fmt.Sprintf("/providers/%d", id), nil).JSON(t, &got)
		if got["gateway_flag"] != float64(8) {
			t.Fatalf("created: %v", got)
		}
		r := e.call(t, "PUT", fmt.Sprintf("/providers/%d", id), map[string]any{"gateway_flag": 1})
		r.JSON(t, &got)
		if r.Status != 200 || got["gateway_flag"] != float64(1) {
			t.Fatalf("updated: %d %s", r.Status, r.Body)
		}
		var list []map[string]any
		e.call(t, "GET", "/providers", nil).JSON(t, &list)
		if len(list) != 1 || list[0]["gateway_flag"] != float64(1) {
			t.Fatalf("listed: %v", list)
		}
		plain := created(t, e.call(t, "POST", "/providers", map[string]any{"name": "mail", "type": "smtp", "host": "mail.example.com",
			"settings": `{"tls":"starttls","from":"noreply@example.com"}`}), "provider_id")
		var bare map[string]any
		e.call(t, "GET", fmt.Sprintf("/providers/%d", plain), nil).JSON(t, &bare)
		if _, ok := bare["gateway_flag"]; ok {
			t.Fatalf("never given, yet answered: %v", bare)
		}
	})
}

// TestUserRole (review R27): role 2 works with its own data but administers nothing, as the contract says.
func TestUserRole(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		u := e.asUser(t, "plain")
		created(t, u.call(t, "POST", "/contacts", map[string]any{"first_name": "Ada", "phone": "1"}), "contact_id")
		created(t, u.call(t, "POST", "/messages/texts", map[string]any{"name": "t", "data": "Hi"}), "text_id")
		for _, tc := range []struct {
			method, path string
			body         any
		}{
			{"POST", "/providers", map[string]any{"name": "x", "type": "sip", "host": "h"}},
			{"GET", "/providers", nil},
			{"POST", "/users", map[string]any{"username": "x", "password": "pw-x"}},
			{"GET", "/users", nil},
			{"PUT", "/users/1/roles/1", nil},
			{"PUT", "/users/1/permissions/1", nil},
			{"POST", "/accounts", map[string]any{"username": "x"}},
			{"GET", "/roles", nil},
			{"GET", "/permissions", nil},
		} {
			if r := u.call(t, tc.method, tc.path, tc.body); r.Status != 403 {
				t.Fatalf("%s %s as role user: %d %s", tc.method, tc.path, r.Status, r.Body)
			}
		}
	})
}

// TestGuideStatuses (review R24): a transmission waiting for its automatic retry answers the guide's
// `pending`, with `pending_retry` in status_detail; its failed attempt answers `failed`.
func TestGuideStatuses(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		o := txOptions(gateway.SimConfig{FailureRate: 1})
		o.RetryDelay, o.RetryMaxDelay = time.Hour, time.Hour
		e := newEnvWithOptions(t, kind, o)
		program, _ := e.smsProgram(t, "Hello")
		id := e.txCreate(t, map[string]any{"program_id": program, "phone": "+15550100", "try_allowed": 2})
		var st struct {
			Status       string
			StatusDetail string `json:"status_detail"`
		}
		e.call(t, "GET", fmt.Sprintf("/transmissions/%d/status", id), nil).JSON(t, &st)
		if st.Status != "pending" || st.StatusDetail != "pending" {
			t.Fatalf("new: %+v", st)
		}
		e.txSend(t, id)
		deadline := time.Now().Add(60 * time.Second)
		for {
			e.call(t, "GET", fmt.Sprintf("/transmissions/%d/status", id), nil).JSON(t, &st)
			if st.StatusDetail == "pending_retry" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("never waited for a retry: %+v", st)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if st.Status != "pending" {
			t.Fatalf("waiting for a retry answers %q, want the guide's pending", st.Status)
		}
		var got map[string]any
		e.call(t, "GET", fmt.Sprintf("/transmissions/%d", id), nil).JSON(t, &got)
		if got["status"] != "pending" || got["status_detail"] != "pending_retry" {
			t.Fatalf("transmission: %v", got)
		}
		sp := e.txSpools(t, id)
		if len(sp) != 1 || sp[0].Status != "failed" || sp[0].StatusDetail != "failed" {
			t.Fatalf("spools: %+v", sp)
		}
		e.call(t, "GET", fmt.Sprintf("/spools/%d/status", sp[0].SpoolID), nil).JSON(t, &st)
		if st.Status != "failed" || st.StatusDetail != "failed" {
			t.Fatalf("spool status: %+v", st)
		}
	})
}

// TestCampaignOptionalFields (review R3): the guide requires nothing of a campaign; one created without
// program_id and group_id reads them as null, and its start answers 412 until both are set.
func TestCampaignOptionalFields(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		id := created(t, e.call(t, "POST", "/campaigns", map[string]any{"cpm": 2, "try_allowed": 2}), "campaign_id")
		var got map[string]any
		e.call(t, "GET", fmt.Sprintf("/campaigns/%d", id), nil).JSON(t, &got)
		if got["program_id"] != nil || got["group_id"] != nil || got["status"] != "new" {
			t.Fatalf("campaign without program and group: %v", got)
		}
		e.expectErrors(t, []errorCase{{"start", "PUT", fmt.Sprintf("/campaigns/%d/start", id), nil, 412, "has no program_id"}})
	})
}

// TestAccountSettingBodies (review R6): a setting's value comes as {"value"}, the reference code's
// {"data"}, or the guide's Account body (its settings entry of that name).
func TestAccountSettingBodies(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		account := created(t, e.call(t, "POST", "/accounts", map[string]any{"username": "acc"}), "account_id")
		path := fmt.Sprintf("/accounts/%d/settings/coverpage", account)
		for _, tc := range []struct {
			body map[string]any
			want string
		}{
			{map[string]any{"value": "a"}, "a"},
			{map[string]any{"data": "b"}, "b"},
			{map[string]any{"username": "acc", "type": "account", "settings": map[string]any{"coverpage": "c", "other": "x"}}, "c"},
		} {
			if r := e.call(t, "PUT", path, tc.body); r.Status != 200 {
				t.Fatalf("PUT %v: %d %s", tc.body, r.Status, r.Body)
			}
			var got struct{ Value string }
			e.call(t, "GET", path, nil).JSON(t, &got)
			if got.Value != tc.want {
				t.Fatalf("after %v: %q", tc.body, got.Value)
			}
		}
		e.expectErrors(t, []errorCase{
			{"no value", "PUT", path, map[string]any{"username": "acc"}, 412, "value is missing"},
			{"other setting only", "PUT", path, map[string]any{"settings": map[string]any{"other": "x"}}, 412, "value is missing"},
		})
	})
}

// TestBareCreateIDs (review R10): with ICTCORE_CREATE_ANSWER=bare, creates, sends and schedules answer the
// bare id the reference code and its web UI use, and that id works in the next request's URL; by default
// the same requests answer the guide's objects (every other test). Both shapes pass the contract's check.
func TestBareCreateIDs(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		o := txOptions(gateway.SimConfig{})
		o.BareCreateIDs = true
		e := newEnvWithOptions(t, kind, o)
		bare := func(r *apitest.Response) int64 {
			t.Helper()
			var id int64
			if r.Status != 200 || json.Unmarshal(r.Body, &id) != nil || id < 1 {
				t.Fatalf("want a bare id: %d %s", r.Status, r.Body)
			}
			return id
		}
		contact := bare(e.call(t, "POST", "/contacts", map[string]any{"first_name": "Ada", "phone": "+15550100"}))
		if r := e.call(t, "GET", fmt.Sprintf("/contacts/%d", contact), nil); r.Status != 200 {
			t.Fatalf("read the contact by its bare id: %d %s", r.Status, r.Body)
		}
		bare(e.call(t, "POST", "/groups", map[string]any{"name": "g"}))
		text := bare(e.call(t, "POST", "/messages/texts", map[string]any{"name": "t", "data": "Hello"}))
		program := bare(e.call(t, "POST", "/programs/sendsms", map[string]any{"name": "sms", "text_id": text}))
		tx := bare(e.call(t, "POST", "/transmissions", map[string]any{"program_id": program, "contact_id": contact}))
		bare(e.call(t, "PUT", fmt.Sprintf("/transmissions/%d/schedule", tx), map[string]any{"delay": 3600}))
		bare(e.call(t, "POST", fmt.Sprintf("/transmissions/%d/send", tx), nil))
		if s := e.txWait(t, tx); s != "completed" {
			t.Fatalf("sent: %s", s)
		}
	})
}
