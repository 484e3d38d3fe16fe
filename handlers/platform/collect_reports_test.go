package platform_test

import (
	"strings"
	"testing"

	"switchboard/apitest"
)

type collectReport struct {
	ID         int64    `json:"id"`
	DatabaseID int64    `json:"database_id"`
	Name       string   `json:"name"`
	Starton    string   `json:"starton"`
	Title      *string  `json:"title"`
	Columns    []string `json:"columns"`
	CreatedAt  string   `json:"created_at"`
}

// TestCollectReports: reports defined, listed, read and deleted through the platform API, per database; a
// record a report starts on is not deleted.
func TestCollectReports(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		demo, other := e.twoDatabases(t)
		records := "/collect-databases/" + itoa(demo.ID) + "/records"
		var debtor collectRecordDef
		e.call(t, "POST", records, map[string]any{"name": "debtor", "rowid_field": "de_rowid", "fields": []map[string]any{
			{"name": "de_name", "type": "text"}, {"name": "de_owing", "type": "number"}}}).JSON(t, &debtor)
		if r := e.call(t, "POST", "/collect-databases/"+itoa(other.ID)+"/records", map[string]any{"name": "client",
			"rowid_field": "cl_rowid", "fields": []map[string]any{{"name": "cl_name", "type": "text"}}}); r.Status != 201 {
			t.Fatalf("other's record: %d %s", r.Status, r.Body)
		}

		base := "/collect-databases/" + itoa(demo.ID) + "/reports"
		body := map[string]any{"name": "Debtor Summary", "starton": "debtor", "title": "Owing", "columns": []string{"de_rowid", "de_name", "de_owing"}}
		var rep collectReport
		r := e.call(t, "POST", base, body)
		r.JSON(t, &rep)
		if r.Status != 201 || rep.ID == 0 || rep.DatabaseID != demo.ID || rep.Name != "Debtor Summary" || rep.Starton != "debtor" ||
			rep.Title == nil || *rep.Title != "Owing" || len(rep.Columns) != 3 || rep.Columns[2] != "de_owing" || rep.CreatedAt == "" {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		var plain collectReport
		if r := e.call(t, "POST", base, map[string]any{"name": "Names", "starton": "debtor", "columns": []string{"de_name"}}); r.Status != 201 {
			t.Fatalf("create without title: %d %s", r.Status, r.Body)
		} else if r.JSON(t, &plain); plain.Title != nil {
			t.Fatalf("no title: %s", r.Body)
		}

		var got collectReport
		if r := e.call(t, "GET", base+"/"+itoa(rep.ID), nil); r.Status != 200 {
			t.Fatalf("get: %d %s", r.Status, r.Body)
		} else if r.JSON(t, &got); got.Name != rep.Name || len(got.Columns) != 3 || got.Columns[0] != "de_rowid" {
			t.Fatalf("get: %s", r.Body)
		}
		var list []collectReport
		if r := e.call(t, "GET", base, nil); r.Status != 200 {
			t.Fatalf("list: %d", r.Status)
		} else if r.JSON(t, &list); len(list) != 2 || list[0].ID != rep.ID || list[1].ID != plain.ID {
			t.Fatalf("list: %s", r.Body)
		}
		otherBase := "/collect-databases/" + itoa(other.ID) + "/reports"
		if r := e.call(t, "GET", otherBase, nil); r.Status != 200 || strings.TrimSpace(string(r.Body)) != "[]" {
			t.Fatalf("other database's list: %d %s", r.Status, r.Body)
		}

		e.expectErrors(t, []errorCase{
			{"duplicate name", "POST", base, body, 409, "has a report"},
			{"unknown record", "POST", base, map[string]any{"name": "x", "starton": "client", "columns": []string{"cl_name"}}, 400, "not defined in this database"},
			{"unknown column", "POST", base, map[string]any{"name": "x", "starton": "debtor", "columns": []string{"de_name", "de_secret"}}, 400, "unknown field de_secret"},
			{"column twice", "POST", base, map[string]any{"name": "x", "starton": "debtor", "columns": []string{"de_name", "de_name"}}, 400, "listed twice"},
			{"no columns", "POST", base, map[string]any{"name": "x", "starton": "debtor", "columns": []string{}}, 400, ""},
			{"bad column name", "POST", base, map[string]any{"name": "x", "starton": "debtor", "columns": []string{"De Name"}}, 400, ""},
			{"no database", "POST", "/collect-databases/999999/reports", body, 404, "not found"},
			{"unknown report", "GET", base + "/999999", nil, 404, "not found"},
			{"another database's report", "GET", otherBase + "/" + itoa(rep.ID), nil, 404, "not found"},
			{"delete another database's report", "DELETE", otherBase + "/" + itoa(rep.ID), nil, 404, "not found"},
			{"record a report starts on", "DELETE", records + "/" + itoa(debtor.ID), nil, 409, "start of 2 reports"},
		})

		// Delete: gone; the record can go once no report starts on it.
		for _, id := range []int64{rep.ID, plain.ID} {
			if r := e.call(t, "DELETE", base+"/"+itoa(id), nil); r.Status != 204 {
				t.Fatalf("delete: %d %s", r.Status, r.Body)
			}
		}
		expectProblem(t, e.call(t, "GET", base+"/"+itoa(rep.ID), nil), 404, "not found")
		expectProblem(t, e.call(t, "DELETE", base+"/"+itoa(rep.ID), nil), 404, "not found")
		if r := e.call(t, "DELETE", records+"/"+itoa(debtor.ID), nil); r.Status != 204 {
			t.Fatalf("delete the record: %d %s", r.Status, r.Body)
		}
	})
}
