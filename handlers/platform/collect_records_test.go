package platform_test

import (
	"net/http"
	"strings"
	"testing"

	"switchboard/apitest"
)

type collectRecordDef struct {
	ID         int64  `json:"id"`
	DatabaseID int64  `json:"database_id"`
	Name       string `json:"name"`
	RowidField string `json:"rowid_field"`
	Fields     []struct {
		Name    string  `json:"name"`
		Type    string  `json:"type"`
		Default *string `json:"default"`
	} `json:"fields"`
	Parent *struct {
		Record string `json:"record"`
		Field  string `json:"field"`
	} `json:"parent"`
	CreatedAt string `json:"created_at"`
}

// TestCollectRecordDefs: record definitions through the platform API, then served by the Collect! data
// server to the database's operators.
func TestCollectRecordDefs(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		demo, other := e.twoDatabases(t)
		base := "/collect-databases/" + itoa(demo.ID) + "/records"

		var debtor, contact collectRecordDef
		r := e.call(t, "POST", base, map[string]any{"name": "debtor", "rowid_field": "de_rowid", "fields": []map[string]any{
			{"name": "de_name", "type": "text"}, {"name": "de_status", "type": "text", "default": "NEW"},
			{"name": "de_owing", "type": "number", "default": "0.00"}}})
		r.JSON(t, &debtor)
		if r.Status != 201 || debtor.ID == 0 || debtor.DatabaseID != demo.ID || debtor.Name != "debtor" || debtor.RowidField != "de_rowid" ||
			len(debtor.Fields) != 3 || debtor.Fields[1].Name != "de_status" || debtor.Fields[1].Default == nil ||
			*debtor.Fields[1].Default != "NEW" || debtor.Fields[0].Default != nil || debtor.Fields[2].Type != "number" || debtor.Parent != nil {
			t.Fatalf("create debtor: %d %s", r.Status, r.Body)
		}
		r = e.call(t, "POST", base, map[string]any{"name": "contact", "rowid_field": "co_rowid", "fields": []map[string]any{
			{"name": "co_debtor", "type": "number"}, {"name": "co_date", "type": "date"}, {"name": "co_time", "type": "time"}},
			"parent": map[string]any{"record": "debtor", "field": "co_debtor"}})
		r.JSON(t, &contact)
		if r.Status != 201 || contact.Parent == nil || contact.Parent.Record != "debtor" || contact.Parent.Field != "co_debtor" {
			t.Fatalf("create contact: %d %s", r.Status, r.Body)
		}
		// The same name in another database is another record.
		otherBase := "/collect-databases/" + itoa(other.ID) + "/records"
		var otherDebtor collectRecordDef
		if r = e.call(t, "POST", otherBase, map[string]any{"name": "debtor", "rowid_field": "de_rowid", "fields": []any{}}); r.Status != 201 {
			t.Fatalf("create in another database: %d %s", r.Status, r.Body)
		}
		r.JSON(t, &otherDebtor)
		var otherNote collectRecordDef
		e.call(t, "POST", otherBase, map[string]any{"name": "note", "rowid_field": "no_rowid", "fields": []map[string]any{{"name": "no_debtor", "type": "number"}},
			"parent": map[string]any{"record": "debtor", "field": "no_debtor"}}).JSON(t, &otherNote)

		var defs []collectRecordDef
		r = e.call(t, "GET", base+"?limit=1", nil)
		r.JSON(t, &defs)
		if r.Status != 200 || len(defs) != 1 || defs[0].ID != debtor.ID || len(defs[0].Fields) != 3 ||
			!strings.Contains(r.Header.Get("Link"), "after="+itoa(debtor.ID)) {
			t.Fatalf("list: %d %s", r.Status, r.Body)
		}
		defs = nil
		if e.call(t, "GET", base+"?after="+itoa(debtor.ID), nil).JSON(t, &defs); len(defs) != 1 || defs[0].Name != "contact" || len(defs[0].Fields) != 3 {
			t.Fatalf("list page 2: %+v", defs)
		}
		var got collectRecordDef
		r = e.call(t, "GET", base+"/"+itoa(contact.ID), nil)
		if r.JSON(t, &got); r.Status != 200 || got.Name != "contact" ||
			got.Parent == nil || len(got.Fields) != 3 || got.Fields[2].Type != "time" {
			t.Fatalf("get: %d %s", r.Status, r.Body)
		}

		// An operator of the database reads and writes the defined records.
		e.call(t, "POST", "/collect-databases/"+itoa(demo.ID)+"/operators", map[string]any{"op_id": "OWN", "password": "own"})
		_, tok := e.collectLogin(t, "cv_demodb", "OWN", "own")
		h := apitest.Headers("x-collect-database", "cv_demodb", "Authorization", "Bearer "+tok, "Content-Type", "application/json")
		cr := e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/collect/api/v1/collect/data/debtor", Header: h,
			Body: strings.NewReader(`{"business-logic":4,"data":{"de_name":"Smith"}}`)})
		if cr.Status != 200 || !strings.Contains(string(cr.Body), `"de_status":"NEW"`) || !strings.Contains(string(cr.Body), `"de_owing":"0.00"`) {
			t.Fatalf("create a debtor: %d %s", cr.Status, cr.Body)
		}

		e.expectErrors(t, []errorCase{
			{"duplicate name", "POST", base, map[string]any{"name": "debtor", "rowid_field": "x_rowid", "fields": []any{}}, 409, "defines a record debtor already"},
			{"unknown type", "POST", base, map[string]any{"name": "client", "rowid_field": "cl_rowid", "fields": []map[string]any{{"name": "cl_x", "type": "money"}}}, 400, "type"},
			{"rowid among the fields", "POST", base, map[string]any{"name": "client", "rowid_field": "cl_rowid", "fields": []map[string]any{{"name": "cl_rowid", "type": "number"}}}, 400, "named twice"},
			{"field twice", "POST", base, map[string]any{"name": "client", "rowid_field": "cl_rowid", "fields": []map[string]any{{"name": "cl_a", "type": "text"}, {"name": "cl_a", "type": "date"}}}, 400, "named twice"},
			{"bad default", "POST", base, map[string]any{"name": "client", "rowid_field": "cl_rowid", "fields": []map[string]any{{"name": "cl_a", "type": "date", "default": "today"}}}, 400, "not a date"},
			{"reserved name", "POST", base, map[string]any{"name": "counts", "rowid_field": "c_rowid", "fields": []any{}}, 400, "reserved"},
			{"bad name", "POST", base, map[string]any{"name": "Client", "rowid_field": "cl_rowid", "fields": []any{}}, 400, "name"},
			{"unknown parent", "POST", base, map[string]any{"name": "payment", "rowid_field": "pa_rowid", "fields": []map[string]any{{"name": "pa_debtor", "type": "number"}},
				"parent": map[string]any{"record": "client", "field": "pa_debtor"}}, 400, "parent record client is not defined"},
			{"parent field not a number", "POST", base, map[string]any{"name": "payment", "rowid_field": "pa_rowid", "fields": []map[string]any{{"name": "pa_debtor", "type": "text"}},
				"parent": map[string]any{"record": "debtor", "field": "pa_debtor"}}, 400, "of type number"},
			{"parent field missing", "POST", base, map[string]any{"name": "payment", "rowid_field": "pa_rowid", "fields": []any{},
				"parent": map[string]any{"record": "debtor", "field": "pa_debtor"}}, 400, "of type number"},
			{"missing database", "POST", "/collect-databases/999999/records", map[string]any{"name": "client", "rowid_field": "cl_rowid", "fields": []any{}}, 404, "database 999999 not found"},
			{"list of a missing database", "GET", "/collect-databases/999999/records", nil, 404, "database 999999 not found"},
			{"another database's definition", "GET", base + "/" + itoa(otherDebtor.ID), nil, 404, "not found"},
			{"delete another database's definition", "DELETE", base + "/" + itoa(otherDebtor.ID), nil, 404, "not found"},
			{"delete a record with rows", "DELETE", base + "/" + itoa(debtor.ID), nil, 409, "still has 1 rows"},
			{"delete a parent of a sub-record", "DELETE", otherBase + "/" + itoa(otherDebtor.ID), nil, 409, "parent of 1 sub-record"},
			{"delete a database with definitions", "DELETE", "/collect-databases/" + itoa(other.ID), nil, 409, "still has 2 record definitions"},
		})
		// Another database's definition is untouched; a parent is deleted after its sub-records.
		if r = e.call(t, "GET", otherBase+"/"+itoa(otherDebtor.ID), nil); r.Status != 200 {
			t.Fatalf("other database's definition: %d %s", r.Status, r.Body)
		}
		if r = e.call(t, "DELETE", otherBase+"/"+itoa(otherNote.ID), nil); r.Status != 204 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		if r = e.call(t, "DELETE", otherBase+"/"+itoa(otherDebtor.ID), nil); r.Status != 204 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		expectProblem(t, e.call(t, "GET", otherBase+"/"+itoa(otherDebtor.ID), nil), 404, "not found")
		if r = e.call(t, "DELETE", "/collect-databases/"+itoa(other.ID), nil); r.Status != 204 {
			t.Fatalf("delete the emptied database: %d %s", r.Status, r.Body)
		}
		// The debtor still has a row and the contact definition: contact goes first.
		var n int64
		e.DB.Raw("SELECT count(*) FROM collect_rows").Scan(&n)
		if n != 1 {
			t.Fatalf("%d rows stored, want 1", n)
		}
		if r = e.call(t, "DELETE", base+"/"+itoa(contact.ID), nil); r.Status != 204 {
			t.Fatalf("delete contact: %d %s", r.Status, r.Body)
		}
		expectProblem(t, e.call(t, "DELETE", base+"/"+itoa(debtor.ID), nil), 409, "rows")
	})
}
