package models

import "gorm.io/gorm"

// Step 25: the call-event stream and its webhooks (issue 10, item 4; DESIGN §6).
//
// call_events keeps every call event once: a call's event is named by its unique id (the call) and its
// state, unique together, so a second publication of the same event inserts nothing and finds the first
// (models/events). variables holds the call variables as a JSON object (empty: none); received_at is unix
// milliseconds, indexed for the events a node reads back after its LISTEN connection dropped.
//
// webhook_subscriptions are the platform's outgoing webhooks: a URL, the signing secret (kept as it is:
// an HMAC needs it, so it cannot be hashed; never answered after the create, never logged), the body's
// format, a filter (JSON arrays of states, directions and agents; empty: any) and an active flag. Times
// are unix seconds.
//
// webhook_deliveries is the delivery log: one row per attempt of a delivery (delivery_id: its job's id,
// the X-Switchboard-Delivery header), with its outcome, the status the endpoint answered (none when it did
// not answer), the error and the timing (attempted_at in unix milliseconds, duration_ms). The index on (webhook_id, id) pages one subscription's log along its key.
type callEventV25 struct {
	ID         int64  `gorm:"primaryKey;column:id"`
	UniqueID   string `gorm:"column:unique_id;size:64;not null;uniqueIndex:idx_call_events_unique,priority:1"`
	State      string `gorm:"size:16;not null;uniqueIndex:idx_call_events_unique,priority:2"`
	Direction  string `gorm:"size:16;not null"`
	Phone      string `gorm:"size:32;not null;default:''"`
	Agent      string `gorm:"size:128;not null;default:''"`
	CallCenter bool   `gorm:"not null;default:false"`
	Source     string `gorm:"size:16;not null;default:''"`
	Variables  string `gorm:"type:text;not null;default:''"`
	ReceivedAt int64  `gorm:"not null;index"`
}

func (callEventV25) TableName() string { return "call_events" }

type webhookSubscriptionV25 struct {
	ID          int64  `gorm:"primaryKey;column:id"`
	URL         string `gorm:"column:url;size:2048;not null"`
	Secret      string `gorm:"size:128;not null"`
	Format      string `gorm:"size:16;not null"`
	Description string `gorm:"size:255;not null;default:''"`
	States      string `gorm:"type:text;not null;default:'[]'"`
	Directions  string `gorm:"type:text;not null;default:'[]'"`
	Agents      string `gorm:"type:text;not null;default:'[]'"`
	Active      bool   `gorm:"not null;default:true;index"`
	CreatedAt   int64  `gorm:"not null"`
	UpdatedAt   int64  `gorm:"not null"`
}

func (webhookSubscriptionV25) TableName() string { return "webhook_subscriptions" }

type webhookDeliveryV25 struct {
	ID          int64  `gorm:"primaryKey;column:id;index:idx_webhook_deliveries_webhook,priority:2"`
	WebhookID   int64  `gorm:"not null;index:idx_webhook_deliveries_webhook,priority:1"`
	DeliveryID  int64  `gorm:"not null"`
	EventID     int64  `gorm:"not null"`
	UniqueID    string `gorm:"column:unique_id;size:64;not null"`
	State       string `gorm:"size:16;not null"`
	Attempt     int    `gorm:"not null"`
	Outcome     string `gorm:"size:16;not null"`
	StatusCode  *int
	Error       string `gorm:"type:text;not null;default:''"`
	AttemptedAt int64  `gorm:"not null"`
	DurationMs  int64  `gorm:"column:duration_ms;not null"`
}

func (webhookDeliveryV25) TableName() string { return "webhook_deliveries" }

func migrateV25(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&callEventV25{}, &webhookSubscriptionV25{}, &webhookDeliveryV25{})
}
