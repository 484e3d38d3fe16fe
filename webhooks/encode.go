package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"switchboard/models/accolades"
	"switchboard/models/events"
)

// Payload is the body of a delivery in the switchboard format: the contract's CallEvent, as
// POST /platform/call-events answers it.
type Payload struct {
	Direction  string            `json:"direction"`
	Phone      string            `json:"phone"`
	Agent      string            `json:"agent,omitempty"`
	UniqueID   string            `json:"unique_id"`
	CallCenter bool              `json:"call_center"`
	State      string            `json:"state"`
	Source     string            `json:"source,omitempty"`
	Variables  map[string]string `json:"variables,omitempty"`
	ReceivedAt time.Time         `json:"received_at"`
}

// NewPayload answers e as the switchboard format carries it.
func NewPayload(e events.CallEvent) Payload {
	return Payload{Direction: e.Direction, Phone: e.Phone, Agent: e.Agent, UniqueID: e.UniqueID, CallCenter: e.CallCenter,
		State: e.State, Source: e.Source, Variables: e.Variables, ReceivedAt: e.ReceivedAt.UTC()}
}

// AccoladesEvent answers the `event` of Accolades' call-notification API for a call state: answered is
// "answer", ended is "hangup"; ringing has none (the API notifies answered and ended calls only), and
// Switchboard never sends "confirmHangup" (it sets no maximum call duration).
func AccoladesEvent(state string) (string, bool) {
	switch state {
	case events.Answered:
		return "answer", true
	case events.Ended:
		return "hangup", true
	}
	return "", false
}

// AccoladesForm answers e as the form values of Accolades' call-notification API (notes/vendors.md §4.3):
// apiName callNotification, event, callId (the call's "number.number" id, the uniqueId the Accolades CRM
// socket pushes for the same call: accolades.CallID), userId (the event's agent), userType user; and,
// where the vendor's page is cut off, callDirection (in | out), phoneNumber and callCenter (yes | no),
// named as the CRM socket names them.
func AccoladesForm(e events.CallEvent) (url.Values, error) {
	ev, ok := AccoladesEvent(e.State)
	if !ok {
		return nil, fmt.Errorf("the accolades format has no notification for a %s call", e.State)
	}
	dir := "in"
	if e.Direction == events.Outbound {
		dir = "out"
	}
	yes := "no"
	if e.CallCenter {
		yes = "yes"
	}
	return url.Values{"apiName": {"callNotification"}, "event": {ev}, "callId": {accolades.CallID(e.UniqueID)}, "userId": {e.Agent},
		"userType": {"user"}, "callDirection": {dir}, "phoneNumber": {e.Phone}, "callCenter": {yes}}, nil
}

// Encode answers the body of a delivery of e in a subscription's format, and its media type.
func Encode(format string, e events.CallEvent) ([]byte, string, error) {
	switch format {
	case events.FormatAccolades:
		form, err := AccoladesForm(e)
		if err != nil {
			return nil, "", err
		}
		return []byte(form.Encode()), "application/x-www-form-urlencoded", nil
	case events.FormatSwitchboard, "":
		b, err := json.Marshal(NewPayload(e))
		return b, "application/json", err
	}
	return nil, "", fmt.Errorf("unknown webhook format %q", format)
}

// Sign answers the X-Switchboard-Signature of a delivery: "sha256=" and the hex HMAC-SHA256, keyed with
// the subscription's secret, of the timestamp (X-Switchboard-Timestamp, unix seconds), a dot and the body
// exactly as sent.
func Sign(secret string, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(timestamp, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify is what a receiver does: the signature must be the body's under the secret and timestamp (in
// constant time), and the timestamp within tolerance of now, so a replayed delivery is refused.
func Verify(secret, signature, timestamp string, body []byte, now time.Time, tolerance time.Duration) bool {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return false
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return false
	}
	return hmac.Equal([]byte(signature), []byte(Sign(secret, ts, body)))
}
