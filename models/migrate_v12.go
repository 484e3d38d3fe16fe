package models

import "gorm.io/gorm"

// scheduleV12 is step 12: schedules of ICTCore transmissions (and, with the dialer, campaigns). Each row
// has one job on the queue for its next_run; no foreign keys: the model deletes a target's schedules with it.
type scheduleV12 struct {
	ID        int64  `gorm:"primaryKey;column:schedule_id"`
	Target    string `gorm:"not null;index:idx_schedules_target,priority:1"`
	TargetID  int64  `gorm:"not null;index:idx_schedules_target,priority:2"`
	Action    string `gorm:"not null"`
	Year      string `gorm:"not null;default:''"`
	Month     string `gorm:"not null;default:''"`
	Day       string `gorm:"not null;default:''"`
	Weekday   string `gorm:"not null;default:''"`
	Hour      string `gorm:"not null;default:''"`
	Minute    string `gorm:"not null;default:''"`
	Recurring bool   `gorm:"not null;default:false"`
	TimeZone  string `gorm:"size:64;not null;default:'UTC'"` // the zone the fields are read in
	NextRun   int64  `gorm:"not null"`
	UserID    int64  `gorm:"not null;index"`
	CreatedAt int64  `gorm:"not null"`
}

func (scheduleV12) TableName() string { return "schedules" }

func migrateV12(tx *gorm.DB) error { return tx.Migrator().CreateTable(&scheduleV12{}) }
