package cim_test

import (
	"reflect"
	"strings"
	"testing"

	"switchboard/apitest"
)

// leg is an Interaction.
type leg struct {
	ID              string `json:"_id"`
	Type            string `json:"type,omitempty"`
	AgentID         string `json:"agentId,omitempty"`
	StartTime       string `json:"start_time,omitempty"`
	CallDuration    string `json:"call_duration,omitempty"`
	IvrTrail        string `json:"ivr_trail,omitempty"`
	CallID          string `json:"call_id,omitempty"`
	CallDisposition string `json:"call_disposition,omitempty"`
	TeamName        string `json:"team_name,omitempty"`
	Csq             string `json:"csq,omitempty"`
	InteractionType string `json:"interaction_type,omitempty"`
	WrapUp          string `json:"wrap_up,omitempty"`
}

// tree is an InteractionTree.
type tree struct {
	ID           string `json:"_id"`
	CallID       string `json:"call_Id"`
	PhoneNumber  string `json:"phone_number,omitempty"`
	ContactID    string `json:"contact_id,omitempty"`
	Interactions []leg  `json:"interactions"`
}

// saveLeg posts an interaction for a call and answers the stored leg.
func (e *env) saveLeg(t *testing.T, callID string, body any) leg {
	t.Helper()
	var l leg
	e.ok(t, "POST", "/interactions/updateOrSaveInteractionTree/"+callID, body, &l)
	return l
}

// trees answers a contact's interaction trees.
func (e *env) trees(t *testing.T, contactID string) []tree {
	t.Helper()
	var ts []tree
	e.ok(t, "GET", "/interactions/loadInteractions/"+contactID, nil, &ts)
	return ts
}

// TestInteractions: updateOrSaveInteractionTree creates a call's tree and legs, updates a leg of the same
// identity (idempotent), links the tree to the contact that has the ANI, and loadInteractions lists a
// contact's calls newest first (ambiguity 27, review R18).
func TestInteractions(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		john := e.save(t, map[string]any{"first_name": "John", "phone1": "0300-1234567"})
		sara := e.save(t, map[string]any{"first_name": "Sara", "phone1": "0321-7654321"})

		// The document's plain strings (R18): an IVR leg, free-form times, the body's call_Id ignored.
		ivrBody := map[string]any{"interaction": map[string]any{"type": "IVR", "interaction_type": "IVR", "ivr_trail": "Main > Billing",
			"start_time": "27/07/2020 10:15", "call_duration": "45s"}, "call_Id": "ignored", "ani": "+0300 1234567"}
		ivr := e.saveLeg(t, "16777321", ivrBody)
		if want := (leg{ID: ivr.ID, Type: "IVR", InteractionType: "IVR", IvrTrail: "Main > Billing", StartTime: "27/07/2020 10:15",
			CallDuration: "45s", CallID: "16777321"}); ivr != want || len(ivr.ID) != 24 {
			t.Fatalf("IVR leg %+v, want %+v", ivr, want)
		}
		if again := e.saveLeg(t, "16777321", ivrBody); again != ivr {
			t.Fatalf("saving again: %+v, want %+v", again, ivr)
		}
		agent := e.saveLeg(t, "16777321", map[string]any{"interaction": map[string]any{"type": "INBOUND", "agentId": "agent1001",
			"interaction_type": "AGENT", "start_time": "2020-07-27T10:15:45Z", "_id": "ignored"}, "ani": "03001234567"})
		// The wrap-up after the call updates the agent's leg, keeping what it does not send.
		wrapped := e.saveLeg(t, "16777321", map[string]any{"interaction": map[string]any{"agentId": "agent1001",
			"interaction_type": "AGENT", "wrap_up": "Bill inquiry", "call_duration": "180"}})
		if wrapped.ID != agent.ID || wrapped.Type != "INBOUND" || wrapped.StartTime != "2020-07-27T10:15:45Z" ||
			wrapped.WrapUp != "Bill inquiry" || wrapped.CallDuration != "180" {
			t.Fatalf("wrap-up: %+v (agent leg %+v)", wrapped, agent)
		}
		// A transfer to another agent is another leg; so is a leg with its own call id.
		other := e.saveLeg(t, "16777321", map[string]any{"interaction": map[string]any{"agentId": "agent1002", "interaction_type": "AGENT"}})
		own := e.saveLeg(t, "16777321", map[string]any{"interaction": map[string]any{"call_id": "16777322", "agentId": "agent1002",
			"interaction_type": "AGENT"}})
		if other.ID == own.ID || own.CallID != "16777322" || other.CallID != "16777321" {
			t.Fatalf("legs of a transfer: %+v %+v", other, own)
		}

		ts := e.trees(t, john.id())
		if len(ts) != 1 {
			t.Fatalf("John's trees: %+v", ts)
		}
		if got := ts[0]; got.CallID != "16777321" || got.PhoneNumber != "+0300 1234567" || got.ContactID != john.id() ||
			!reflect.DeepEqual(got.Interactions, []leg{ivr, wrapped, other, own}) {
			t.Fatalf("John's call: %+v", got)
		}

		// A call without a number, or of a number nobody has, is stored unlinked; a later save whose ani
		// matches links it; a linked call keeps its contact.
		e.saveLeg(t, "call-2", map[string]any{"interaction": map[string]any{"type": "INBOUND"}, "ani": ""})
		e.saveLeg(t, "call-3", map[string]any{"interaction": map[string]any{"type": "OUTBOUND"}, "ani": "0399 0000000"})
		if ts := e.trees(t, john.id()); len(ts) != 1 {
			t.Fatalf("unlinked calls listed: %+v", ts)
		}
		e.saveLeg(t, "call-2", map[string]any{"interaction": map[string]any{"type": "INBOUND"}, "ani": "03001234567"})
		e.saveLeg(t, "16777321", map[string]any{"interaction": map[string]any{"type": "INBOUND"}, "ani": "03217654321"})
		ts = e.trees(t, john.id())
		if len(ts) != 2 || ts[0].CallID != "call-2" || ts[1].CallID != "16777321" || ts[0].PhoneNumber != "03001234567" ||
			len(ts[0].Interactions) != 1 {
			t.Fatalf("John's calls, newest first: %+v", ts)
		}
		if ts := e.trees(t, sara.id()); len(ts) != 0 {
			t.Fatalf("a linked call was re-linked: %+v", ts)
		}
		var page []tree
		r := e.ok(t, "GET", "/interactions/loadInteractions/"+john.id()+"?limit=1&count=true", nil, &page)
		if len(page) != 1 || page[0].CallID != "call-2" || r.Header.Get("X-Total-Count") != "2" ||
			r.Header.Get("Link") != `</cim/interactions/loadInteractions/`+john.id()+`?count=true&limit=1&offset=1>; rel="next"` {
			t.Fatalf("first page: %+v, headers %v", page, r.Header)
		}

		// A deleted contact's calls are kept, unlinked: a new contact with the number does not inherit them.
		e.ok(t, "DELETE", "/contacts/"+john.id(), nil, nil)
		again := e.save(t, map[string]any{"phone1": "0300-1234567"})
		if ts := e.trees(t, again.id()); len(ts) != 0 {
			t.Fatalf("a new contact inherited calls: %+v", ts)
		}
		var n int64
		e.DB.Raw("SELECT count(*) FROM cim_trees WHERE contact_id IS NULL").Scan(&n)
		if n != 3 {
			t.Fatalf("%d unlinked trees, want 3 (two of the deleted contact, call-3)", n)
		}

		unknown := "00000000000000000000ffff"
		e.expectErrors(t, []errorCase{
			{"unknown contact", "GET", "/interactions/loadInteractions/" + unknown, nil, 404, "contact " + unknown + " not found"},
			{"deleted contact", "GET", "/interactions/loadInteractions/" + john.id(), nil, 404, "not found"},
			{"bad id", "GET", "/interactions/loadInteractions/john", nil, 400, "id"},
			{"no interaction", "POST", "/interactions/updateOrSaveInteractionTree/1", map[string]any{"ani": "1"}, 400, "interaction"},
			{"unknown leg field", "POST", "/interactions/updateOrSaveInteractionTree/1",
				map[string]any{"interaction": map[string]any{"color": "red"}}, 400, "color"},
			{"call id too long", "POST", "/interactions/updateOrSaveInteractionTree/" + strings.Repeat("1", 256),
				map[string]any{"interaction": map[string]any{}}, 400, "call_Id"},
			{"no body", "POST", "/interactions/updateOrSaveInteractionTree/1", nil, 400, ""},
		})
	})
}
