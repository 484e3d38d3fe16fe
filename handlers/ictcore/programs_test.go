package ictcore_test

import (
	"fmt"
	"testing"

	"switchboard/apitest"
)

// TestPrograms: each program type is created with its parameters and read back with only those; a
// program naming a missing message, parent or another user's message answers 404 and creates nothing;
// list filters and delete.
func TestPrograms(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		doc := created(t, e.call(t, "POST", "/messages/documents", map[string]any{"name": "d"}), "document_id")
		tpl := created(t, e.call(t, "POST", "/messages/templates", map[string]any{"name": "t", "subject": "s", "body": "b"}), "template_id")
		txt := created(t, e.call(t, "POST", "/messages/texts", map[string]any{"name": "x", "data": "hi"}), "text_id")
		rec := created(t, e.call(t, "POST", "/messages/recordings", map[string]any{"name": "r"}), "recording_id")
		ids := map[string]int64{}
		for _, c := range []struct {
			typ   string
			body  map[string]any
			param string
		}{
			{"sendfax", map[string]any{"document_id": doc}, "document_id"},
			{"sendemail", map[string]any{"template_id": tpl, "type": "sendemail"}, "template_id"},
			{"sendsms", map[string]any{"text_id": txt}, "text_id"},
			{"voicemessage", map[string]any{"recording_id": rec}, "recording_id"},
			{"voicetts", map[string]any{"text": "Hello", "delay": 2}, "text"},
			{"emailtofax", map[string]any{}, ""},
			{"faxtoemail", map[string]any{}, ""},
			{"receiveemail", map[string]any{}, ""},
			{"receivefax", map[string]any{}, ""},
			{"receivesms", map[string]any{}, ""},
		} {
			c.body["name"] = c.typ + " program"
			id := created(t, e.call(t, "POST", "/programs/"+c.typ, c.body), "program_id")
			ids[c.typ] = id
			var got map[string]any
			e.call(t, "GET", fmt.Sprintf("/programs/%d", id), nil).JSON(t, &got)
			if got["type"] != c.typ || got["name"] != c.typ+" program" || (c.param != "" && got[c.param] != toJSON(c.body[c.param])) {
				t.Fatalf("%s read back: %v", c.typ, got)
			}
			for _, other := range []string{"document_id", "template_id", "text_id", "recording_id", "text"} {
				if other != c.param && got[other] != nil {
					t.Fatalf("%s answers %s: %v", c.typ, other, got)
				}
			}
		}
		child := created(t, e.call(t, "POST", "/programs/sendfax", map[string]any{"name": "child", "document_id": doc,
			"parent_id": ids["sendfax"]}), "program_id")
		var list []map[string]any
		r := e.call(t, "GET", "/programs?type=fax&count=true", nil)
		r.JSON(t, &list)
		// sendfax (twice, with the child), emailtofax, faxtoemail, receivefax
		if r.Header.Get("X-Total-Count") != "5" || len(list) != 5 {
			t.Fatalf("programs of type *fax*: %s", r.Body)
		}
		before := e.storeCount(t, "SELECT COUNT(*) FROM programs")
		e.expectErrors(t, []errorCase{
			{"missing document", "POST", "/programs/sendfax", map[string]any{"name": "n", "document_id": 999}, 404, "Document 999 not found"},
			{"missing template", "POST", "/programs/sendemail", map[string]any{"name": "n", "template_id": 999}, 404, "Template 999 not found"},
			{"missing text", "POST", "/programs/sendsms", map[string]any{"name": "n", "text_id": 999}, 404, "Text 999 not found"},
			{"missing recording", "POST", "/programs/voicemessage", map[string]any{"name": "n", "recording_id": 999}, 404, "not found"},
			{"missing parent", "POST", "/programs/receivesms", map[string]any{"name": "n", "parent_id": 999}, 404, "Program 999 not found"},
			{"missing account", "POST", "/programs/receivesms", map[string]any{"name": "n", "account_id": 999}, 404, "Account 999 not found"},
			{"no document", "POST", "/programs/sendfax", map[string]any{"name": "n"}, 412, "document_id"},
			{"wrong type field", "POST", "/programs/sendfax", map[string]any{"name": "n", "document_id": doc, "type": "sendsms"}, 412, "type"},
		})
		other := e.asUser(t, "progother")
		if r := other.call(t, "POST", "/programs/sendfax", map[string]any{"name": "n", "document_id": doc}); r.Status != 404 {
			t.Fatalf("a program on another user's document: %d %s", r.Status, r.Body)
		}
		if after := e.storeCount(t, "SELECT COUNT(*) FROM programs"); after != before {
			t.Fatalf("refused creates left %d programs", after-before)
		}
		if r := other.call(t, "GET", fmt.Sprintf("/programs/%d", child), nil); r.Status != 404 {
			t.Fatalf("another user's program: %d", r.Status)
		}
		if r := e.call(t, "DELETE", fmt.Sprintf("/programs/%d", child), nil); r.Status != 200 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		if r := e.call(t, "GET", fmt.Sprintf("/programs/%d", child), nil); r.Status != 404 {
			t.Fatalf("after delete: %d", r.Status)
		}
	})
}

// toJSON answers v as encoding/json decodes it into an any (numbers are float64).
func toJSON(v any) any {
	switch n := v.(type) {
	case int64:
		return float64(n)
	case int:
		return float64(n)
	}
	return v
}
