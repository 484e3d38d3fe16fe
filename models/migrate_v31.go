package models

import "gorm.io/gorm"

// campaignProgressV31 is one delivery transaction's share of a campaign's progress: the transmissions it
// ended, and of those the failed ones. Deliveries add rows instead of updating the campaign's counters,
// which made every delivery of a campaign wait on the campaign's row while its tick held it (the campaign
// bench: 286 ms per update); the tick folds the rows into the counters, and reads add those not folded yet.
type campaignProgressV31 struct {
	ID         int64 `gorm:"primaryKey"`
	CampaignID int64 `gorm:"not null;index"`
	Ended      int64 `gorm:"not null"`
	Failed     int64 `gorm:"not null"`
}

func (campaignProgressV31) TableName() string { return "campaign_progress" }

func migrateV31(tx *gorm.DB) error { return tx.Migrator().CreateTable(&campaignProgressV31{}) }
