package events

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// pruneBatch is how many rows one statement of Prune deletes: each is short, so writers never wait long.
const pruneBatch = 5000

// Prune deletes the call events received before cutoff and the webhook delivery attempts made before it,
// pruneBatch rows per statement, and answers how many of each it deleted. A call event pruned is forgotten:
// the same call and state published again afterwards is a new event.
func Prune(ctx context.Context, db *gorm.DB, cutoff time.Time) (events, attempts int64, err error) {
	ms := cutoff.UnixMilli()
	if events, err = pruneTable(ctx, db, "call_events", "received_at", ms); err != nil {
		return events, 0, err
	}
	attempts, err = pruneTable(ctx, db, "webhook_deliveries", "attempted_at", ms)
	return events, attempts, err
}

// pruneTable deletes table's rows whose column (unix milliseconds) is below limit, a batch at a time.
func pruneTable(ctx context.Context, db *gorm.DB, table, column string, limit int64) (int64, error) {
	var n int64
	for {
		res := db.WithContext(ctx).Exec("DELETE FROM "+table+" WHERE id IN (SELECT id FROM "+table+" WHERE "+column+" < ? LIMIT ?)", limit, pruneBatch)
		if res.Error != nil {
			return n, res.Error
		}
		n += res.RowsAffected
		if res.RowsAffected < pruneBatch {
			return n, nil
		}
	}
}
