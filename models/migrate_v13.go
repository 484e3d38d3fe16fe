package models

import "gorm.io/gorm"

// migrateV13 is step 13: delivery claims queued spools in batches (the oldest first, a partial index
// keeps that cheap however many spools have ended) and records on each the job that claimed it, so a
// rerun of a job whose node died finds the attempts it had started.
func migrateV13(tx *gorm.DB) error {
	for _, q := range []string{
		"ALTER TABLE spools ADD COLUMN job_id bigint",
		"CREATE INDEX idx_spools_queued ON spools (spool_id) WHERE status = 'queued'",
		"CREATE INDEX idx_spools_started_job ON spools (job_id) WHERE status = 'started'",
	} {
		if err := tx.Exec(q).Error; err != nil {
			return err
		}
	}
	return nil
}
