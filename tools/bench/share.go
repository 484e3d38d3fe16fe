package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"text/tabwriter"
	"time"

	"switchboard/gateway"
	"switchboard/models"
	"switchboard/models/ictcore"
	"switchboard/models/identity"
)

// SHARE: one campaign run by one node, then by two nodes on one Postgres, each node a process of its own
// with the same queue workers and a simulator that takes shareLatency per attempt, so the ratio measures
// how the nodes share the work rather than this machine's cores.
const (
	shareLatency = 20 * time.Millisecond
	targetShare  = 1.6
)

type shareRun struct {
	Nodes    int
	Seconds  float64 // start to completed, as the first node saw it
	PerSec   float64
	NotDone  int64 // transmissions not completed (should be 0)
	Twice    int64 // transmissions attempted more than once (should be 0: the simulator never fails here)
	Contacts int
}

type shareResult struct {
	Workers int
	Runs    []shareRun
}

// benchShare runs the campaign of n contacts with one node and with two, each on a fresh schema.
func benchShare(ctx context.Context, pgDSN, tmp string, n, workers int) (*shareResult, error) {
	res := &shareResult{Workers: workers}
	for _, nodes := range []int{1, 2} {
		r, err := shareOnce(ctx, pgDSN, tmp, n, nodes, workers)
		if err != nil {
			return nil, fmt.Errorf("%d nodes: %w", nodes, err)
		}
		res.Runs = append(res.Runs, *r)
	}
	return res, nil
}

// shareOnce seeds a schema with n contacts and a campaign, starts nodes child processes on it, waits
// until each has its queue running, has the first start the campaign and times it to completed.
func shareOnce(ctx context.Context, pgDSN, tmp string, n, nodes, workers int) (_ *shareRun, err error) {
	st, cleanup, err := openStore(ctx, "postgres", pgDSN, tmp)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	db := st.db.WithContext(ctx)
	admin, err := identity.FindUserByLogin(ctx, db, "admin")
	if err != nil {
		return nil, err
	}
	if _, err := seedTransmissions(ctx, db, admin.ID, n); err != nil {
		return nil, err
	}
	c, err := seededCampaign(ctx, st, admin.ID, campaignCpm)
	if err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	nodeCtx, stopNodes := context.WithCancel(ctx)
	var procs []*exec.Cmd
	defer func() { // the nodes end by themselves once the campaign has completed; on an error, killed
		if err != nil {
			stopNodes()
		}
		for _, p := range procs {
			_ = p.Wait()
		}
		stopNodes()
	}()
	var first io.WriteCloser // the first node's stdin: "start" starts the campaign there
	for i := range nodes {
		p := exec.CommandContext(nodeCtx, exe, "-child", "share", "-url", st.url, "-campaign", fmt.Sprint(c.ID), "-workers", fmt.Sprint(workers))
		p.Stderr = os.Stderr
		in, err := p.StdinPipe()
		if err != nil {
			return nil, err
		}
		if i == 0 {
			first = in
		}
		out, err := p.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := p.Start(); err != nil {
			return nil, err
		}
		procs = append(procs, p)
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || line != "ready\n" {
			return nil, fmt.Errorf("node did not start: %q %v", line, err)
		}
		go func() { _, _ = io.Copy(io.Discard, out) }()
	}
	start := time.Now()
	if _, err := io.WriteString(first, "start\n"); err != nil {
		return nil, err
	}
	if err := waitCampaign(ctx, st, c.ID, 30*time.Minute); err != nil {
		return nil, err
	}
	el := time.Since(start)
	r := &shareRun{Nodes: nodes, Contacts: n, Seconds: el.Seconds(), PerSec: float64(n) / el.Seconds()}
	if err := db.Raw("SELECT COUNT(*) FROM transmissions WHERE campaign_id = ? AND status <> 'completed'", c.ID).Scan(&r.NotDone).Error; err != nil {
		return nil, err
	}
	err = db.Raw(`SELECT COUNT(*) FROM (SELECT s.transmission_id FROM spools s JOIN transmissions t ON t.transmission_id = s.transmission_id
		WHERE t.campaign_id = ? GROUP BY s.transmission_id HAVING COUNT(*) > 1) twice`, c.ID).Scan(&r.Twice).Error
	return r, err
}

// waitCampaign waits until the campaign has completed (or broken: an error).
func waitCampaign(ctx context.Context, st *store, id int64, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		got, err := ictcore.GetCampaign(ctx, st.db.WithContext(ctx), ictcore.AnyOwner, id)
		if err != nil {
			return err
		}
		switch {
		case got.Status == ictcore.CampaignCompleted:
			return nil
		case got.Status == ictcore.CampaignBroken:
			return fmt.Errorf("campaign broken: %s", got.Reason)
		case time.Now().After(deadline):
			return fmt.Errorf("campaign still %s after %s", got.Status, limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// shareNode is one node of SHARE (bench -child share): its queue, delivery through the slow simulator
// and dialer on the store at -url, until the campaign completes. It prints "ready" once its queue runs.
func shareNode(args []string) int {
	fs := flag.NewFlagSet("bench -child share", flag.ContinueOnError)
	u := fs.String("url", "", "store URL")
	campaign := fs.Int64("campaign", 0, "campaign id")
	workers := fs.Int("workers", 2, "queue workers")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx := context.Background()
	db, err := models.Open(*u)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench -child share:", err)
		return 1
	}
	defer models.Close(db)
	st := &store{kind: "postgres", url: *u, db: db}
	d, q, err := dialerOn(st, gateway.SimConfig{Seed: 1, Latency: shareLatency}, *workers)
	if err == nil {
		err = q.Start(ctx)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench -child share:", err)
		return 1
	}
	fmt.Println("ready")
	// The first node is told to start the campaign once every node runs; the others' stdin stays quiet.
	go func() {
		if line, _ := bufio.NewReader(os.Stdin).ReadString('\n'); line == "start\n" {
			if err := d.Start(ctx, ictcore.AnyOwner, *campaign); err != nil {
				fmt.Fprintln(os.Stderr, "bench -child share: start:", err)
			}
		}
	}()
	err = waitCampaign(ctx, st, *campaign, 30*time.Minute)
	stopCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if serr := q.Stop(stopCtx); err == nil {
		err = serr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench -child share:", err)
		return 1
	}
	return 0
}

func printShare(r *shareResult) {
	if r == nil || len(r.Runs) != 2 {
		return
	}
	one, two := r.Runs[0], r.Runs[1]
	fmt.Printf("SHARE a campaign of %d contacts on Postgres, cpm unlimited, run by one node and then by two (each a\n", one.Contacts)
	fmt.Printf("      process of its own on one database, %d queue workers each), the simulator taking %s per attempt;\n", r.Workers, shareLatency)
	fmt.Printf("      timed from start to completed. twice = transmissions attempted more than once (should be 0).\n\n")
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "nodes\ttransmissions/s\ttime\tnot completed\ttwice\tratio\ttarget\t")
	fmt.Fprintf(w, "1\t%.0f\t%s\t%d\t%d\t\t\t\n", one.PerSec, secs(one.Seconds), one.NotDone, one.Twice)
	ratio := two.PerSec / one.PerSec
	fmt.Fprintf(w, "2\t%.0f\t%s\t%d\t%d\t%.2f\t≥ %.1f %s\t\n", two.PerSec, secs(two.Seconds), two.NotDone, two.Twice, ratio, targetShare, verdict(ratio >= targetShare))
	w.Flush()
	fmt.Println()
}
