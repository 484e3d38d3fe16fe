package ictcore_test

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"switchboard/apitest"
	"switchboard/cronspec"
	"switchboard/models"
	"switchboard/models/ictcore"
)

// TestScheduleFiring: a firing runs its action once and only for the due time the schedule still has;
// a one-shot schedule is spent, a recurring one is re-armed for its next match in the same transaction;
// a refused action moves the schedule on all the same, and a store failure leaves it as it was.
func TestScheduleFiring(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		db := apitest.NewDB(t, kind)
		ctx := context.Background()
		tr := pendingTransmission(t, db, 1)
		var armed []ictcore.Schedule
		arm := func(_ *gorm.DB, s *ictcore.Schedule) error { armed = append(armed, *s); return nil }
		count := func() int64 {
			var n int64
			if err := db.Raw("SELECT COUNT(*) FROM schedules").Scan(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}

		every := ictcore.When{Fields: cronspec.Fields{Minute: "*/15"}, Recurring: true}
		rec, err := ictcore.ScheduleTransmission(ctx, db, ictcore.AnyOwner, tr.ID, every, arm)
		if err != nil || len(armed) != 1 || armed[0].NextRun != rec.NextRun || time.Unix(rec.NextRun, 0).Minute()%15 != 0 {
			t.Fatalf("schedule: %+v %v, armed %+v", rec, err, armed)
		}
		runs := 0
		run := func(*gorm.DB, *ictcore.Schedule) error { runs++; return nil }
		// A job for a time the schedule no longer has fires nothing.
		if fired, _, err := ictcore.Fire(ctx, db, rec.ID, rec.NextRun-60, run, arm); fired != nil || err != nil || runs != 0 {
			t.Fatalf("stale firing: %+v %v, %d runs", fired, err, runs)
		}
		fired, refused, err := ictcore.Fire(ctx, db, rec.ID, rec.NextRun, run, arm)
		if fired == nil || refused != nil || err != nil || runs != 1 {
			t.Fatalf("firing: %+v %v %v, %d runs", fired, refused, err, runs)
		}
		next := armed[len(armed)-1]
		if len(armed) != 2 || next.NextRun <= rec.NextRun || time.Unix(next.NextRun, 0).Minute()%15 != 0 {
			t.Fatalf("re-armed: %+v", armed)
		}
		// The same job run twice (River may) fires once.
		if fired, _, _ := ictcore.Fire(ctx, db, rec.ID, rec.NextRun, run, arm); fired != nil || runs != 1 {
			t.Fatalf("second run of a firing: %+v, %d runs", fired, runs)
		}
		// A store failure in the action changes nothing; a refusal moves on.
		broken := func(*gorm.DB, *ictcore.Schedule) error { return models.Errorf(models.Busy, "store busy") }
		if _, _, err := ictcore.Fire(ctx, db, rec.ID, next.NextRun, broken, arm); models.KindOf(err) != models.Busy || len(armed) != 2 {
			t.Fatalf("failing action: %v, armed %d", err, len(armed))
		}
		locked := func(*gorm.DB, *ictcore.Schedule) error { return models.Errorf(models.Locked, "in process") }
		if _, refused, err := ictcore.Fire(ctx, db, rec.ID, next.NextRun, locked, arm); err != nil || models.KindOf(refused) != models.Locked || len(armed) != 3 {
			t.Fatalf("refused action: %v %v, armed %d", refused, err, len(armed))
		}

		once, err := ictcore.ScheduleTransmission(ctx, db, ictcore.AnyOwner, tr.ID, ictcore.When{}, arm)
		if err != nil || once.NextRun > time.Now().Unix() || count() != 2 {
			t.Fatalf("one-shot at once: %+v %v, %d rows", once, err, count())
		}
		if fired, _, err := ictcore.Fire(ctx, db, once.ID, once.NextRun, run, arm); fired == nil || err != nil || count() != 1 {
			t.Fatalf("one-shot firing: %+v %v, %d rows left", fired, err, count())
		}
		if err := ictcore.DeleteTransmission(ctx, db, ictcore.AnyOwner, tr.ID); err != nil || count() != 0 {
			t.Fatalf("delete the transmission: %v, %d schedules left", err, count())
		}
	})
}

// TestScheduleRules: what a schedule request may say (review R5: nothing at all is at once).
func TestScheduleRules(t *testing.T) {
	t.Parallel()
	db := apitest.NewDB(t, "sqlite")
	ctx := context.Background()
	tr := pendingTransmission(t, db, 1)
	arm := func(*gorm.DB, *ictcore.Schedule) error { return nil }
	n := func(v int64) *int64 { return &v }
	past := time.Unix(1000, 0)
	for _, c := range []struct {
		name string
		w    ictcore.When
		ok   bool
	}{
		{"nothing", ictcore.When{}, true},
		{"delay", ictcore.When{Delay: n(60)}, true},
		{"a past time fires at once", ictcore.When{Datetime: &past}, true},
		{"two one-shots", ictcore.When{Delay: n(60), Timestamp: n(2000000000)}, false},
		{"one-shot and cron", ictcore.When{Delay: n(60), Fields: cronspec.Fields{Hour: "9"}}, false},
		{"one-shot and recurring", ictcore.When{Delay: n(60), Recurring: true}, false},
		{"recurring without fields", ictcore.When{Recurring: true}, false},
		{"out of range", ictcore.When{Fields: cronspec.Fields{Minute: "61"}}, false},
		{"never", ictcore.When{Fields: cronspec.Fields{Year: "2020"}}, false},
	} {
		s, err := ictcore.ScheduleTransmission(ctx, db, ictcore.AnyOwner, tr.ID, c.w, arm)
		if c.ok != (err == nil) || (err != nil && models.KindOf(err) != models.Invalid) {
			t.Errorf("%s: %+v %v", c.name, s, err)
		}
		if c.ok && s.NextRun > time.Now().Unix()+60 {
			t.Errorf("%s: fires at %d", c.name, s.NextRun)
		}
	}
}
