package models

import "gorm.io/gorm"

// migrateV11 is step 11: a provider keeps the guide's gateway_flag (1 Asterisk, 2 Kannel, 4 Sendmail,
// 8 Freeswitch; 0 when not given), stored and answered though delivery still follows its type (review R26).
func migrateV11(tx *gorm.DB) error {
	return tx.Exec("ALTER TABLE providers ADD COLUMN gateway_flag integer NOT NULL DEFAULT 0").Error
}
