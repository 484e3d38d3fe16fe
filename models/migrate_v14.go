package models

import "gorm.io/gorm"

// campaignV14 is step 14: ICTCore campaigns and what the dialer keeps on them: the last group contact
// turned into a transmission (prepared_through), the pacing reference (pace_start, unix ms, and the
// transmissions released since), and tick_seq, which only the current chain of engine ticks matches.
type campaignV14 struct {
	ID              int64  `gorm:"primaryKey;column:campaign_id"`
	ProgramID       *int64 `gorm:"index"`
	GroupID         *int64 `gorm:"index"`
	AccountID       *int64
	Cpm             int    `gorm:"not null;default:2"`
	TryAllowed      int    `gorm:"not null;default:1"`
	Status          string `gorm:"size:16;not null;default:'new';index"`
	Reason          string `gorm:"size:255;not null;default:''"`
	ContactTotal    int64  `gorm:"not null;default:0"`
	ContactDone     int64  `gorm:"not null;default:0"`
	ContactEnded    int64  `gorm:"not null;default:0"` // transmissions completed, failed for good or invalid
	ContactFailed   int64  `gorm:"not null;default:0"` // of those, failed or invalid
	CallingFrom     *int   // calling window, minutes of the day in the contact's zone; nil: none
	CallingTo       *int
	CallingWeekdays string `gorm:"size:50;not null;default:''"`
	Zones           string `gorm:"not null;default:''"` // the time zones of its transmissions, comma-separated
	PreparedThrough int64  `gorm:"not null;default:0"`
	PaceStart       int64  `gorm:"not null;default:0"`
	PaceReleased    int64  `gorm:"not null;default:0"`
	TickSeq         int64  `gorm:"not null;default:0"`
	LastRun         *int64
	UserID          int64 `gorm:"not null;index"`
	CreatedAt       int64 `gorm:"not null;index"`
	UpdatedAt       int64 `gorm:"not null"`
}

func (campaignV14) TableName() string { return "campaigns" }

func migrateV14(tx *gorm.DB) error {
	if err := tx.Migrator().CreateTable(&campaignV14{}); err != nil {
		return err
	}
	// One transmission per contact and campaign: a resumed or re-prepared campaign cannot send a contact
	// twice; the pending ones of a campaign are released in id order.
	for _, q := range []string{
		// The contact's time zone, for a campaign's calling window (set when the dialer prepares it).
		"ALTER TABLE transmissions ADD COLUMN time_zone varchar(64) NOT NULL DEFAULT ''",
		"CREATE UNIQUE INDEX idx_transmissions_campaign_contact ON transmissions (campaign_id, contact_id) WHERE campaign_id IS NOT NULL",
		"CREATE INDEX idx_transmissions_campaign_pending ON transmissions (campaign_id, transmission_id) WHERE status = 'pending' AND campaign_id IS NOT NULL",
		// The unique index leads with campaign_id: the single-column one only cost every write.
		"DROP INDEX idx_transmissions_campaign_id",
	} {
		if err := tx.Exec(q).Error; err != nil {
			return err
		}
	}
	return nil
}
