package events_test

import (
	"context"
	"os"
	"testing"
	"time"

	"switchboard/apitest"
	"switchboard/models/events"
)

func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }

// TestPrune: call events and delivery attempts older than the cutoff are deleted, newer ones kept; a pruned
// event published again is new. The service registers the hourly prune job on the queue at start.
func TestPrune(t *testing.T) {
	apitest.EachKind(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := apitest.NewDB(t, kind)
		now := time.Now()
		at := now.Add(-48 * time.Hour)
		rec := events.NewRecorder(events.Config{DB: db, Clock: func() time.Time { return at }})
		publish := func(id string) bool {
			_, fresh, err := rec.Publish(ctx, events.CallEvent{UniqueID: id, Direction: events.Inbound, State: events.Ringing, Phone: "1"})
			if err != nil {
				t.Fatal(err)
			}
			return fresh
		}
		publish("old.1")
		publish("old.2")
		at = now
		publish("new.1")
		for _, ms := range []int64{now.Add(-48 * time.Hour).UnixMilli(), now.UnixMilli()} {
			if err := db.Exec(`INSERT INTO webhook_deliveries (webhook_id, delivery_id, event_id, unique_id, state, attempt, outcome, error, attempted_at, duration_ms)
				VALUES (1, 1, 1, 'x', 'ringing', 1, 'delivered', '', ?, 1)`, ms).Error; err != nil {
				t.Fatal(err)
			}
		}
		n, m, err := events.Prune(ctx, db, now.Add(-24*time.Hour))
		if err != nil || n != 2 || m != 1 {
			t.Fatalf("pruned %d events, %d attempts (%v); want 2, 1", n, m, err)
		}
		var left, attempts int64
		db.Raw("SELECT COUNT(*) FROM call_events").Scan(&left)
		db.Raw("SELECT COUNT(*) FROM webhook_deliveries").Scan(&attempts)
		if left != 1 || attempts != 1 {
			t.Fatalf("%d events and %d attempts left, want 1 and 1", left, attempts)
		}
		if !publish("old.1") || publish("new.1") {
			t.Fatal("a pruned event is new again, a kept one is not")
		}
	})
	t.Run("registered", func(t *testing.T) {
		e := apitest.New(t, "sqlite")
		deadline := time.Now().Add(30 * time.Second)
		for {
			var n int64
			e.DB.Raw("SELECT COUNT(*) FROM river_job WHERE kind = 'call_events_prune'").Scan(&n)
			if n > 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("no prune job inserted at start")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}
