package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"gorm.io/gorm"

	"switchboard/blob"
	"switchboard/delivery"
	"switchboard/gateway"
	"switchboard/models"
	"switchboard/models/ictcore"
	"switchboard/models/identity"
	"switchboard/queue"
)

// targetSendRatio is DESIGN section 10's dialer target: sends/s ÷ the bare claim loop, on Postgres.
const (
	targetSendRatio = 0.5
	targetSendRate  = 5000.0
)

// claimBatch is the bare loop's batch: the rows one UPDATE … RETURNING claims.
const claimBatch = 100

type sendsResult struct {
	Store        string
	Transmission int
	Senders      int
	Seconds      float64 // first send to the last transmission completed; the sim runs before and after http, pooled
	PerSec       float64
	Failed       int64   // transmissions that did not complete, both sim runs (should be 0)
	BareSeconds  float64 // the baseline, run before and after and pooled
	BarePerSec   float64
	HTTPSeconds  float64 // the same sends through the HTTP SMS gateway to a local server
	HTTPPerSec   float64
	HTTPFailed   int64 // transmissions that did not complete through HTTP (should be 0)
	HTTPRequests int64 // requests the local server answered (n when every SMS went through it)
}

// benchSends measures transmissions sent per second through the zero-latency simulator: n pending SMS
// transmissions, senders goroutines calling delivery's Send (what POST /transmissions/{id}/send does,
// without HTTP: a conditional update, a spool and a River job in one transaction, which concurrent sends
// share), the River workers
// delivering them (claim the spool, read the transmission, program, text and contact, pick the gateway,
// send, record the outcome and its results in one transaction), until every transmission is completed.
// The same sends then go through the HTTP SMS gateway: an active "http" provider row with a Kannel-style
// URL template pointed at a local httptest server that answers success at once, so the figure is the
// gateway's own cost (provider row, template, an HTTP round trip over loopback) beside the simulator's.
// The simulator runs before and after it and is pooled, as the tables grow with every run (spools, River
// jobs, dead rows on Postgres) and a later run would otherwise pay for the earlier ones.
// The baseline, before and after on the same table, is a bare batched claim loop: UPDATE … SET status =
// 'processing' … RETURNING over the next claimBatch pending rows (SKIP LOCKED on Postgres), then one
// UPDATE marking those completed, until none is pending.
func benchSends(ctx context.Context, st *store, n, senders int) (*sendsResult, error) {
	db := st.db.WithContext(ctx)
	admin, err := identity.FindUserByLogin(ctx, db, "admin")
	if err != nil {
		return nil, err
	}
	ids, err := seedTransmissions(ctx, db, admin.ID, n)
	if err != nil {
		return nil, err
	}
	res := &sendsResult{Store: st.kind, Transmission: n, Senders: senders}
	bare1, err := bareClaims(ctx, db, n)
	if err != nil {
		return nil, err
	}
	if err := resetTransmissions(db); err != nil {
		return nil, err
	}
	sim1, failed1, err := timeSends(ctx, st, ids, senders)
	if err != nil {
		return nil, err
	}

	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, "0: Accepted for delivery") // Kannel's answer
	}))
	defer srv.Close()
	provider, err := httpProvider(ctx, db, srv.URL)
	if err != nil {
		return nil, err
	}
	viaHTTP, httpFailed, err := timeSends(ctx, st, ids, senders)
	if err != nil {
		return nil, fmt.Errorf("http sms: %w", err)
	}
	res.HTTPRequests = hits.Load()
	if res.HTTPRequests < int64(n)-httpFailed {
		// Fewer requests than completed transmissions: some went through another gateway.
		return nil, fmt.Errorf("http sms: the local server answered %d requests for %d transmissions", res.HTTPRequests, n)
	}
	res.HTTPSeconds, res.HTTPPerSec, res.HTTPFailed = viaHTTP.Seconds(), float64(n)/viaHTTP.Seconds(), httpFailed
	// Back to the simulator: with no active SMS provider, delivery falls back to it.
	if _, err := ictcore.UpdateProvider(ctx, db, provider, func(p *ictcore.Provider) error { p.Active = 0; return nil }); err != nil {
		return nil, err
	}
	sim2, failed2, err := timeSends(ctx, st, ids, senders)
	if err != nil {
		return nil, err
	}
	res.Seconds = (sim1 + sim2).Seconds() / 2
	res.PerSec, res.Failed = float64(n)/res.Seconds, failed1+failed2

	bare2, err := bareClaims(ctx, db, n)
	if err != nil {
		return nil, err
	}
	res.BareSeconds = (bare1 + bare2).Seconds() / 2
	res.BarePerSec = float64(n) / res.BareSeconds
	return res, nil
}

// httpProvider adds the active SMS provider that makes delivery use the HTTP SMS gateway, with the
// settings of handlers/ictcore's TestSendSMSThroughHTTPProvider, and answers its id.
func httpProvider(ctx context.Context, db *gorm.DB, base string) (int64, error) {
	settings, err := json.Marshal(map[string]string{"url": base + "/cgi-bin/sendsms?to={to}&from={from}&text={text}", "success": "Accepted"})
	if err != nil {
		return 0, err
	}
	p := &ictcore.Provider{Name: "bench", Type: "http", ServiceFlag: int(gateway.SMS), Settings: string(settings), Active: 1}
	if err := ictcore.CreateProvider(ctx, db, p); err != nil {
		return 0, err
	}
	return p.ID, nil
}

// timeSends sends the pending transmissions ids from senders goroutines through a fresh queue and
// delivery service (whichever gateway the provider rows pick), waits until none is open, and answers
// the time from the first send to the last completed and how many did not complete. It leaves the
// transmissions pending again for the next run.
func timeSends(ctx context.Context, st *store, ids []int64, senders int) (time.Duration, int64, error) {
	db := st.db.WithContext(ctx)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	q := queue.New(st.db, queue.Config{Log: log})
	blobs, err := blob.New(st.db, os.TempDir())
	if err != nil {
		return 0, 0, err
	}
	svc, err := delivery.New(delivery.Config{DB: st.db, Blobs: blobs, Queue: q, Log: log, Sim: gateway.SimConfig{Seed: 1}})
	if err != nil {
		return 0, 0, err
	}
	if err := q.Start(ctx); err != nil {
		return 0, 0, err
	}
	stop := func() error {
		stopCtx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		return q.Stop(stopCtx)
	}
	start := time.Now()
	var next atomic.Int64
	errs := make([]error, senders)
	var wg sync.WaitGroup
	for w := range senders {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(ids)); i = next.Add(1) - 1 {
				if _, err := svc.Send(ctx, ictcore.AnyOwner, ids[i]); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			_ = stop()
			return 0, 0, fmt.Errorf("send: %w", err)
		}
	}
	// Done when no transmission is pending or processing any more. The poll asks whether one is, which
	// stops at the first: counting them every 5 ms took a share of the store's CPU the bare loop does
	// not pay (an index scan over every open row).
	deadline := time.Now().Add(10 * time.Minute)
	for {
		var open bool
		if err := db.Raw("SELECT EXISTS (SELECT 1 FROM transmissions WHERE status IN ('pending', 'processing', 'pending_retry'))").Scan(&open).Error; err != nil {
			_ = stop()
			return 0, 0, err
		}
		if !open {
			break
		}
		if time.Now().After(deadline) {
			_ = stop()
			return 0, 0, errors.New("sends: transmissions still open after 10 minutes")
		}
		time.Sleep(5 * time.Millisecond)
	}
	el := time.Since(start)
	if err := stop(); err != nil {
		return 0, 0, err
	}
	var failed int64
	if err := db.Raw("SELECT count(*) FROM transmissions WHERE status <> 'completed'").Scan(&failed).Error; err != nil {
		return 0, 0, err
	}
	return el, failed, resetTransmissions(db)
}

// seedTransmissions makes one text, one sendsms program and n contacts with a pending transmission each,
// in batches, and answers the transmissions' ids.
func seedTransmissions(ctx context.Context, db *gorm.DB, user int64, n int) ([]int64, error) {
	text := &ictcore.Text{Name: "bench", Data: "Hello from the bench", Type: "UTF-8", Class: 1, UserID: user}
	if err := ictcore.CreateText(ctx, db, text); err != nil {
		return nil, err
	}
	program := &ictcore.Program{Name: "bench", Type: "sendsms", TextID: &text.ID, UserID: user}
	if err := ictcore.CreateProgram(ctx, db, ictcore.AnyOwner, program); err != nil {
		return nil, err
	}
	now := time.Now().Unix()
	ids := make([]int64, 0, n)
	for done := 0; done < n; {
		size := min(1000, n-done)
		contacts := make([]ictcore.Contact, size)
		for i := range contacts {
			phone := fmt.Sprintf("+1555%07d", done+i)
			contacts[i] = ictcore.Contact{Phone: phone, PhoneRev: phone, UserID: user, CreatedAt: now, UpdatedAt: now}
		}
		if err := db.Create(&contacts).Error; err != nil {
			return nil, err
		}
		ts := make([]ictcore.Transmission, size)
		for i := range ts {
			ts[i] = ictcore.Transmission{Title: "bench", ServiceFlag: 4, ContactID: contacts[i].ID, ProgramID: program.ID,
				Origin: "sendsms", Direction: "outbound", Status: ictcore.StatusPending, TryAllowed: 1, UserID: user,
				CreatedAt: now, UpdatedAt: now}
		}
		if err := db.Create(&ts).Error; err != nil {
			return nil, err
		}
		for _, t := range ts {
			ids = append(ids, t.ID)
		}
		done += size
	}
	// The statistics autovacuum would have gathered by the time a list this size is sent to (the bench
	// sends seconds after its load): without them Postgres took the new contacts table for a few hundred
	// rows and read all 20,000 for each delivery job's 100 contacts (1.8 ms against 0.2 by index).
	return ids, db.Exec("ANALYZE").Error
}

func resetTransmissions(db *gorm.DB) error {
	return db.Exec("UPDATE transmissions SET status = 'pending', try_done = 0, response = '', last_run = NULL").Error
}

// bareClaims is the baseline: claim the next claimBatch pending transmissions with one UPDATE …
// RETURNING, mark them completed with one more UPDATE, until none is left; it answers the time taken.
func bareClaims(ctx context.Context, db *gorm.DB, n int) (time.Duration, error) {
	claim := `UPDATE transmissions SET status = 'processing', try_done = try_done + 1, last_run = ?
		WHERE transmission_id IN (SELECT transmission_id FROM transmissions WHERE status = 'pending'
		ORDER BY transmission_id LIMIT ?) RETURNING transmission_id`
	if models.IsPostgres(db) {
		claim = `UPDATE transmissions SET status = 'processing', try_done = try_done + 1, last_run = ?
			WHERE transmission_id IN (SELECT transmission_id FROM transmissions WHERE status = 'pending'
			ORDER BY transmission_id LIMIT ? FOR UPDATE SKIP LOCKED) RETURNING transmission_id`
	}
	start := time.Now()
	total := 0
	for {
		var ids []int64
		if err := db.WithContext(ctx).Raw(claim, time.Now().Unix(), claimBatch).Scan(&ids).Error; err != nil {
			return 0, err
		}
		if len(ids) == 0 {
			break
		}
		if err := db.WithContext(ctx).Exec("UPDATE transmissions SET status = 'completed' WHERE transmission_id IN ?", ids).Error; err != nil {
			return 0, err
		}
		total += len(ids)
	}
	if total != n {
		return 0, fmt.Errorf("bare claims: claimed %d of %d", total, n)
	}
	return time.Since(start), nil
}

func printSends(res []sendsResult) {
	if len(res) == 0 {
		return
	}
	fmt.Printf("SENDS transmissions sent through the zero-latency simulator: %d pending SMS transmissions, %d goroutines calling\n", res[0].Transmission, res[0].Senders)
	fmt.Printf("      delivery's Send (the send route's work without HTTP: conditional update, River job, spools naming it,\n")
	fmt.Printf("      in one transaction shared by the sends that arrive together), River's workers delivering each job's\n")
	fmt.Printf("      spools (reads, simulator, outcomes and results in one transaction a job), timed from the first send to the last\n")
	fmt.Printf("      completed. http sms = the same sends through an active http provider (Kannel-style URL template) to a\n")
	fmt.Printf("      local httptest server answering \"Accepted\" at once; sim runs before and after it and is pooled. bare = a\n")
	fmt.Printf("      batched claim loop over the same table (UPDATE … RETURNING %d pending rows, SKIP LOCKED on Postgres,\n", claimBatch)
	fmt.Printf("      then one UPDATE marking them completed), run before and after and pooled. The target is Postgres's;\n")
	fmt.Printf("      SQLite's figure is for information.\n\n")
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "store\thandler\tsends/s\ttime\tnot completed\tbare/s\tsends/bare\thttp/sim\ttarget\t")
	for _, r := range res {
		ratio := r.PerSec / r.BarePerSec
		target := ""
		if r.Store == "postgres" {
			target = fmt.Sprintf("≥ %.1f %s, ≥ %.0f/s %s", targetSendRatio, verdict(ratio >= targetSendRatio), targetSendRate, verdict(r.PerSec >= targetSendRate))
		}
		fmt.Fprintf(w, "%s\tsim\t%.0f\t%s\t%d\t%.0f\t%.3f\t\t%s\t\n", r.Store, r.PerSec, secs(r.Seconds), r.Failed, r.BarePerSec, ratio, target)
		fmt.Fprintf(w, "%s\thttp sms\t%.0f\t%s\t%d\t\t%.3f\t%.3f\t\t\n", r.Store, r.HTTPPerSec, secs(r.HTTPSeconds), r.HTTPFailed,
			r.HTTPPerSec/r.BarePerSec, r.HTTPPerSec/r.PerSec)
	}
	w.Flush()
	fmt.Println()
}
