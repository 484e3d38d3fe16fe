package events

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// On Postgres a new event is announced with pg_notify in the transaction that records it, so the
// announcement goes out exactly when the event commits, to every node LISTENing on the store's channel.

// channelExpr is the NOTIFY channel of the connection's schema: nodes of one Switchboard share it, and
// two Switchboards in two schemas of one database (the bench, tests) do not hear each other. A hash keeps
// it within Postgres's 63-byte names whatever the schema is called.
const channelExpr = "'sb_call_events_' || left(md5(current_schema()), 16)"

// MaxNotifyPayload is the largest payload announced whole: Postgres refuses one of 8000 bytes or more. A
// larger event (long call variables) is announced by its id only, and each node reads it back.
const MaxNotifyPayload = 7999

// notification is a NOTIFY payload: the event's id, and the event itself unless it was too large.
type notification struct {
	ID    int64      `json:"id"`
	Event *wireEvent `json:"event,omitempty"`
}

type wireEvent struct {
	UniqueID   string            `json:"unique_id"`
	Direction  string            `json:"direction"`
	Phone      string            `json:"phone,omitempty"`
	Agent      string            `json:"agent,omitempty"`
	CallCenter bool              `json:"call_center,omitempty"`
	State      string            `json:"state"`
	Source     string            `json:"source,omitempty"`
	Variables  map[string]string `json:"variables,omitempty"`
	ReceivedAt int64             `json:"received_at"` // unix milliseconds
}

// EncodeNotification answers the NOTIFY payload of a stored event: the whole event when it fits in
// MaxNotifyPayload bytes, else its id alone.
func EncodeNotification(rec Record) (string, error) {
	e := rec.CallEvent
	b, err := json.Marshal(notification{ID: rec.ID, Event: &wireEvent{UniqueID: e.UniqueID, Direction: e.Direction, Phone: e.Phone,
		Agent: e.Agent, CallCenter: e.CallCenter, State: e.State, Source: e.Source, Variables: e.Variables,
		ReceivedAt: e.ReceivedAt.UnixMilli()}})
	if err != nil {
		return "", err
	}
	if len(b) > MaxNotifyPayload {
		b, err = json.Marshal(notification{ID: rec.ID})
	}
	return string(b), err
}

// DecodeNotification reads a NOTIFY payload: the event's id, and the event unless it came by id only
// (whole false: read it back with Get).
func DecodeNotification(payload string) (rec Record, whole bool, err error) {
	var n notification
	if err := json.Unmarshal([]byte(payload), &n); err != nil || n.ID <= 0 {
		return Record{}, false, fmt.Errorf("call event notification %q: not one", truncate(payload))
	}
	rec.ID = n.ID
	if n.Event == nil {
		return rec, false, nil
	}
	w := n.Event
	rec.CallEvent = CallEvent{UniqueID: w.UniqueID, Direction: w.Direction, Phone: w.Phone, Agent: w.Agent, CallCenter: w.CallCenter,
		State: w.State, Source: w.Source, Variables: w.Variables, ReceivedAt: time.UnixMilli(w.ReceivedAt).UTC()}
	return rec, true, nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// notify announces rec in the transaction tx.
func notify(tx *gorm.DB, rec Record) error {
	payload, err := EncodeNotification(rec)
	if err != nil {
		return err
	}
	return tx.Exec("SELECT pg_notify("+channelExpr+", ?)", payload).Error
}

// Announce sends notice, a payload that is not a call event, on the channel every node's relay listens on,
// in the transaction tx (Postgres: delivered at its commit). The relay hands it to what watches it
// (realtime.Relay.Watch) instead of the bus.
func Announce(tx *gorm.DB, notice string) error {
	return tx.Exec("SELECT pg_notify("+channelExpr+", ?)", notice).Error
}

// Channel answers the NOTIFY channel of the store's schema (Postgres), for LISTEN.
func Channel(ctx context.Context, db *gorm.DB) (string, error) {
	var ch string
	err := db.WithContext(ctx).Raw("SELECT " + channelExpr).Scan(&ch).Error
	return ch, err
}
