package cim_test

import (
	"fmt"
	"reflect"
	"testing"

	"switchboard/apitest"
)

// TestSchema: the predefined attributes, custom ones in the document's spellings (R19), label updates,
// and the rules that keep stored values valid.
func TestSchema(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		var schema []attribute
		e.ok(t, "GET", "/getSchema", nil, &schema)
		want := []attribute{
			{"000000000000000000000001", "First Name", "first_name", "text", true},
			{"000000000000000000000002", "Last Name", "last_name", "text", true},
			{"000000000000000000000003", "Phone", "phone1", "phone", true},
		}
		if !reflect.DeepEqual(schema, want) {
			t.Fatalf("predefined schema: %+v", schema)
		}
		// The document's example body, camelCase keys, types in any case and alias; label and type defaults.
		var a attribute
		e.ok(t, "POST", "/saveSchema", map[string]any{"label": "string", "key": "string", "type": "string"}, &a)
		if a.Type != "text" || a.Key != "string" || a.Predefined || len(a.ID) != 24 {
			t.Fatalf("document's example: %+v", a)
		}
		e.ok(t, "POST", "/saveSchema", map[string]any{"key": "customerNo"}, &a)
		if a.Label != "customerNo" || a.Type != "text" {
			t.Fatalf("defaults: %+v", a)
		}
		n := 0
		for spelling, typ := range map[string]string{"Text": "text", "PHONE": "phone", "PhoneNumber": "phone", "Email": "email",
			"Date": "date", "DateTime": "datetime", "date-time": "datetime", "URL": "url", "uri": "url", "Bool": "bool",
			"Boolean": "bool", "Number": "number"} {
			n++
			e.ok(t, "POST", "/saveSchema", map[string]any{"label": spelling, "key": fmt.Sprintf("k%d", n), "type": spelling,
				"_id": "ignored", "predefined": true}, &a)
			if a.Type != typ || a.Predefined {
				t.Errorf("type %q: %+v, want %s", spelling, a, typ)
			}
		}
		// A label changes; key and type may be echoed, in the type's other spellings too.
		email := e.addAttribute(t, "email", "Email")
		e.ok(t, "PUT", "/schema/"+email.ID, map[string]any{"label": "E-mail address", "key": "email", "type": "EMAIL",
			"_id": email.ID, "predefined": false}, &a)
		if a.Label != "E-mail address" || a.Type != "email" || a.ID != email.ID {
			t.Fatalf("label update: %+v", a)
		}
		e.ok(t, "PUT", "/schema/000000000000000000000003", map[string]any{"label": "Mobile"}, &a)
		if a.Label != "Mobile" || a.Key != "phone1" || !a.Predefined {
			t.Fatalf("predefined label update: %+v", a)
		}
		unknown := "00000000000000000000ffff"
		e.expectErrors(t, []errorCase{
			{"key taken", "POST", "/saveSchema", map[string]any{"key": "email"}, 409, `"email" exists already`},
			{"key taken in another case", "POST", "/saveSchema", map[string]any{"key": "CustomerNO"}, 409, `(as "customerNo")`},
			{"predefined key", "POST", "/saveSchema", map[string]any{"key": "phone1"}, 409, "exists already"},
			{"reserved key", "POST", "/saveSchema", map[string]any{"key": "Phone"}, 400, "reserved"},
			{"key not a name", "POST", "/saveSchema", map[string]any{"key": "1st"}, 400, "key"},
			{"key missing", "POST", "/saveSchema", map[string]any{"label": "x"}, 400, "key"},
			{"unknown type", "POST", "/saveSchema", map[string]any{"key": "x", "type": "money"}, 400, `attribute type "money"`},
			{"unknown field", "POST", "/saveSchema", map[string]any{"key": "x", "required": true}, 400, "required"},
			{"change key", "PUT", "/schema/" + email.ID, map[string]any{"key": "mail"}, 400, "cannot change"},
			{"change type", "PUT", "/schema/" + email.ID, map[string]any{"type": "text"}, 400, "cannot change"},
			{"unknown type on update", "PUT", "/schema/" + email.ID, map[string]any{"type": "money"}, 400, "money"},
			{"update unknown", "PUT", "/schema/" + unknown, map[string]any{"label": "x"}, 404, "attribute " + unknown + " not found"},
			{"update bad id", "PUT", "/schema/x", map[string]any{"label": "x"}, 400, "schema_id"},
			{"delete predefined", "DELETE", "/schema/000000000000000000000001", nil, 409, "predefined"},
			{"delete unknown", "DELETE", "/schema/" + unknown, nil, 404, "not found"},
		})
		e.ok(t, "GET", "/getSchema?limit=3&offset=3&count=true", nil, &schema)
		if len(schema) != 3 || schema[0].Key != "string" || schema[1].Key != "customerNo" {
			t.Fatalf("custom attributes in creation order: %+v", schema)
		}
	})
}

// TestSchemaLimit: 50 custom attributes may exist, the 51st is refused; a deleted one makes room.
func TestSchemaLimit(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		var last attribute
		for i := range 50 {
			last = e.addAttribute(t, fmt.Sprintf("attr%d", i), "text")
		}
		expectError(t, e.call(t, "POST", "/saveSchema", map[string]any{"key": "attr50"}), 409, "50 custom attributes already")
		r := e.ok(t, "GET", "/getSchema?count=true", nil, nil)
		if r.Header.Get("X-Total-Count") != "53" {
			t.Fatalf("schema counts %s attributes, want 53", r.Header.Get("X-Total-Count"))
		}
		e.ok(t, "DELETE", "/schema/"+last.ID, nil, nil)
		e.addAttribute(t, "attr50", "text")
	})
}

// TestDeleteAttribute: a deleted attribute's values leave every contact (a phone attribute frees its
// numbers unless another phone attribute of the contact holds them); one a mapping uses cannot go.
func TestDeleteAttribute(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		mobile := e.addAttribute(t, "mobile", "phone")
		office := e.addAttribute(t, "office", "phone")
		note := e.addAttribute(t, "note", "text")
		john := e.save(t, map[string]any{"phone1": "0300-1234567", "mobile": "0300-2222222", "office": "0300 1234567", "note": "x"})

		var gone attribute
		e.ok(t, "DELETE", "/schema/"+note.ID, nil, &gone)
		if gone != note {
			t.Fatalf("delete answered %+v, want %+v", gone, note)
		}
		e.ok(t, "DELETE", "/schema/"+office.ID, nil, nil)
		var got contact
		e.ok(t, "GET", "/contacts/"+john.id(), nil, &got)
		if want := (contact{"_id": john.id(), "phone1": "0300-1234567", "mobile": "0300-2222222"}); !reflect.DeepEqual(got, want) {
			t.Fatalf("after deleting note and office: %v", got)
		}
		// office's number was phone1's too: still John's.
		expectError(t, e.call(t, "POST", "/saveContact", map[string]any{"phone1": "03001234567"}), 409, john.id())
		// A re-created attribute of the same key starts empty.
		e.addAttribute(t, "note", "text")
		e.ok(t, "GET", "/contacts/"+john.id(), nil, &got)
		if _, has := got["note"]; has {
			t.Fatalf("a deleted attribute's value came back: %v", got)
		}

		e.ok(t, "POST", "/mapping", map[string]any{"callVar": "ani", "key": "mobile"}, nil)
		expectError(t, e.call(t, "DELETE", "/schema/"+mobile.ID, nil), 409, "used by a mapping condition")
		e.ok(t, "GET", "/contacts/"+john.id(), nil, &got)
		if got["mobile"] != "0300-2222222" {
			t.Fatalf("a refused delete removed values: %v", got)
		}
		var conds []mapping
		e.ok(t, "GET", "/mapping", nil, &conds)
		e.ok(t, "DELETE", "/mapping/"+conds[0].ID, nil, nil)
		e.ok(t, "DELETE", "/schema/"+mobile.ID, nil, nil)
		e.save(t, map[string]any{"phone1": "03002222222"}) // mobile's number is free
	})
}
