package collect

import (
	"context"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"switchboard/models/collect"
	"switchboard/queue"
)

// sweepEvery is how often one node of the deployment fails the plan runs whose node stopped mid-plan.
const sweepEvery = time.Minute

// sweepOrphans has the plan runs past their deadline failed every sweepEvery (and at start), by one node of
// the deployment: a run lives in the request of the node whose socket it prompts, so a node that crashed
// or was killed leaves its runs "running" with nobody to end them (collect.SweepJobs).
func sweepOrphans(db *gorm.DB, q *queue.Queue, log *slog.Logger) {
	queue.Periodic[sweepKind](q, sweepEvery, func(ctx context.Context) error {
		n, err := collect.SweepJobs(ctx, db, time.Now())
		if n > 0 {
			log.WarnContext(ctx, "Collect! plan runs failed: their node stopped before they ended", "jobs", n)
		}
		return err
	})
}

type sweepKind struct{}

func (sweepKind) Kind() string { return "collect_plan_jobs_sweep" }
