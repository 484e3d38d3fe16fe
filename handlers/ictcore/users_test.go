package ictcore_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"switchboard/apitest"
	"switchboard/models"
)

// login answers POST /authenticate with a username and password.
func (e *ictEnv) login(t *testing.T, name, pw string) *apitest.Response {
	t.Helper()
	return e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/ictcore/authenticate",
		Body:   apitest.JSONBody(t, map[string]string{"username": name, "password": pw}),
		Header: apitest.Headers("Content-Type", "application/json")})
}

// basic sends a request with HTTP Basic credentials instead of a token.
func (e *ictEnv) basic(t *testing.T, name, pw, method, path string) *apitest.Response {
	t.Helper()
	return e.Do(t, apitest.Request{Method: method, Path: "/ictcore" + path, Header: apitest.Headers(
		"Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(name+":"+pw)))})
}

// userID finds a user's id through the admin's list.
func (e *ictEnv) userID(t *testing.T, name string) int64 {
	t.Helper()
	var list []struct {
		UserID int64 `json:"user_id"`
	}
	e.call(t, "GET", "/users?username="+name, nil).JSON(t, &list)
	if len(list) != 1 {
		t.Fatalf("user %s: found %d", name, len(list))
	}
	return list[0].UserID
}

// permissionID finds a permission's id through GET /permissions.
func (e *ictEnv) permissionID(t *testing.T, name string) int64 {
	t.Helper()
	var list []struct {
		PermissionID int64 `json:"permission_id"`
		Name         string
	}
	e.call(t, "GET", "/permissions?name="+name, nil).JSON(t, &list)
	for _, p := range list {
		if p.Name == name {
			return p.PermissionID
		}
	}
	t.Fatalf("permission %s not listed: %v", name, list)
	return 0
}

func wantStatus(t *testing.T, r *apitest.Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("got %d %s, want %d", r.Status, r.Body, status)
	}
}

// TestUserCRUD: a user is created (with its default account), read, listed (filtered, counted, paged with a
// Link), updated (read-only user_id ignored, e-mail cleared) and deleted (accounts dissociated), on both
// stores; no answer carries a password.
func TestUserCRUD(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		alice := created(t, e.call(t, "POST", "/users", map[string]any{"username": "alice", "passwd": "s3cret-a",
			"first_name": "Alice", "email": "alice@example.com", "phone": "03001234567", "country_id": 1,
			"language_id": "en", "timezone_id": 5, "active": 1, "user_id": 99}), "user_id")
		bob := created(t, e.call(t, "POST", "/users", map[string]any{"username": "bob", "password": "s3cret-b",
			"passwd": "s3cret-b"}), "user_id")
		var got map[string]any
		r := e.call(t, "GET", fmt.Sprintf("/users/%d", alice), nil)
		r.JSON(t, &got)
		if got["username"] != "alice" || got["email"] != "alice@example.com" || got["phone"] != "03001234567" ||
			got["country_id"] != float64(1) || got["language_id"] != "en" || got["active"] != float64(1) ||
			got["user_id"] != float64(alice) {
			t.Fatalf("read back %s", r.Body)
		}
		for _, secret := range []string{"pass", "s3cret", "$2"} {
			if strings.Contains(string(r.Body), secret) {
				t.Fatalf("answer carries %q: %s", secret, r.Body)
			}
		}
		var n int64
		e.DB.Table("accounts").Where("type = 'account' AND username = ? AND user_id = ? AND email = ? AND active = 1",
			"alice", alice, "alice@example.com").Count(&n)
		if n != 1 {
			t.Fatalf("alice's default account: %d rows", n)
		}

		r = e.call(t, "GET", "/users?limit=1&count=true", nil)
		var list []map[string]any
		r.JSON(t, &list)
		if len(list) != 1 || r.Header.Get("X-Total-Count") != "3" || !strings.Contains(r.Header.Get("Link"), "offset=1") {
			t.Fatalf("first page: %s %v", r.Body, r.Header)
		}
		for _, q := range []string{"username=alice", "email=alice@example.com", "phone=03001234567",
			"first_name=Alice", fmt.Sprintf("user_id=%d", alice), fmt.Sprintf("created_by=%d", alice)} {
			e.call(t, "GET", "/users?"+q, nil).JSON(t, &list)
			if len(list) != 1 || list[0]["user_id"] != float64(alice) {
				t.Fatalf("list by %s: %v", q, list)
			}
		}
		e.call(t, "GET", "/users?first_name=alice", nil).JSON(t, &list) // exact, as in ICTCore
		if len(list) != 0 {
			t.Fatalf("first_name is an exact match: %v", list)
		}

		r = e.call(t, "PUT", fmt.Sprintf("/users/%d", alice), map[string]any{"first_name": "Alicia", "email": "",
			"user_id": 99, "company": "ACME"})
		got = nil
		r.JSON(t, &got)
		if r.Status != 200 || got["first_name"] != "Alicia" || got["company"] != "ACME" || got["email"] != nil ||
			got["user_id"] != float64(alice) || got["username"] != "alice" {
			t.Fatalf("update: %d %s", r.Status, r.Body)
		}

		if r := e.call(t, "DELETE", fmt.Sprintf("/users/%d", bob), nil); r.Status != 200 || strings.TrimSpace(string(r.Body)) != "true" {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		e.DB.Table("accounts").Where("username = ? AND user_id IS NULL", "bob").Count(&n)
		if n != 1 {
			t.Fatalf("bob's account after delete: %d dissociated rows", n)
		}
		if r := e.login(t, "bob", "s3cret-b"); r.Status != 401 {
			t.Fatalf("deleted user logs in: %d", r.Status)
		}
	})
}

// TestUserErrors: every documented refusal answers ICTCore's error body with its status.
func TestUserErrors(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		alice := created(t, e.call(t, "POST", "/users", map[string]any{"username": "alice", "passwd": "pw",
			"email": "alice@example.com"}), "user_id")
		if err := e.DB.Exec("INSERT INTO accounts (type, username, created_at, updated_at) VALUES ('account', 'carol', 1, 1)").Error; err != nil {
			t.Fatal(err)
		}
		users, item := "/users", fmt.Sprintf("/users/%d", alice)
		e.expectErrors(t, []errorCase{
			{"no password", "POST", users, map[string]any{"username": "x"}, 412, "password is required"},
			{"passwords differ", "POST", users, map[string]any{"username": "x", "password": "a", "passwd": "b"}, 412, "differ"},
			{"no username", "POST", users, map[string]any{"passwd": "a"}, 412, "username"},
			{"bad e-mail", "POST", users, map[string]any{"username": "x", "passwd": "a", "email": "nope"}, 412, "email"},
			{"bad active", "PUT", item, map[string]any{"active": 2}, 412, "active"},
			{"password field", "PUT", item + "/password", map[string]any{"passwd": "x"}, 412, "passwd"},
			{"duplicate username", "POST", users, map[string]any{"username": "alice", "passwd": "a"}, 409, `"alice" already exists`},
			{"duplicate e-mail", "POST", users, map[string]any{"username": "x", "passwd": "a", "email": "alice@example.com"}, 409, `address "alice@example.com" is another user's`},
			{"account taken", "POST", users, map[string]any{"username": "carol", "passwd": "a"}, 409, "account"},
			{"rename to taken", "PUT", item, map[string]any{"username": "admin"}, 409, `"admin" already exists`},
			{"read unknown", "GET", "/users/999", nil, 404, "not found"},
			{"update unknown", "PUT", "/users/999", map[string]any{"first_name": "x"}, 404, "not found"},
			{"delete unknown", "DELETE", "/users/999", nil, 404, "not found"},
			{"password of unknown", "PUT", "/users/999/password", map[string]any{"password": "x"}, 404, "not found"},
			{"role of unknown", "PUT", "/users/999/roles/1", nil, 404, "not found"},
			{"unknown role", "PUT", item + "/roles/3", nil, 404, "Role 3 not found"},
			{"remove unknown role", "DELETE", item + "/roles/3", nil, 404, "Role 3 not found"},
			{"unknown permission", "PUT", item + "/permissions/9999", nil, 404, "Permission 9999 not found"},
			{"permission of unknown", "PUT", "/users/999/permissions/1", nil, 404, "User 999 not found"},
			{"revoke unknown permission", "DELETE", item + "/permissions/9999", nil, 404, "not found"},
			{"delete self", "DELETE", "/users/1", nil, 409, "cannot delete itself"},
			{"demote last admin", "DELETE", "/users/1/roles/1", nil, 409, "last active admin"},
			{"deactivate last admin", "PUT", "/users/1", map[string]any{"active": 0}, 409, "last active admin"},
		})
		var n int64
		e.DB.Table("users").Where("username IN ('x', 'carol')").Count(&n)
		if n != 0 {
			t.Fatalf("a refused create left %d users", n)
		}
		var me map[string]any
		e.call(t, "GET", "/users/1", nil).JSON(t, &me)
		if me["active"] != float64(1) {
			t.Fatalf("admin after refused changes: %v", me)
		}
	})
}

// TestLastAdmin: with two admins either may lose the role, never both; a deleted admin counts no more.
func TestLastAdmin(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		second := created(t, e.call(t, "POST", "/users", map[string]any{"username": "root2", "passwd": "pw"}), "user_id")
		wantStatus(t, e.call(t, "PUT", fmt.Sprintf("/users/%d/roles/1", second), nil), 200)
		wantStatus(t, e.call(t, "PUT", fmt.Sprintf("/users/%d/roles/1", second), nil), 200) // twice is harmless
		root2 := e.login(t, "root2", "pw")
		var tok struct{ Token string }
		root2.JSON(t, &tok)
		other := &ictEnv{Env: e.Env, token: tok.Token}
		wantStatus(t, other.call(t, "DELETE", "/users/1/roles/1", nil), 200) // the first admin demoted by the second
		wantStatus(t, other.call(t, "DELETE", fmt.Sprintf("/users/%d/roles/1", second), nil), 409)
		wantStatus(t, other.call(t, "PUT", "/users/1/roles/1", nil), 200)
		wantStatus(t, other.call(t, "DELETE", "/users/1", nil), 200) // another admin remains: itself
		wantStatus(t, other.call(t, "PUT", fmt.Sprintf("/users/%d", second), map[string]any{"active": 0}), 409)
	})
}

// TestUserPassword: an admin sets any password, a user its own (no old password asked, as the contract
// says); afterwards the new password logs in and the old one does not.
func TestUserPassword(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		id := created(t, e.call(t, "POST", "/users", map[string]any{"username": "dave", "passwd": "old-pw"}), "user_id")
		wantStatus(t, e.login(t, "dave", "old-pw"), 200)
		r := e.call(t, "PUT", fmt.Sprintf("/users/%d/password", id), map[string]any{"password": "new-pw"})
		if r.Status != 200 || strings.Contains(string(r.Body), "pw") {
			t.Fatalf("set password: %d %s", r.Status, r.Body)
		}
		wantStatus(t, e.login(t, "dave", "old-pw"), 401)
		wantStatus(t, e.basic(t, "dave", "old-pw", "GET", fmt.Sprintf("/users/%d", id)), 401)
		r = e.login(t, "dave", "new-pw")
		wantStatus(t, r, 200)
		var tok struct{ Token string }
		r.JSON(t, &tok)
		dave := &ictEnv{Env: e.Env, token: tok.Token}
		wantStatus(t, dave.call(t, "PUT", fmt.Sprintf("/users/%d/password", id), map[string]any{"password": "own-pw"}), 200)
		wantStatus(t, dave.call(t, "PUT", "/users/1/password", map[string]any{"password": "stolen"}), 404)
		wantStatus(t, e.login(t, "dave", "new-pw"), 401)
		wantStatus(t, e.login(t, "dave", "own-pw"), 200)
		wantStatus(t, e.login(t, "admin", apitest.AdminPassword), 200)
		// updateUser's password and passwd replace it too.
		wantStatus(t, e.call(t, "PUT", fmt.Sprintf("/users/%d", id), map[string]any{"passwd": "third-pw"}), 200)
		wantStatus(t, e.login(t, "dave", "own-pw"), 401)
		wantStatus(t, e.basic(t, "dave", "third-pw", "GET", fmt.Sprintf("/users/%d", id)), 200)
	})
}

// TestUserRoleGrant: the admin role makes a user an admin at once (its existing token lists users), and
// taking it away takes that away; the user cache does not delay either on the node that made the change.
func TestUserRoleGrant(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		u := e.asUser(t, "erin")
		id := e.userID(t, "erin")
		wantStatus(t, u.call(t, "GET", "/users", nil), 403)
		var got map[string]any
		r := e.call(t, "PUT", fmt.Sprintf("/users/%d/roles/1", id), nil)
		r.JSON(t, &got)
		if r.Status != 200 || got["user_id"] != float64(id) {
			t.Fatalf("grant admin: %d %s", r.Status, r.Body)
		}
		var list []map[string]any
		r = u.call(t, "GET", "/users", nil)
		r.JSON(t, &list)
		if r.Status != 200 || len(list) != 2 {
			t.Fatalf("new admin lists users: %d %s", r.Status, r.Body)
		}
		wantStatus(t, e.call(t, "DELETE", fmt.Sprintf("/users/%d/roles/1", id), nil), 200)
		wantStatus(t, e.call(t, "DELETE", fmt.Sprintf("/users/%d/roles/1", id), nil), 200) // not held: still true
		wantStatus(t, u.call(t, "GET", "/users", nil), 403)
		wantStatus(t, u.call(t, "GET", "/contacts", nil), 200) // still a user
		wantStatus(t, e.call(t, "DELETE", fmt.Sprintf("/users/%d/roles/2", id), nil), 200)
		wantStatus(t, u.call(t, "GET", "/contacts", nil), 403) // no role left
	})
}

// TestUserPermissionGrant: a permission granted directly lets a "user"-role account call an operation its
// role lacks (through a token and through HTTP Basic), a parent name grants its children, and revoking
// takes it away at once.
func TestUserPermissionGrant(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		u := e.asUser(t, "frank")
		id := e.userID(t, "frank")
		userList, role := e.permissionID(t, "user_list"), e.permissionID(t, "role")
		grant := fmt.Sprintf("/users/%d/permissions/%d", id, userList)
		wantStatus(t, u.call(t, "GET", "/users", nil), 403)
		wantStatus(t, u.basic(t, "frank", "pw-frank", "GET", "/users"), 403)

		var got map[string]any
		r := e.call(t, "PUT", grant, nil)
		r.JSON(t, &got)
		if r.Status != 200 || got["username"] != "frank" {
			t.Fatalf("grant: %d %s", r.Status, r.Body)
		}
		wantStatus(t, e.call(t, "PUT", grant, nil), 200) // twice is harmless
		var list []map[string]any
		r = u.call(t, "GET", "/users", nil)
		r.JSON(t, &list)
		if r.Status != 200 || len(list) != 1 || list[0]["user_id"] != float64(id) {
			t.Fatalf("granted user lists: %d %s (want only itself)", r.Status, r.Body)
		}
		wantStatus(t, u.basic(t, "frank", "pw-frank", "GET", "/users"), 200)
		wantStatus(t, u.call(t, "GET", "/roles", nil), 403)
		wantStatus(t, e.call(t, "PUT", fmt.Sprintf("/users/%d/permissions/%d", id, role), nil), 200)
		wantStatus(t, u.call(t, "GET", "/roles", nil), 200) // "role" grants role_list

		r = e.call(t, "DELETE", grant, nil)
		if r.Status != 200 || strings.TrimSpace(string(r.Body)) != "true" {
			t.Fatalf("revoke: %d %s", r.Status, r.Body)
		}
		wantStatus(t, e.call(t, "DELETE", grant, nil), 200) // not held: still true
		wantStatus(t, u.call(t, "GET", "/users", nil), 403)
		wantStatus(t, u.basic(t, "frank", "pw-frank", "GET", "/users"), 403)
		wantStatus(t, u.call(t, "GET", "/roles", nil), 200) // the other grant stays

		// Deleting the user takes its grants with it.
		wantStatus(t, e.call(t, "DELETE", fmt.Sprintf("/users/%d", id), nil), 200)
		var n int64
		e.DB.Table("user_permissions").Where("user_id = ?", id).Count(&n)
		if n != 0 {
			t.Fatalf("%d grants outlive their user", n)
		}
	})
}

// TestUserOwnership: a user who is not an admin reads and changes only itself; another user answers 404
// (never data) where its permissions let it reach the route, 403 where they do not, and it grants nothing,
// not even to itself.
func TestUserOwnership(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		admin := newEnv(t, kind)
		a, b := admin.asUser(t, "usera"), admin.asUser(t, "userb")
		aID, bID := admin.userID(t, "usera"), admin.userID(t, "userb")
		mine, theirs := fmt.Sprintf("/users/%d", aID), fmt.Sprintf("/users/%d", bID)
		check := func(method, path string, body any, status int) {
			t.Helper()
			r := a.call(t, method, path, body)
			if r.Status != status || strings.Contains(string(r.Body), "userb") {
				t.Fatalf("user a %s %s: %d %s, want %d", method, path, r.Status, r.Body, status)
			}
		}
		check("GET", mine, nil, 200)
		check("GET", theirs, nil, 404)
		check("GET", "/users/1", nil, 404)
		check("PUT", theirs+"/password", map[string]any{"password": "x"}, 404)
		check("PUT", theirs, map[string]any{"first_name": "Mallory"}, 403)
		check("DELETE", theirs, nil, 403)
		check("GET", "/users", nil, 403)
		check("POST", "/users", map[string]any{"username": "x", "passwd": "x"}, 403)
		check("PUT", mine+"/roles/1", nil, 403)
		check("PUT", mine+"/permissions/1", nil, 403)
		check("GET", "/permissions", nil, 403)

		for _, name := range []string{"user_update", "user_delete", "role_update", "permission_create", "user_list"} {
			wantStatus(t, admin.call(t, "PUT", fmt.Sprintf("%s/permissions/%d", mine, admin.permissionID(t, name)), nil), 200)
		}
		check("PUT", theirs, map[string]any{"first_name": "Mallory"}, 404)
		check("DELETE", theirs, nil, 404)
		check("PUT", theirs+"/roles/2", nil, 403)
		check("PUT", mine+"/roles/1", nil, 403) // no raising itself to admin
		check("PUT", mine+"/permissions/1", nil, 403)
		check("DELETE", mine, nil, 409)
		check("PUT", mine, map[string]any{"first_name": "Ann"}, 200)
		var list []map[string]any
		r := a.call(t, "GET", "/users?count=true", nil)
		r.JSON(t, &list)
		if len(list) != 1 || r.Header.Get("X-Total-Count") != "1" {
			t.Fatalf("user a lists: %s", r.Body)
		}
		var got map[string]any
		b.call(t, "GET", theirs, nil).JSON(t, &got)
		if got["first_name"] != "" || got["username"] != "userb" {
			t.Fatalf("user b after a's attempts: %v", got)
		}
		admin.call(t, "GET", theirs, nil).JSON(t, &got)
		if got["username"] != "userb" {
			t.Fatalf("admin reads %v", got)
		}
	})
}

// TestListRolesAndPermissions: the two fixed roles and the seeded permission names, filtered and paged.
func TestListRolesAndPermissions(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		var roles []struct {
			RoleID int64 `json:"role_id"`
			Name   string
		}
		e.call(t, "GET", "/roles", nil).JSON(t, &roles)
		if len(roles) != 2 || roles[0].RoleID != 1 || roles[0].Name != "admin" || roles[1].Name != "user" {
			t.Fatalf("roles: %v", roles)
		}
		for q, want := range map[string]string{"role_id=2": "user", "name=ad": "admin"} {
			e.call(t, "GET", "/roles?"+q, nil).JSON(t, &roles)
			if len(roles) != 1 || roles[0].Name != want {
				t.Fatalf("roles?%s: %v", q, roles)
			}
		}
		var perms []struct {
			PermissionID int64 `json:"permission_id"`
			Name         string
		}
		r := e.call(t, "GET", "/permissions?count=true&limit=10", nil)
		r.JSON(t, &perms)
		if len(perms) != 10 || r.Header.Get("X-Total-Count") != strconv.Itoa(len(models.PermissionNames)) ||
			perms[0].PermissionID != 1 || perms[0].Name != models.PermissionNames[0] ||
			!strings.Contains(r.Header.Get("Link"), "offset=10") {
			t.Fatalf("permissions: %s %v", r.Body, r.Header)
		}
		e.call(t, "GET", "/permissions?name=contact", nil).JSON(t, &perms)
		if len(perms) != 6 || perms[0].Name != "contact" {
			t.Fatalf("permissions?name=contact: %v", perms)
		}
		e.call(t, "GET", "/permissions?permission_id=2", nil).JSON(t, &perms)
		if len(perms) != 1 || perms[0].Name != models.PermissionNames[1] {
			t.Fatalf("permissions?permission_id=2: %v", perms)
		}
		u := e.asUser(t, "gina")
		wantStatus(t, u.call(t, "GET", "/roles", nil), 403)
		wantStatus(t, u.call(t, "GET", "/permissions", nil), 403)
	})
}
