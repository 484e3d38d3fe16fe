package models

import "gorm.io/gorm"

// Step 26: a Collect! session remembers the refresh token it rotated away last (its SHA-256), so that token
// presented again (replayed or stolen: its holder already traded it) ends the session (issue 9, bad input).
func migrateV26(tx *gorm.DB) error {
	if err := tx.Exec(`ALTER TABLE collect_sessions ADD COLUMN prev_refresh_hash VARCHAR(64) NOT NULL DEFAULT ''`).Error; err != nil {
		return err
	}
	return tx.Exec(`CREATE INDEX idx_collect_sessions_prev_refresh ON collect_sessions (prev_refresh_hash)`).Error
}
