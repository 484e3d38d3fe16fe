package webhooks

import (
	"context"
	"log/slog"
	"time"

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
	queue.Periodic[pruneKind](q, pruneEvery, func(ctx context.Context) error {
		cutoff := time.Now().Add(-retention)
		n, m, err := events.Prune(ctx, db, cutoff)
		if n+m > 0 || err != nil {
			log.InfoContext(ctx, "call events past their retention deleted", "events", n, "delivery_attempts", m,
				"before", cutoff.UTC().Format(time.RFC3339), "error", err)
		}
		return err
	})
}

type pruneKind struct{}

func (pruneKind) Kind() string { return "call_events_prune" }
