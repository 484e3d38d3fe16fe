package ictcore_test

import (
	"context"
	"os"
	"testing"

	"gorm.io/gorm"

	"switchboard/apitest"
	"switchboard/models"
	"switchboard/models/ictcore"
)

func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }

// pendingTransmission stores a program, a contact and a pending transmission with try_allowed tries.
func pendingTransmission(t *testing.T, db *gorm.DB, tries int) *ictcore.Transmission {
	t.Helper()
	ctx := context.Background()
	text := &ictcore.Text{Name: "t", Data: "hi", UserID: 1}
	if err := ictcore.CreateText(ctx, db, text); err != nil {
		t.Fatal(err)
	}
	p := &ictcore.Program{Name: "p", Type: "sendsms", TextID: &text.ID, UserID: 1}
	if err := ictcore.CreateProgram(ctx, db, ictcore.AnyOwner, p); err != nil {
		t.Fatal(err)
	}
	tx, err := ictcore.CreateTransmission(ctx, db, ictcore.AnyOwner, ictcore.Draft{ProgramID: p.ID, Phone: "+15550100", TryAllowed: tries, UserID: 1})
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// TestAttemptLifecycle: the moves a worker makes are conditional, so a job run twice delivers once and a
// run that died mid-attempt is recognised; a failure with tries left schedules one retry (in the same
// transaction), which only a transmission still waiting for it with the same tries starts.
func TestAttemptLifecycle(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		db := apitest.NewDB(t, kind)
		ctx := context.Background()
		tr := pendingTransmission(t, db, 2)
		var enqueued []int64
		enqueue := func(_ *gorm.DB, spoolID int64) error { enqueued = append(enqueued, spoolID); return nil }
		sp, err := ictcore.SendTransmission(ctx, db, ictcore.AnyOwner, tr.ID, enqueue)
		if err != nil || len(enqueued) != 1 || enqueued[0] != sp.ID || sp.Status != ictcore.SpoolQueued {
			t.Fatalf("send: %+v %v %v", sp, enqueued, err)
		}
		if _, err := ictcore.SendTransmission(ctx, db, ictcore.AnyOwner, tr.ID, enqueue); models.KindOf(err) != models.Locked {
			t.Fatalf("second send: %v", err)
		}
		if _, claim, err := ictcore.ClaimSpool(ctx, db, sp.ID); claim != ictcore.Claimed || err != nil {
			t.Fatalf("first claim: %v %v", claim, err)
		}
		// The same job run again while (or after) the first run died in the attempt.
		if _, claim, _ := ictcore.ClaimSpool(ctx, db, sp.ID); claim != ictcore.Interrupted {
			t.Fatalf("second claim: %v", claim)
		}
		if _, claim, _ := ictcore.ClaimSpool(ctx, db, 999); claim != ictcore.Gone {
			t.Fatalf("claim of a missing spool: %v", claim)
		}
		retries := 0
		retry := func(_ *gorm.DB, t *ictcore.Transmission) error { retries++; return nil }
		fail := ictcore.Outcome{Status: ictcore.SpoolFailed, Reason: "busy", Response: "busy"}
		if err := ictcore.FinishAttempt(ctx, db, sp.ID, fail, retry); err != nil {
			t.Fatal(err)
		}
		// Recorded once: a second finish of the same spool changes nothing.
		if err := ictcore.FinishAttempt(ctx, db, sp.ID, ictcore.Outcome{Status: ictcore.SpoolCompleted}, retry); err != nil {
			t.Fatal(err)
		}
		if _, claim, _ := ictcore.ClaimSpool(ctx, db, sp.ID); claim != ictcore.Finished {
			t.Fatalf("claim of a finished spool: %v", claim)
		}
		got, _ := ictcore.GetTransmission(ctx, db, ictcore.AnyOwner, tr.ID)
		s, _ := ictcore.GetSpool(ctx, db, ictcore.AnyOwner, sp.ID)
		if retries != 1 || got.Status != ictcore.StatusPendingRetry || got.TryDone != 1 || got.Response != "busy" || s.Status != ictcore.SpoolFailed {
			t.Fatalf("after a failure with a try left: %d retries, %+v, spool %+v", retries, got, s)
		}
		// A stale retry (another try count) starts nothing; the due one starts the second attempt.
		if sp2, err := ictcore.RetryTransmission(ctx, db, tr.ID, 0, enqueue); sp2 != nil || err != nil {
			t.Fatalf("stale retry: %+v %v", sp2, err)
		}
		sp2, err := ictcore.RetryTransmission(ctx, db, tr.ID, 1, enqueue)
		if err != nil || sp2 == nil || sp2.ID == sp.ID {
			t.Fatalf("retry: %+v %v", sp2, err)
		}
		if again, _ := ictcore.RetryTransmission(ctx, db, tr.ID, 1, enqueue); again != nil {
			t.Fatal("the same retry started twice")
		}
		ictcore.ClaimSpool(ctx, db, sp2.ID)
		if err := ictcore.FinishAttempt(ctx, db, sp2.ID, fail, retry); err != nil {
			t.Fatal(err)
		}
		got, _ = ictcore.GetTransmission(ctx, db, ictcore.AnyOwner, tr.ID)
		if retries != 1 || got.Status != ictcore.StatusFailed || got.TryDone != 2 {
			t.Fatalf("after the last try: %d retries, %+v", retries, got)
		}
		// A requeued spool (the worker stopped before the gateway answered) is claimed again.
		sp3, _ := ictcore.SendTransmission(ctx, db, ictcore.AnyOwner, tr.ID, enqueue)
		ictcore.ClaimSpool(ctx, db, sp3.ID)
		if err := ictcore.RequeueSpool(ctx, db, sp3.ID); err != nil {
			t.Fatal(err)
		}
		if _, claim, _ := ictcore.ClaimSpool(ctx, db, sp3.ID); claim != ictcore.Claimed {
			t.Fatalf("claim after a requeue: %v", claim)
		}
		// A failed enqueue leaves nothing: no spool, the transmission as it was.
		if err := ictcore.FinishAttempt(ctx, db, sp3.ID, ictcore.Outcome{Status: ictcore.SpoolFailed, NoRetry: true}, retry); err != nil {
			t.Fatal(err)
		}
		before, _ := ictcore.GetTransmission(ctx, db, ictcore.AnyOwner, tr.ID)
		var spools int64
		db.Table("spools").Count(&spools)
		boom := models.Errorf(models.Busy, "queue down")
		if _, err := ictcore.SendTransmission(ctx, db, ictcore.AnyOwner, tr.ID, func(*gorm.DB, int64) error { return boom }); err != boom {
			t.Fatalf("send with a failing enqueue: %v", err)
		}
		after, _ := ictcore.GetTransmission(ctx, db, ictcore.AnyOwner, tr.ID)
		var spoolsAfter int64
		db.Table("spools").Count(&spoolsAfter)
		if spoolsAfter != spools || after.Status != ictcore.StatusFailed || after.TryDone != before.TryDone {
			t.Fatalf("a failed enqueue left %d spools, transmission %+v (before %+v)", spoolsAfter-spools, after, before)
		}
	})
}
