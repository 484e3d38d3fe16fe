package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"gorm.io/gorm"

	"switchboard/models/ictcore"
	"switchboard/models/identity"
)

type prepareResult struct {
	Store      string
	Contacts   int
	Seconds    float64 // start to every contact's transmission created
	SetupRSSMB float64 // VmHWM before the start
	PeakRSSMB  float64 // VmHWM at the end
}

// benchPrepare measures how long a campaign of n contacts takes to create all its transmissions after
// start (the dialer's ticks prepare them in batches while it releases at cpm 1), and the child's peak
// RSS before and after: the group is read in batches, so memory must not grow with it.
func benchPrepare(ctx context.Context, st *store, n int) (*prepareResult, error) {
	db := st.db.WithContext(ctx)
	admin, err := identity.FindUserByLogin(ctx, db, "admin")
	if err != nil {
		return nil, err
	}
	if err := seedContacts(ctx, db, admin.ID, n); err != nil {
		return nil, err
	}
	c, d, q, err := campaignOfSeeded(ctx, st, admin.ID, 1)
	if err != nil {
		return nil, err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		_ = q.Stop(stopCtx)
	}()
	res := &prepareResult{Store: st.kind, Contacts: n, SetupRSSMB: vmHWM()}
	start := time.Now()
	if err := d.Start(ctx, ictcore.AnyOwner, c.ID); err != nil {
		return nil, err
	}
	for {
		got, err := ictcore.GetCampaign(ctx, db, ictcore.AnyOwner, c.ID)
		if err != nil {
			return nil, err
		}
		if got.ContactTotal >= int64(n) {
			break
		}
		if time.Since(start) > 30*time.Minute {
			return nil, fmt.Errorf("prepare: %d of %d after 30 minutes", got.ContactTotal, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	res.Seconds, res.PeakRSSMB = time.Since(start).Seconds(), vmHWM()
	return res, nil
}

// seedContacts makes one text, one sendsms program and n contacts (what campaignOfSeeded turns into a
// campaign), in batches.
func seedContacts(ctx context.Context, db *gorm.DB, user int64, n int) error {
	text := &ictcore.Text{Name: "bench", Data: "Hello from the bench", Type: "UTF-8", Class: 1, UserID: user}
	if err := ictcore.CreateText(ctx, db, text); err != nil {
		return err
	}
	if err := ictcore.CreateProgram(ctx, db, ictcore.AnyOwner, &ictcore.Program{Name: "bench", Type: "sendsms", TextID: &text.ID, UserID: user}); err != nil {
		return err
	}
	now := time.Now().Unix()
	for done := 0; done < n; {
		size := min(5000, n-done)
		contacts := make([]ictcore.Contact, size)
		for i := range contacts {
			phone := fmt.Sprintf("+1555%07d", done+i)
			contacts[i] = ictcore.Contact{Phone: phone, PhoneRev: phone, UserID: user, CreatedAt: now, UpdatedAt: now}
		}
		if err := db.CreateInBatches(&contacts, 1000).Error; err != nil {
			return err
		}
		done += size
	}
	return nil
}

func printPrepare(res []prepareResult) {
	if len(res) == 0 {
		return
	}
	fmt.Printf("PREPARE time from a campaign's start until every contact of its group has its transmission (cpm 1, so\n")
	fmt.Printf("      nearly all of them wait): the dialer's ticks read the group %d contacts at a time. Peak RSS = the\n", ictcore.PrepareBatch)
	fmt.Printf("      child's VmHWM before the start (after seeding) and at the end.\n\n")
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "store\tcontacts\ttime\tcontacts/s\tRSS before\tpeak RSS\t")
	for _, r := range res {
		fmt.Fprintf(w, "%s\t%d\t%s\t%.0f\t%.0f MB\t%.0f MB\t\n", r.Store, r.Contacts, secs(r.Seconds), float64(r.Contacts)/r.Seconds,
			r.SetupRSSMB, r.PeakRSSMB)
	}
	w.Flush()
	fmt.Println()
}
