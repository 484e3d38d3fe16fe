package collect_test

import (
	"context"
	"maps"
	"strconv"
	"testing"
	"time"

	"switchboard/apitest"
	"switchboard/models"
	"switchboard/models/collect"
)

// TestSweepJobs: a run still "running" past its deadline lost its node and is failed, with the reason; runs
// within their deadline and ended runs are left alone; the node that comes back to a swept run can neither
// complete it (nothing is written) nor overwrite its ending.
func TestSweepJobs(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := apitest.NewDB(t, kind)
		s, def, err := collect.SeedDebtors(ctx, db, "cv_sweep", 3)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := collect.CreatePlan(ctx, db, s, collect.PlanInput{Code: "P1", Records: []string{"debtor"},
			Steps: []collect.Step{{Type: collect.StepSet, Field: "de_status", Value: "REV"}}})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		start := func(deadline time.Time) *collect.Job {
			j, err := collect.StartJob(ctx, db, s, 1, plan, "debtor", 1, "", deadline)
			if err != nil {
				t.Fatal(err)
			}
			return j
		}
		orphan, live, ended := start(now.Add(-time.Second)), start(now.Add(time.Hour)), start(now.Add(-time.Second))
		if err := collect.FailJob(ctx, db, s, ended, "cancelled by the operator"); err != nil {
			t.Fatal(err)
		}
		if n, err := collect.SweepJobs(ctx, db, now); err != nil || n != 1 {
			t.Fatalf("swept %d (%v), want 1", n, err)
		}
		for _, c := range []struct {
			j              *collect.Job
			status, reason string
		}{{orphan, collect.JobFailed, collect.Orphaned}, {live, collect.JobRunning, ""}, {ended, collect.JobFailed, "cancelled by the operator"}} {
			got, err := collect.GetJob(ctx, db, s, c.j.ID)
			if err != nil || got.Status != c.status || got.Reason != c.reason {
				t.Errorf("job %s: %+v (%v), want %s %q", c.j.ID, got, err, c.status, c.reason)
			}
		}
		// The orphan's node comes back: completing it is refused and writes nothing; failing it keeps the sweep's reason.
		if err := collect.CompleteJob(ctx, db, s, orphan, def, collect.Data{"de_status": "REV"}); models.KindOf(err) != models.Conflict {
			t.Fatalf("completing a swept job: %v, want Conflict", err)
		}
		if row, err := collect.GetRow(ctx, db, s, def, 1, ""); err != nil || row["de_status"] == "REV" {
			t.Fatalf("a swept job's changes were written: %v %v", row, err)
		}
		if err := collect.FailJob(ctx, db, s, orphan, "the WebSocket closed"); err != nil {
			t.Fatal(err)
		}
		if got, _ := collect.GetJob(ctx, db, s, orphan.ID); got.Reason != collect.Orphaned {
			t.Fatalf("a swept job's reason became %q", got.Reason)
		}
		if n, err := collect.SweepJobs(ctx, db, now.Add(2*time.Hour)); err != nil || n != 1 {
			t.Fatalf("later sweep: %d (%v), want 1 (the live job, now past its deadline)", n, err)
		}
	})
}

// TestRowDataMirrorsValues: a row's data (collect_rows.data, what GetRow reads) says what its collect_values
// rows say (what filters and sorts read), after a create with defaults, an update of some fields, a contact
// plan's changes, and for rows stored in bulk (SeedDebtors, which fills data as step 29 does).
func TestRowDataMirrorsValues(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := apitest.NewDB(t, kind)
		s, def, err := collect.SeedDebtors(ctx, db, "cv_mirror", 5)
		if err != nil {
			t.Fatal(err)
		}
		id, _, err := collect.CreateRow(ctx, db, s, def, collect.FullLogic, map[string]string{"de_name": "Ada"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := collect.UpdateRow(ctx, db, s, def, 2, map[string]string{"de_status": "PAID", "de_owing": "12.5"}); err != nil {
			t.Fatal(err)
		}
		plan, err := collect.CreatePlan(ctx, db, s, collect.PlanInput{Code: "P1", Records: []string{"debtor"},
			Steps: []collect.Step{{Type: collect.StepSet, Field: "de_status", Value: "REV"}}})
		if err != nil {
			t.Fatal(err)
		}
		job, err := collect.StartJob(ctx, db, s, 1, plan, "debtor", 3, "", time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if err := collect.CompleteJob(ctx, db, s, job, def, collect.Data{"de_status": "REV", "de_name": "Plan"}); err != nil {
			t.Fatal(err)
		}
		for _, rowid := range []int64{1, 2, 3, 4, 5, id} {
			got, err := collect.GetRow(ctx, db, s, def, rowid, "")
			if err != nil {
				t.Fatal(err)
			}
			var vals []struct {
				Name, TextValue string
			}
			if err := db.Raw(`SELECT f.name, v.text_value FROM collect_values v JOIN collect_field_defs f ON f.id = v.field_id
				WHERE v.row_id = ?`, rowid).Scan(&vals).Error; err != nil {
				t.Fatal(err)
			}
			want := collect.Data{def.RowIDField: strconv.FormatInt(rowid, 10)}
			for _, v := range vals {
				want[v.Name] = v.TextValue
			}
			if !maps.Equal(got, want) || len(vals) != 3 {
				t.Errorf("row %d: GetRow %v, its values %v", rowid, got, want)
			}
		}
		if got, _ := collect.GetRow(ctx, db, s, def, 3, "de_status"); got["de_status"] != "REV" || got["de_name"] != "" {
			t.Errorf("row 3 cut to de_status: %v", got)
		}
	})
}
