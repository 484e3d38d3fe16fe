package ictcore_test

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"switchboard/apitest"
	"switchboard/models"
	"switchboard/models/ictcore"
)

// TestSendTransmissionsBatch: one batch of sends answers each request on its own (a transmission sent
// twice starts once, another user's is not found, a completed one is locked), stores one spool per
// started send and asks one enqueue for their jobs, each spool naming the job it was given.
func TestSendTransmissionsBatch(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		db := apitest.NewDB(t, kind)
		ctx := context.Background()
		a, b, done := pendingTransmission(t, db, 1), pendingTransmission(t, db, 1), pendingTransmission(t, db, 1)
		if err := db.Model(&ictcore.Transmission{}).Where("transmission_id = ?", done.ID).Update("status", ictcore.StatusCompleted).Error; err != nil {
			t.Fatal(err)
		}
		var enqueued []int
		enqueue := func(_ *gorm.DB, n int) ([]int64, error) {
			enqueued = append(enqueued, n)
			jobs := make([]int64, n)
			for i := range jobs {
				jobs[i] = int64(700 + i)
			}
			return jobs, nil
		}
		reqs := []ictcore.SendRequest{
			{Owner: ictcore.AnyOwner, ID: a.ID},
			{Owner: ictcore.Owner(999), ID: b.ID}, // not this user's
			{Owner: ictcore.Owner(1), ID: b.ID},
			{Owner: ictcore.AnyOwner, ID: a.ID}, // twice in one batch
			{Owner: ictcore.AnyOwner, ID: done.ID},
			{Owner: ictcore.AnyOwner, ID: 1 << 40}, // missing
		}
		sent, err := ictcore.SendTransmissions(ctx, db, reqs, enqueue)
		if err != nil || len(sent) != len(reqs) {
			t.Fatalf("send: %v %v", sent, err)
		}
		// started: no error, a spool; the others: an error of the kind, no spool.
		const started = models.Internal
		wantKinds := []models.Kind{started, models.NotFound, started, models.Locked, models.Locked, models.NotFound}
		for i, s := range sent {
			if (s.Err == nil) != (wantKinds[i] == started) || models.KindOf(s.Err) != wantKinds[i] || (s.Err == nil) != (s.Spool != nil) {
				t.Errorf("request %d: spool %+v, error %v; want kind %v", i, s.Spool, s.Err, wantKinds[i])
			}
		}
		if sent[0].Spool == nil || sent[2].Spool == nil {
			t.Fatal("no spools")
		}
		if sent[0].Spool.TransmissionID != a.ID || sent[2].Spool.TransmissionID != b.ID {
			t.Errorf("spools of the wrong transmissions: %+v %+v", sent[0].Spool, sent[2].Spool)
		}
		if len(enqueued) != 1 || enqueued[0] != 2 {
			t.Errorf("enqueued %v, want one call for 2", enqueued)
		}
		for i, job := range map[int]int64{0: 700, 2: 701} { // spools in transmission order: a before b
			if q, err := ictcore.QueuedFor(ctx, db, job); err != nil || len(q) != 1 || q[0].ID != sent[i].Spool.ID || *q[0].JobID != job {
				t.Errorf("job %d's spools: %+v %v, want spool %d", job, q, err, sent[i].Spool.ID)
			}
		}
		var spools int64
		db.Model(&ictcore.Spool{}).Count(&spools)
		if spools != 2 {
			t.Errorf("%d spools stored, want 2", spools)
		}
		for _, id := range []int64{a.ID, b.ID} {
			var tr ictcore.Transmission
			db.First(&tr, id)
			if tr.Status != ictcore.StatusProcessing || tr.TryDone != 1 {
				t.Errorf("transmission %d: %s with %d tries, want processing with 1", id, tr.Status, tr.TryDone)
			}
		}

		// A failing enqueue leaves nothing: the batch is one transaction.
		c := pendingTransmission(t, db, 1)
		if _, err := ictcore.SendTransmissions(ctx, db, []ictcore.SendRequest{{ID: c.ID}}, func(*gorm.DB, int) ([]int64, error) { return nil, models.Errorf(models.Busy, "full") }); models.KindOf(err) != models.Busy {
			t.Fatalf("failing enqueue: %v", err)
		}
		var tr ictcore.Transmission
		db.First(&tr, c.ID)
		db.Model(&ictcore.Spool{}).Count(&spools)
		if tr.Status != ictcore.StatusPending || tr.TryDone != 0 || spools != 2 {
			t.Errorf("after a failed batch: %s, %d tries, %d spools; want pending, 0, 2", tr.Status, tr.TryDone, spools)
		}
	})
}
