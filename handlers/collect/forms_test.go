package collect_test

import (
	"context"
	"net/http"
	"testing"

	"switchboard/apitest"
	"switchboard/models/collect"
)

// form is FormResult.
type form struct {
	Status int `json:"status"`
	Form   struct {
		Name   string  `json:"name"`
		Alias  *string `json:"alias"`
		ID     string  `json:"id"`
		Width  int     `json:"width"`
		Height int     `json:"height"`
		Fields []struct {
			ID       string `json:"id"`
			Name     string `json:"name"`
			Label    string `json:"label"`
			Editable bool   `json:"editable"`
		} `json:"fields"`
		Buttons []struct {
			ID    string `json:"id"`
			Label string `json:"label"`
			Value int    `json:"value"`
		} `json:"buttons"`
	} `json:"form"`
}

func (r *records) getForm(t *testing.T, id string) *apitest.Response {
	t.Helper()
	h := apitest.Headers("x-collect-database", r.database, "Authorization", "Bearer "+r.tok)
	return r.e.Do(t, apitest.Request{Method: http.MethodGet, Path: "/collect/api/v1/collect/ui/forms/" + id, Header: h})
}

func TestGetForm(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		a, b := e.setup(t, "cv_a"), e.setup(t, "cv_b")
		da, err := collect.FindDatabase(context.Background(), e.DB, "cv_a")
		if err != nil {
			t.Fatal(err)
		}
		f := &collect.Form{UUID: "35d01ff2-775d-ccb4-8f53-25d36f517384", Name: "Schedule Next Contact", Width: 86, Height: 17,
			Fields:  []collect.FormItem{{Name: "co_type", Label: "Type", Editable: true}, {Name: "co_description", Label: "Description"}},
			Buttons: []collect.FormItem{{Label: "OK", Value: 4631}, {Label: "Cancel", Value: 4632}}}
		if err := collect.CreateForm(context.Background(), e.DB, da.Scope(), f); err != nil {
			t.Fatal(err)
		}
		var got form
		resp := a.getForm(t, "35D01FF2-775D-CCB4-8F53-25D36F517384") // any case
		resp.JSON(t, &got)
		if resp.Status != 200 || got.Status != 200 || got.Form.ID != f.UUID || got.Form.Name != "Schedule Next Contact" ||
			got.Form.Alias != nil || got.Form.Width != 86 || got.Form.Height != 17 || len(got.Form.Fields) != 2 ||
			got.Form.Fields[0].Name != "co_type" || !got.Form.Fields[0].Editable || got.Form.Fields[1].Editable ||
			got.Form.Fields[0].ID == "" || len(got.Form.Buttons) != 2 || got.Form.Buttons[0].Value != 4631 || got.Form.Buttons[1].Label != "Cancel" {
			t.Fatalf("getForm: %d %s", resp.Status, resp.Body)
		}
		// Another database does not see it; an unknown form is 404; a malformed id 400.
		expectError(t, b.getForm(t, f.UUID), 404, "form 35d01ff2-775d-ccb4-8f53-25d36f517384 not found")
		expectError(t, a.getForm(t, "00000000-0000-4000-8000-000000000000"), 404, "not found")
		expectError(t, a.getForm(t, "not-a-uuid"), 400, "")
	})
}
