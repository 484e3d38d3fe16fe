package cim_test

import (
	"reflect"
	"testing"

	"switchboard/apitest"
)

// mapping is a MappingCondition.
type mapping struct {
	ID           string `json:"_id"`
	CallVar      string `json:"callVar"`
	CallVariable string `json:"callVariable,omitempty"`
	Key          string `json:"key"`
	VarNumber    string `json:"varNumber,omitempty"`
}

// TestMapping: conditions are added, listed, replaced and deleted; each names a source, the data it needs
// and a known key, one condition per key (ambiguity 26).
func TestMapping(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		e.addAttribute(t, "customerNo", "text")
		var ani, cv mapping
		e.ok(t, "POST", "/mapping", map[string]any{"callVar": "ani", "key": "phone"}, &ani)
		e.ok(t, "POST", "/mapping", map[string]any{"callVar": "callVariable", "callVariable": "callVariable3", "key": "CUSTOMERNO",
			"varNumber": "3", "_id": "ignored"}, &cv)
		if ani.CallVar != "ani" || ani.Key != "phone" || len(ani.ID) != 24 ||
			cv.Key != "customerNo" || cv.VarNumber != "3" || cv.CallVariable != "callVariable3" || cv.ID <= ani.ID {
			t.Fatalf("created %+v and %+v", ani, cv)
		}
		var list []mapping
		r := e.ok(t, "GET", "/mapping?limit=1", nil, &list)
		if !reflect.DeepEqual(list, []mapping{ani}) || r.Header.Get("Link") != `</cim/mapping?limit=1&offset=1>; rel="next"` {
			t.Fatalf("first page: %+v, Link %q", list, r.Header.Get("Link"))
		}
		var updated mapping
		e.ok(t, "PUT", "/mapping/"+cv.ID, map[string]any{"callVar": "eccVariable", "callVariable": "user.cim.customer_no",
			"key": "customerNo", "_id": cv.ID}, &updated)
		if want := (mapping{ID: cv.ID, CallVar: "eccVariable", CallVariable: "user.cim.customer_no", Key: "customerNo"}); updated != want {
			t.Fatalf("updated %+v, want %+v", updated, want)
		}
		e.ok(t, "GET", "/mapping", nil, &list)
		if !reflect.DeepEqual(list, []mapping{ani, updated}) {
			t.Fatalf("after update: %+v", list)
		}
		unknown := "00000000000000000000ffff"
		e.expectErrors(t, []errorCase{
			{"key taken", "POST", "/mapping", map[string]any{"callVar": "ani", "key": "Phone"}, 409, "exists already"},
			{"key taken by update", "PUT", "/mapping/" + cv.ID, map[string]any{"callVar": "ani", "key": "phone"}, 409, "exists already"},
			{"unknown key", "POST", "/mapping", map[string]any{"callVar": "ani", "key": "nickname"}, 400, `"nickname" is not phone nor an attribute`},
			{"callVariable without varNumber", "POST", "/mapping", map[string]any{"callVar": "callVariable", "key": "first_name"}, 400, "varNumber"},
			{"varNumber out of range", "POST", "/mapping", map[string]any{"callVar": "callVariable", "varNumber": "11", "key": "first_name"}, 400, "varNumber"},
			{"eccVariable without name", "POST", "/mapping", map[string]any{"callVar": "eccVariable", "key": "first_name"}, 400, "callVariable"},
			{"unknown source", "POST", "/mapping", map[string]any{"callVar": "string", "key": "first_name"}, 400, "callVar"},
			{"no key", "POST", "/mapping", map[string]any{"callVar": "ani"}, 400, "key"},
			{"update unknown", "PUT", "/mapping/" + unknown, map[string]any{"callVar": "ani", "key": "first_name"}, 404, "mapping condition " + unknown + " not found"},
			{"delete unknown", "DELETE", "/mapping/" + unknown, nil, 404, "not found"},
			{"bad id", "DELETE", "/mapping/1", nil, 400, "id"},
		})
		var gone mapping
		e.ok(t, "DELETE", "/mapping/"+ani.ID, nil, &gone)
		if gone != ani {
			t.Fatalf("delete answered %+v", gone)
		}
		e.ok(t, "GET", "/mapping", nil, &list)
		if !reflect.DeepEqual(list, []mapping{updated}) {
			t.Fatalf("after delete: %+v", list)
		}
		e.ok(t, "POST", "/mapping", map[string]any{"callVar": "ani", "key": "phone"}, nil) // the key is free again
	})
}
