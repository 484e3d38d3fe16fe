package models

import "gorm.io/gorm"

// migrateV13 is step 13: delivery claims queued spools in batches (the oldest unclaimed first, a partial
// index keeps that cheap however many spools have ended) and records on each the job that claimed it, so
// a rerun of a job whose node died finds the attempts it had claimed and those it had started.
func migrateV13(tx *gorm.DB) error {
	for _, q := range []string{
		"ALTER TABLE spools ADD COLUMN job_id bigint",
		"CREATE INDEX idx_spools_unclaimed ON spools (spool_id) WHERE status = 'queued' AND job_id IS NULL",
		"CREATE INDEX idx_spools_job ON spools (job_id) WHERE status IN ('queued', 'started') AND job_id IS NOT NULL",
	} {
		if err := tx.Exec(q).Error; err != nil {
			return err
		}
	}
	return nil
}
