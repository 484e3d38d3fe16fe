package collect

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
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
	river.AddWorker(q.Workers(), &sweepWorker{db: db, log: log})
	q.Every(sweepEvery, func() river.JobArgs { return sweepArgs{} })
}

type sweepArgs struct{}

func (sweepArgs) Kind() string { return "collect_plan_jobs_sweep" }

// InsertOpts: one sweep at a time is enough; a missed one is caught up by the next.
func (sweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByPeriod: sweepEvery}}
}

type sweepWorker struct {
	river.WorkerDefaults[sweepArgs]
	db  *gorm.DB
	log *slog.Logger
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[sweepArgs]) error {
	n, err := collect.SweepJobs(ctx, w.db, time.Now())
	if n > 0 {
		w.log.WarnContext(ctx, "Collect! plan runs failed: their node stopped before they ended", "jobs", n)
	}
	return err
}
