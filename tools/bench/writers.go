package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// writeStats are the answers to single-contact creates over one phase.
type writeStats struct {
	Requests   int
	OK         int // 200
	Status4xx  int
	Status5xx  int
	Failed     int // no answer at all (transport error, client timeout)
	Seconds    float64
	P50, P99   time.Duration
	Max        time.Duration
	FirstError string `json:",omitempty"` // the first non-200 answer or failure, for the printout
}

type writersResult struct {
	Store           string
	Rows            int
	Workers         int
	Idle            writeStats // before and after the import, pooled
	During          writeStats // while the import runs
	ImportSeconds   float64
	ImportRowsPerS  float64
	ImportError     string `json:",omitempty"`
	VisibleMidway   int64  // contacts in the group's list while the import ran (should be 0: invisible until done)
	MidwayCheckedAt float64
}

// createTimeout bounds one create, so a stuck request is counted as failed instead of hanging the bench.
const createTimeout = 2 * time.Minute

// benchWriters measures what a long import does to other writers: workers create single contacts
// (POST /ictcore/contacts) in a loop for idle seconds with no import, then for as long as an import of the
// file runs (all through the same server), then for idle seconds again; the two idle phases are pooled
// into the baseline, so drift (a table a million rows larger, the machine's other work) falls on both.
func benchWriters(ctx context.Context, st *store, rows int, file string, workers int, idle time.Duration) (*writersResult, error) {
	srv, c, groupID, err := serveWithGroup(ctx, st, "bench import")
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	cw := newCreators(srv.URL, c.token, workers)
	defer cw.close()
	res := &writersResult{Store: st.kind, Rows: rows, Workers: workers}

	before := cw.run(ctx, func(stop <-chan struct{}) { sleepOrStop(idle, stop) })

	var (
		importErr  error
		importTime time.Duration
		midway     atomic.Int64
		midwayAt   time.Duration
	)
	midway.Store(-1)
	during := cw.run(ctx, func(stop <-chan struct{}) {
		ic := &apiClient{base: srv.URL, http: &http.Client{}, token: c.token}
		done := make(chan struct{})
		start := time.Now()
		go func() {
			defer close(done)
			_, importErr = ic.importFile(groupID, file, rows)
			importTime = time.Since(start)
		}()
		// Halfway through (by the 100k-row import's pace), look at the group: an import's rows must
		// stay invisible until it is done.
		select {
		case <-done:
		case <-time.After(max(time.Duration(rows)*time.Second/100_000, 200*time.Millisecond)):
			var page []struct {
				ContactID int64 `json:"contact_id"`
			}
			lc := &apiClient{base: srv.URL, http: &http.Client{}, token: c.token}
			if _, err := lc.send("GET", fmt.Sprintf("/ictcore/groups/%d/contacts?limit=1000", groupID), "", nil, -1, &page); err == nil {
				midway.Store(int64(len(page)))
				midwayAt = time.Since(start)
			}
			<-done
		}
	})

	after := cw.run(ctx, func(stop <-chan struct{}) { sleepOrStop(idle, stop) })

	res.Idle = pool(before, after)
	res.During = during.stats()
	res.ImportSeconds = importTime.Seconds()
	res.ImportRowsPerS = float64(rows) / importTime.Seconds()
	res.VisibleMidway, res.MidwayCheckedAt = midway.Load(), midwayAt.Seconds()
	if importErr != nil {
		res.ImportError = importErr.Error()
	} else if err := checkTotal(ctx, st.db, groupID, rows); err != nil {
		res.ImportError = err.Error()
	}
	return res, nil
}

func sleepOrStop(d time.Duration, stop <-chan struct{}) {
	select {
	case <-time.After(d):
	case <-stop:
	}
}

// creators drive POST /ictcore/contacts from a fixed number of keep-alive workers.
type creators struct {
	url, token string
	workers    int
	client     *http.Client
	seq        atomic.Int64
}

func newCreators(base, token string, workers int) *creators {
	tr := &http.Transport{MaxIdleConns: workers, MaxIdleConnsPerHost: workers, DisableCompression: true}
	return &creators{url: base + "/ictcore/contacts", token: token, workers: workers,
		client: &http.Client{Transport: tr, Timeout: createTimeout}}
}

func (cw *creators) close() { cw.client.CloseIdleConnections() }

// phase is what the workers recorded while one phase ran.
type phase struct {
	mu      sync.Mutex
	lat     []time.Duration
	codes   map[int]int
	failed  int
	first   string
	seconds float64
}

// run keeps the workers creating until during returns (it is given a channel that closes if the bench is
// interrupted), and answers what they recorded. Requests in flight when it returns are finished and
// counted: their wait is what the phase did to them.
func (cw *creators) run(ctx context.Context, during func(stop <-chan struct{})) *phase {
	p := &phase{codes: map[int]int{}}
	var (
		stopping atomic.Bool
		wg       sync.WaitGroup
	)
	start := time.Now()
	for range cw.workers {
		wg.Go(func() {
			for !stopping.Load() && ctx.Err() == nil {
				t0 := time.Now()
				code, msg := cw.create()
				el := time.Since(t0)
				p.mu.Lock()
				p.lat = append(p.lat, el)
				if code == 0 {
					p.failed++
				} else {
					p.codes[code]++
				}
				if code != http.StatusOK && p.first == "" {
					p.first = msg
				}
				p.mu.Unlock()
			}
		})
	}
	during(ctx.Done())
	stopping.Store(true)
	wg.Wait()
	p.seconds = time.Since(start).Seconds()
	return p
}

// create sends one contact; it answers the status (0: no answer) and, unless 200, what went wrong.
func (cw *creators) create() (int, string) {
	n := cw.seq.Add(1)
	body := fmt.Sprintf(`{"first_name":"Writer","last_name":"%d","phone":"92400%07d"}`, n, n%10_000_000)
	req, err := http.NewRequest(http.MethodPost, cw.url, strings.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+cw.token)
	resp, err := cw.client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, fmt.Sprintf("%s: %s", resp.Status, bytes.TrimSpace(b))
	}
	return resp.StatusCode, ""
}

func (p *phase) stats() writeStats {
	s := writeStats{Requests: len(p.lat), Failed: p.failed, Seconds: p.seconds, FirstError: p.first}
	for code, n := range p.codes {
		switch {
		case code == http.StatusOK:
			s.OK += n
		case code >= 500:
			s.Status5xx += n
		case code >= 400:
			s.Status4xx += n
		}
	}
	if len(p.lat) > 0 {
		lat := slices.Clone(p.lat)
		slices.Sort(lat)
		s.P50, s.P99, s.Max = lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
	}
	return s
}

// pool merges two phases into one (the idle phases before and after the import).
func pool(a, b *phase) writeStats {
	m := &phase{codes: map[int]int{}, seconds: a.seconds + b.seconds, failed: a.failed + b.failed, first: a.first}
	if m.first == "" {
		m.first = b.first
	}
	m.lat = append(slices.Clone(a.lat), b.lat...)
	for _, x := range []*phase{a, b} {
		for k, v := range x.codes {
			m.codes[k] += v
		}
	}
	return m.stats()
}

func printWriters(cfg config, res []writersResult) {
	fmt.Printf("WRITERS during a long import: %d workers create single contacts (POST /ictcore/contacts, keep-alive) in a loop\n", cfg.writers)
	fmt.Printf("      while POST /ictcore/groups/{id}/csv imports %d rows through the same server (during), against the same\n", cfg.writersRows)
	fmt.Printf("      creates with no import, %.0f s before and %.0f s after it, pooled (idle). Latency counts every request,\n", cfg.writersIdle, cfg.writersIdle)
	fmt.Printf("      failed ones included. Targets: 5xx answers during the import = %d; p99 ratio for information.\n\n", targetWriters5xx)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "store\tphase\tcreates\tcreates/s\tp50\tp99\tmax\t4xx\t5xx\tno answer\tp99 during/idle\ttarget\t")
	var notes []string
	for _, r := range res {
		for _, ph := range []struct {
			name string
			s    writeStats
		}{{"idle", r.Idle}, {"during", r.During}} {
			s := ph.s
			ratio, target := "", ""
			if ph.name == "during" {
				if r.Idle.P99 > 0 {
					ratio = fmt.Sprintf("%.1f", float64(s.P99)/float64(r.Idle.P99))
				}
				target = fmt.Sprintf("5xx = %d %s", targetWriters5xx, verdict(s.Status5xx <= targetWriters5xx && s.Failed == 0))
			}
			fmt.Fprintf(w, "%s\t%s\t%d\t%.0f\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t\n", r.Store, ph.name, s.Requests,
				float64(s.Requests)/s.Seconds, dur(s.P50), dur(s.P99), dur(s.Max), s.Status4xx, s.Status5xx, s.Failed, ratio, target)
			if s.FirstError != "" {
				notes = append(notes, fmt.Sprintf("%s %s: first failure: %s", r.Store, ph.name, truncate(s.FirstError, 160)))
			}
		}
		imp := fmt.Sprintf("%s: the import took %s (%.0f rows/s with the creates running)", r.Store, secs(r.ImportSeconds), r.ImportRowsPerS)
		if r.ImportError != "" {
			imp += "; IMPORT FAILED: " + truncate(r.ImportError, 200)
		}
		switch {
		case r.VisibleMidway > 0:
			imp += fmt.Sprintf("; %d of its rows were VISIBLE in the group %.1f s in, before it finished", r.VisibleMidway, r.MidwayCheckedAt)
		case r.VisibleMidway == 0:
			imp += fmt.Sprintf("; none of its rows visible %.1f s in", r.MidwayCheckedAt)
		}
		notes = append(notes, imp)
	}
	w.Flush()
	fmt.Println()
	for _, n := range notes {
		fmt.Println("  " + n)
	}
	fmt.Println()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
