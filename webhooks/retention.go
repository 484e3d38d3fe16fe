package webhooks

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"switchboard/models/events"
	"switchboard/queue"
)

// DefaultRetention is how long call events and webhook delivery attempts are kept (CALL_EVENT_RETENTION_DAYS).
const DefaultRetention = 30 * 24 * time.Hour

// pruneEvery is how often one node of the deployment deletes what has passed the retention.
const pruneEvery = time.Hour

// KeepFor has the call events and webhook delivery attempts older than retention deleted every hour (and
// at start), by one node of the deployment; retention 0 keeps them forever. Register it before the queue
// starts.
func KeepFor(db *gorm.DB, q *queue.Queue, log *slog.Logger, retention time.Duration) {
	if retention <= 0 {
		return
	}
	river.AddWorker(q.Workers(), &pruneWorker{db: db, log: log, retention: retention})
	q.Every(pruneEvery, func() river.JobArgs { return pruneArgs{} })
}

type pruneArgs struct{}

func (pruneArgs) Kind() string { return "call_events_prune" }

// InsertOpts: one prune at a time is enough; a missed hour is caught up by the next.
func (pruneArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByPeriod: pruneEvery}}
}

type pruneWorker struct {
	river.WorkerDefaults[pruneArgs]
	db        *gorm.DB
	log       *slog.Logger
	retention time.Duration
}

func (w *pruneWorker) Work(ctx context.Context, _ *river.Job[pruneArgs]) error {
	cutoff := time.Now().Add(-w.retention)
	n, m, err := events.Prune(ctx, w.db, cutoff)
	if n+m > 0 || err != nil {
		w.log.InfoContext(ctx, "call events past their retention deleted", "events", n, "delivery_attempts", m,
			"before", cutoff.UTC().Format(time.RFC3339), "error", err)
	}
	return err
}
