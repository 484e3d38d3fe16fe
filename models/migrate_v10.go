package models

import "gorm.io/gorm"

// accountProgramV10 is step 10: which programs an account is subscribed to (a receivefax program serves the
// account's inbound faxes). No foreign keys: the model deletes an account's or a program's rows with it.
type accountProgramV10 struct {
	AccountID int64 `gorm:"primaryKey;autoIncrement:false"`
	ProgramID int64 `gorm:"primaryKey;autoIncrement:false;index"`
}

func (accountProgramV10) TableName() string { return "account_programs" }

func migrateV10(tx *gorm.DB) error { return tx.Migrator().CreateTable(&accountProgramV10{}) }
