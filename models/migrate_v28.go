package models

import "gorm.io/gorm"

// Step 28: a Collect! plan run carries the time by which a live run has ended (every prompt is bounded), so
// a run whose node stopped mid-plan is found and failed instead of staying "running" forever. Runs already
// running when this step applies get a day from their start.
func migrateV28(tx *gorm.DB) error {
	for _, stmt := range []string{
		`ALTER TABLE collect_plan_jobs ADD COLUMN deadline BIGINT NOT NULL DEFAULT 0`,
		`UPDATE collect_plan_jobs SET deadline = created_at + 86400 WHERE status = 'running'`,
		`CREATE INDEX idx_collect_plan_jobs_running ON collect_plan_jobs (deadline) WHERE status = 'running'`,
	} {
		if err := tx.Exec(stmt).Error; err != nil {
			return err
		}
	}
	return nil
}
