package models

import "gorm.io/gorm"

// migrateV33 indexes a campaign's transmissions that have not ended (pending, being attempted, or waiting
// for a retry). A settling campaign looks for one every 250 ms; without the index the look read the
// campaign's rows back from its last contact, every one of them when the only one left open was an early
// contact's retry, waiting an hour. Only campaigns' rows in those states have entries: a send outside a
// campaign adds none, and a transmission that ends leaves its entries to vacuum.
func migrateV33(tx *gorm.DB) error {
	return tx.Exec(`CREATE INDEX idx_transmissions_campaign_open ON transmissions (campaign_id)
		WHERE campaign_id IS NOT NULL AND status IN ('pending', 'processing', 'pending_retry')`).Error
}
