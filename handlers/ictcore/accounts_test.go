package ictcore_test

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"switchboard/apitest"
	"switchboard/auth"
	"switchboard/gen/ictcoreapi"
	ictcorehandler "switchboard/handlers/ictcore"
	"switchboard/models"
	"switchboard/models/identity"
)

// account is an Account answer; Passwd and PasswdPin catch a secret that must never be answered.
type account struct {
	AccountID int64             `json:"account_id"`
	Type      string            `json:"type"`
	Username  string            `json:"username"`
	FirstName string            `json:"first_name"`
	LastName  string            `json:"last_name"`
	Phone     string            `json:"phone"`
	Email     string            `json:"email"`
	Address   string            `json:"address"`
	Active    int               `json:"active"`
	Settings  map[string]string `json:"settings"`
	UserID    *int64            `json:"user_id"`
}

// String shows the owner's id rather than its pointer.
func (a account) String() string {
	owner := "null"
	if a.UserID != nil {
		owner = fmt.Sprint(*a.UserID)
	}
	return fmt.Sprintf("{id %d %s %q %q %q %q %q %q active %d settings %v user_id %s}", a.AccountID, a.Type, a.Username,
		a.FirstName, a.LastName, a.Phone, a.Email, a.Address, a.Active, a.Settings, owner)
}

// userID answers the id of the user called name.
func userID(t *testing.T, e *ictEnv, name string) int64 {
	t.Helper()
	u, err := identity.FindUserByLogin(context.Background(), e.DB, name)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// storedSecrets answers the stored passwd and pin hashes of an account, read from the store.
func storedSecrets(t *testing.T, e *ictEnv, id int64) (passwd, pin string) {
	t.Helper()
	var row struct{ PasswdHash, PinHash string }
	if err := e.DB.Table("accounts").Select("passwd_hash, pin_hash").Where("account_id = ?", id).Take(&row).Error; err != nil {
		t.Fatal(err)
	}
	return row.PasswdHash, row.PinHash
}

// settingRows counts an account's rows in account_settings.
func settingRows(t *testing.T, e *ictEnv, id int64) int64 {
	t.Helper()
	var n int64
	if err := e.DB.Table("account_settings").Where("account_id = ?", id).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// noSecrets fails when an answer carries a write-only field or a password hash.
func noSecrets(t *testing.T, r *apitest.Response, secrets ...string) {
	t.Helper()
	body := string(r.Body)
	for _, s := range append([]string{"passwd", "pin_hash", "$2a$"}, secrets...) {
		if strings.Contains(body, s) {
			t.Fatalf("answer carries %q: %s", s, body)
		}
	}
}

func (e *ictEnv) getAccount(t *testing.T, id int64) account {
	t.Helper()
	r := e.call(t, "GET", fmt.Sprintf("/accounts/%d", id), nil)
	if r.Status != http.StatusOK {
		t.Fatalf("get account %d: %d %s", id, r.Status, r.Body)
	}
	noSecrets(t, r)
	var a account
	r.JSON(t, &a)
	return a
}

func (e *ictEnv) listAccounts(t *testing.T, query string) []account {
	t.Helper()
	r := e.call(t, "GET", "/accounts"+query, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("list accounts%s: %d %s", query, r.Status, r.Body)
	}
	noSecrets(t, r)
	var out []account
	r.JSON(t, &out)
	return out
}

func ids(as []account) []int64 {
	out := make([]int64, len(as))
	for i, a := range as {
		out[i] = a.AccountID
	}
	return out
}

// TestAccountCRUD: create (answer-only fields ignored, the caller owns it, secrets stored as hashes),
// read, list (filters, count, Link), update (only the fields sent, settings merged), delete (with its
// settings), on both stores; no answer carries a password.
func TestAccountCRUD(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		admin := userID(t, e, "admin")
		id := created(t, e.call(t, "POST", "/accounts", map[string]any{
			"type": "did", "username": "Reception", "passwd": "s3cret-pass", "passwd_pin": "4321",
			"first_name": "Front", "last_name": "Desk", "phone": "+92 300 1234567", "email": "desk@example.com",
			"address": "Main St", "active": 1, "settings": map[string]string{"coverpage": "sendcover", "crmsettings": "disabled"},
			"account_id": 999, "user_id": admin + 100,
		}), "account_id")
		if id == 999 {
			t.Fatal("create took the answer-only account_id")
		}
		got := e.getAccount(t, id)
		want := account{AccountID: id, Type: "did", Username: "Reception", FirstName: "Front", LastName: "Desk",
			Phone: "+92 300 1234567", Email: "desk@example.com", Address: "Main St", Active: 1,
			Settings: map[string]string{"coverpage": "sendcover", "crmsettings": "disabled"}, UserID: &admin}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("read back\n%+v\nwant\n%+v", got, want)
		}
		passwd, pin := storedSecrets(t, e, id)
		if auth.CheckPassword(passwd, "s3cret-pass") != nil || auth.CheckPassword(pin, "4321") != nil {
			t.Fatalf("stored secrets are not the hashes of what was sent: %q %q", passwd, pin)
		}

		other := created(t, e.call(t, "POST", "/accounts", map[string]any{"username": "second"}), "account_id")
		if a := e.getAccount(t, other); a.Type != "account" || a.Active != 0 || len(a.Settings) != 0 || a.Settings == nil {
			t.Fatalf("defaults: %+v", a)
		}
		if p, q := storedSecrets(t, e, other); p != "" || q != "" {
			t.Fatalf("no secret sent, stored %q %q", p, q)
		}

		r := e.call(t, "GET", "/accounts?limit=1&count=true", nil)
		var page []account
		r.JSON(t, &page)
		if r.Status != 200 || len(page) != 1 || page[0].AccountID != id || r.Header.Get("X-Total-Count") != "2" ||
			!strings.Contains(r.Header.Get("Link"), "offset=1") {
			t.Fatalf("first page: %d %s %v", r.Status, r.Body, r.Header)
		}
		noSecrets(t, r)
		if r := e.call(t, "GET", "/accounts?offset=1&limit=1", nil); r.Header.Get("Link") != "" || r.Header.Get("X-Total-Count") != "" {
			t.Fatalf("last page: %v", r.Header)
		}
		if l := e.listAccounts(t, ""); len(l) != 2 || l[0].Settings["coverpage"] != "sendcover" || len(l[1].Settings) != 0 {
			t.Fatalf("list with settings: %+v", l)
		}
		for _, tc := range []struct {
			query string
			want  []int64
		}{
			{"?type=did", []int64{id}},
			{"?type=account", []int64{other}},
			{"?type=extension", []int64{}},
			{"?username=CEPT", []int64{id}},
			{"?phone=300%201234", []int64{id}},
			{"?email=DESK@", []int64{id}},
			{"?first_name=fro", []int64{id}},
			{"?last_name=desk", []int64{id}},
			{fmt.Sprintf("?account_id=%d", other), []int64{other}},
			{fmt.Sprintf("?user_id=%d", admin), []int64{id, other}},
			{fmt.Sprintf("?created_by=%d", admin), []int64{id, other}},
			{fmt.Sprintf("?user_id=%d", admin+100), []int64{}},
			{"?before=0", []int64{}},
			{"?after=0", []int64{id, other}},
			{"?after=99999999999", []int64{}},
		} {
			if got := ids(e.listAccounts(t, tc.query)); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("list%s: %v, want %v", tc.query, got, tc.want)
			}
		}

		item := fmt.Sprintf("/accounts/%d", id)
		r = e.call(t, "PUT", item, map[string]any{"first_name": "Renamed", "passwd": "new-pass",
			"settings":   map[string]string{"coverpage": "disabled", "emailtofax_coversheet": "body"},
			"account_id": other, "user_id": admin + 100})
		if r.Status != 200 {
			t.Fatalf("update: %d %s", r.Status, r.Body)
		}
		noSecrets(t, r, "new-pass")
		got = account{}
		r.JSON(t, &got)
		want.FirstName = "Renamed"
		want.Settings = map[string]string{"coverpage": "disabled", "crmsettings": "disabled", "emailtofax_coversheet": "body"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("update answered\n%+v\nwant\n%+v", got, want)
		}
		if got := e.getAccount(t, id); !reflect.DeepEqual(got, want) {
			t.Fatalf("after update read\n%+v\nwant\n%+v", got, want)
		}
		if p, q := storedSecrets(t, e, id); auth.CheckPassword(p, "new-pass") != nil || q != pin {
			t.Fatalf("update: passwd not rehashed or pin touched: %q %q", p, q)
		}
		r = e.call(t, "PUT", item, map[string]any{"phone": "", "email": "", "passwd": "", "active": 0})
		got = account{}
		r.JSON(t, &got)
		if r.Status != 200 || got.Phone != "" || got.Email != "" || got.Active != 0 || got.FirstName != "Renamed" {
			t.Fatalf("clearing update: %d %s", r.Status, r.Body)
		}
		if p, _ := storedSecrets(t, e, id); p != "" {
			t.Fatalf("empty passwd kept a hash %q", p)
		}

		if r := e.call(t, "DELETE", item, nil); r.Status != 200 || strings.TrimSpace(string(r.Body)) != "true" {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		if n := settingRows(t, e, id); n != 0 {
			t.Fatalf("delete left %d settings", n)
		}
		e.getAccount(t, other) // the other account stays
		e.expectErrors(t, []errorCase{
			{"read deleted", "GET", item, nil, 404, fmt.Sprintf("Account %d not found", id)},
			{"update deleted", "PUT", item, map[string]any{"first_name": "x"}, 404, "not found"},
			{"delete deleted", "DELETE", item, nil, 404, "not found"},
			{"assign deleted", "PUT", fmt.Sprintf("%s/users/%d", item, admin), nil, 404, "not found"},
			{"dissociate deleted", "DELETE", item + "/users", nil, 404, "not found"},
			{"setting of deleted", "GET", item + "/settings/coverpage", nil, 404, fmt.Sprintf("Account %d not found", id)},
			{"put setting of deleted", "PUT", item + "/settings/coverpage", map[string]string{"value": "x"}, 404, "not found"},
			{"delete setting of deleted", "DELETE", item + "/settings/coverpage", nil, 404, "not found"},
		})
	})
}

// TestAccountSettings: a setting is created, read, replaced and deleted through its own routes and shows
// in the account; a missing one answers 404 "Setting not found"; a write that would break a rule changes
// nothing (the update's fields and settings are one transaction).
func TestAccountSettings(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		id := created(t, e.call(t, "POST", "/accounts", map[string]any{"username": "fax", "type": "did",
			"settings": map[string]string{"crmsettings": "ictcrm"}}), "account_id")
		item := fmt.Sprintf("/accounts/%d", id)
		value := func(name string) string {
			t.Helper()
			r := e.call(t, "GET", item+"/settings/"+name, nil)
			var v struct{ Value string }
			r.JSON(t, &v)
			if r.Status != 200 {
				t.Fatalf("get setting %s: %d %s", name, r.Status, r.Body)
			}
			return v.Value
		}
		if v := value("crmsettings"); v != "ictcrm" {
			t.Fatalf("setting from create: %q", v)
		}
		for _, v := range []string{"sendcover", "disabled"} {
			r := e.call(t, "PUT", item+"/settings/coverpage", map[string]string{"value": v})
			if r.Status != 200 || strings.TrimSpace(string(r.Body)) != "true" {
				t.Fatalf("put setting: %d %s", r.Status, r.Body)
			}
			if got := value("coverpage"); got != v {
				t.Fatalf("put %q, read %q", v, got)
			}
		}
		if s := e.getAccount(t, id).Settings; len(s) != 2 || s["coverpage"] != "disabled" || s["crmsettings"] != "ictcrm" {
			t.Fatalf("account settings: %v", s)
		}
		if r := e.call(t, "DELETE", item+"/settings/coverpage", nil); r.Status != 200 || strings.TrimSpace(string(r.Body)) != "true" {
			t.Fatalf("delete setting: %d %s", r.Status, r.Body)
		}
		if s := e.getAccount(t, id).Settings; len(s) != 1 || s["crmsettings"] != "ictcrm" {
			t.Fatalf("after delete: %v", s)
		}

		// 48 more settings make 49; an update adding two more (50 is the most) refuses the whole update.
		many := map[string]string{}
		for i := range 48 {
			many[fmt.Sprintf("k%02d", i)] = "v"
		}
		if r := e.call(t, "PUT", item, map[string]any{"settings": many}); r.Status != 200 {
			t.Fatalf("48 settings: %d %s", r.Status, r.Body)
		}
		e.expectErrors(t, []errorCase{
			{"missing setting", "GET", item + "/settings/coverpage", nil, 404, "Setting not found"},
			{"delete missing setting", "DELETE", item + "/settings/coverpage", nil, 404, "Setting not found"},
			{"setting name pattern", "PUT", item + "/settings/bad%20name", map[string]string{"value": "x"}, 412, "name"},
			{"no value", "PUT", item + "/settings/coverpage", map[string]string{"username": "x"}, 412, "value is missing"}, // data and settings.{name} are accepted (R6)
			{"bad name in body", "PUT", item, map[string]any{"settings": map[string]string{"bad name": "x"}}, 412, "setting name"},
			{"long name in body", "POST", "/accounts", map[string]any{"username": "n",
				"settings": map[string]string{strings.Repeat("a", 65): "x"}}, 412, "setting name"},
			{"more than 50", "PUT", item, map[string]any{"first_name": "changed",
				"settings": map[string]string{"x1": "v", "x2": "v", "crmsettings": "disabled"}}, 412, "at most 50"},
		})
		a := e.getAccount(t, id)
		if a.FirstName != "" || len(a.Settings) != 49 || a.Settings["crmsettings"] != "ictcrm" {
			t.Fatalf("refused update wrote: first_name %q, %d settings, crmsettings %q", a.FirstName, len(a.Settings), a.Settings["crmsettings"])
		}
		if r := e.call(t, "PUT", item+"/settings/x1", map[string]string{"value": "v"}); r.Status != 200 {
			t.Fatalf("50th setting: %d %s", r.Status, r.Body)
		}
		e.expectErrors(t, []errorCase{
			{"51st by put", "PUT", item + "/settings/x2", map[string]string{"value": "v"}, 412, "at most 50"},
		})
		if r := e.call(t, "PUT", item+"/settings/x1", map[string]string{"value": "replaced"}); r.Status != 200 {
			t.Fatalf("replacing the 50th: %d %s", r.Status, r.Body)
		}
		if n := settingRows(t, e, id); n != 50 {
			t.Fatalf("%d settings stored, want 50", n)
		}
	})
}

// TestAccountErrors: a username is unique per type (409), and each documented refusal answers its status.
func TestAccountErrors(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		id := created(t, e.call(t, "POST", "/accounts", map[string]any{"username": "1001", "type": "extension"}), "account_id")
		created(t, e.call(t, "POST", "/accounts", map[string]any{"username": "1001", "type": "did"}), "account_id")
		other := created(t, e.call(t, "POST", "/accounts", map[string]any{"username": "1002", "type": "extension"}), "account_id")
		long := strings.Repeat("é", 40) // 40 characters, 80 bytes: more than bcrypt takes
		e.expectErrors(t, []errorCase{
			{"duplicate", "POST", "/accounts", map[string]any{"username": "1001", "type": "extension",
				"settings": map[string]string{"coverpage": "x"}}, 409, "already exists"},
			{"rename onto taken", "PUT", fmt.Sprintf("/accounts/%d", other), map[string]any{"username": "1001"}, 409, "already exists"},
			{"retype onto taken", "PUT", fmt.Sprintf("/accounts/%d", id), map[string]any{"type": "did"}, 409, "already exists"},
			{"missing username", "POST", "/accounts", map[string]any{"type": "did"}, 412, "username"},
			{"empty username", "PUT", fmt.Sprintf("/accounts/%d", id), map[string]any{"username": ""}, 412, "username"},
			{"unknown type", "POST", "/accounts", map[string]any{"username": "x", "type": "sip"}, 412, "type"},
			{"bad active", "POST", "/accounts", map[string]any{"username": "x", "active": 2}, 412, "active"},
			{"bad email", "POST", "/accounts", map[string]any{"username": "x", "email": "nope"}, 412, "email"},
			{"bad email on update", "PUT", fmt.Sprintf("/accounts/%d", id), map[string]any{"email": "nope"}, 412, "email"},
			{"bad phone", "POST", "/accounts", map[string]any{"username": "x", "phone": "call me"}, 412, "phone"},
			{"unknown field", "POST", "/accounts", map[string]any{"username": "x", "colour": "red"}, 412, "colour"},
			{"long passwd", "POST", "/accounts", map[string]any{"username": "x", "passwd": long}, 412, "passwd"},
			{"long passwd on update", "PUT", fmt.Sprintf("/accounts/%d", id), map[string]any{"passwd": long}, 412, "passwd"},
			{"bad id", "GET", "/accounts/0", nil, 412, "account_id"},
			{"unknown account", "GET", "/accounts/999999", nil, 404, "Account 999999 not found"},
			{"update unknown", "PUT", "/accounts/999999", map[string]any{"first_name": "x"}, 404, "not found"},
			{"delete unknown", "DELETE", "/accounts/999999", nil, 404, "not found"},
			{"assign unknown user", "PUT", fmt.Sprintf("/accounts/%d/users/999999", id), nil, 404, "User 999999 not found"},
			{"assign unknown account", "PUT", "/accounts/999999/users/1", nil, 404, "Account 999999 not found"},
			{"dissociate unknown", "DELETE", "/accounts/999999/users", nil, 404, "not found"},
		})
		var n int64
		if err := e.DB.Table("accounts").Where("username = ?", "x").Count(&n).Error; err != nil || n != 0 {
			t.Fatalf("refused creates stored %d accounts (%v)", n, err)
		}
		if a := e.getAccount(t, id); a.Type != "extension" || a.Username != "1001" {
			t.Fatalf("refused updates changed %+v", a)
		}
	})
}

// TestAccountOwnership: ownership moves with assign and dissociate; a user who is not an admin sees and
// changes only the accounts it owns. User B against user A's account on every account route answers 404
// (or 403 where B's role lacks the permission), never A's data and never a change; the admin sees all,
// including an account without owner.
func TestAccountOwnership(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		admin := newEnv(t, kind)
		a, b := admin.asUser(t, "accta"), admin.asUser(t, "acctb")
		aID, bID := userID(t, admin, "accta"), userID(t, admin, "acctb")
		if r := a.call(t, "POST", "/accounts", map[string]any{"username": "mine"}); r.Status != 403 {
			t.Fatalf("a user creates an account: %d %s", r.Status, r.Body)
		}
		acct := created(t, admin.call(t, "POST", "/accounts", map[string]any{"username": "alice-did", "type": "did",
			"settings": map[string]string{"coverpage": "sendcover"}}), "account_id")
		item := fmt.Sprintf("/accounts/%d", acct)
		if l := a.listAccounts(t, ""); len(l) != 0 {
			t.Fatalf("a sees the admin's account before it is assigned: %+v", l)
		}
		r := admin.call(t, "PUT", fmt.Sprintf("%s/users/%d", item, aID), nil)
		var got account
		r.JSON(t, &got)
		if r.Status != 200 || got.AccountID != acct || got.UserID == nil || *got.UserID != aID || got.Settings["coverpage"] != "sendcover" {
			t.Fatalf("assign to a: %d %s", r.Status, r.Body)
		}
		if got := a.getAccount(t, acct); got.Username != "alice-did" {
			t.Fatalf("owner reads %+v", got)
		}
		r = a.call(t, "PUT", item, map[string]any{"first_name": "Alice", "user_id": bID})
		got = account{}
		r.JSON(t, &got)
		if r.Status != 200 || got.FirstName != "Alice" || *got.UserID != aID {
			t.Fatalf("owner update: %d %s", r.Status, r.Body)
		}
		if r := a.call(t, "PUT", item+"/settings/crmsettings", map[string]string{"value": "ictcrm"}); r.Status != 200 {
			t.Fatalf("owner puts a setting: %d %s", r.Status, r.Body)
		}
		bOwn := created(t, admin.call(t, "POST", "/accounts", map[string]any{"username": "bob-did", "type": "did"}), "account_id")
		if r := admin.call(t, "PUT", fmt.Sprintf("/accounts/%d/users/%d", bOwn, bID), nil); r.Status != 200 {
			t.Fatalf("assign to b: %d %s", r.Status, r.Body)
		}

		for _, c := range []struct {
			method, path string
			body         any
			want         int
		}{
			{"GET", item, nil, 404},
			{"PUT", item, map[string]any{"first_name": "Mallory"}, 404},
			{"GET", item + "/settings/coverpage", nil, 404},
			{"GET", item + "/settings/nosuch", nil, 404},
			{"PUT", item + "/settings/coverpage", map[string]string{"value": "disabled"}, 404},
			{"DELETE", item + "/settings/coverpage", nil, 404},
			// The user role lacks account_delete, account_create and user_update: refused before the handler.
			{"DELETE", item, nil, 403},
			{"PUT", fmt.Sprintf("%s/users/%d", item, bID), nil, 403},
			{"DELETE", item + "/users", nil, 403},
		} {
			r := b.call(t, c.method, c.path, c.body)
			if r.Status != c.want || strings.Contains(string(r.Body), "alice") || strings.Contains(string(r.Body), "sendcover") {
				t.Fatalf("user b %s %s: %d %s", c.method, c.path, r.Status, r.Body)
			}
		}
		for _, q := range []string{"", "?username=alice", fmt.Sprintf("?user_id=%d", aID), fmt.Sprintf("?account_id=%d", acct)} {
			if l := b.listAccounts(t, q); len(l) > 1 || (len(l) == 1 && l[0].AccountID != bOwn) {
				t.Fatalf("user b lists%s: %+v", q, l)
			}
		}
		if l := b.listAccounts(t, ""); len(l) != 1 || l[0].AccountID != bOwn {
			t.Fatalf("user b lists its own: %+v", l)
		}

		// The routes B's role cannot reach are scoped too: called with B's principal, they find nothing.
		h := ictcorehandler.New(ictcorehandler.Config{DB: admin.DB})
		ctxB := auth.WithPrincipal(context.Background(), &auth.Principal{UserID: bID, Username: "acctb", Roles: []string{"user"}})
		for name, call := range map[string]func() error{
			"delete": func() error {
				_, err := h.DeleteAccount(ctxB, ictcoreapi.DeleteAccountRequestObject{AccountId: acct})
				return err
			},
			"assign": func() error {
				_, err := h.AssignAccountUser(ctxB, ictcoreapi.AssignAccountUserRequestObject{AccountId: acct, UserId: bID})
				return err
			},
			"dissociate": func() error {
				_, err := h.DissociateAccountUser(ctxB, ictcoreapi.DissociateAccountUserRequestObject{AccountId: acct})
				return err
			},
		} {
			if err := call(); models.KindOf(err) != models.NotFound {
				t.Fatalf("handler %s as b: %v, want not found", name, err)
			}
		}

		want := account{AccountID: acct, Type: "did", Username: "alice-did", FirstName: "Alice", Active: 0,
			Settings: map[string]string{"coverpage": "sendcover", "crmsettings": "ictcrm"}, UserID: &aID}
		if got := admin.getAccount(t, acct); !reflect.DeepEqual(got, want) {
			t.Fatalf("after b's attempts\n%+v\nwant\n%+v", got, want)
		}
		if l := admin.listAccounts(t, ""); fmt.Sprint(ids(l)) != fmt.Sprint([]int64{acct, bOwn}) {
			t.Fatalf("admin lists %v", ids(l))
		}

		// Dissociated, the account has no owner: A loses it, the admin still sees it.
		r = admin.call(t, "DELETE", item+"/users", nil)
		got = account{}
		r.JSON(t, &got)
		if r.Status != 200 || got.AccountID != acct || got.UserID != nil || got.Settings["coverpage"] != "sendcover" {
			t.Fatalf("dissociate: %d %s", r.Status, r.Body)
		}
		if r := a.call(t, "GET", item, nil); r.Status != 404 {
			t.Fatalf("a reads its dissociated account: %d %s", r.Status, r.Body)
		}
		if l := a.listAccounts(t, ""); len(l) != 0 {
			t.Fatalf("a lists %+v after dissociate", l)
		}
		if got := admin.getAccount(t, acct); got.UserID != nil || got.FirstName != "Alice" {
			t.Fatalf("admin reads dissociated %+v", got)
		}
		if l := admin.listAccounts(t, fmt.Sprintf("?user_id=%d", aID)); len(l) != 0 {
			t.Fatalf("admin lists a's accounts after dissociate: %+v", l)
		}
		// Assigned again, now to B: B owns it, A still does not.
		if r := admin.call(t, "PUT", fmt.Sprintf("%s/users/%d", item, bID), nil); r.Status != 200 {
			t.Fatalf("assign to b: %d %s", r.Status, r.Body)
		}
		if got := b.getAccount(t, acct); *got.UserID != bID {
			t.Fatalf("b reads %+v", got)
		}
		if r := a.call(t, "GET", item, nil); r.Status != 404 {
			t.Fatalf("a reads b's account: %d %s", r.Status, r.Body)
		}
		if r := admin.call(t, "DELETE", item, nil); r.Status != 200 {
			t.Fatalf("admin deletes: %d %s", r.Status, r.Body)
		}
	})
}
