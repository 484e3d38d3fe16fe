package ictcore_test

import (
	"fmt"
	"strings"
	"testing"

	"switchboard/apitest"
)

type group struct {
	GroupID      int64  `json:"group_id"`
	Name         string `json:"name"`
	Description  string `json:"description"`
	ContactTotal int64  `json:"contact_total"`
}

func (e *ictEnv) createGroup(t *testing.T, name string) int64 {
	t.Helper()
	r := e.call(t, "POST", "/groups", map[string]any{"name": name, "description": "d"})
	if r.Status != 200 {
		t.Fatalf("create group: %d %s", r.Status, r.Body)
	}
	var out struct {
		GroupID int64 `json:"group_id"`
	}
	r.JSON(t, &out)
	return out.GroupID
}

func TestGroupCRUD(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		g := e.createGroup(t, "Sales")
		e.createGroup(t, "Support")

		var got group
		e.call(t, "GET", fmt.Sprintf("/groups/%d", g), nil).JSON(t, &got)
		if got.Name != "Sales" || got.Description != "d" || got.ContactTotal != 0 {
			t.Fatalf("read back %+v", got)
		}
		r := e.call(t, "PUT", fmt.Sprintf("/groups/%d", g), map[string]any{"name": "Sales EU", "id": 77})
		r.JSON(t, &got)
		if r.Status != 200 || got.Name != "Sales EU" || got.GroupID != g {
			t.Fatalf("update: %d %s", r.Status, r.Body)
		}
		var list []group
		r = e.call(t, "GET", "/groups?name=sales&count=true", nil)
		r.JSON(t, &list)
		if len(list) != 1 || list[0].GroupID != g || r.Header.Get("X-Total-Count") != "1" {
			t.Fatalf("list by name: %s", r.Body)
		}
		if r := e.call(t, "DELETE", fmt.Sprintf("/groups/%d", g), nil); r.Status != 200 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		if r := e.call(t, "GET", fmt.Sprintf("/groups/%d", g), nil); r.Status != 404 {
			t.Fatalf("after delete: %d", r.Status)
		}
	})
}

func TestGroupErrors(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		e.expectErrors(t, []errorCase{
			{"missing name", "POST", "/groups", map[string]any{"description": "x"}, 412, "name"},
			{"empty name", "POST", "/groups", map[string]any{"name": ""}, 412, "name"},
			{"oversized description", "POST", "/groups", map[string]any{"name": "a", "description": strings.Repeat("d", 256)}, 412, "description"},
			{"unknown group", "GET", "/groups/999", nil, 404, "Group 999 not found"},
			{"update unknown", "PUT", "/groups/999", map[string]any{"name": "x"}, 404, "not found"},
			{"delete unknown", "DELETE", "/groups/999", nil, 404, "not found"},
			{"contacts of unknown", "GET", "/groups/999/contacts", nil, 404, "not found"},
			{"export unknown", "GET", "/groups/999/csv", nil, 404, "not found"},
		})
	})
}

func TestGroupContacts(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		g := e.createGroup(t, "g")
		var ids []int64
		for i := 0; i < 3; i++ {
			id := e.createContact(t, map[string]any{"first_name": fmt.Sprintf("C%d", i), "phone": fmt.Sprintf("55%d", i)})
			ids = append(ids, id)
			e.call(t, "PUT", fmt.Sprintf("/contacts/%d/link/%d", id, g), nil)
		}
		e.createContact(t, map[string]any{"first_name": "outsider", "phone": "9"})
		var got []contact
		r := e.call(t, "GET", fmt.Sprintf("/groups/%d/contacts?limit=2&count=true", g), nil)
		r.JSON(t, &got)
		wantLink := fmt.Sprintf(`</ictcore/groups/%d/contacts?after_contact_id=%d&count=true&limit=2>; rel="next"`, g, ids[1])
		if len(got) != 2 || got[0].ContactID != ids[0] || r.Header.Get("X-Total-Count") != "3" || r.Header.Get("Link") != wantLink {
			t.Fatalf("group contacts: %s (total %s, link %s)", r.Body, r.Header.Get("X-Total-Count"), r.Header.Get("Link"))
		}
		r = e.call(t, "GET", fmt.Sprintf("/groups/%d/contacts?limit=2&after_contact_id=%d", g, ids[1]), nil)
		r.JSON(t, &got)
		if len(got) != 1 || got[0].ContactID != ids[2] || r.Header.Get("Link") != "" || r.Header.Get("X-Total-Count") != "" {
			t.Fatalf("last page of group contacts: %s (link %q)", r.Body, r.Header.Get("Link"))
		}
		r = e.call(t, "GET", fmt.Sprintf("/groups/%d/contacts?phone=1", g), nil)
		r.JSON(t, &got)
		if len(got) != 1 || got[0].ContactID != ids[1] {
			t.Fatalf("filtered: %s", r.Body)
		}
	})
}
