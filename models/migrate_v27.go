package models

import "gorm.io/gorm"

// Step 27: webhook delivery attempts indexed by when they were made, so the retention job deletes the old
// ones by an index range instead of a scan (call_events has its received_at index since step 25).
func migrateV27(tx *gorm.DB) error {
	return tx.Exec(`CREATE INDEX idx_webhook_deliveries_attempted ON webhook_deliveries (attempted_at)`).Error
}
