package accolades

import (
	"encoding/json"

	"switchboard/models/accolades"
	"switchboard/models/events"
)

// callMessage is incomingCall / outgoingCall, in the document's field order.
type callMessage struct {
	Type        string `json:"type"`
	PhoneNumber string `json:"phoneNumber"`
	UniqueID    string `json:"uniqueId"`
	CallCenter  string `json:"callCenter"`
}

// CallMessage answers the message a call event pushes to the CRM of its agent, and whether it pushes one
// (R29): only a call's `ringing` event does, as incomingCall (inbound) or outgoingCall (outbound), so a call
// is pushed once (the publisher stores each unique id and state once); phoneNumber is the event's phone,
// uniqueId its unique id as Accolades writes one (accolades.CallID), callCenter yes or no.
func CallMessage(e events.CallEvent) ([]byte, bool) {
	if e.State != events.Ringing || e.Agent == "" {
		return nil, false
	}
	m := callMessage{PhoneNumber: e.Phone, UniqueID: accolades.CallID(e.UniqueID), CallCenter: "no"}
	switch e.Direction {
	case events.Inbound:
		m.Type = "incomingCall"
	case events.Outbound:
		m.Type = "outgoingCall"
	default:
		return nil, false
	}
	if e.CallCenter {
		m.CallCenter = "yes"
	}
	b, err := json.Marshal(m)
	return b, err == nil
}

// Deliver is the Accolades hub's events.Listener: it pushes a call's ringing event to the connection
// authenticated with the event's agent (a CRM id) if this node holds it; other nodes' Deliver push to
// theirs. It never blocks: the message joins the connection's bounded queue, and a CRM whose queue is full
// is closed with close code 1013 (realtime.CloseSlow) instead of being waited for.
func (h *Handler) Deliver(e events.CallEvent) {
	msg, ok := CallMessage(e)
	if !ok {
		return
	}
	h.mu.Lock()
	s := h.byCrm[e.Agent]
	h.mu.Unlock()
	if s == nil || !s.authenticated() {
		return
	}
	s.conn.Send(msg)
}
