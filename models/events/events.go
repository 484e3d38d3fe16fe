// Package events is the call-event stream's record (DESIGN §6): the call event every vendor API shares,
// and the contract between the places that publish one (the platform API, uContact AgentCall, answered
// ICTCore voice transmissions) and the places that receive it (the Accolades CRM hub, CIM interactions,
// webhooks).
package events

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// Directions and states of a call event, as openapi/platform.yaml names them.
const (
	Inbound  = "inbound"
	Outbound = "outbound"

	Ringing  = "ringing"
	Answered = "answered"
	Ended    = "ended"
)

// CallEvent is one change in one call.
type CallEvent struct {
	UniqueID   string            // the call's id (Accolades' uniqueId, a uContact GUID); one per call, shared by its states
	Direction  string            // Inbound or Outbound
	Phone      string            // the other party's number (ANI of an inbound call, destination of an outbound one)
	Agent      string            // the agent the call is for: an Accolades CRM id, or a uContact agent name
	CallCenter bool              // the call came through the call-center module
	State      string            // Ringing, Answered or Ended
	Source     string            // who published it: "platform", "ucontact", "ictcore"
	Variables  map[string]string // call variables (CIM's mapping finds the contact through them); may be nil
	ReceivedAt time.Time         // when Switchboard accepted it
}

// Sink receives a call event inside the transaction that records it, once per event across all nodes:
// what it writes commits or rolls back with the event itself (CIM's interaction, webhook jobs).
type Sink func(ctx context.Context, tx *gorm.DB, e CallEvent) error

// Publisher records a call event, runs the sinks and broadcasts it to every node's live subscribers.
// An event is identified by its call and state (UniqueID, State): a call's ringing, answered and ended are
// three events, and publishing a pair already stored changes nothing and answers the stored event with
// fresh == false (a retried POST, a re-run job).
type Publisher interface {
	Publish(ctx context.Context, e CallEvent) (stored CallEvent, fresh bool, err error)
}

// Listener receives every published event on every node (the Accolades hub pushes to the CRM sockets it
// holds). It must not block: it runs on the bus's delivery goroutine.
type Listener func(e CallEvent)
