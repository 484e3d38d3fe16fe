package accolades_test

import (
	"encoding/json"
	"testing"

	"switchboard/handlers/accolades"
	"switchboard/models/events"

	model "switchboard/models/accolades"
)

// TestCallMessageEncoding: the hand-written incomingCall/outgoingCall is byte for byte what encoding/json
// writes for the document's fields in the document's order, whatever the phone and unique id hold.
func TestCallMessageEncoding(t *testing.T) {
	t.Parallel()
	type want struct {
		Type        string `json:"type"`
		PhoneNumber string `json:"phoneNumber"`
		UniqueID    string `json:"uniqueId"`
		CallCenter  string `json:"callCenter"`
	}
	for _, phone := range []string{"0211234567", "+40 21 123 4567", `say "hi"`, `back\slash`, "tab\there", "<b>&amp;", "Zürich", "\x7f", ""} {
		for _, e := range []events.CallEvent{
			{UniqueID: "1608743891.1344", Direction: events.Inbound, Phone: phone, Agent: "crm1", State: events.Ringing},
			{UniqueID: "8f2d3c1e-5b6a-4c7d-9e8f-0a1b2c3d4e5f", Direction: events.Outbound, Phone: phone, Agent: "crm1", CallCenter: true, State: events.Ringing},
		} {
			got, ok := accolades.CallMessage(e)
			if !ok {
				t.Fatalf("%+v pushes nothing", e)
			}
			w := want{Type: "incomingCall", PhoneNumber: phone, UniqueID: model.CallID(e.UniqueID), CallCenter: "no"}
			if e.Direction == events.Outbound {
				w.Type, w.CallCenter = "outgoingCall", "yes"
			}
			ref, _ := json.Marshal(w)
			if string(got) != string(ref) {
				t.Errorf("phone %q: got %s, want %s", phone, got, ref)
			}
		}
	}
	for _, e := range []events.CallEvent{
		{UniqueID: "1.1", Direction: events.Inbound, Phone: "1", Agent: "crm1", State: events.Answered},
		{UniqueID: "1.1", Direction: events.Inbound, Phone: "1", State: events.Ringing},
		{UniqueID: "1.1", Direction: "sideways", Phone: "1", Agent: "crm1", State: events.Ringing},
	} {
		if m, ok := accolades.CallMessage(e); ok {
			t.Errorf("%+v pushes %s", e, m)
		}
	}
}
