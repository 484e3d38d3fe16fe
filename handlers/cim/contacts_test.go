package cim_test

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard/apitest"
)

// TestSaveContact: a contact is stored with values of every attribute type, phones as people write them
// (R17), validated against the schema; a number another contact has is refused and nothing is stored.
func TestSaveContact(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		for key, typ := range map[string]string{"email": "Email", "customerNo": "String", "vip": "boolean", "mobile": "Phone",
			"score": "number", "birthday": "Date", "lastCall": "DateTime", "site": "URL"} {
			e.addAttribute(t, key, typ)
		}
		john := e.save(t, map[string]any{"_id": "ignored", "first_name": "John", "last_name": "Smith", "phone1": "0300-1234567",
			"customerNo": 12345, "email": "john@example.com", "vip": "true", "mobile": "+92 321 7654321", "score": "4.5",
			"birthday": "1980-02-29", "lastCall": "2020-07-27T15:15:45+05:00", "site": "https://example.com/john"})
		want := contact{"_id": john.id(), "first_name": "John", "last_name": "Smith", "phone1": "0300-1234567",
			"customerNo": "12345", "email": "john@example.com", "vip": true, "mobile": "+92 321 7654321", "score": 4.5,
			"birthday": "1980-02-29", "lastCall": "2020-07-27T15:15:45+05:00", "site": "https://example.com/john"}
		if !reflect.DeepEqual(john, want) {
			t.Fatalf("saved\n%v\nwant\n%v", john, want)
		}
		var got contact
		e.ok(t, "GET", "/contacts/"+john.id(), nil, &got)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("read back\n%v\nwant\n%v", got, want)
		}

		// Phones are plain strings (R17): a short extension, spaces and a plus; empty values are no values.
		ext := e.save(t, map[string]any{"phone1": "101", "first_name": "Front desk", "email": ""})
		if _, has := ext["email"]; has || ext["phone1"] != "101" {
			t.Fatalf("extension: %v", ext)
		}
		e.save(t, map[string]any{"phone1": "+92 300 1234567"}) // 923001234567: not John's 03001234567
		// One contact may hold a number twice.
		e.save(t, map[string]any{"phone1": "0301-1111111", "mobile": "03011111111"})

		e.expectErrors(t, []errorCase{
			{"phone of another contact, other spelling", "POST", "/saveContact", map[string]any{"phone1": "03001234567"},
				409, "phone number 03001234567 already belongs to contact " + john.id()},
			{"phone of another contact in a custom phone attribute", "POST", "/saveContact",
				map[string]any{"phone1": "555", "mobile": "(0300) 123-4567"}, 409, "already belongs to contact " + john.id()},
			{"another contact's custom phone", "POST", "/saveContact", map[string]any{"phone1": "92 321 7654321 "}, 409, "already belongs"},
			{"no phone1", "POST", "/saveContact", map[string]any{"first_name": "Nobody"}, 400, "phone1"},
			{"empty phone1", "POST", "/saveContact", map[string]any{"phone1": ""}, 400, "phone1"},
			{"phone with letters", "POST", "/saveContact", map[string]any{"phone1": "call me"}, 400, "not a phone number"},
			{"phone with too many digits", "POST", "/saveContact", map[string]any{"phone1": strings.Repeat("1", 21)}, 400, "more than 20 digits"},
			{"unknown attribute", "POST", "/saveContact", map[string]any{"phone1": "1", "nickname": "x"}, 400, `"nickname" is not an attribute`},
			{"attribute key in another case", "POST", "/saveContact", map[string]any{"phone1": "1", "customerno": "x"}, 400, "not an attribute"},
			{"bad email", "POST", "/saveContact", map[string]any{"phone1": "1", "email": "john@"}, 400, `attribute "email" (email)`},
			{"email with a display name", "POST", "/saveContact", map[string]any{"phone1": "1", "email": "John <j@example.com>"}, 400, "email"},
			{"bad bool", "POST", "/saveContact", map[string]any{"phone1": "1", "vip": "maybe"}, 400, "want true or false"},
			{"bool as a number", "POST", "/saveContact", map[string]any{"phone1": "1", "vip": 1}, 400, "want true or false"},
			{"bad number", "POST", "/saveContact", map[string]any{"phone1": "1", "score": "many"}, 400, "want a number"},
			{"bad date", "POST", "/saveContact", map[string]any{"phone1": "1", "birthday": "1980-02-30"}, 400, "YYYY-MM-DD"},
			{"bad datetime", "POST", "/saveContact", map[string]any{"phone1": "1", "lastCall": "yesterday"}, 400, "RFC 3339"},
			{"bad url", "POST", "/saveContact", map[string]any{"phone1": "1", "site": "ftp://example.com"}, 400, "http or https URL"},
			{"text over 1000 characters", "POST", "/saveContact", map[string]any{"phone1": "1", "customerNo": strings.Repeat("x", 1001)},
				400, "longer than 1000"},
			{"first name over 1000 characters", "POST", "/saveContact", map[string]any{"phone1": "1", "first_name": strings.Repeat("é", 1001)},
				400, "first_name"},
			{"text as a bool", "POST", "/saveContact", map[string]any{"phone1": "1", "first_name": true}, 400, "first_name"},
			{"not an object", "POST", "/saveContact", `[]`, 400, ""},
			{"malformed JSON", "POST", "/saveContact", `{"phone1":`, 400, ""},
			{"control character", "POST", "/saveContact", map[string]any{"phone1": "1", "first_name": "a\x00b"}, 400, ""},
		})
		var all []contact
		e.ok(t, "GET", "/getContactList?limit=100", nil, &all)
		if len(all) != 4 {
			t.Fatalf("refused saves stored contacts: %d contacts", len(all))
		}
	})
}

// TestUpdateContact: a partial body changes only what it carries, an echoed _id is ignored (R21), an empty
// value removes one, and the number rule holds.
func TestUpdateContact(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		e.addAttribute(t, "email", "email")
		e.addAttribute(t, "mobile", "phone")
		john := e.save(t, map[string]any{"first_name": "John", "last_name": "Smith", "phone1": "0300-1234567", "email": "john@example.com"})
		sara := e.save(t, map[string]any{"first_name": "Sara", "phone1": "0321-7654321"})

		var got contact
		e.ok(t, "PUT", "/contacts/"+john.id(), map[string]any{"first_name": "Johnny"}, &got)
		want := contact{"_id": john.id(), "first_name": "Johnny", "last_name": "Smith", "phone1": "0300-1234567", "email": "john@example.com"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("partial update: %v, want %v", got, want)
		}
		// What GET answered, sent back with its _id (and a wrong one: the path wins).
		echo := contact{}
		for k, v := range want {
			echo[k] = v
		}
		e.ok(t, "PUT", "/contacts/"+john.id(), echo, &got)
		echo["_id"] = sara.id()
		e.ok(t, "PUT", "/contacts/"+john.id(), echo, &got)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("echoed body: %v, want %v", got, want)
		}
		e.ok(t, "GET", "/contacts/"+sara.id(), nil, &got)
		if got["first_name"] != "Sara" {
			t.Fatalf("an echoed _id changed another contact: %v", got)
		}
		// An empty string removes a value; a new number replaces the old one, which is free again.
		e.ok(t, "PUT", "/contacts/"+john.id(), map[string]any{"email": "", "phone1": "0300 9999999", "mobile": "0300-1111111"}, &got)
		if _, has := got["email"]; has || got["phone1"] != "0300 9999999" || got["mobile"] != "0300-1111111" {
			t.Fatalf("after removing email and changing phones: %v", got)
		}
		e.save(t, map[string]any{"phone1": "03001234567"})
		// The name keys follow the update.
		var found []contact
		e.ok(t, "GET", "/contacts/getContactByName/johnny", nil, &found)
		if len(found) != 1 || found[0].id() != john.id() {
			t.Fatalf("search by the new name: %v", found)
		}
		e.ok(t, "GET", "/contacts/getContactByName/john%20smith", nil, &found)
		if len(found) != 0 {
			t.Fatalf("search by the old full name: %v", found)
		}

		unknown := "00000000000000000000ffff"
		e.expectErrors(t, []errorCase{
			{"phone of another contact", "PUT", "/contacts/" + john.id(), map[string]any{"mobile": "0321 7654321"}, 409,
				"already belongs to contact " + sara.id()},
			{"remove phone1", "PUT", "/contacts/" + john.id(), map[string]any{"phone1": ""}, 400, "phone1 cannot be removed"},
			{"remove an unknown attribute", "PUT", "/contacts/" + john.id(), map[string]any{"nickname": ""}, 400, "not an attribute"},
			{"value breaking the schema", "PUT", "/contacts/" + john.id(), map[string]any{"email": "nope"}, 400, `attribute "email"`},
			{"unknown contact", "PUT", "/contacts/" + unknown, map[string]any{"first_name": "X"}, 404, "contact " + unknown + " not found"},
			{"bad id", "PUT", "/contacts/xyz", map[string]any{"first_name": "X"}, 400, "contact_id"},
			{"upper-case id", "PUT", "/contacts/" + strings.ToUpper(john.id()), map[string]any{"first_name": "X"}, 400, "contact_id"},
			{"no body", "PUT", "/contacts/" + john.id(), nil, 400, ""},
		})
		e.ok(t, "GET", "/contacts/"+john.id(), nil, &got)
		if got["mobile"] != "0300-1111111" || got["phone1"] != "0300 9999999" {
			t.Fatalf("refused updates changed the contact: %v", got)
		}
	})
}

// TestDeleteContact: the answer is the contact as it was; its numbers are free again; reads answer 404.
func TestDeleteContact(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		e.addAttribute(t, "vip", "bool")
		john := e.save(t, map[string]any{"first_name": "John", "phone1": "0300-1234567", "vip": false})
		var gone contact
		e.ok(t, "DELETE", "/contacts/"+john.id(), nil, &gone)
		if !reflect.DeepEqual(gone, john) {
			t.Fatalf("delete answered %v, want %v", gone, john)
		}
		e.save(t, map[string]any{"phone1": "03001234567"})
		e.expectErrors(t, []errorCase{
			{"get deleted", "GET", "/contacts/" + john.id(), nil, 404, "not found"},
			{"delete again", "DELETE", "/contacts/" + john.id(), nil, 404, "not found"},
			{"update deleted", "PUT", "/contacts/" + john.id(), map[string]any{"first_name": "X"}, 404, "not found"},
			{"bad id", "DELETE", "/contacts/123", nil, 400, "contact_id"},
		})
	})
}

// TestContactList: getContactList is the first page, loadMore the next ones by keyset; _ids grow with
// creation time and order the list (R28); the Link header leads from page to page.
func TestContactList(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		start := time.Now().Unix()
		var made []string
		for i := range 5 {
			made = append(made, e.save(t, map[string]any{"phone1": fmt.Sprintf("0300-000000%d", i)}).id())
		}
		for i := 1; i < len(made); i++ {
			if made[i] <= made[i-1] {
				t.Fatalf("_ids do not grow: %v", made)
			}
		}
		for _, id := range made {
			secs, err := strconv.ParseInt(id[:8], 16, 64)
			if err != nil || secs < start || secs > time.Now().Unix() {
				t.Fatalf("_id %s does not start with its creation time (%d..now)", id, start)
			}
		}

		var page []contact
		r := e.ok(t, "GET", "/getContactList?limit=2&count=true", nil, &page)
		if !slices.Equal(ids(page), made[:2]) || r.Header.Get("X-Total-Count") != "5" {
			t.Fatalf("first page: %v (total %q), want %v", ids(page), r.Header.Get("X-Total-Count"), made[:2])
		}
		link := r.Header.Get("Link")
		next := fmt.Sprintf(`</cim/contacts/loadMore/%s?count=true&limit=2>; rel="next"`, made[1])
		if link != next {
			t.Fatalf("Link %q, want %q", link, next)
		}
		var seen []string
		for link != "" {
			path := strings.TrimPrefix(strings.Split(link, ">")[0], "</cim")
			r = e.ok(t, "GET", path, nil, &page)
			seen = append(seen, ids(page)...)
			link = r.Header.Get("Link")
			if len(seen) > len(made) {
				t.Fatalf("Link leads on and on: %v", seen)
			}
		}
		if !slices.Equal(seen, made[2:]) {
			t.Fatalf("following Link: %v, want %v", seen, made[2:])
		}

		// A cursor need not exist: a deleted contact's _id, or one before the first.
		e.ok(t, "DELETE", "/contacts/"+made[2], nil, nil)
		e.ok(t, "GET", "/contacts/loadMore/"+made[2], nil, &page)
		if !slices.Equal(ids(page), made[3:]) {
			t.Fatalf("after a deleted cursor: %v", ids(page))
		}
		e.ok(t, "GET", "/contacts/loadMore/000000000000000000000000?limit=1", nil, &page)
		if !slices.Equal(ids(page), made[:1]) {
			t.Fatalf("from the start: %v", ids(page))
		}
		r = e.ok(t, "GET", "/contacts/loadMore/ffffffffffffffffffffffff", nil, &page)
		if len(page) != 0 || r.Header.Get("Link") != "" {
			t.Fatalf("past the end: %v %q", page, r.Header.Get("Link"))
		}
		r = e.ok(t, "GET", "/getContactList", nil, &page)
		if len(page) != 4 || r.Header.Get("Link") != "" || r.Header.Get("X-Total-Count") != "" {
			t.Fatalf("whole list: %d contacts, Link %q, total %q", len(page), r.Header.Get("Link"), r.Header.Get("X-Total-Count"))
		}
		e.expectErrors(t, []errorCase{
			{"bad cursor", "GET", "/contacts/loadMore/abc", nil, 400, "last_id"},
			{"page too large", "GET", "/getContactList?limit=101", nil, 400, "limit"},
			{"page of zero", "GET", "/contacts/loadMore/" + made[0] + "?limit=0", nil, 400, "limit"},
		})
	})
}

// TestDefaultPage: the contact list's page is 25 unless the request says (ambiguity 23).
func TestDefaultPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	for i := range 26 {
		e.save(t, map[string]any{"phone1": strconv.Itoa(1000 + i)})
	}
	var page []contact
	if r := e.ok(t, "GET", "/getContactList", nil, &page); len(page) != 25 || r.Header.Get("Link") == "" {
		t.Fatalf("default page: %d contacts, Link %q", len(page), r.Header.Get("Link"))
	}
	e.ok(t, "GET", "/contacts/loadMore/"+page[24].id(), nil, &page)
	if len(page) != 1 || page[0]["phone1"] != "1025" {
		t.Fatalf("second page: %v", page)
	}
}

// TestSearch: by name (prefixes of first, last and full name) and by terms (ANDed; phones by digits, text
// by prefix, others exactly; no terms list all, R20).
func TestSearch(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		e.addAttribute(t, "customerNo", "text")
		e.addAttribute(t, "mobile", "phone")
		e.addAttribute(t, "vip", "bool")
		e.addAttribute(t, "email", "email")
		john := e.save(t, map[string]any{"first_name": "John", "last_name": "Smith", "phone1": "0300-1234567", "customerNo": "A-100",
			"vip": true, "email": "John@Example.com"})
		johanna := e.save(t, map[string]any{"first_name": "Johanna", "last_name": "Doe", "phone1": "0311 2223334", "customerNo": "B-7"})
		sara := e.save(t, map[string]any{"first_name": "Sara", "last_name": "Khan", "phone1": "0333-1112223", "mobile": "0300-7654321",
			"vip": false})
		all := []string{john.id(), johanna.id(), sara.id()}

		for _, tc := range []struct {
			name string
			want []string
		}{
			{"jo", all[:2]}, {"JOHN", all[:1]}, {"smi", all[:1]}, {"john%20sm", all[:1]}, {"khan", all[2:]},
			{"ohn", nil}, {"sara%20d", nil}, {"%20", all},
		} {
			var got []contact
			e.ok(t, "GET", "/contacts/getContactByName/"+tc.name, nil, &got)
			if !slices.Equal(ids(got), tc.want) && (len(got) != 0 || len(tc.want) != 0) {
				t.Errorf("by name %q: %v, want %v", tc.name, ids(got), tc.want)
			}
		}
		for _, tc := range []struct {
			name  string
			terms any
			want  []string
		}{
			{"no body", nil, all},
			{"no terms", map[string]any{}, all},
			{"empty terms", map[string]any{"phone": "", "first_name": ""}, all},
			{"phone, other spelling", map[string]any{"phone": "+0300 123 4567"}, all[:1]},
			{"phone in a custom attribute", map[string]any{"phone": "03007654321"}, all[2:]},
			{"phone attribute by digits", map[string]any{"phone1": "(0311) 2223334"}, all[1:2]},
			{"custom phone attribute is not phone1", map[string]any{"phone1": "03007654321"}, nil},
			{"text prefix, any case", map[string]any{"first_name": "JO"}, all[:2]},
			{"terms ANDed", map[string]any{"first_name": "jo", "last_name": "d"}, all[1:2]},
			{"terms ANDed, none", map[string]any{"first_name": "jo", "phone": "03331112223"}, nil},
			{"custom text", map[string]any{"customerNo": "a-1"}, all[:1]},
			{"text is a prefix, not contains", map[string]any{"customerNo": "100"}, nil},
			{"bool", map[string]any{"vip": false}, all[2:]},
			{"bool as a string", map[string]any{"vip": "TRUE"}, all[:1]},
			{"email exactly, any case", map[string]any{"email": "john@example.COM"}, all[:1]},
			{"email is not a prefix", map[string]any{"email": "john@example.co"}, nil},
		} {
			var got []contact
			e.ok(t, "POST", "/contacts/getContactsBySearchTerms", tc.terms, &got)
			if !slices.Equal(ids(got), tc.want) && (len(got) != 0 || len(tc.want) != 0) {
				t.Errorf("search %s: %v, want %v", tc.name, ids(got), tc.want)
			}
		}
		var got []contact
		r := e.ok(t, "POST", "/contacts/getContactsBySearchTerms?limit=1&count=true", map[string]any{"first_name": "j"}, &got)
		if !slices.Equal(ids(got), all[:1]) || r.Header.Get("X-Total-Count") != "2" ||
			r.Header.Get("Link") != `</cim/contacts/getContactsBySearchTerms?count=true&limit=1&offset=1>; rel="next"` {
			t.Fatalf("search page: %v, total %q, Link %q", ids(got), r.Header.Get("X-Total-Count"), r.Header.Get("Link"))
		}
		r = e.ok(t, "GET", "/contacts/getContactByName/j?limit=1&offset=1", nil, &got)
		if !slices.Equal(ids(got), all[1:2]) || r.Header.Get("Link") != "" {
			t.Fatalf("name page 2: %v, Link %q", ids(got), r.Header.Get("Link"))
		}
		e.expectErrors(t, []errorCase{
			{"unknown term", "POST", "/contacts/getContactsBySearchTerms", map[string]any{"nickname": "x"}, 400, `"nickname" is not phone nor an attribute`},
			{"bad phone", "POST", "/contacts/getContactsBySearchTerms", map[string]any{"phone": "abc"}, 400, "search term phone"},
			{"bad bool", "POST", "/contacts/getContactsBySearchTerms", map[string]any{"vip": "yes"}, 400, "want true or false"},
			{"not an object", "POST", "/contacts/getContactsBySearchTerms", `"john"`, 400, ""},
			{"limit", "GET", "/contacts/getContactByName/j?limit=0", nil, 400, "limit"},
		})
	})
}
