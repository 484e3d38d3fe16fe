package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"text/tabwriter"
	"time"

	"switchboard/models/ictcore"
	"switchboard/models/identity"
)

// Pacing: a campaign at pacingCpm, released for pacingFor on the wall clock; by then exactly
// floor(cpm × minutes) + 1 should have gone.
const (
	pacingCpm         = 600
	pacingFor         = 60 * time.Second
	targetPacingError = 0.01
)

type pacingResult struct {
	Store    string
	Cpm      int
	Seconds  float64 // the measured interval, start to the count
	Released int64
	Expected int64
}

// benchPacing starts a campaign with more contacts than it may release in pacingFor and reads how many
// it released at the end of that time.
func benchPacing(ctx context.Context, st *store) (*pacingResult, error) {
	db := st.db.WithContext(ctx)
	admin, err := identity.FindUserByLogin(ctx, db, "admin")
	if err != nil {
		return nil, err
	}
	n := pacingCpm*int(pacingFor/time.Minute) + pacingCpm // a minute more than it may release
	if _, err := seedTransmissions(ctx, db, admin.ID, n); err != nil {
		return nil, err
	}
	c, d, q, err := campaignOfSeeded(ctx, st, admin.ID, pacingCpm)
	if err != nil {
		return nil, err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		_ = q.Stop(stopCtx)
	}()
	start := time.Now()
	if err := d.Start(ctx, ictcore.AnyOwner, c.ID); err != nil {
		return nil, err
	}
	time.Sleep(time.Until(start.Add(pacingFor)))
	got, err := ictcore.GetCampaign(ctx, db, ictcore.AnyOwner, c.ID)
	if err != nil {
		return nil, err
	}
	el := time.Since(start)
	// The release counts from the start's own clock reading, just after start: the expected figure uses
	// the interval measured here, which includes that gap.
	return &pacingResult{Store: st.kind, Cpm: pacingCpm, Seconds: el.Seconds(), Released: got.ContactDone,
		Expected: int64(float64(pacingCpm)*el.Minutes()) + 1}, nil
}

func printPacing(res []pacingResult) {
	if len(res) == 0 {
		return
	}
	fmt.Printf("PACING one campaign at cpm %d on the wall clock for %s: released by then ÷ floor(cpm × minutes) + 1.\n\n", pacingCpm, pacingFor)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "store\tcpm\tseconds\treleased\texpected\terror\ttarget\t")
	for _, r := range res {
		e := math.Abs(float64(r.Released-r.Expected)) / float64(r.Expected)
		fmt.Fprintf(w, "%s\t%d\t%.2f\t%d\t%d\t%.2f%%\t≤ %.0f%% %s\t\n", r.Store, r.Cpm, r.Seconds, r.Released, r.Expected, 100*e,
			100*targetPacingError, verdict(e <= targetPacingError))
	}
	w.Flush()
	fmt.Println()
}
