package accolades

import (
	"encoding/json"

	"switchboard/models/accolades"
	"switchboard/models/events"
)

// CallMessage answers the message a call event pushes to the CRM of its agent, and whether it pushes one
// (R29): only a call's `ringing` event does, as incomingCall (inbound) or outgoingCall (outbound), so a call
// is pushed once (the publisher stores each unique id and state once); phoneNumber is the event's phone,
// uniqueId its unique id as Accolades writes one (accolades.CallID), callCenter yes or no. The fields come
// in the document's order. It is written by hand, not by encoding/json's reflection: a burst of call events
// to thousands of CRMs encodes one message each.
func CallMessage(e events.CallEvent) ([]byte, bool) {
	if e.State != events.Ringing || e.Agent == "" {
		return nil, false
	}
	var typ string
	switch e.Direction {
	case events.Inbound:
		typ = "incomingCall"
	case events.Outbound:
		typ = "outgoingCall"
	default:
		return nil, false
	}
	callCenter := "no"
	if e.CallCenter {
		callCenter = "yes"
	}
	b := make([]byte, 0, 96+len(e.Phone)+len(e.UniqueID))
	b = append(b, `{"type":"`...)
	b = append(b, typ...)
	b = append(b, `","phoneNumber":`...)
	b = appendJSONString(b, e.Phone)
	b = append(b, `,"uniqueId":`...)
	b = appendJSONString(b, accolades.CallID(e.UniqueID))
	b = append(b, `,"callCenter":"`...)
	b = append(b, callCenter...)
	b = append(b, `"}`...)
	return b, true
}

// appendJSONString appends s as a JSON string: as it is when it is plain printable ASCII (a phone number,
// a call id), through encoding/json otherwise.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
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
