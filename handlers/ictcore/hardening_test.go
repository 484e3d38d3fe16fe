package ictcore_test

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"switchboard/apitest"
	"switchboard/app"
	"switchboard/auth"
	"switchboard/models"
)

// TestLoginThrottling: failed logins are limited per login name and per client address, on the token
// login and on HTTP Basic alike (one guard), and an unknown name is counted like a known one, so the
// answer tells nothing about which names exist. The refusal is ICTCore's 429 with Retry-After.
func TestLoginThrottling(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnvWithOptions(t, kind, app.Options{Logins: auth.GuardConfig{MaxFailures: 3}})
		login := func(t *testing.T, user, pw, addr string) *apitest.Response {
			return e.Do(t, apitest.Request{Method: "POST", Path: "/ictcore/authenticate", RemoteAddr: addr,
				Body:   apitest.JSONBody(t, map[string]string{"username": user, "password": pw}),
				Header: apitest.Headers("Content-Type", "application/json")})
		}
		basic := func(t *testing.T, user, pw, addr string) *apitest.Response {
			cred := base64.StdEncoding.EncodeToString([]byte(user + ":" + pw))
			return e.Do(t, apitest.Request{Method: "GET", Path: "/ictcore/groups", RemoteAddr: addr,
				Header: apitest.Headers("Authorization", "Basic "+cred)})
		}
		for i, who := range []string{"admin", "ghost"} { // a real name and an unknown one
			t.Run(who, func(t *testing.T) {
				addr := "192.0.2." + strconv.Itoa(10+i) + ":1234"
				for i := 0; i < 3; i++ {
					if r := login(t, who, "wrong", addr); r.Status != http.StatusUnauthorized {
						t.Fatalf("failure %d: %d %s", i+1, r.Status, r.Body)
					}
				}
				for _, r := range []*apitest.Response{login(t, who, "wrong", addr), basic(t, who, "wrong", "198.51.100."+strconv.Itoa(10+i)+":1")} {
					code, msg := errorMessage(t, r)
					if r.Status != http.StatusTooManyRequests || code != 429 || !strings.Contains(msg, "retry") {
						t.Fatalf("after 3 failures: %d %s", r.Status, r.Body)
					}
					if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 {
						t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
					}
				}
			})
		}
		// The admin's token still works: throttling refuses passwords, not sessions.
		if r := e.call(t, "GET", "/groups", nil); r.Status != http.StatusOK {
			t.Fatalf("token after throttling: %d %s", r.Status, r.Body)
		}
	})
}

// TestTextHygiene: control characters in text and data after the JSON value are refused with 412.
func TestTextHygiene(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		e.expectErrors(t, []errorCase{
			{"NUL in a field", "POST", "/contacts", `{"first_name":"a\u0000b","phone":"1"}`, 412, "control character"},
			{"escape in a field", "POST", "/contacts", `{"first_name":"a\u001bb","phone":"1"}`, 412, "control character"},
			{"NUL in a key", "POST", "/groups", `{"name":"g","x\u0000":1}`, 412, "control character"},
			{"trailing data", "POST", "/groups", `{"name":"g"} {"name":"h"}`, 412, "after its JSON value"},
			{"trailing garbage", "POST", "/groups", `{"name":"g"}x`, 412, "after its JSON value"},
			{"control in a query", "GET", "/contacts?first_name=a%01", nil, 412, "control character"},
		})
		// Tab and newlines stay allowed: descriptions have lines.
		if r := e.call(t, "POST", "/groups", `{"name":"g","description":"line 1\r\nline\t2"}`); r.Status != http.StatusOK {
			t.Fatalf("multi-line description: %d %s", r.Status, r.Body)
		}
	})
}

// TestBusyStore: a store that cannot answer gives 503 with Retry-After in ICTCore's shape, never a 500,
// and never a 401 for a caller whose credentials could not be checked.
func TestBusyStore(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		if err := models.Close(e.DB); err != nil {
			t.Fatal(err)
		}
		cred := base64.StdEncoding.EncodeToString([]byte("admin:" + apitest.AdminPassword))
		for _, r := range []*apitest.Response{
			e.call(t, "GET", "/contacts/1", nil), // token: the user is cached or read
			e.call(t, "POST", "/groups", map[string]any{"name": "g"}),
			e.Do(t, apitest.Request{Method: "GET", Path: "/ictcore/groups", Header: apitest.Headers("Authorization", "Basic "+cred)}),
		} {
			code, _ := errorMessage(t, r)
			if r.Status != http.StatusServiceUnavailable || code != 503 || r.Header.Get("Retry-After") == "" {
				t.Fatalf("closed store: %d %s (Retry-After %q)", r.Status, r.Body, r.Header.Get("Retry-After"))
			}
		}
	})
}

// TestContactRulesOnUpdate: an update is held to the same rules as a create and an import, so it cannot
// leave a contact with neither a phone nor an e-mail.
func TestContactRulesOnUpdate(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		id := e.createContact(t, map[string]any{"first_name": "A", "phone": "123", "email": "a@example.com"})
		path := "/contacts/" + strconv.FormatInt(id, 10)
		e.expectErrors(t, []errorCase{
			{"both emptied", "PUT", path, map[string]any{"phone": "", "email": ""}, 412, "needs a phone or an email"},
			{"bad e-mail", "PUT", path, map[string]any{"email": "not-an-address"}, 412, "email"},
		})
		if r := e.call(t, "PUT", path, map[string]any{"phone": ""}); r.Status != http.StatusOK {
			t.Fatalf("emptying the phone of a contact with an e-mail: %d %s", r.Status, r.Body)
		}
		var c contact
		e.call(t, "GET", path, nil).JSON(t, &c)
		if c.Phone != "" || c.Email != "a@example.com" {
			t.Fatalf("after the refused update: %+v", c)
		}
	})
}

// TestLinkRacingGroupDelete: links, a delete of the group and a delete of one of the contacts take turns on
// the rows' locks; every answer is one the contract documents (200 or 404), and no link outlives its
// contact or its group (contact_links has no foreign keys: the locks are what keeps it whole).
func TestLinkRacingGroupDelete(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		for round := 0; round < 10; round++ {
			g := strconv.FormatInt(e.createGroup(t, "race"), 10)
			var calls [][2]string // method, path
			for i := 0; i < 8; i++ {
				c := strconv.FormatInt(e.createContact(t, map[string]any{"first_name": "R", "phone": strconv.Itoa(100 + i)}), 10)
				calls = append(calls, [2]string{"PUT", "/contacts/" + c + "/link/" + g}, [2]string{"DELETE", "/contacts/" + c})
			}
			calls = append(calls, [2]string{"DELETE", "/groups/" + g})
			statuses := make(chan int, len(calls))
			var wg sync.WaitGroup
			for _, c := range calls {
				wg.Go(func() { statuses <- e.call(t, c[0], c[1], nil).Status })
			}
			wg.Wait()
			close(statuses)
			for s := range statuses {
				if s != http.StatusOK && s != http.StatusNotFound {
					t.Fatalf("round %d: a request answered %d", round, s)
				}
			}
		}
		orphans := e.storeCount(t, `SELECT COUNT(*) FROM contact_links l
			WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.contact_id = l.contact_id)
			OR NOT EXISTS (SELECT 1 FROM contact_groups g WHERE g.group_id = l.group_id)`)
		if orphans != 0 {
			t.Fatalf("%d links outlived their contact or group", orphans)
		}
	})
}
