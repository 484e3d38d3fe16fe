package platform_test

import (
	"fmt"
	"testing"

	"switchboard/apitest"
)

func TestDncListCRUD(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		r := e.call(t, "POST", "/dnc-lists", map[string]any{"name": "registry", "description": "the national one", "global": true})
		var l dncList
		r.JSON(t, &l)
		if r.Status != 201 || l.ID != 1 || l.Name != "registry" || l.Description != "the national one" || !l.Global ||
			l.CampaignIDs == nil || len(l.CampaignIDs) != 0 || l.CreatedAt == "" || l.UpdatedAt != l.CreatedAt {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		r = e.call(t, "POST", "/dnc-lists", map[string]any{"name": "opt-outs"})
		r.JSON(t, &l)
		if r.Status != 201 || l.ID != 2 || l.Global || l.Description != "" {
			t.Fatalf("create with defaults: %d %s", r.Status, r.Body)
		}

		var got dncList
		e.call(t, "GET", "/dnc-lists/1", nil).JSON(t, &got)
		if got.Name != "registry" || !got.Global {
			t.Fatalf("get: %+v", got)
		}
		// PATCH changes what it names and keeps the rest.
		r = e.call(t, "PATCH", "/dnc-lists/1", map[string]any{"global": false})
		r.JSON(t, &got)
		if r.Status != 200 || got.Global || got.Name != "registry" || got.Description != "the national one" {
			t.Fatalf("patch global: %d %s", r.Status, r.Body)
		}
		r = e.call(t, "PATCH", "/dnc-lists/1", map[string]any{"name": "national registry", "description": ""})
		r.JSON(t, &got)
		if r.Status != 200 || got.Name != "national registry" || got.Description != "" || got.Global {
			t.Fatalf("patch name: %d %s", r.Status, r.Body)
		}
		r = e.call(t, "PATCH", "/dnc-lists/1", map[string]any{"name": "national registry"}) // its own name is no conflict
		if r.Status != 200 {
			t.Fatalf("patch to its own name: %d %s", r.Status, r.Body)
		}

		for i := 3; i <= 5; i++ {
			e.createList(t, fmt.Sprintf("list %d", i), false)
		}
		r = e.call(t, "GET", "/dnc-lists?limit=2&after=1", nil)
		var page []dncList
		r.JSON(t, &page)
		if len(page) != 2 || page[0].ID != 2 || page[1].ID != 3 || r.Header.Get("Link") != `</platform/dnc-lists?after=3&limit=2>; rel="next"` {
			t.Fatalf("page: %s %q", r.Body, r.Header.Get("Link"))
		}
		e.call(t, "GET", "/dnc-lists?after=3", nil).JSON(t, &page)
		if len(page) != 2 || page[1].ID != 5 {
			t.Fatalf("last page: %+v", page)
		}

		if r := e.call(t, "DELETE", "/dnc-lists/2", nil); r.Status != 204 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		e.expectErrors(t, []errorCase{
			{"get deleted", "GET", "/dnc-lists/2", nil, 404, "do-not-call list 2 not found"},
			{"delete deleted", "DELETE", "/dnc-lists/2", nil, 404, "not found"},
			{"patch deleted", "PATCH", "/dnc-lists/2", map[string]any{"global": true}, 404, "not found"},
			{"create taken name", "POST", "/dnc-lists", map[string]any{"name": "national registry"}, 409, `"national registry" exists already`},
			{"rename to a taken name", "PATCH", "/dnc-lists/3", map[string]any{"name": "list 4"}, 409, `"list 4" exists already`},
			{"create without name", "POST", "/dnc-lists", map[string]any{"global": true}, 400, "name"},
			{"create with empty name", "POST", "/dnc-lists", map[string]any{"name": ""}, 400, "name"},
			{"create with long description", "POST", "/dnc-lists", map[string]any{"name": "x", "description": fmt.Sprintf("%0256d", 0)}, 400, "description"},
			{"global not a boolean", "POST", "/dnc-lists", map[string]any{"name": "x", "global": "yes"}, 400, "global"},
			{"unknown field", "POST", "/dnc-lists", map[string]any{"name": "x", "numbers": []string{}}, 400, "numbers"},
			{"empty patch", "PATCH", "/dnc-lists/1", map[string]any{}, 400, "request body"},
			{"control character", "POST", "/dnc-lists", map[string]any{"name": "a\x00b"}, 400, ""},
			{"id zero", "GET", "/dnc-lists/0", nil, 400, "list_id"},
			{"id not a number", "GET", "/dnc-lists/x", nil, 400, "list_id"},
			{"limit zero", "GET", "/dnc-lists?limit=0", nil, 400, "limit"},
		})
	})
}

func TestDncListCampaigns(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		c1, c2 := e.createCampaign(t), e.createCampaign(t)
		global := e.createList(t, "global", true)
		mine := e.createList(t, "campaign one", false)
		other := e.createList(t, "campaign two", false)
		for _, l := range []int64{global, mine, other} {
			e.call(t, "POST", fmt.Sprintf("/dnc-lists/%d/numbers", l), map[string]any{"numbers": []string{"+923001234567"}})
		}
		put := func(list, campaign int64) {
			t.Helper()
			if r := e.call(t, "PUT", fmt.Sprintf("/dnc-lists/%d/campaigns/%d", list, campaign), nil); r.Status != 204 {
				t.Fatalf("attach %d to %d: %d %s", list, campaign, r.Status, r.Body)
			}
		}
		put(mine, c1)
		put(mine, c1) // again: no error
		put(other, c2)
		put(mine, c2)
		var l dncList
		e.call(t, "GET", fmt.Sprintf("/dnc-lists/%d", mine), nil).JSON(t, &l)
		if fmt.Sprint(l.CampaignIDs) != fmt.Sprint([]int64{c1, c2}) {
			t.Fatalf("campaign_ids %v", l.CampaignIDs)
		}
		var page []dncList
		e.call(t, "GET", "/dnc-lists", nil).JSON(t, &page)
		if len(page) != 3 || len(page[0].CampaignIDs) != 0 || len(page[1].CampaignIDs) != 2 || fmt.Sprint(page[2].CampaignIDs) != fmt.Sprint([]int64{c2}) {
			t.Fatalf("list page campaigns: %+v", page)
		}

		lookup := func(query string) []string {
			t.Helper()
			r := e.call(t, "GET", "/dnc/lookup?"+query, nil)
			var out struct {
				Number string
				Lists  []struct {
					ID     int64
					Name   string
					Global bool
				}
			}
			r.JSON(t, &out)
			if r.Status != 200 || (out.Number != "+923001234567" && out.Number != "+923001234568") {
				t.Fatalf("lookup %s: %d %s", query, r.Status, r.Body)
			}
			var names []string
			for _, x := range out.Lists {
				names = append(names, x.Name)
			}
			return names
		}
		// National in the default region and E.164 are the same number.
		for query, want := range map[string]string{
			"number=03001234567":                                 "[global]",
			"number=%2B92%20300%201234567":                       "[global]",
			fmt.Sprintf("number=03001234567&campaign_id=%d", c1): "[global campaign one]",
			fmt.Sprintf("number=03001234567&campaign_id=%d", c2): "[global campaign one campaign two]",
		} {
			if got := fmt.Sprint(lookup(query)); got != want {
				t.Errorf("lookup %s: %s, want %s", query, got, want)
			}
		}
		if got := lookup("number=03001234568"); len(got) != 0 {
			t.Errorf("a number on no list: %v", got)
		}
		// A list no longer global applies only where attached; detaching takes it off a campaign.
		e.call(t, "PATCH", fmt.Sprintf("/dnc-lists/%d", global), map[string]any{"global": false})
		if r := e.call(t, "DELETE", fmt.Sprintf("/dnc-lists/%d/campaigns/%d", mine, c2), nil); r.Status != 204 {
			t.Fatalf("detach: %d %s", r.Status, r.Body)
		}
		if got := fmt.Sprint(lookup(fmt.Sprintf("number=03001234567&campaign_id=%d", c2))); got != "[campaign two]" {
			t.Errorf("after detach and global off: %s", got)
		}
		if got := lookup("number=03001234567"); len(got) != 0 {
			t.Errorf("no global list left, yet: %v", got)
		}

		// Deleting a list takes its numbers and attachments along, in one go.
		if r := e.call(t, "DELETE", fmt.Sprintf("/dnc-lists/%d", mine), nil); r.Status != 204 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		var numbers, attachments int64
		e.DB.Raw("SELECT count(*) FROM dnc_numbers WHERE list_id = ?", mine).Scan(&numbers)
		e.DB.Raw("SELECT count(*) FROM dnc_list_campaigns WHERE list_id = ?", mine).Scan(&attachments)
		if numbers != 0 || attachments != 0 {
			t.Fatalf("a deleted list left %d numbers and %d attachments", numbers, attachments)
		}

		e.expectErrors(t, []errorCase{
			{"attach to a missing campaign", "PUT", fmt.Sprintf("/dnc-lists/%d/campaigns/999", other), nil, 404, "campaign 999 not found"},
			{"attach a missing list", "PUT", fmt.Sprintf("/dnc-lists/999/campaigns/%d", c1), nil, 404, "do-not-call list 999 not found"},
			{"detach a list not attached", "DELETE", fmt.Sprintf("/dnc-lists/%d/campaigns/%d", other, c1), nil, 404, "is not attached to campaign"},
			{"detach a missing list", "DELETE", fmt.Sprintf("/dnc-lists/%d/campaigns/%d", mine, c1), nil, 404, "not found"},
			{"campaign id zero", "PUT", fmt.Sprintf("/dnc-lists/%d/campaigns/0", other), nil, 400, "campaign_id"},
			{"lookup for a missing campaign", "GET", "/dnc/lookup?number=03001234567&campaign_id=999", nil, 404, "campaign 999 not found"},
			{"lookup of letters", "GET", "/dnc/lookup?number=abc", nil, 400, `number "abc" is not a valid phone number`},
			{"lookup of a number too short", "GET", "/dnc/lookup?number=%2B92300", nil, 400, `"+92300"`},
			{"lookup without number", "GET", "/dnc/lookup", nil, 400, "number"},
			{"lookup with a bad campaign id", "GET", "/dnc/lookup?number=03001234567&campaign_id=x", nil, 400, "campaign_id"},
		})
	})
}
