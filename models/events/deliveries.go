package events

import (
	"context"

	"gorm.io/gorm"

	"switchboard/models"
)

// Outcomes of a delivery attempt.
const (
	Delivered = "delivered" // the endpoint answered 2xx
	Retrying  = "retrying"  // it failed; another attempt follows
	Failed    = "failed"    // it failed and was the last attempt: the delivery gave up
)

// Delivery is a row of webhook_deliveries (migration step 25): one attempt to post one event to one
// subscription. StatusCode is nil when the endpoint did not answer (timeout, refused connection).
// AttemptedAt is unix milliseconds.
type Delivery struct {
	ID          int64 `gorm:"primaryKey;column:id"`
	WebhookID   int64
	DeliveryID  int64 // the delivery's job: the same on every attempt of one delivery
	EventID     int64
	UniqueID    string `gorm:"column:unique_id"`
	State       string
	Attempt     int
	Outcome     string
	StatusCode  *int
	Error       string
	AttemptedAt int64
	DurationMs  int64 `gorm:"column:duration_ms"`
}

// TableName is the delivery log.
func (Delivery) TableName() string { return "webhook_deliveries" }

// LogDelivery records one attempt.
func LogDelivery(ctx context.Context, db *gorm.DB, d *Delivery) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return tx.Create(d).Error })
}

// DeliveryFilter is the whitelist of the delivery log's parameters.
type DeliveryFilter struct {
	Outcome  *string
	UniqueID *string
	models.ListQuery
}

// ListDeliveries answers one page of a subscription's delivery log in id order (the order of the
// attempts); an unknown subscription is NotFound.
func ListDeliveries(ctx context.Context, db *gorm.DB, webhookID int64, f DeliveryFilter) (models.PageOf[Delivery], error) {
	if _, err := GetSubscription(ctx, db, webhookID); err != nil {
		return models.PageOf[Delivery]{}, err
	}
	return models.List(ctx, db.Model(&Delivery{}).Where("webhook_id = ?", webhookID), "id", f.ListQuery,
		func(d *Delivery) int64 { return d.ID }, models.Equal("outcome", f.Outcome), models.Equal("unique_id", f.UniqueID))
}
