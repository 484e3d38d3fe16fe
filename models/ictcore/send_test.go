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
// started send and hands all of them to one enqueue, in request order.
func TestSendTransmissionsBatch(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		db := apitest.NewDB(t, kind)
		ctx := context.Background()
		a, b, done := pendingTransmission(t, db, 1), pendingTransmission(t, db, 1), pendingTransmission(t, db, 1)
		if err := db.Model(&ictcore.Transmission{}).Where("transmission_id = ?", done.ID).Update("status", ictcore.StatusCompleted).Error; err != nil {
			t.Fatal(err)
		}
		var enqueued [][]int64
		enqueue := func(_ *gorm.DB, ids []int64) error { enqueued = append(enqueued, ids); return nil }
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
		if len(enqueued) != 1 || len(enqueued[0]) != 2 || enqueued[0][0] != sent[0].Spool.ID || enqueued[0][1] != sent[2].Spool.ID {
			t.Errorf("enqueued %v, want one call with [%d %d]", enqueued, sent[0].Spool.ID, sent[2].Spool.ID)
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
		if _, err := ictcore.SendTransmissions(ctx, db, []ictcore.SendRequest{{ID: c.ID}}, func(*gorm.DB, []int64) error { return models.Errorf(models.Busy, "full") }); models.KindOf(err) != models.Busy {
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
