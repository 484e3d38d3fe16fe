package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"switchboard/app"
	"switchboard/models/cim"
	"switchboard/models/events"
	"switchboard/models/platform"
)

// EVENTS: call events per second through POST /platform/call-events, with every subscriber on ÷ with
// none (DESIGN section 10). "all": a webhook subscription to a local httptest server answering 204 (its
// deliveries made meanwhile by the same process's job queue), a CIM mapping that finds one of
// eventsContacts contacts through a call variable (an interaction recorded per event), and a listener on
// the bus (besides the Accolades hub, always subscribed, with no socket open). "none": the same requests
// with no subscription, no mapping and no extra listener. Each run is a fresh child on a fresh store; the
// two modes alternate eventsRounds times and each figure pools its rounds.
const (
	eventsRounds   = 2
	eventsContacts = 100
	eventsDrainMax = 10 * time.Minute
)

type eventsRun struct {
	Store, Mode string
	Events      int
	Clients     int
	Seconds     float64 // the measured posts, first to last answer
	PerSec      float64
	P50, P99    time.Duration
	Heard       int64   // events the extra listener got (all: should be every event posted)
	Delivered   int64   // webhook deliveries the local server got (all: should be every event posted)
	Drain       float64 // all: seconds from the first measured post until the last delivery arrived
	Legs        int64   // CIM interactions recorded (warm-up included)
}

// runEvents runs the part on every store and prints it.
func runEvents(ctx context.Context, cfg config, stores []string, common func(kind, store string) []string) error {
	n := max(cfg.requests/4, 200)
	var res []eventsRun
	for _, s := range stores {
		for range eventsRounds {
			for _, mode := range []string{"none", "all"} {
				progress("events: %s, %s subscribers, %d events, %d clients", s, mode, n, cfg.workers)
				var r eventsRun
				args := append(common("events", s), "-rows", strconv.Itoa(n), "-workers", strconv.Itoa(cfg.workers), "-mode", mode)
				if err := runChild(ctx, args, &r); err != nil {
					return fmt.Errorf("events %s %s: %w", s, mode, err)
				}
				res = append(res, r)
			}
		}
	}
	printEvents(res)
	return nil
}

// benchEvents is one child: n events posted by clients concurrent clients after a warm-up, through the
// whole stack on a real listener.
func benchEvents(ctx context.Context, st *store, n, clients int, mode string) (*eventsRun, error) {
	all := mode == "all"
	var heard, delivered atomic.Int64
	o := app.Options{DB: st.db, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if all {
		o.Listeners = []events.Listener{func(events.CallEvent) { heard.Add(1) }}
	}
	svc, err := app.Build(ctx, o)
	if err != nil {
		return nil, err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = svc.Stop(stopCtx)
	}()
	srv := httptest.NewServer(svc)
	defer srv.Close()
	_, key, err := platform.CreateAPIKey(ctx, st.db, "bench", platform.ScopeAdmin)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients, DisableCompression: true}
	client := &http.Client{Transport: tr, Timeout: time.Minute}
	defer tr.CloseIdleConnections()
	post := func(path string, body any, want int) error {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/platform"+path, bytes.NewReader(b))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-API-Key", key)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		got, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			return fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, got)
		}
		return nil
	}

	var last atomic.Int64 // unix ns of the latest delivery
	if all {
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			delivered.Add(1)
			last.Store(time.Now().UnixNano())
			w.WriteHeader(http.StatusNoContent)
		}))
		defer hook.Close()
		if err := post("/webhooks", map[string]any{"url": hook.URL}, http.StatusCreated); err != nil {
			return nil, err
		}
		if err := seedCIM(ctx, st); err != nil {
			return nil, fmt.Errorf("cim: %w", err)
		}
	}
	event := func(i int) map[string]any {
		return map[string]any{"direction": "inbound", "phone": fmt.Sprintf("0300%07d", 5000000+i), "agent": fmt.Sprintf("agent-%d", i%10),
			"unique_id": fmt.Sprintf("1764000000.%d", i), "state": "ringing",
			"variables": map[string]string{"callVariable1": fmt.Sprintf("C-%03d", i%eventsContacts)}}
	}
	warm := max(n/10, 50)
	for i := range warm {
		if err := post("/call-events", event(n+i), http.StatusAccepted); err != nil {
			return nil, err
		}
	}
	lat := make([]time.Duration, n)
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		errMu sync.Mutex
		first error
	)
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t0 := time.Now()
				if err := post("/call-events", event(i), http.StatusAccepted); err != nil {
					errMu.Lock()
					if first == nil {
						first = err
					}
					errMu.Unlock()
					return
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	el := time.Since(start)
	if first != nil {
		return nil, first
	}
	r := &eventsRun{Store: st.kind, Mode: mode, Events: n, Clients: clients, Seconds: el.Seconds(), PerSec: float64(n) / el.Seconds()}
	r.P50, r.P99 = percentiles(lat)
	if all {
		total := int64(n + warm)
		for deadline := time.Now().Add(eventsDrainMax); delivered.Load() < total || heard.Load() < total; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				break
			}
		}
		r.Drain = time.Unix(0, last.Load()).Sub(start).Seconds()
		r.Heard, r.Delivered = heard.Load()-int64(warm), delivered.Load()-int64(warm)
	}
	if err := st.db.WithContext(ctx).Raw("SELECT count(*) FROM cim_legs").Scan(&r.Legs).Error; err != nil {
		return nil, err
	}
	return r, nil
}

// seedCIM makes eventsContacts CIM contacts with a customer number, and the mapping that finds a call's
// contact through callVariable1.
func seedCIM(ctx context.Context, st *store) error {
	db := st.db.WithContext(ctx)
	key := "customerNo"
	if _, err := cim.SaveAttribute(ctx, db, cim.AttributeInput{Key: &key}); err != nil {
		return err
	}
	for i := range eventsContacts {
		if _, err := cim.SaveContact(ctx, db, cim.Values{"first_name": fmt.Sprintf("Customer %d", i),
			"phone1": fmt.Sprintf("0311%07d", i), key: fmt.Sprintf("C-%03d", i)}); err != nil {
			return err
		}
	}
	_, err := cim.AddMapping(ctx, db, cim.MappingInput{CallVar: cim.SourceCallVariable, VarNumber: "1", Key: key})
	return err
}

func percentiles(lat []time.Duration) (p50, p99 time.Duration) {
	s := slices.Clone(lat)
	slices.Sort(s)
	return s[len(s)/2], s[len(s)*99/100]
}

func printEvents(res []eventsRun) {
	if len(res) == 0 {
		return
	}
	fmt.Printf("EVENTS call events/s through POST /platform/call-events (httptest server over loopback, %d keep-alive clients,\n", res[0].Clients)
	fmt.Printf("       %d events per run after a warm-up), all subscribers on ÷ none: all = a webhook subscription to a local\n", res[0].Events)
	fmt.Printf("       server (deliveries made meanwhile by the same process), a CIM mapping (an interaction per event) and a\n")
	fmt.Printf("       bus listener; none = no subscription, mapping or extra listener. Fresh child and store per run; the\n")
	fmt.Printf("       modes alternate %d times and each figure pools its runs. drain = first post to last delivery.\n\n", eventsRounds)
	type key struct{ store, mode string }
	type pooled struct {
		secs, events           float64
		p50, p99               time.Duration
		runs                   int
		heard, delivered, legs int64
		drain                  float64
	}
	by := map[key]*pooled{}
	var order []string
	for _, r := range res {
		k := key{r.Store, r.Mode}
		p := by[k]
		if p == nil {
			p = &pooled{}
			by[k] = p
			if r.Mode == "none" {
				order = append(order, r.Store)
			}
		}
		p.secs += r.Seconds
		p.events += float64(r.Events)
		p.p50 += r.P50
		p.p99 += r.P99
		p.runs++
		p.heard += r.Heard
		p.delivered += r.Delivered
		p.legs += r.Legs
		p.drain += r.Drain
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "store\tsubscribers\tevents/s\tp50\tp99\theard\tdelivered\tCIM legs\tdrain\tall/none\t")
	for _, s := range order {
		none, all := by[key{s, "none"}], by[key{s, "all"}]
		if none == nil || all == nil {
			continue
		}
		rate := func(p *pooled) float64 { return p.events / p.secs }
		fmt.Fprintf(w, "%s\tnone\t%.0f\t%s\t%s\t\t\t%d\t\t\t\n", s, rate(none), dur(none.p50/time.Duration(none.runs)), dur(none.p99/time.Duration(none.runs)), none.legs)
		fmt.Fprintf(w, "%s\tall\t%.0f\t%s\t%s\t%d/%.0f\t%d/%.0f\t%d\t%s\t%.2f\t\n", s, rate(all), dur(all.p50/time.Duration(all.runs)),
			dur(all.p99/time.Duration(all.runs)), all.heard, all.events, all.delivered, all.events, all.legs, secs(all.drain/float64(all.runs)),
			rate(all)/rate(none))
	}
	w.Flush()
	fmt.Println()
}
