package collect_test

import (
	"context"
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
