package ictcore_test

import (
	"fmt"
	"strings"
	"testing"

	"switchboard/apitest"
)

type contact struct {
	ContactID int64  `json:"contact_id"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Phone     string `json:"phone"`
	Email     string `json:"email"`
	UserID    int64  `json:"user_id"`
}

func (e *ictEnv) createContact(t *testing.T, body map[string]any) int64 {
	t.Helper()
	r := e.call(t, "POST", "/contacts", body)
	if r.Status != 200 {
		t.Fatalf("create contact: %d %s", r.Status, r.Body)
	}
	var out struct {
		ContactID int64 `json:"contact_id"`
	}
	r.JSON(t, &out)
	if out.ContactID == 0 {
		t.Fatalf("no contact_id in %s", r.Body)
	}
	return out.ContactID
}

func TestContactCRUD(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		id := e.createContact(t, map[string]any{"first_name": "Ada", "last_name": "Lovelace", "phone": "03001234567", "email": "ada@example.com"})

		var got contact
		e.call(t, "GET", fmt.Sprintf("/contacts/%d", id), nil).JSON(t, &got)
		if got.FirstName != "Ada" || got.Phone != "03001234567" || got.Email != "ada@example.com" || got.UserID != 1 {
			t.Fatalf("read back %+v", got)
		}

		var found []contact
		e.call(t, "GET", "/contacts?phone=234567", nil).JSON(t, &found)
		if len(found) != 1 || found[0].ContactID != id {
			t.Fatalf("phone suffix search: %+v", found)
		}
		r := e.call(t, "PUT", fmt.Sprintf("/contacts/%d", id), map[string]any{"last_name": "King", "phone": "+44 20 7946 0018", "contact_id": 999})
		var upd contact
		r.JSON(t, &upd)
		if r.Status != 200 || upd.LastName != "King" || upd.FirstName != "Ada" || upd.ContactID != id {
			t.Fatalf("update: %d %+v", r.Status, upd)
		}
		for query, want := range map[string]int{"?phone=0018": 1, "?phone=234567": 0} { // the new phone, not the old
			e.call(t, "GET", "/contacts"+query, nil).JSON(t, &found)
			if len(found) != want {
				t.Fatalf("after phone change, %s found %d", query, len(found))
			}
		}

		if r := e.call(t, "DELETE", fmt.Sprintf("/contacts/%d", id), nil); r.Status != 200 || string(r.Body) != "true\n" {
			t.Fatalf("delete: %d %q", r.Status, r.Body)
		}
		if r := e.call(t, "GET", fmt.Sprintf("/contacts/%d", id), nil); r.Status != 404 {
			t.Fatalf("after delete: %d", r.Status)
		}
	})
}

func TestContactErrors(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		id := e.createContact(t, map[string]any{"first_name": "Bo", "phone": "123"})
		e.expectErrors(t, []errorCase{
			{"missing first_name", "POST", "/contacts", map[string]any{"phone": "1"}, 412, "first_name"},
			{"neither phone nor email", "POST", "/contacts", map[string]any{"first_name": "A"}, 412, "phone or an email"},
			{"phone of letters", "POST", "/contacts", map[string]any{"first_name": "A", "phone": "abc"}, 412, "phone"},
			{"phone as a negative number", "POST", "/contacts", map[string]any{"first_name": "A", "phone": -3001234567}, 412, "phone"}, // a positive one is accepted (R1)
			{"bad email", "POST", "/contacts", map[string]any{"first_name": "A", "email": "not-an-email"}, 412, "email"},
			{"oversized name", "POST", "/contacts", map[string]any{"first_name": strings.Repeat("x", 65), "phone": "1"}, 412, "first_name"},
			{"unknown field", "POST", "/contacts", map[string]any{"first_name": "A", "phone": "1", "nick": "x"}, 412, "nick"},
			{"malformed JSON", "POST", "/contacts", `{"first_name":`, 412, "Data validation failed"},
			{"id not a number", "GET", "/contacts/abc", nil, 412, "contact_id"},
			{"id zero", "GET", "/contacts/0", nil, 412, "contact_id"},
			{"unknown id", "GET", "/contacts/424242", nil, 404, "Contact 424242 not found"},
			{"update unknown", "PUT", "/contacts/424242", map[string]any{"first_name": "Z"}, 404, "not found"},
			{"update bad email", "PUT", fmt.Sprintf("/contacts/%d", id), map[string]any{"email": "nope"}, 412, "email"},
			{"delete unknown", "DELETE", "/contacts/424242", nil, 404, "not found"},
			{"bad limit", "GET", "/contacts?limit=5000", nil, 412, "limit"},
			{"bad filter type", "GET", "/contacts?group_id=x", nil, 412, "group_id"},
		})
	})
}

func TestContactListFiltersAndPages(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		for i := 1; i <= 5; i++ {
			e.createContact(t, map[string]any{"first_name": fmt.Sprintf("Name%d", i), "last_name": "Smith_%", "phone": fmt.Sprintf("0300000000%d", i), "email": fmt.Sprintf("p%d@example.com", i)})
		}
		e.createContact(t, map[string]any{"first_name": "Other", "email": "o@example.com"})
		next := func(q string) string { return "</ictcore/contacts?" + q + `>; rel="next"` }
		cases := []struct {
			query     string
			wantIDs   []int64
			wantTotal string // X-Total-Count only when asked with count=true
			wantLink  string
		}{
			{"", []int64{1, 2, 3, 4, 5, 6}, "", ""},
			{"?count=true", []int64{1, 2, 3, 4, 5, 6}, "6", ""},
			{"?limit=2&count=true", []int64{1, 2}, "6", next("after_contact_id=2&count=true&limit=2")},
			{"?limit=2&offset=2", []int64{3, 4}, "", next("after_contact_id=4&limit=2")}, // the next page is by keyset
			{"?after_contact_id=4", []int64{5, 6}, "", ""},
			{"?after_contact_id=1&limit=1&count=true", []int64{2}, "6", next("after_contact_id=2&count=true&limit=1")},
			{"?phone=03&count=true", []int64{3}, "1", ""}, // phone ends with
			{"?email=p2@example.com&count=true", []int64{2}, "1", ""},
			{"?first_name=name&count=true", []int64{1, 2, 3, 4, 5}, "5", ""}, // contains, any case
			{"?last_name=h_%25&count=true", []int64{1, 2, 3, 4, 5}, "5", ""}, // % and _ are literal
			{"?last_name=x%25&count=true", nil, "0", ""},
			{"?contact_id=6&count=true", []int64{6}, "1", ""},
			{"?user_id=1&limit=1&count=true", []int64{1}, "6", next("after_contact_id=1&count=true&limit=1&user_id=1")},
			{"?created_by=2&count=true", nil, "0", ""},
			{"?before=0&count=true", nil, "0", ""},
			{"?after=0&limit=1", []int64{1}, "", next("after=0&after_contact_id=1&limit=1")},
		}
		for _, tc := range cases {
			t.Run(tc.query, func(t *testing.T) {
				r := e.call(t, "GET", "/contacts"+tc.query, nil)
				var got []contact
				r.JSON(t, &got)
				var ids []int64
				for _, c := range got {
					ids = append(ids, c.ContactID)
				}
				if link := r.Header.Get("Link"); link != tc.wantLink {
					t.Fatalf("Link %q, want %q", link, tc.wantLink)
				}
				if fmt.Sprint(ids) != fmt.Sprint(tc.wantIDs) || r.Header.Get("X-Total-Count") != tc.wantTotal {
					t.Fatalf("ids %v total %s, want %v total %s", ids, r.Header.Get("X-Total-Count"), tc.wantIDs, tc.wantTotal)
				}
			})
		}
	})
}

func TestContactGroupLinks(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		c1 := e.createContact(t, map[string]any{"first_name": "A", "phone": "1"})
		c2 := e.createContact(t, map[string]any{"first_name": "B", "phone": "2"})
		g := e.createGroup(t, "team")
		total := func() int64 {
			var grp group
			e.call(t, "GET", fmt.Sprintf("/groups/%d", g), nil).JSON(t, &grp)
			return grp.ContactTotal
		}
		for _, step := range []struct {
			method, path string
			wantStatus   int
			wantTotal    int64
		}{
			{"PUT", fmt.Sprintf("/contacts/%d/link/%d", c1, g), 200, 1},
			{"PUT", fmt.Sprintf("/contacts/%d/link/%d", c1, g), 200, 1}, // again: idempotent
			{"PUT", fmt.Sprintf("/contacts/%d/link/%d", c2, g), 200, 2},
			{"PUT", fmt.Sprintf("/contacts/%d/link/%d", c2, 999), 404, 2},
			{"PUT", fmt.Sprintf("/contacts/%d/link/%d", 999, g), 404, 2},
			{"DELETE", fmt.Sprintf("/contacts/%d/link/%d", c1, g), 200, 1},
			{"DELETE", fmt.Sprintf("/contacts/%d/link/%d", c1, g), 200, 1}, // again: idempotent
			{"GET", fmt.Sprintf("/contacts/%d/link/%d", c2, g), 200, 0},    // the guide's GET form of delete
			{"PUT", fmt.Sprintf("/contacts/%d/link/%d", c1, g), 200, 1},
			{"DELETE", fmt.Sprintf("/contacts/%d", c1), 200, 0}, // deleting a contact leaves its groups
		} {
			r := e.call(t, step.method, step.path, nil)
			if r.Status != step.wantStatus {
				t.Fatalf("%s %s: %d %s", step.method, step.path, r.Status, r.Body)
			}
			if got := total(); got != step.wantTotal {
				t.Fatalf("after %s %s: contact_total %d, want %d", step.method, step.path, got, step.wantTotal)
			}
		}
		r := e.call(t, "PUT", fmt.Sprintf("/contacts/%d/link/%d", c2, g), nil)
		var linked contact
		r.JSON(t, &linked)
		if linked.ContactID != c2 {
			t.Fatalf("link answers %s", r.Body)
		}
		var members []contact
		r = e.call(t, "GET", fmt.Sprintf("/contacts?group_id=%d", g), nil)
		r.JSON(t, &members)
		if len(members) != 1 || members[0].ContactID != c2 {
			t.Fatalf("group filter: %s", r.Body)
		}
	})
}

// TestCaseFoldingIsTheSameOnBothStores: a case-insensitive filter folds all of Unicode on SQLite as on
// Postgres ("é" finds "École").
func TestCaseFoldingIsTheSameOnBothStores(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		id := e.createContact(t, map[string]any{"first_name": "École", "last_name": "ÇAĞRI", "phone": "1"})
		e.createContact(t, map[string]any{"first_name": "Ecole", "phone": "2"})
		for _, q := range []string{"first_name=%C3%A9cole", "first_name=%C3%89COLE", "last_name=%C3%A7a%C4%9Fri"} {
			var got []contact
			e.call(t, "GET", "/contacts?"+q, nil).JSON(t, &got)
			if len(got) != 1 || got[0].ContactID != id {
				t.Errorf("%s: %+v", q, got)
			}
		}
	})
}
