package ictcore_test

import (
	"context"
	"fmt"
	"os"
	"sync"
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

// jobsFrom answers an enqueue that gives each call's attempts one new job id, counting from first, and
// remembers the calls' sizes.
func jobsFrom(first int64, calls *[]int) ictcore.Enqueue {
	next := first
	return func(_ *gorm.DB, n int) ([]int64, error) {
		if calls != nil {
			*calls = append(*calls, n)
		}
		jobs := make([]int64, n)
		for i := range jobs {
			jobs[i] = next
		}
		next++
		return jobs, nil
	}
}

// TestAttemptLifecycle: a spool names its job from the start, and only that job starts it; outcomes are
// conditional, so a spool is recorded once, and a rerun of a job finds the attempts it had started; a
// failure with tries left schedules one retry (in the same transaction), which only a transmission still
// waiting for it with the same tries starts.
func TestAttemptLifecycle(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		db := apitest.NewDB(t, kind)
		ctx := context.Background()
		tr := pendingTransmission(t, db, 2)
		var enqueued []int
		const job = 41
		enqueue := jobsFrom(job, &enqueued)
		sp, err := ictcore.SendTransmission(ctx, db, ictcore.AnyOwner, tr.ID, enqueue)
		if err != nil || len(enqueued) != 1 || enqueued[0] != 1 || sp.Status != ictcore.SpoolQueued || sp.JobID == nil || *sp.JobID != job {
			t.Fatalf("send: %+v %v %v", sp, enqueued, err)
		}
		if _, err := ictcore.SendTransmission(ctx, db, ictcore.AnyOwner, tr.ID, enqueue); models.KindOf(err) != models.Locked {
			t.Fatalf("second send: %v", err)
		}
		if got, err := ictcore.QueuedFor(ctx, db, job); err != nil || len(got) != 1 || got[0].ID != sp.ID || got[0].Status != ictcore.SpoolQueued {
			t.Fatalf("the job's spools: %+v %v", got, err)
		}
		if got, _ := ictcore.QueuedFor(ctx, db, job+1); len(got) != 0 {
			t.Fatalf("another job's spools: %+v", got)
		}
		// No spool names no job, so a legacy claim finds nothing.
		if got, _ := ictcore.ClaimQueued(ctx, db, job+1, 10); len(got) != 0 {
			t.Fatalf("legacy claim: %+v", got)
		}
		if got, _ := ictcore.StartedBy(ctx, db, job); len(got) != 0 {
			t.Fatalf("started before StartSpools: %+v", got)
		}
		// Started, it is what a rerun finds with an unknown outcome; another job cannot start it.
		if err := ictcore.StartSpools(ctx, db, job+1, []int64{sp.ID}); err != nil {
			t.Fatal(err)
		}
		if got, _ := ictcore.StartedBy(ctx, db, job+1); len(got) != 0 {
			t.Fatalf("another job started it: %+v", got)
		}
		if err := ictcore.StartSpools(ctx, db, job, []int64{sp.ID}); err != nil {
			t.Fatal(err)
		}
		if got, _ := ictcore.StartedBy(ctx, db, job); len(got) != 1 || got[0].ID != sp.ID || got[0].TimeStart == nil {
			t.Fatalf("started by the job: %+v", got)
		}
		if got, _ := ictcore.QueuedFor(ctx, db, job); len(got) != 0 {
			t.Fatalf("a started spool is still queued: %+v", got)
		}
		// Requeued (its worker stopped before the gateway answered), it is queued for the same job again.
		if err := ictcore.RequeueSpools(ctx, db, []int64{sp.ID}); err != nil {
			t.Fatal(err)
		}
		if got, _ := ictcore.QueuedFor(ctx, db, job); len(got) != 1 || got[0].TimeStart != nil {
			t.Fatalf("after a requeue: %+v", got)
		}
		if err := ictcore.StartSpools(ctx, db, job, []int64{sp.ID}); err != nil {
			t.Fatal(err)
		}
		retries := 0
		retry := func(_ *gorm.DB, t *ictcore.Transmission) error { retries++; return nil }
		fail := ictcore.Outcome{Status: ictcore.SpoolFailed, Reason: "busy", Response: "busy"}
		finish := func(id int64, out ictcore.Outcome) {
			t.Helper()
			if err := ictcore.FinishAttempts(ctx, db, []ictcore.Ended{{SpoolID: id, Outcome: out}}, retry); err != nil {
				t.Fatal(err)
			}
		}
		finish(sp.ID, fail)
		// Recorded once: a second finish of the same spool changes nothing.
		finish(sp.ID, ictcore.Outcome{Status: ictcore.SpoolCompleted})
		if got, _ := ictcore.StartedBy(ctx, db, job); len(got) != 0 {
			t.Fatalf("a finished spool is still started: %+v", got)
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
		if sp2.JobID == nil || *sp2.JobID != job+1 {
			t.Fatalf("the retry's job: %v", sp2.JobID)
		}
		finish(sp2.ID, fail)
		got, _ = ictcore.GetTransmission(ctx, db, ictcore.AnyOwner, tr.ID)
		if retries != 1 || got.Status != ictcore.StatusFailed || got.TryDone != 2 {
			t.Fatalf("after the last try: %d retries, %+v", retries, got)
		}
		sp3, _ := ictcore.SendTransmission(ctx, db, ictcore.AnyOwner, tr.ID, enqueue)
		// A failed enqueue leaves nothing: no spool, the transmission as it was.
		finish(sp3.ID, ictcore.Outcome{Status: ictcore.SpoolFailed, NoRetry: true})
		before, _ := ictcore.GetTransmission(ctx, db, ictcore.AnyOwner, tr.ID)
		var spools int64
		db.Table("spools").Count(&spools)
		boom := models.Errorf(models.Busy, "queue down")
		if _, err := ictcore.SendTransmission(ctx, db, ictcore.AnyOwner, tr.ID, func(*gorm.DB, int) ([]int64, error) { return nil, boom }); err != boom {
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

// TestBatchedAttempts: legacy jobs claiming at once take disjoint spools and together all of them; one
// FinishAttempts records mixed outcomes, each transmission getting its own: completed, invalid with its
// reason, pending_retry with one retry scheduled, or failed.
func TestBatchedAttempts(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		db := apitest.NewDB(t, kind)
		ctx := context.Background()
		const n = 40
		noop := jobsFrom(1, nil)
		byTransmission := map[int64]*ictcore.Transmission{}
		for i := range n {
			tr := pendingTransmission(t, db, 1+i%2) // odd ones have a try left after the first
			if _, err := ictcore.SendTransmission(ctx, db, ictcore.AnyOwner, tr.ID, noop); err != nil {
				t.Fatal(err)
			}
			byTransmission[tr.ID] = tr
		}
		// Spools from before spools named their job: legacy jobs claim them.
		if err := db.Exec("UPDATE spools SET job_id = NULL").Error; err != nil {
			t.Fatal(err)
		}
		var (
			mu      sync.Mutex
			claimed = map[int64]int64{} // spool → job
			wg      sync.WaitGroup
		)
		for job := int64(1); job <= 3; job++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					got, err := ictcore.ClaimQueued(ctx, db, job, 7)
					if err != nil {
						t.Error(err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, s := range got {
						if other, ok := claimed[s.ID]; ok {
							t.Errorf("spool %d claimed by jobs %d and %d", s.ID, other, job)
						}
						claimed[s.ID] = job
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(claimed) != n {
			t.Fatalf("%d spools claimed, want %d", len(claimed), n)
		}
		var spools []ictcore.Spool
		if err := db.Table("spools").Order("spool_id").Find(&spools).Error; err != nil {
			t.Fatal(err)
		}
		var ended []ictcore.Ended
		for i, s := range spools {
			out := ictcore.Outcome{Status: ictcore.SpoolCompleted, Response: "ok", Gateway: "simulator",
				Results: []ictcore.SpoolResult{{Type: "info", Name: "status", Data: "delivered"}}}
			switch i % 4 {
			case 1:
				out = ictcore.Outcome{Status: ictcore.SpoolInvalid, Reason: fmt.Sprintf("bad %d", i%3), Response: "bad"}
			case 2, 3:
				out = ictcore.Outcome{Status: ictcore.SpoolFailed, Reason: "busy", Response: "busy"}
			}
			ended = append(ended, ictcore.Ended{SpoolID: s.ID, Outcome: out})
		}
		retried := map[int64]bool{}
		retry := func(_ *gorm.DB, t *ictcore.Transmission) error { retried[t.ID] = true; return nil }
		if err := ictcore.FinishAttempts(ctx, db, ended, retry); err != nil {
			t.Fatal(err)
		}
		for i, s := range spools {
			got, _ := ictcore.GetTransmission(ctx, db, ictcore.AnyOwner, s.TransmissionID)
			sp, _ := ictcore.GetSpool(ctx, db, ictcore.AnyOwner, s.ID)
			want, response := ictcore.StatusCompleted, ""
			switch i % 4 {
			case 1:
				want, response = ictcore.StatusInvalid, fmt.Sprintf("bad %d", i%3)
			case 2, 3:
				want, response = ictcore.StatusFailed, "busy"
				if byTransmission[s.TransmissionID].TryAllowed == 2 {
					want = ictcore.StatusPendingRetry
				}
			}
			if got.Status != want || got.Response != response || sp.Status != ended[i].Status || sp.TimeEnd == nil {
				t.Errorf("spool %d (%d): transmission %s %q, spool %s; want %s %q", i, s.ID, got.Status, got.Response, sp.Status, want, response)
			}
			if retried[s.TransmissionID] != (want == ictcore.StatusPendingRetry) {
				t.Errorf("spool %d: retried %v, want %v", i, retried[s.TransmissionID], want == ictcore.StatusPendingRetry)
			}
		}
		// Each spool keeps its own results, numbered after it.
		for i, s := range spools {
			page, err := ictcore.ListSpoolResults(ctx, db, ictcore.AnyOwner, s.ID, ictcore.ResultFilter{})
			want := []ictcore.SpoolResult{}
			if i%4 == 0 {
				want = []ictcore.SpoolResult{{ID: s.ID * 100, SpoolID: s.ID, Type: "info", Name: "status", Data: "delivered", UserID: 1}}
			}
			if err != nil || len(page.Items) != len(want) || (len(want) == 1 && (page.Items[0].ID != want[0].ID ||
				page.Items[0].Data != want[0].Data || page.Items[0].SpoolID != s.ID || page.Items[0].UserID != 1 || page.Items[0].DateCreated == 0)) {
				t.Fatalf("spool %d results: %+v %v, want %+v", s.ID, page.Items, err, want)
			}
		}
	})
}

// TestDeliveryBatchJoin: an open batch takes joins until its job seals it; on Postgres the seal waits for
// a join under way, so the joined spool is committed before the job reads its spools.
func TestDeliveryBatchJoin(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		db := apitest.NewDB(t, kind)
		ctx := context.Background()
		const job = 900
		if err := db.Transaction(func(tx *gorm.DB) error { return ictcore.OpenBatch(tx, job) }); err != nil {
			t.Fatal(err)
		}
		tr := pendingTransmission(t, db, 1)
		join := db.Begin()
		if ok, err := ictcore.JoinBatch(join, job); err != nil || !ok {
			t.Fatalf("join an open batch: %v %v", ok, err)
		}
		if kind == "postgres" {
			var joiner int64
			if err := join.Raw("SELECT pg_backend_pid()").Scan(&joiner).Error; err != nil {
				t.Fatal(err)
			}
			sealed := make(chan []ictcore.Spool, 1)
			go func() {
				if err := ictcore.SealBatch(ctx, db, job); err != nil {
					t.Error(err)
				}
				q, _ := ictcore.QueuedFor(ctx, db, job)
				sealed <- q
			}()
			for waiting := int64(0); waiting == 0; { // until a statement (the seal) waits for the join
				select {
				case q := <-sealed:
					t.Fatalf("the seal did not wait for the join under way (the job read %d spools)", len(q))
				default:
				}
				db.Raw("SELECT COUNT(*) FROM pg_stat_activity WHERE ? = ANY(pg_blocking_pids(pid))", joiner).Scan(&waiting)
			}
			queueJoined(t, join, tr.ID, job)
			if q := <-sealed; len(q) != 1 || q[0].TransmissionID != tr.ID {
				t.Fatalf("the job read %+v after its seal, want the joined spool", q)
			}
		} else {
			queueJoined(t, join, tr.ID, job)
			if err := ictcore.SealBatch(ctx, db, job); err != nil {
				t.Fatal(err)
			}
		}
		err := db.Transaction(func(tx *gorm.DB) error {
			ok, err := ictcore.JoinBatch(tx, job)
			if err == nil && ok {
				t.Error("joined a sealed batch")
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// queueJoined inserts, in the joining transaction tx, a queued spool of transmission tr naming job, and
// commits tx.
func queueJoined(t *testing.T, tx *gorm.DB, tr, job int64) {
	t.Helper()
	if err := tx.Exec("INSERT INTO spools (transmission_id, time_spool, status, response, service_flag, gateway, user_id, job_id) VALUES (?, 0, 'queued', '', 1, '', 1, ?)", tr, job).Error; err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit().Error; err != nil {
		t.Fatal(err)
	}
}
