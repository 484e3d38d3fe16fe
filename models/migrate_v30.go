package models

import "gorm.io/gorm"

// Step 30: an attempt's step results are one JSON array on its spool (spools.results), written by the
// update that records the attempt's outcome, instead of a spool_results row each: the sends bench found
// their insert the costliest statement of a delivery on Postgres (six rows an attempt, each a heap tuple
// and two index entries). Results are only ever read by spool. Each keeps an id, now its spool's id × 100
// plus its position (an attempt records a handful): results stored before are renumbered that way here,
// in the order of their old ids, and the table is dropped. Spools are found by their job without a
// condition on status (below).
func migrateV30(tx *gorm.DB) error {
	obj, agg := `json_object('spool_result_id', spool_id * 100 + pos, 'application_id', application_id, 'type', type,
		'name', name, 'data', data, 'date_created', date_created)`, `json_group_array(json(o))`
	if tx.Dialector.Name() == "postgres" {
		obj, agg = `json_build_object('spool_result_id', spool_id * 100 + pos, 'application_id', application_id, 'type', type,
		'name', name, 'data', data, 'date_created', date_created)`, `json_agg(o ORDER BY pos)::text`
	}
	for _, stmt := range []string{
		`ALTER TABLE spools ADD COLUMN results TEXT NOT NULL DEFAULT '[]'`,
		`UPDATE spools SET results = (SELECT ` + agg + ` FROM (SELECT pos, ` + obj + ` AS o FROM
			(SELECT r.*, row_number() OVER (ORDER BY spool_result_id) - 1 AS pos FROM spool_results r WHERE r.spool_id = spools.spool_id) n
			ORDER BY pos) x)
			WHERE spool_id IN (SELECT spool_id FROM spool_results)`,
		`DROP TABLE spool_results`,
		// A spool names its job from its insert (jobs no longer claim spools): its job's lookups need
		// job_id alone, and with no index on status any more, a spool's status changes can be HOT
		// updates on Postgres (no index entry written), given room on the page (the fillfactor below).
		`DROP INDEX idx_spools_unclaimed`,
		`DROP INDEX idx_spools_job`,
		`CREATE INDEX idx_spools_job ON spools (job_id)`,
	} {
		if err := tx.Exec(stmt).Error; err != nil {
			return err
		}
	}
	if tx.Dialector.Name() == "postgres" {
		// Half of each page left free at insert: a spool's two updates (started, ended with its
		// results) then fit beside it.
		return tx.Exec(`ALTER TABLE spools SET (fillfactor = 50)`).Error
	}
	return nil
}
