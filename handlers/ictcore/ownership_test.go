package ictcore_test

import (
	"fmt"
	"strings"
	"testing"

	"switchboard/apitest"
)

// TestContactGroupOwnership is the ownership matrix for contacts and groups: user B's token against user
// A's contacts and groups on every route answers 404 (never A's data, never a change), B's lists hold only
// B's rows, and the admin sees A's.
func TestContactGroupOwnership(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		admin := newEnv(t, kind)
		a, b := admin.asUser(t, "ownera"), admin.asUser(t, "ownerb")
		ac := a.createContact(t, map[string]any{"first_name": "Alice", "phone": "1001"})
		ag := a.createGroup(t, "a-group")
		if r := a.call(t, "PUT", fmt.Sprintf("/contacts/%d/link/%d", ac, ag), nil); r.Status != 200 {
			t.Fatalf("owner link: %d %s", r.Status, r.Body)
		}
		bc := b.createContact(t, map[string]any{"first_name": "Bob", "phone": "2002"})
		bg := b.createGroup(t, "b-group")
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"GET", fmt.Sprintf("/contacts/%d", ac), nil},
			{"PUT", fmt.Sprintf("/contacts/%d", ac), map[string]any{"first_name": "Mallory"}},
			{"DELETE", fmt.Sprintf("/contacts/%d", ac), nil},
			{"PUT", fmt.Sprintf("/contacts/%d/link/%d", ac, bg), nil}, // A's contact into B's group
			{"PUT", fmt.Sprintf("/contacts/%d/link/%d", bc, ag), nil}, // B's contact into A's group
			{"DELETE", fmt.Sprintf("/contacts/%d/link/%d", ac, ag), nil},
			{"GET", fmt.Sprintf("/contacts/%d/link/%d", ac, ag), nil},
			{"GET", fmt.Sprintf("/groups/%d", ag), nil},
			{"PUT", fmt.Sprintf("/groups/%d", ag), map[string]any{"name": "Mallory"}},
			{"DELETE", fmt.Sprintf("/groups/%d", ag), nil},
			{"GET", fmt.Sprintf("/groups/%d/contacts", ag), nil},
			{"GET", fmt.Sprintf("/groups/%d/csv", ag), nil},
		} {
			r := b.call(t, c.method, c.path, c.body)
			if r.Status != 404 || strings.Contains(string(r.Body), "Alice") {
				t.Fatalf("user b %s %s: %d %s", c.method, c.path, r.Status, r.Body)
			}
		}
		if r := b.upload(t, fmt.Sprintf("/groups/%d/csv", ag), "text/csv", "\"3003\"\n"); r.Status != 404 {
			t.Fatalf("user b imports into a's group: %d %s", r.Status, r.Body)
		}
		for _, path := range []string{"/contacts", "/groups", fmt.Sprintf("/contacts?group_id=%d", ag)} {
			r := b.call(t, "GET", path, nil)
			if r.Status != 200 || strings.Contains(string(r.Body), "Alice") || strings.Contains(string(r.Body), "a-group") {
				t.Fatalf("user b lists %s: %d %s", path, r.Status, r.Body)
			}
		}
		var grp group
		a.call(t, "GET", fmt.Sprintf("/groups/%d", ag), nil).JSON(t, &grp)
		var c contact
		admin.call(t, "GET", fmt.Sprintf("/contacts/%d", ac), nil).JSON(t, &c)
		if grp.Name != "a-group" || grp.ContactTotal != 1 || c.FirstName != "Alice" {
			t.Fatalf("after b's attempts: group %+v, contact %+v", grp, c)
		}
	})
}
