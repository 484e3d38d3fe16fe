package webhooks_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"switchboard/models/events"
	"switchboard/webhooks"
)

// TestSign: the signature is the hex HMAC-SHA256 of "<timestamp>.<body>" under the secret, as the
// contract's example says, and Verify takes it only within the tolerance and for the same body.
func TestSign(t *testing.T) {
	body := []byte(`{}`)
	m := hmac.New(sha256.New, []byte("whsec_test"))
	m.Write([]byte("1700000000.{}"))
	want := "sha256=" + hex.EncodeToString(m.Sum(nil))
	if got := webhooks.Sign("whsec_test", 1700000000, body); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	now := time.Unix(1700000000, 0)
	cases := []struct {
		name, secret, sig, ts string
		body                  string
		at                    time.Time
		ok                    bool
	}{
		{"as signed", "whsec_test", want, "1700000000", "{}", now, true},
		{"four minutes later", "whsec_test", want, "1700000000", "{}", now.Add(4 * time.Minute), true},
		{"replayed after six minutes", "whsec_test", want, "1700000000", "{}", now.Add(6 * time.Minute), false},
		{"another body", "whsec_test", want, "1700000000", "{ }", now, false},
		{"another secret", "whsec_other", want, "1700000000", "{}", now, false},
		{"another timestamp", "whsec_test", want, "1700000001", "{}", now, false},
		{"not a timestamp", "whsec_test", want, "x", "{}", now, false},
	}
	for _, tc := range cases {
		if got := webhooks.Verify(tc.secret, tc.sig, tc.ts, []byte(tc.body), tc.at, 5*time.Minute); got != tc.ok {
			t.Errorf("%s: Verify = %v", tc.name, got)
		}
	}
}

func TestEncode(t *testing.T) {
	at := time.Date(2026, 11, 28, 9, 30, 0, 123e6, time.UTC)
	e := events.CallEvent{UniqueID: "1608743891.1344", Direction: events.Inbound, Phone: "0211234567", Agent: "f8cb549544",
		CallCenter: true, State: events.Answered, Source: "platform", Variables: map[string]string{"customer": "7"}, ReceivedAt: at}

	body, ct, err := webhooks.Encode(events.FormatSwitchboard, e)
	if err != nil || ct != "application/json" {
		t.Fatalf("switchboard: %v %s", err, ct)
	}
	want := `{"direction":"inbound","phone":"0211234567","agent":"f8cb549544","unique_id":"1608743891.1344","call_center":true,` +
		`"state":"answered","source":"platform","variables":{"customer":"7"},"received_at":"2026-11-28T09:30:00.123Z"}`
	if string(body) != want {
		t.Fatalf("switchboard body\n got %s\nwant %s", body, want)
	}

	cases := []struct {
		state, direction, id, wantEvent, wantDir, wantCallID string
		callCenter                                           bool
	}{
		{events.Answered, events.Inbound, "1608743891.1344", "answer", "in", "1608743891.1344", true},
		{events.Ended, events.Outbound, "1608743891.1344", "hangup", "out", "1608743891.1344", false},
	}
	for _, tc := range cases {
		e.State, e.Direction, e.UniqueID, e.CallCenter = tc.state, tc.direction, tc.id, tc.callCenter
		body, ct, err := webhooks.Encode(events.FormatAccolades, e)
		if err != nil || ct != "application/x-www-form-urlencoded" {
			t.Fatalf("accolades %s: %v %s", tc.state, err, ct)
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			t.Fatal(err)
		}
		yes := map[bool]string{true: "yes", false: "no"}[tc.callCenter]
		want := url.Values{"apiName": {"callNotification"}, "event": {tc.wantEvent}, "callId": {tc.wantCallID}, "userId": {"f8cb549544"},
			"userType": {"user"}, "callDirection": {tc.wantDir}, "phoneNumber": {"0211234567"}, "callCenter": {yes}}
		if form.Encode() != want.Encode() {
			t.Errorf("accolades %s: %s, want %s", tc.state, form.Encode(), want.Encode())
		}
	}
	// A uContact GUID becomes the number.number id the Accolades socket pushes for the same call.
	e.UniqueID = "f9b7ada3-a4e5-4795-834d-aa1c1a37ee57"
	body, _, _ = webhooks.Encode(events.FormatAccolades, e)
	form, _ := url.ParseQuery(string(body))
	if id := form.Get("callId"); !callIDPattern(id) {
		t.Errorf("callId of a GUID: %q, want number.number", id)
	}
	e.State = events.Ringing
	if _, _, err := webhooks.Encode(events.FormatAccolades, e); err == nil {
		t.Error("the accolades format encoded a ringing event, which it has no notification for")
	}
	if _, _, err := webhooks.Encode("xml", e); err == nil {
		t.Error("an unknown format encoded")
	}
	var p webhooks.Payload
	if err := json.Unmarshal([]byte(want), &p); err != nil || p.ReceivedAt != at {
		t.Errorf("payload round trip: %v %v", err, p.ReceivedAt)
	}
}

func callIDPattern(s string) bool {
	dot := false
	for i, r := range s {
		switch {
		case r == '.' && !dot && i > 0 && i < len(s)-1:
			dot = true
		case r < '0' || r > '9':
			return false
		}
	}
	return dot
}
