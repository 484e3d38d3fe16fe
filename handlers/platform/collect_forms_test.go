package platform_test

import (
	"testing"

	"switchboard/apitest"
)

type collectForm struct {
	ID         string  `json:"id"`
	DatabaseID int64   `json:"database_id"`
	Name       string  `json:"name"`
	Alias      *string `json:"alias"`
	Width      int32   `json:"width"`
	Height     int32   `json:"height"`
	Fields     []struct {
		ID       string  `json:"id"`
		Name     string  `json:"name"`
		Label    string  `json:"label"`
		Alias    *string `json:"alias"`
		Editable bool    `json:"editable"`
	} `json:"fields"`
	Buttons []struct {
		ID    string `json:"id"`
		Label string `json:"label"`
		Value int32  `json:"value"`
	} `json:"buttons"`
}

// TestCollectForms: forms defined, listed, read and deleted through the platform API, per database.
func TestCollectForms(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		demo, other := e.twoDatabases(t)
		base := "/collect-databases/" + itoa(demo.ID) + "/forms"
		const id = "35D01FF2-775D-CCB4-8F53-25D36F517384"
		body := map[string]any{"id": id, "name": "Schedule Next Contact", "alias": "Next", "width": 86, "height": 17,
			"fields": []map[string]any{{"name": "co_type", "label": "Type", "editable": true},
				{"name": "co_description", "label": "Description", "alias": "Notes"}},
			"buttons": []map[string]any{{"label": "OK", "value": 4631}, {"label": "Cancel", "value": 4632}}}
		var f collectForm
		r := e.call(t, "POST", base, body)
		r.JSON(t, &f)
		if r.Status != 201 || f.ID != "35d01ff2-775d-ccb4-8f53-25d36f517384" || f.DatabaseID != demo.ID || f.Alias == nil || *f.Alias != "Next" ||
			f.Width != 86 || f.Height != 17 || len(f.Fields) != 2 || !f.Fields[0].Editable || f.Fields[1].Editable ||
			f.Fields[1].Alias == nil || f.Fields[0].ID == "" || len(f.Buttons) != 2 || f.Buttons[1].Value != 4632 || f.Buttons[0].ID == "" {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		// A form without an id gets one; the same id in another database is another form.
		var gen collectForm
		e.call(t, "POST", base, map[string]any{"name": "Debtor", "width": 95, "height": 20}).JSON(t, &gen)
		if len(gen.ID) != 36 || gen.ID == f.ID || len(gen.Fields) != 0 {
			t.Fatalf("generated id: %+v", gen)
		}
		otherBase := "/collect-databases/" + itoa(other.ID) + "/forms"
		if r := e.call(t, "POST", otherBase, map[string]any{"id": id, "name": "Other", "width": 1, "height": 1}); r.Status != 201 {
			t.Fatalf("same id in another database: %d %s", r.Status, r.Body)
		}

		var got collectForm
		if r := e.call(t, "GET", base+"/"+f.ID, nil); r.Status != 200 {
			t.Fatalf("get: %d %s", r.Status, r.Body)
		} else if r.JSON(t, &got); got.Name != "Schedule Next Contact" || len(got.Fields) != 2 || got.Fields[0].Name != "co_type" ||
			got.Buttons[0].Label != "OK" || got.Fields[0].ID != f.Fields[0].ID {
			t.Fatalf("get: %s", r.Body)
		}
		var list []collectForm
		if r := e.call(t, "GET", base, nil); r.Status != 200 {
			t.Fatalf("list: %d", r.Status)
		} else if r.JSON(t, &list); len(list) != 2 || list[0].ID != f.ID || list[1].ID != gen.ID || len(list[0].Buttons) != 2 {
			t.Fatalf("list: %s", r.Body)
		}

		e.expectErrors(t, []errorCase{
			{"duplicate id", "POST", base, body, 409, "has a form"},
			{"field twice", "POST", base, map[string]any{"name": "x", "width": 1, "height": 1,
				"fields": []map[string]any{{"name": "a", "label": "A"}, {"name": "a", "label": "B"}}}, 400, "listed twice"},
			{"button value twice", "POST", base, map[string]any{"name": "x", "width": 1, "height": 1,
				"buttons": []map[string]any{{"label": "A", "value": 1}, {"label": "B", "value": 1}}}, 400, "used twice"},
			{"bad id", "POST", base, map[string]any{"id": "nope", "name": "x", "width": 1, "height": 1}, 400, ""},
			{"no database", "POST", "/collect-databases/999999/forms", map[string]any{"name": "x", "width": 1, "height": 1}, 404, "not found"},
			{"unknown form", "GET", base + "/00000000-0000-4000-8000-000000000000", nil, 404, "not found"},
		})

		// Delete: gone from this database only.
		if r := e.call(t, "DELETE", base+"/"+f.ID, nil); r.Status != 204 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		expectProblem(t, e.call(t, "GET", base+"/"+f.ID, nil), 404, "not found")
		expectProblem(t, e.call(t, "DELETE", base+"/"+f.ID, nil), 404, "not found")
		if r := e.call(t, "GET", otherBase+"/"+f.ID, nil); r.Status != 200 {
			t.Fatalf("other database's form: %d", r.Status)
		}
		// A database is not deleted while it holds forms.
		expectProblem(t, e.call(t, "DELETE", "/collect-databases/"+itoa(other.ID), nil), 409, "still has 1 forms")
	})
}
