package models_test

import (
	"encoding/json"
	"testing"

	"switchboard/apitest"
	"switchboard/models"
)

// TestResultsMoveToSpools: step 30 moves each spool's result rows into its results array, renumbered
// after the spool in the order of their old ids, leaves spools without results an empty array, and drops
// the table.
func TestResultsMoveToSpools(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		db := apitest.NewDB(t, kind)
		// The store as step 29 left it: results in their own table, none on the spools.
		for _, stmt := range []string{
			"ALTER TABLE spools DROP COLUMN results",
			"DROP INDEX idx_spools_job",
			"CREATE INDEX idx_spools_unclaimed ON spools (spool_id) WHERE status = 'queued' AND job_id IS NULL",
			"CREATE INDEX idx_spools_job ON spools (job_id) WHERE status IN ('queued', 'started') AND job_id IS NOT NULL",
			"INSERT INTO spools (spool_id, transmission_id, time_spool, status, response, service_flag, gateway, user_id) VALUES (7, 1, 0, 'completed', '', 1, '', 1), (8, 1, 0, 'failed', '', 1, '', 1), (9, 1, 0, 'queued', '', 1, '', 1)",
		} {
			if err := db.Exec(stmt).Error; err != nil {
				t.Fatal(err)
			}
		}
		if err := models.CreateSpoolResultsV8(db); err != nil {
			t.Fatal(err)
		}
		if err := db.Exec(`INSERT INTO spool_results (spool_result_id, spool_id, application_id, type, name, data, date_created, user_id) VALUES
			(31, 7, NULL, 'info', 'status', 'delivered', 100, 1), (12, 7, 5, 'contact', 'to', '+15550100', 100, 1),
			(40, 8, NULL, 'error', 'reason', 'busy "now"', 200, 1)`).Error; err != nil {
			t.Fatal(err)
		}
		if err := models.MigrateV30(db); err != nil {
			t.Fatal(err)
		}
		want := map[int64]string{
			7: `[{"spool_result_id":700,"application_id":5,"type":"contact","name":"to","data":"+15550100","date_created":100},{"spool_result_id":701,"application_id":null,"type":"info","name":"status","data":"delivered","date_created":100}]`,
			8: `[{"spool_result_id":800,"application_id":null,"type":"error","name":"reason","data":"busy \"now\"","date_created":200}]`,
			9: `[]`,
		}
		for id, w := range want {
			var doc string
			if err := db.Raw("SELECT results FROM spools WHERE spool_id = ?", id).Scan(&doc).Error; err != nil {
				t.Fatal(err)
			}
			var got, exp []map[string]any
			if err := json.Unmarshal([]byte(doc), &got); err != nil {
				t.Fatalf("spool %d: %q: %v", id, doc, err)
			}
			json.Unmarshal([]byte(w), &exp)
			g, _ := json.Marshal(got)
			e, _ := json.Marshal(exp)
			if string(g) != string(e) {
				t.Errorf("spool %d: %s, want %s", id, g, e)
			}
		}
		if db.Migrator().HasTable("spool_results") {
			t.Error("spool_results is still there")
		}
	})
}
