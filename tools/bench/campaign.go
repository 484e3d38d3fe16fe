package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"text/tabwriter"
	"time"

	"switchboard/blob"
	"switchboard/delivery"
	"switchboard/dialer"
	"switchboard/gateway"
	"switchboard/models/ictcore"
	"switchboard/models/identity"
	"switchboard/queue"
)

// campaignCpm is "cpm unlimited" for the bench: more than any node releases in a minute.
const campaignCpm = 1_000_000

type campaignResult struct {
	Store       string
	Contacts    int
	Seconds     float64 // start to completed
	PerSec      float64
	NotDone     int64   // transmissions of the campaign not completed (should be 0)
	BareSeconds float64 // the baseline over the campaign's own transmissions, afterwards
	BarePerSec  float64
}

// benchCampaign measures a campaign of n contacts through the zero-latency simulator at an unlimited
// cpm: the time from start to completed (prepare, release, delivery, completion), as transmissions per
// second, beside the bare claim loop (sends.go's baseline) over as many transmissions, run before (the
// seeded ones) and after (the campaign's, set back to pending) and pooled.
func benchCampaign(ctx context.Context, st *store, n int) (*campaignResult, error) {
	db := st.db.WithContext(ctx)
	admin, err := identity.FindUserByLogin(ctx, db, "admin")
	if err != nil {
		return nil, err
	}
	ids, err := seedTransmissions(ctx, db, admin.ID, n) // contacts (and their stand-alone transmissions)
	if err != nil {
		return nil, err
	}
	// The baseline runs first over the seeded transmissions (a fresh table) and again after the campaign
	// over the campaign's own (a table the campaign's updates have left dead rows in), pooled, as SENDS does.
	bare1, err := bareClaims(ctx, db, n)
	if err != nil {
		return nil, err
	}
	c, d, q, err := campaignOfSeeded(ctx, st, admin.ID, campaignCpm)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := d.Start(ctx, ictcore.AnyOwner, c.ID); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Minute)
	for {
		got, err := ictcore.GetCampaign(ctx, db, ictcore.AnyOwner, c.ID)
		if err != nil {
			return nil, err
		}
		if got.Status == ictcore.CampaignCompleted || got.Status == ictcore.CampaignBroken {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("campaign still %s after 30 minutes (%d of %d released)", got.Status, got.ContactDone, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	el := time.Since(start)
	stopCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := q.Stop(stopCtx); err != nil {
		return nil, err
	}
	res := &campaignResult{Store: st.kind, Contacts: len(ids), Seconds: el.Seconds(), PerSec: float64(n) / el.Seconds()}
	if err := db.Raw("SELECT COUNT(*) FROM transmissions WHERE campaign_id = ? AND status <> 'completed'", c.ID).Scan(&res.NotDone).Error; err != nil {
		return nil, err
	}
	var made int64
	if err := db.Raw("SELECT COUNT(*) FROM transmissions WHERE campaign_id = ?", c.ID).Scan(&made).Error; err != nil {
		return nil, err
	}
	res.NotDone += int64(n) - made
	if err := resetTransmissions(db); err != nil {
		return nil, err
	}
	bare2, err := bareClaims(ctx, db, n)
	if err != nil {
		return nil, err
	}
	res.BareSeconds = (bare1 + bare2).Seconds() / 2
	res.BarePerSec = float64(n) / res.BareSeconds
	return res, nil
}

// campaignOfSeeded turns the contacts seedTransmissions made into one group and a campaign of it at cpm
// (seededCampaign), and starts a queue with delivery through the zero-latency simulator and a dialer, not
// yet the campaign.
func campaignOfSeeded(ctx context.Context, st *store, user int64, cpm int) (*ictcore.Campaign, *dialer.Service, *queue.Queue, error) {
	c, err := seededCampaign(ctx, st, user, cpm)
	if err != nil {
		return nil, nil, nil, err
	}
	d, q, err := dialerOn(st, gateway.SimConfig{Seed: 1}, 0)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := q.Start(ctx); err != nil {
		return nil, nil, nil, err
	}
	return c, d, q, nil
}

// seededCampaign makes one group of every contact and a campaign of it at cpm; the seeded transmissions
// only lent their contacts: they are deleted, the campaign makes its own.
func seededCampaign(ctx context.Context, st *store, user int64, cpm int) (*ictcore.Campaign, error) {
	db := st.db.WithContext(ctx)
	if err := db.Exec("DELETE FROM transmissions").Error; err != nil {
		return nil, err
	}
	var program int64
	if err := db.Raw("SELECT MAX(program_id) FROM programs").Scan(&program).Error; err != nil {
		return nil, err
	}
	g := &ictcore.Group{Name: "bench", UserID: user}
	if err := ictcore.CreateGroup(ctx, db, g); err != nil {
		return nil, err
	}
	if err := db.Exec("INSERT INTO contact_links (group_id, contact_id) SELECT ?, contact_id FROM contacts", g.ID).Error; err != nil {
		return nil, err
	}
	return ictcore.CreateCampaign(ctx, db, ictcore.AnyOwner, user, ictcore.CampaignFields{ProgramID: &program, GroupID: &g.ID, Cpm: &cpm})
}

// dialerOn builds one node's queue (workers jobs at once; 0: the default), delivery through the
// simulator sim, and dialer, on st; the queue is not started.
func dialerOn(st *store, sim gateway.SimConfig, workers int) (*dialer.Service, *queue.Queue, error) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	q := queue.New(st.db, queue.Config{Log: log, Workers: workers})
	blobs, err := blob.New(st.db, os.TempDir())
	if err != nil {
		return nil, nil, err
	}
	svc, err := delivery.New(delivery.Config{DB: st.db, Blobs: blobs, Queue: q, Log: log, Sim: sim})
	if err != nil {
		return nil, nil, err
	}
	return dialer.New(dialer.Config{DB: st.db, Queue: q, Log: log, Enqueue: svc.Enqueue}), q, nil
}

func printCampaign(res []campaignResult) {
	if len(res) == 0 {
		return
	}
	fmt.Printf("CAMPAIGN one campaign of %d contacts through the zero-latency simulator at cpm %d (unlimited), timed\n", res[0].Contacts, campaignCpm)
	fmt.Printf("      from its start to completed: the dialer's ticks prepare the group's contacts as transmissions and\n")
	fmt.Printf("      release up to %d a tick with their delivery jobs; delivery jobs make them in batches. bare = the\n", ictcore.ReleaseBatch)
	fmt.Printf("      batched claim loop of SENDS over as many transmissions, before the campaign (fresh rows) and after it\n")
	fmt.Printf("      (the campaign's, set back to pending), pooled.\n\n")
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "store\ttransmissions/s\ttime\tnot completed\tbare/s\tratio\ttarget\t")
	for _, r := range res {
		ratio := r.PerSec / r.BarePerSec
		target := ""
		if r.Store == "postgres" {
			target = fmt.Sprintf("≥ %.1f %s, ≥ %.0f/s %s", targetSendRatio, verdict(ratio >= targetSendRatio), targetSendRate, verdict(r.PerSec >= targetSendRate))
		}
		fmt.Fprintf(w, "%s\t%.0f\t%s\t%d\t%.0f\t%.3f\t%s\t\n", r.Store, r.PerSec, secs(r.Seconds), r.NotDone, r.BarePerSec, ratio, target)
	}
	w.Flush()
	fmt.Println()
}
