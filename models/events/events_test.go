package events_test

import (
	"strings"
	"testing"
	"time"

	"switchboard/models"
	"switchboard/models/events"
)

func TestValidate(t *testing.T) {
	ok := events.CallEvent{UniqueID: "1608743891.1344", Direction: events.Inbound, State: events.Ringing, Phone: "0211234567"}
	if err := events.Validate(ok); err != nil {
		t.Fatalf("a valid event: %v", err)
	}
	many := map[string]string{}
	for i := range events.MaxVariables + 1 {
		many[strings.Repeat("v", i+1)] = "x"
	}
	cases := map[string]func(e *events.CallEvent){
		"no direction":        func(e *events.CallEvent) { e.Direction = "" },
		"unknown state":       func(e *events.CallEvent) { e.State = "held" },
		"no unique id":        func(e *events.CallEvent) { e.UniqueID = "" },
		"long unique id":      func(e *events.CallEvent) { e.UniqueID = strings.Repeat("1", events.MaxUniqueID+1) },
		"long phone":          func(e *events.CallEvent) { e.Phone = strings.Repeat("1", events.MaxPhone+1) },
		"long agent":          func(e *events.CallEvent) { e.Agent = strings.Repeat("a", events.MaxAgent+1) },
		"too many variables":  func(e *events.CallEvent) { e.Variables = many },
		"empty variable name": func(e *events.CallEvent) { e.Variables = map[string]string{"": "x"} },
		"long variable value": func(e *events.CallEvent) {
			e.Variables = map[string]string{"x": strings.Repeat("v", events.MaxVariableValue+1)}
		},
	}
	for name, change := range cases {
		e := ok
		change(&e)
		if err := events.Validate(e); models.KindOf(err) != models.Invalid {
			t.Errorf("%s: %v, want an Invalid error", name, err)
		}
	}
}

// TestNotification: an event travels whole in a NOTIFY payload while it fits, by id alone once it does
// not (Postgres refuses payloads of 8000 bytes), and comes back as it went.
func TestNotification(t *testing.T) {
	at := time.UnixMilli(1764322200123).UTC()
	small := events.Record{ID: 7, CallEvent: events.CallEvent{UniqueID: "1.2", Direction: events.Outbound, Phone: "021", Agent: "a",
		CallCenter: true, State: events.Ended, Source: "ucontact", Variables: map[string]string{"k": "v"}, ReceivedAt: at}}
	p, err := events.EncodeNotification(small)
	if err != nil || len(p) > events.MaxNotifyPayload {
		t.Fatalf("encode: %v (%d bytes)", err, len(p))
	}
	got, whole, err := events.DecodeNotification(p)
	if err != nil || !whole || got.ID != 7 || got.UniqueID != "1.2" || got.Variables["k"] != "v" || !got.ReceivedAt.Equal(at) ||
		got.Source != "ucontact" || !got.CallCenter || got.State != events.Ended {
		t.Fatalf("decode: %+v %v %v", got, whole, err)
	}
	large := small
	large.Variables = map[string]string{}
	for i := range 10 {
		large.Variables[strings.Repeat("k", i+1)] = strings.Repeat("é", events.MaxVariableValue)
	}
	p, err = events.EncodeNotification(large)
	if err != nil || len(p) > events.MaxNotifyPayload {
		t.Fatalf("encode large: %v (%d bytes)", err, len(p))
	}
	got, whole, err = events.DecodeNotification(p)
	if err != nil || whole || got.ID != 7 {
		t.Fatalf("a large event should come by id: %+v %v %v", got, whole, err)
	}
	for _, bad := range []string{"", "{}", `{"id":0}`, "not json"} {
		if _, _, err := events.DecodeNotification(bad); err == nil {
			t.Errorf("decoded %q", bad)
		}
	}
}

func TestSubscriptionMatches(t *testing.T) {
	e := events.CallEvent{UniqueID: "1.2", Direction: events.Inbound, State: events.Ringing, Agent: "crm1"}
	cases := []struct {
		name string
		sub  events.Subscription
		want bool
	}{
		{"no filter", events.Subscription{Active: true, Format: events.FormatSwitchboard}, true},
		{"inactive", events.Subscription{Format: events.FormatSwitchboard}, false},
		{"its state", events.Subscription{Active: true, States: []string{events.Answered, events.Ringing}}, true},
		{"another state", events.Subscription{Active: true, States: []string{events.Answered}}, false},
		{"another direction", events.Subscription{Active: true, Directions: []string{events.Outbound}}, false},
		{"its agent", events.Subscription{Active: true, Agents: []string{"crm1"}}, true},
		{"another agent", events.Subscription{Active: true, Agents: []string{"crm2"}}, false},
		{"accolades has no ringing", events.Subscription{Active: true, Format: events.FormatAccolades}, false},
	}
	for _, tc := range cases {
		if got := tc.sub.Matches(e); got != tc.want {
			t.Errorf("%s: %v", tc.name, got)
		}
	}
	e.State = events.Answered
	if s := (events.Subscription{Active: true, Format: events.FormatAccolades}); !s.Matches(e) {
		t.Error("accolades: an answered call is notified")
	}
}
