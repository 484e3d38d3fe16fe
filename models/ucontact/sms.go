package ucontact

import (
	"context"
	"time"

	"gorm.io/gorm"

	"switchboard/models"
)

// An SMS's direction, as uContact's own events name them.
const (
	Outbound = "O"
	Inbound  = "I"
)

// An SMS's status: an outbound one is queued (an uploaded base's, until its job claims it) or sending,
// then sent, failed or do_not_call; canceled when its campaign was deleted first. An inbound one is
// received.
const (
	SMSQueued    = "queued"
	SMSSending   = "sending"
	SMSSent      = "sent"
	SMSFailed    = "failed"
	SMSDoNotCall = "do_not_call"
	SMSCanceled  = "canceled"
	SMSReceived  = "received"
)

// SMS is a row of ucontact_sms. Phone is the destination of an outbound SMS and the sender of an inbound
// one.
type SMS struct {
	ID         int64 `gorm:"primaryKey;column:id"`
	Direction  string
	CampaignID int64
	Campaign   string
	Agent      string
	Source     string
	Phone      string
	Message    string
	Status     string
	Reason     string
	Gateway    string
	UploadID   int64
	Ref        string
	CreatedBy  int64
	CreatedAt  int64
	SentAt     int64
}

// TableName is the table of uContact SMS.
func (SMS) TableName() string { return "ucontact_sms" }

// CreateSMS stores m as it is (its status set by the caller), with CreatedAt now.
func CreateSMS(ctx context.Context, db *gorm.DB, m *SMS) error {
	m.ID, m.CreatedAt = 0, time.Now().Unix()
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return tx.Create(m).Error })
}

// GetSMS loads SMS id.
func GetSMS(ctx context.Context, db *gorm.DB, id int64) (*SMS, error) {
	return models.TakeOne[SMS](db.WithContext(ctx).Where("id = ?", id),
		func() error { return models.Errorf(models.NotFound, "uContact SMS %d not found", id) })
}

// SetSMSStatus moves SMS id from status from to status to, with a reason and the gateway that carried it,
// when it is still in from; it answers whether it moved.
func SetSMSStatus(ctx context.Context, db *gorm.DB, id int64, from, to, reason, gateway string) (bool, error) {
	var n int64
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&SMS{}).Where("id = ? AND status = ?", id, from).
			Updates(map[string]any{"status": to, "reason": reason, "gateway": gateway, "sent_at": time.Now().Unix()})
		n = res.RowsAffected
		return res.Error
	})
	return n > 0, err
}
