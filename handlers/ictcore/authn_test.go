package ictcore_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"switchboard/apitest"
	"switchboard/app"
	"switchboard/models/identity"
)

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		cases := []struct {
			name       string
			body       string
			wantStatus int
		}{
			{"right password", `{"username":"admin","password":"` + apitest.AdminPassword + `"}`, 200},
			{"numeric user id as username", `{"username":"1","password":"` + apitest.AdminPassword + `"}`, 200},
			{"wrong password", `{"username":"admin","password":"nope"}`, 401},
			{"unknown user", `{"username":"ghost","password":"x"}`, 401},
			{"missing password", `{"username":"admin"}`, 412},
			{"unknown field", `{"username":"admin","password":"x","extra":1}`, 412},
			{"wrong type", `{"username":1,"password":"x"}`, 412},
			{"malformed JSON", `{"username":`, 412},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := e.Do(t, apitest.Request{Method: "POST", Path: "/ictcore/authenticate",
					Body: strings.NewReader(tc.body), Header: apitest.Headers("Content-Type", "application/json")})
				if r.Status != tc.wantStatus {
					t.Fatalf("status %d, want %d: %s", r.Status, tc.wantStatus, r.Body)
				}
				if r.Status == 200 {
					var tok struct {
						Token     string `json:"token"`
						TokenType string `json:"token_type"`
					}
					r.JSON(t, &tok)
					if tok.Token == "" || tok.TokenType != "Bearer" {
						t.Fatalf("no token in %s", r.Body)
					}
				}
			})
		}
	})
}

func TestCredentials(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		ctx := context.Background()
		if err := app.AddUser(ctx, e.DB, "norole", "pw-norole", nil); err != nil {
			t.Fatal(err)
		}
		if err := app.AddUser(ctx, e.DB, "agent", "pw-agent", []string{"user"}); err != nil {
			t.Fatal(err)
		}
		if err := app.AddUser(ctx, e.DB, "gone", "pw-gone", []string{"user"}); err != nil {
			t.Fatal(err)
		}
		if err := e.DB.Model(&identity.User{}).Where("username = ?", "gone").Update("active", false).Error; err != nil {
			t.Fatal(err)
		}
		basic := func(u, p string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p)) }
		cases := []struct {
			name, header, value string
			wantStatus          int
		}{
			{"no credentials", "", "", 401},
			{"bearer", "Authorization", "Bearer " + e.token, 200},
			{"guide's Authentication header", "Authentication", "Bearer " + e.token, 200},
			{"garbage token", "Authorization", "Bearer not.a.token", 401},
			{"basic", "Authorization", basic("admin", apitest.AdminPassword), 200},
			{"basic wrong password", "Authorization", basic("admin", "wrong"), 401},
			{"basic user role", "Authorization", basic("agent", "pw-agent"), 200},
			{"basic without permission", "Authorization", basic("norole", "pw-norole"), 403},
			{"inactive user", "Authorization", basic("gone", "pw-gone"), 401},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				h := http.Header{}
				if tc.header != "" {
					h.Set(tc.header, tc.value)
				}
				r := e.Do(t, apitest.Request{Method: "GET", Path: "/ictcore/contacts", Header: h})
				if r.Status != tc.wantStatus {
					t.Fatalf("status %d, want %d: %s", r.Status, tc.wantStatus, r.Body)
				}
				if r.Status == 401 && r.Header.Get("WWW-Authenticate") == "" {
					t.Fatal("401 without WWW-Authenticate")
				}
			})
		}
	})
}

// TestUnknownRoutes: paths and methods outside the contract answer 404 in ICTCore's shape, even without
// credentials (ICTCore matches routes before it authenticates).
func TestUnknownRoutes(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		for _, tc := range []struct{ method, path string }{
			{"GET", "/ictcore/nothing"},
			{"PATCH", "/ictcore/contacts/1"},
			{"GET", "/ictcore/messages"}, // no such path, though /messages/texts and the bare /texts exist
		} {
			r := e.Do(t, apitest.Request{Method: tc.method, Path: tc.path})
			if code, _ := errorMessage(t, r); r.Status != 404 || code != 404 {
				t.Fatalf("%s %s: %d %s, want 404", tc.method, tc.path, r.Status, r.Body)
			}
		}
	})
}

// TestForbiddenEverywhere: a signed-in user without ICTCore permissions gets 403 from every built
// operation that needs one, and nothing is written.
func TestForbiddenEverywhere(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		c := e.createContact(t, map[string]any{"first_name": "A", "phone": "1"})
		g := e.createGroup(t, "g")
		if err := app.AddUser(context.Background(), e.DB, "norole", "pw-norole", nil); err != nil {
			t.Fatal(err)
		}
		basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("norole:pw-norole"))
		for _, tc := range []struct{ method, path, ctype, body string }{
			{"POST", "/contacts", "application/json", `{"first_name":"B","phone":"2"}`},
			{"GET", "/contacts", "", ""},
			{"GET", fmt.Sprintf("/contacts/%d", c), "", ""},
			{"PUT", fmt.Sprintf("/contacts/%d", c), "application/json", `{"first_name":"Z"}`},
			{"DELETE", fmt.Sprintf("/contacts/%d", c), "", ""},
			{"PUT", fmt.Sprintf("/contacts/%d/link/%d", c, g), "", ""},
			{"DELETE", fmt.Sprintf("/contacts/%d/link/%d", c, g), "", ""},
			{"GET", fmt.Sprintf("/contacts/%d/link/%d", c, g), "", ""},
			{"POST", "/groups", "application/json", `{"name":"x"}`},
			{"GET", "/groups", "", ""},
			{"GET", fmt.Sprintf("/groups/%d", g), "", ""},
			{"PUT", fmt.Sprintf("/groups/%d", g), "application/json", `{"name":"y"}`},
			{"DELETE", fmt.Sprintf("/groups/%d", g), "", ""},
			{"GET", fmt.Sprintf("/groups/%d/contacts", g), "", ""},
			{"POST", fmt.Sprintf("/groups/%d/csv", g), "text/csv", `"3"`},
			{"GET", fmt.Sprintf("/groups/%d/csv", g), "", ""},
		} {
			h := apitest.Headers("Authorization", basic)
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
				h.Set("Content-Type", tc.ctype)
			}
			r := e.Do(t, apitest.Request{Method: tc.method, Path: "/ictcore" + tc.path, Body: body, Header: h})
			if code, _ := errorMessage(t, r); r.Status != 403 || code != 403 {
				t.Errorf("%s %s: %d %s, want 403", tc.method, tc.path, r.Status, r.Body)
			}
		}
		var list []contact
		e.call(t, "GET", "/contacts", nil).JSON(t, &list)
		var grp group
		e.call(t, "GET", fmt.Sprintf("/groups/%d", g), nil).JSON(t, &grp)
		if len(list) != 1 || list[0].FirstName != "A" || grp.Name != "g" || grp.ContactTotal != 0 {
			t.Fatalf("a forbidden request changed data: %+v %+v", list, grp)
		}
	})
}
