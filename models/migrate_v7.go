package models

import "gorm.io/gorm"

// programV7 is step 7: ICTCore programs. A program is a type (sendfax, …) with the parameters of that
// type: the message it sends (one of the four message ids) or, for voicetts, a text and a delay. account_id
// and parent_id are optional references.
type programV7 struct {
	ID          int64  `gorm:"primaryKey;column:program_id"`
	Name        string `gorm:"size:64;not null"`
	Type        string `gorm:"size:16;not null;index"`
	ParentID    *int64
	AccountID   *int64 `gorm:"index"`
	DocumentID  *int64
	TemplateID  *int64
	TextID      *int64
	RecordingID *int64
	Text        string `gorm:"size:2000;not null;default:''"`
	Delay       int    `gorm:"not null;default:0"`
	UserID      int64  `gorm:"not null;index"`
	CreatedAt   int64  `gorm:"not null;index"`
	UpdatedAt   int64  `gorm:"not null"`
}

func (programV7) TableName() string { return "programs" }

func migrateV7(tx *gorm.DB) error { return tx.Migrator().CreateTable(&programV7{}) }
