package ictcore_test

import (
	"fmt"
	"testing"

	"switchboard/apitest"
)

// TestAccountProgramSubscriptions: subscribing twice is harmless, unsubscribe and clear keep the programs,
// missing or another user's program or account answers 404, and a new owner or a deleted program leaves no
// subscription behind.
func TestAccountProgramSubscriptions(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		acc := created(t, e.call(t, "POST", "/accounts", map[string]any{"username": "fax-desk"}), "account_id")
		p1 := created(t, e.call(t, "POST", "/programs/receivefax", map[string]any{"name": "in"}), "program_id")
		p2 := created(t, e.call(t, "POST", "/programs/receivesms", map[string]any{"name": "sms in"}), "program_id")
		subs := func() int64 {
			return e.storeCount(t, "SELECT COUNT(*) FROM account_programs WHERE account_id = ?", acc)
		}
		for _, p := range []int64{p1, p1, p2} {
			r := e.call(t, "PUT", fmt.Sprintf("/accounts/%d/programs/%d", acc, p), nil)
			var got map[string]any
			r.JSON(t, &got)
			if r.Status != 200 || got["account_id"] != float64(acc) {
				t.Fatalf("subscribe %d: %d %s", p, r.Status, r.Body)
			}
		}
		if n := subs(); n != 2 {
			t.Fatalf("%d subscriptions, want 2", n)
		}
		if r := e.call(t, "DELETE", fmt.Sprintf("/accounts/%d/programs/%d", acc, p1), nil); r.Status != 200 || subs() != 1 {
			t.Fatalf("unsubscribe: %d %s, %d left", r.Status, r.Body, subs())
		}
		if r := e.call(t, "DELETE", fmt.Sprintf("/accounts/%d/programs", acc), nil); r.Status != 200 || subs() != 0 {
			t.Fatalf("clear: %d %s, %d left", r.Status, r.Body, subs())
		}
		if r := e.call(t, "GET", fmt.Sprintf("/programs/%d", p1), nil); r.Status != 200 {
			t.Fatalf("the program after clear: %d", r.Status)
		}
		e.expectErrors(t, []errorCase{
			{"missing program", "PUT", fmt.Sprintf("/accounts/%d/programs/999", acc), nil, 404, "Program 999 not found"},
			{"missing account", "PUT", fmt.Sprintf("/accounts/999/programs/%d", p1), nil, 404, "Account 999 not found"},
			{"unsubscribe missing", "DELETE", fmt.Sprintf("/accounts/%d/programs/999", acc), nil, 404, "not found"},
		})
		other := e.asUser(t, "subother")
		theirs := created(t, other.call(t, "POST", "/programs/receivefax", map[string]any{"name": "theirs"}), "program_id")
		if r := e.asUser(t, "subthird").call(t, "PUT", fmt.Sprintf("/accounts/%d/programs/%d", acc, p1), nil); r.Status != 404 {
			t.Fatalf("another user's account: %d %s", r.Status, r.Body)
		}
		// Users cannot create accounts (the user role lacks account_create): the admin gives one.
		mine := created(t, e.call(t, "POST", "/accounts", map[string]any{"username": "sub-other-acc"}), "account_id")
		otherID := e.storeCount(t, "SELECT user_id FROM users WHERE username = 'subother'")
		if r := e.call(t, "PUT", fmt.Sprintf("/accounts/%d/users/%d", mine, otherID), nil); r.Status != 200 {
			t.Fatalf("give the account: %d %s", r.Status, r.Body)
		}
		if r := other.call(t, "PUT", fmt.Sprintf("/accounts/%d/programs/%d", mine, p1), nil); r.Status != 404 {
			t.Fatalf("another user's program: %d %s", r.Status, r.Body)
		}
		if r := other.call(t, "PUT", fmt.Sprintf("/accounts/%d/programs/%d", mine, theirs), nil); r.Status != 200 {
			t.Fatalf("own account, own program: %d %s", r.Status, r.Body)
		}
		e.call(t, "PUT", fmt.Sprintf("/accounts/%d/programs/%d", acc, p2), nil)
		admin := e.storeCount(t, "SELECT user_id FROM users WHERE username = 'admin'")
		if r := e.call(t, "PUT", fmt.Sprintf("/accounts/%d/users/%d", acc, admin), nil); r.Status != 200 || subs() != 0 {
			t.Fatalf("owner change: %d %s, %d subscriptions left", r.Status, r.Body, subs())
		}
		if r := other.call(t, "DELETE", fmt.Sprintf("/programs/%d", theirs), nil); r.Status != 200 {
			t.Fatalf("delete program: %d %s", r.Status, r.Body)
		}
		if n := e.storeCount(t, "SELECT COUNT(*) FROM account_programs WHERE program_id = ?", theirs); n != 0 {
			t.Fatalf("%d subscriptions to a deleted program", n)
		}
	})
}
