package cim_test

import (
	"net/http"
	"testing"

	"switchboard/apitest"
	"switchboard/models/platform"
)

// TestCallEvents: a call event posted to the platform API records the call on the contact the mapping
// finds (models/cim.RecordCall, the stream's CIM sink), once however often it is posted; a call of
// nobody's number records nothing.
func TestCallEvents(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		events := e.newKey(t, "pbx", platform.ScopeEvents)
		e.addAttribute(t, "customerNo", "text")
		john := e.save(t, map[string]any{"first_name": "John", "phone1": "0300-1234567"})
		sara := e.save(t, map[string]any{"first_name": "Sara", "phone1": "0321-7654321", "customerNo": "C-1002"})
		e.ok(t, "POST", "/mapping", map[string]any{"callVar": "callVariable", "varNumber": "1", "key": "customerNo"}, nil)
		post := func(body map[string]any) {
			t.Helper()
			r := e.Do(t, apitest.Request{Method: "POST", Path: "/platform/call-events", Body: apitest.JSONBody(t, body),
				Header: apitest.Headers("X-API-Key", events, "Content-Type", "application/json")})
			if r.Status >= http.StatusMultipleChoices {
				t.Fatalf("post %v: %d %s", body, r.Status, r.Body)
			}
		}
		for _, state := range []string{"ringing", "answered", "ended", "ended"} {
			post(map[string]any{"direction": "inbound", "phone": "0300 1234567", "unique_id": "1608743891.1344", "agent": "15", "state": state})
		}
		post(map[string]any{"direction": "inbound", "phone": "0300 1234567", "unique_id": "1608743891.1345", "state": "ringing",
			"variables": map[string]string{"callVariable1": "C-1002"}})
		post(map[string]any{"direction": "outbound", "phone": "0399 0000000", "unique_id": "1608743891.1346", "state": "ringing"})

		ts := e.trees(t, john.id())
		if len(ts) != 1 || ts[0].CallID != "1608743891.1344" || ts[0].PhoneNumber != "0300 1234567" || len(ts[0].Interactions) != 1 {
			t.Fatalf("John's calls: %+v", ts)
		}
		if l := ts[0].Interactions[0]; l.Type != "INBOUND" || l.InteractionType != "AGENT" || l.AgentID != "15" ||
			l.StartTime == "" || l.CallDuration == "" {
			t.Fatalf("John's call: %+v", l)
		}
		if ts := e.trees(t, sara.id()); len(ts) != 1 || ts[0].CallID != "1608743891.1345" || ts[0].Interactions[0].InteractionType != "IVR" {
			t.Fatalf("Sara's calls (found through the mapping): %+v", ts)
		}
		var n int64
		e.DB.Raw("SELECT count(*) FROM cim_trees").Scan(&n)
		if n != 2 {
			t.Fatalf("%d calls recorded, want 2 (the stranger's is not)", n)
		}
	})
}
