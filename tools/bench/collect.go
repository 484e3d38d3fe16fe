package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/crypto/bcrypt"

	"switchboard/auth"
	"switchboard/models"
	"switchboard/models/collect"
)

// COLLECT: issue 9's three figures, one child per store, all through the full stack (app.Build on an
// httptest server over loopback, the clients in the same child):
//  1. GET /collect/api/v1/collect/data/debtor/{rowid} (one row of collect.SeedDebtors' rows, bearer token of
//     one login, x-collect-database) ÷ the authenticated ICTCore GET /ictcore/contacts/{id} on the same
//     server, measured as the http part measures (same workers, alternating rounds, pooled);
//  2. the first page of debtors filtered on de_status='NEW' and sorted on -de_owing (limit 100; numRecords is
//     always counted) ÷ the unfiltered first page, as the lists part times pages (median, taking turns);
//  3. collectConns operators, each with its own login and /collect/websocket (key handshake), all starting a
//     two-prompt plan (a button prompt, then a form prompt) with app/runplan at once and answering its
//     prompts: the latency from the runplan request to the first prompt's read, and from the first answer's
//     send to the second prompt's read (the prompts carry no send time), beside one operator alone running
//     collectAlone plans one after another.
const (
	collectDatabase  = "cv_bench"
	collectPlan      = "BENCH"
	collectFormID    = "35d01ff2-775d-ccb4-8f53-25d36f517384" // the seed's form id, as demo's plan names it
	collectFormOK    = 4631
	collectAlone     = 100 // plans of the one-operator baseline, one after another
	collectDialers   = 64  // sockets connecting at once
	collectLogins    = 8   // logins at once (the login guard hashes GOMAXPROCS at a time)
	collectPlanLimit = 5 * time.Minute

	targetCollectGetRatio  = 0.9 // Collect! row GET ÷ ICTCore contact GET, req/s
	targetCollectPageRatio = 3.0 // filtered, sorted page ÷ unfiltered first page, time
)

// Names of the Collect! list requests.
const (
	collectPageFirst    = "first page (baseline)"
	collectPageFiltered = "de_status='NEW', sort -de_owing"
)

type collectResult struct {
	Store       string
	Rows, Conns int
	SeedSecs    float64
	GetPath     string
	ICTBytes    int
	GetBytes    int
	ICT, Get    loadStats
	Pages       []pageTiming
	Notes       []string `json:",omitempty"`
	Alone       planRun
	Burst       planRun
}

// planRun is what a set of plan runs measured.
type planRun struct {
	Plans, Done   int      // started, answered 200 with their jobid
	Prompts       int      // prompts read
	Secs          float64  // first request to last answer
	First, Second latency  // runplan request → first prompt read; first answer sent → second prompt read
	All           latency  // both prompts together
	Errors        []string `json:",omitempty"`
}

type latency struct{ P50, P99, Max time.Duration }

func latencyOf(ls []time.Duration) latency {
	if len(ls) == 0 {
		return latency{}
	}
	ls = slices.Clone(ls)
	slices.Sort(ls)
	return latency{P50: ls[len(ls)/2], P99: ls[min(len(ls)-1, len(ls)*99/100)], Max: ls[len(ls)-1]}
}

// runCollect runs the part on every store and prints it.
func runCollect(ctx context.Context, cfg config, stores []string, common func(kind, store string) []string) error {
	var res []collectResult
	for _, s := range stores {
		progress("collect: %s, %d debtors, %d requests, %d plan sockets", s, cfg.collectRows, cfg.requests, cfg.collectConns)
		var r collectResult
		args := append(common("collect", s), "-rows", strconv.Itoa(cfg.collectRows), "-conns", strconv.Itoa(cfg.collectConns),
			"-requests", strconv.Itoa(cfg.requests), "-warmup", strconv.Itoa(cfg.warmup), "-workers", strconv.Itoa(cfg.workers))
		if err := runChild(ctx, args, &r); err != nil {
			return fmt.Errorf("collect %s: %w", s, err)
		}
		res = append(res, r)
	}
	printCollect(cfg, res)
	return nil
}

// benchCollect is one child: rows debtors, then the three measurements on one full server.
func benchCollect(ctx context.Context, st *store, rows, conns, requests, warmup, workers int) (*collectResult, error) {
	if rows < 1000 || conns < 1 {
		return nil, fmt.Errorf("collect: want at least 1000 rows and 1 connection (got %d, %d)", rows, conns)
	}
	nofile, err := raiseNoFile()
	if err != nil {
		return nil, err
	}
	if nofile < uint64(4*conns)+200 {
		return nil, fmt.Errorf("RLIMIT_NOFILE hard limit %d is below 4 × %d connections (+200)", nofile, conns)
	}
	res := &collectResult{Store: st.kind, Rows: rows, Conns: conns}
	start := time.Now()
	scope, _, err := collect.SeedDebtors(ctx, st.db, collectDatabase, rows)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	res.SeedSecs = time.Since(start).Seconds()
	// Logins are set-up here, not measured: the operators' passwords are hashed at bcrypt's lowest cost, so
	// conns of them log in within seconds (the ICTCore admin keeps the default cost).
	auth.HashCost = bcrypt.MinCost
	ops := make([]string, conns+1) // ops[conns]: the operator of the one-operator baseline
	for i := range ops {
		ops[i] = fmt.Sprintf("OP%04d", i)
		name := "Bench operator " + strconv.Itoa(i)
		pw := adminPassword
		if _, err := collect.CreateOperator(ctx, st.db, scope, collect.OperatorFields{OpID: &ops[i], OpName: &name, Password: &pw}); err != nil {
			return nil, err
		}
	}
	if _, err := collect.CreatePlan(ctx, st.db, scope, collect.PlanInput{Code: collectPlan, Description: "Bench: two prompts",
		Records: []string{"debtor"}, NeedsSocket: true, Steps: []collect.Step{
			{Type: collect.StepButton, Message: "Review this debtor's file now?", Buttons: []string{"Yes", "No"}, Cancel: []int32{1}},
			{Type: collect.StepForm, Message: "Confirm the details", FormID: collectFormID, Fields: []string{"de_status", "de_owing"},
				Values: []int32{collectFormOK, 4632}, Cancel: []int32{4632}},
			{Type: collect.StepSet, Field: "de_status", Value: "REV"},
		}}); err != nil {
		return nil, err
	}

	if models.IsPostgres(st.db) {
		// Settle the bulk load first: autovacuum would otherwise visit 400k new rows during the measurement
		// (the row GET moved between 0.21 and 0.47 of ICTCore's with it).
		if err := st.db.Exec("VACUUM (ANALYZE)").Error; err != nil {
			return nil, err
		}
	}
	srv, err := fullServer(ctx, st.db)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	tr := &http.Transport{MaxIdleConns: conns + collectLogins, MaxIdleConnsPerHost: conns + collectLogins, DisableCompression: true}
	client := &http.Client{Transport: tr}
	defer client.CloseIdleConnections()

	// 1. One row by id against the ICTCore contact, on the same server.
	ict := &apiClient{base: srv.URL, http: client}
	if err := ict.login(); err != nil {
		return nil, err
	}
	var created struct {
		ContactID int64 `json:"contact_id"`
	}
	if err := ict.do("POST", "/ictcore/contacts", "application/json",
		strings.NewReader(`{"first_name":"Ada","last_name":"Lovelace","phone":"923330000001","email":"ada@example.com"}`), &created); err != nil {
		return nil, err
	}
	ictPath := "/ictcore/contacts/" + strconv.FormatInt(created.ContactID, 10)
	op, err := collectLogin(srv.URL, client, ops[conns])
	if err != nil {
		return nil, err
	}
	rowid := rows * 7 / 9 // 77777 of 100k
	res.GetPath = "/collect/api/v1/collect/data/debtor/" + strconv.Itoa(rowid)
	var ictBody, getBody []byte
	if err := ict.do("GET", ictPath, "", nil, &ictBody); err != nil {
		return nil, err
	}
	if err := op.do("GET", res.GetPath, "", nil, &getBody); err != nil {
		return nil, err
	}
	var got struct {
		Data map[string]string `json:"data"`
	}
	if err := json.Unmarshal(getBody, &got); err != nil || got.Data["de_name"] != "name"+strconv.Itoa(rowid) {
		return nil, fmt.Errorf("GET %s: unexpected answer %s", res.GetPath, getBody)
	}
	res.ICTBytes, res.GetBytes = len(ictBody), len(getBody)
	il, gl := newLoader(srv.URL+ictPath, ict.token, workers), newLoader(srv.URL+res.GetPath, op.token, workers)
	gl.header = op.header
	defer il.close()
	defer gl.close()
	progress("collect: %s: row GET against ICTCore contact GET", st.kind)
	if res.ICT, res.Get, err = compare(il, gl, warmup, requests, httpRounds); err != nil {
		return nil, err
	}

	// 2. Pages.
	progress("collect: %s: pages", st.kind)
	if res.Pages, res.Notes, err = timeCollectPages(op, rows); err != nil {
		return nil, err
	}

	// 3. Plans: one operator alone, then conns at once.
	progress("collect: %s: %d plans by one operator, one after another", st.kind, collectAlone)
	alone, err := dialOperator(ctx, srv.URL, op.token)
	if err != nil {
		return nil, err
	}
	res.Alone = runPlans(ctx, srv.URL, client, []*operatorSocket{alone}, collectAlone, false)
	alone.close()

	progress("collect: %s: %d operators log in and open their sockets", st.kind, conns)
	socks, err := openOperators(ctx, srv.URL, client, ops[:conns])
	defer func() {
		for _, s := range socks {
			if s != nil {
				s.close()
			}
		}
	}()
	if err != nil {
		return nil, err
	}
	progress("collect: %s: %d plans at once", st.kind, conns)
	runtime.GC()
	res.Burst = runPlans(ctx, srv.URL, client, socks, conns, true)
	return res, nil
}

// collectLogin logs an operator of collectDatabase in and answers a client carrying its access token.
func collectLogin(base string, client *http.Client, opID string) (*apiClient, error) {
	c := &apiClient{base: base, http: client, header: http.Header{"X-Collect-Database": {collectDatabase}}}
	var out struct {
		Result struct {
			AccessToken string `json:"access_token"`
		} `json:"result"`
	}
	body := fmt.Sprintf(`{"op_id":%q,"op_password":%q}`, opID, adminPassword)
	if err := c.do("POST", "/collect/api/v1/auth/login", "application/json", strings.NewReader(body), &out); err != nil {
		return nil, fmt.Errorf("login %s: %w", opID, err)
	}
	c.token = out.Result.AccessToken
	return c, nil
}

// timeCollectPages times the list requests (median of listRounds, taking turns; the first round warms
// the caches up and checks the answers).
func timeCollectPages(c *apiClient, rows int) ([]pageTiming, []string, error) {
	type query struct {
		name, path string
		records    int64
		firstOwing string // de_owing of the page's first row ("" unchecked)
	}
	list := func(v url.Values) string {
		v.Set("limit", "100")
		return "/collect/api/v1/collect/data/debtor?" + v.Encode()
	}
	queries := []query{
		{collectPageFirst, list(url.Values{}), int64(rows), "1"},
		{collectPageFiltered, list(url.Values{"filter": {"de_status='NEW'"}, "sort": {"-de_owing"}}), int64(rows / 5), "995"},
		{"de_status='NEW'", list(url.Values{"filter": {"de_status='NEW'"}}), int64(rows / 5), "5"},
		{"sort -de_owing", list(url.Values{"sort": {"-de_owing"}}), int64(rows), "999"},
	}
	ms := make([][]float64, len(queries))
	var notes []string
	for round := -1; round < listRounds; round++ {
		for i, q := range queries {
			var raw []byte
			start := time.Now()
			_, err := c.send("GET", q.path, "", nil, -1, &raw)
			el := time.Since(start)
			if err != nil {
				return nil, nil, err
			}
			if round >= 0 {
				ms[i] = append(ms[i], float64(el.Microseconds())/1000)
				continue
			}
			var page struct {
				Type struct {
					NumRecords int64 `json:"numRecords"`
				} `json:"type"`
				Data []map[string]string `json:"data"`
			}
			if err := json.Unmarshal(raw, &page); err != nil {
				return nil, nil, fmt.Errorf("GET %s: %w", q.path, err)
			}
			switch {
			case page.Type.NumRecords != q.records:
				notes = append(notes, fmt.Sprintf("%s: numRecords %d, want %d", q.name, page.Type.NumRecords, q.records))
			case len(page.Data) != 100:
				notes = append(notes, fmt.Sprintf("%s: %d rows, want 100", q.name, len(page.Data)))
			case page.Data[0]["de_owing"] != q.firstOwing:
				notes = append(notes, fmt.Sprintf("%s: first de_owing %q, want %q", q.name, page.Data[0]["de_owing"], q.firstOwing))
			}
		}
	}
	out := make([]pageTiming, len(queries))
	for i, q := range queries {
		slices.Sort(ms[i])
		out[i] = pageTiming{Name: q.name, Ms: ms[i][len(ms[i])/2]}
	}
	return out, notes, nil
}

// operatorSocket is one operator's /collect/websocket, read without pause into in (pings are answered).
type operatorSocket struct {
	c     *websocket.Conn
	id    string // the key message's socket id
	token string
	in    chan socketMsg
	ctx   context.Context
	stop  context.CancelFunc
}

// socketMsg is a server message of collect-ws.yaml, with the time it was read.
type socketMsg struct {
	at      time.Time
	Type    string            `json:"type"`
	Subtype string            `json:"subtype"`
	JobID   string            `json:"jobid"`
	Message string            `json:"message"`
	Data    map[string]string `json:"data"`
}

// dialOperator opens a socket with no credentials and sends the key handshake with the access token.
func dialOperator(ctx context.Context, base, token string) (*operatorSocket, error) {
	sctx, stop := context.WithCancel(ctx)
	c, _, err := websocket.Dial(sctx, "ws"+strings.TrimPrefix(base, "http")+"/collect/websocket", nil)
	if err != nil {
		stop()
		return nil, err
	}
	key, _ := json.Marshal(map[string]string{"type": "key", "access_token": token})
	var m socketMsg
	if err = c.Write(sctx, websocket.MessageText, key); err == nil {
		var b []byte
		if _, b, err = c.Read(sctx); err == nil {
			if err = json.Unmarshal(b, &m); err == nil && (m.Type != "key" || m.Message == "") {
				err = fmt.Errorf("handshake answered %s", b)
			}
		}
	}
	if err != nil {
		_ = c.CloseNow()
		stop()
		return nil, err
	}
	s := &operatorSocket{c: c, id: m.Message, token: token, in: make(chan socketMsg, 16), ctx: sctx, stop: stop}
	go func() {
		defer close(s.in)
		for {
			_, b, err := c.Read(sctx)
			at := time.Now()
			if err != nil {
				return
			}
			m := socketMsg{}
			if json.Unmarshal(b, &m) != nil {
				m.Type = "unparsable: " + string(b)
			}
			m.at = at
			s.in <- m
		}
	}()
	return s, nil
}

func (s *operatorSocket) close() { _ = s.c.CloseNow(); s.stop() }

// next answers the socket's next message, which must be of type typ (and subtype sub, when given).
func (s *operatorSocket) next(ctx context.Context, typ, sub string) (socketMsg, error) {
	select {
	case m, ok := <-s.in:
		if !ok {
			return m, errors.New("socket closed")
		}
		if m.Type != typ || (sub != "" && m.Subtype != sub) {
			return m, fmt.Errorf("got %s/%s, want %s/%s", m.Type, m.Subtype, typ, sub)
		}
		return m, nil
	case <-ctx.Done():
		return socketMsg{}, fmt.Errorf("waiting for %s %s: %w", typ, sub, ctx.Err())
	}
}

func (s *operatorSocket) write(ctx context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.c.Write(ctx, websocket.MessageText, b)
}

// openOperators logs every operator in (collectLogins at a time) and opens their sockets (collectDialers
// at a time). On error it answers the sockets opened so far, for the caller to close.
func openOperators(ctx context.Context, base string, client *http.Client, ops []string) ([]*operatorSocket, error) {
	socks := make([]*operatorSocket, len(ops))
	tokens := make([]string, len(ops))
	each := func(workers int, f func(i int) error) error {
		var (
			next  atomic.Int64
			once  sync.Once
			first error
			wg    sync.WaitGroup
		)
		for range workers {
			wg.Go(func() {
				for {
					i := int(next.Add(1) - 1)
					if i >= len(ops) || ctx.Err() != nil {
						return
					}
					if err := f(i); err != nil {
						once.Do(func() { first = err })
						return
					}
				}
			})
		}
		wg.Wait()
		return first
	}
	err := each(collectLogins, func(i int) error {
		c, err := collectLogin(base, client, ops[i])
		if err == nil {
			tokens[i] = c.token
		}
		return err
	})
	if err != nil {
		return socks, err
	}
	return socks, each(collectDialers, func(i int) error {
		s, err := dialOperator(ctx, base, tokens[i])
		if err != nil {
			return fmt.Errorf("socket of %s: %w", ops[i], err)
		}
		socks[i] = s
		return nil
	})
}

// runPlans runs n plans on debtors 1…n: with atOnce, one on each socket, all started together; without,
// one after another on socks[0]. Each run answers both prompts (Yes, then the form's OK with its data).
func runPlans(ctx context.Context, base string, client *http.Client, socks []*operatorSocket, n int, atOnce bool) planRun {
	var (
		mu            sync.Mutex
		out           = planRun{Plans: n}
		first, second []time.Duration
	)
	one := func(s *operatorSocket, rowid int) error {
		pctx, cancel := context.WithTimeout(ctx, collectPlanLimit)
		defer cancel()
		body, _ := json.Marshal(map[string]any{"plan": collectPlan, "debtor": rowid, "websocket-id": s.id})
		answered := make(chan error, 1)
		c := &apiClient{base: base, http: client, token: s.token, header: http.Header{"X-Collect-Database": {collectDatabase}}}
		var job struct {
			JobID string `json:"jobid"`
		}
		t0 := time.Now()
		go func() {
			answered <- c.do("POST", "/collect/api/v1/collect/app/runplan", "application/json", strings.NewReader(string(body)), &job)
		}()
		fail := func(err error) error {
			s.close() // the run fails and answers; nothing more is read on this socket
			if aerr := <-answered; aerr != nil {
				return fmt.Errorf("%w (runplan: %v)", err, aerr)
			}
			return err
		}
		if _, err := s.next(pctx, "start", ""); err != nil {
			return fail(err)
		}
		p1, err := s.next(pctx, "prompt", "button")
		if err != nil {
			return fail(err)
		}
		t1 := time.Now()
		if err := s.write(pctx, map[string]any{"jobid": p1.JobID, "button": 0}); err != nil {
			return fail(err)
		}
		mu.Lock()
		out.Prompts++
		first = append(first, p1.at.Sub(t0))
		mu.Unlock()
		if _, err := s.next(pctx, "end", ""); err != nil {
			return fail(err)
		}
		p2, err := s.next(pctx, "prompt", "form")
		if err != nil {
			return fail(err)
		}
		mu.Lock()
		out.Prompts++
		second = append(second, p2.at.Sub(t1))
		mu.Unlock()
		if err := s.write(pctx, map[string]any{"jobid": p2.JobID, "button": collectFormOK, "data": p2.Data}); err != nil {
			return fail(err)
		}
		if _, err := s.next(pctx, "end", ""); err != nil {
			return fail(err)
		}
		if err := <-answered; err != nil {
			return err
		}
		if job.JobID != p1.JobID {
			return fmt.Errorf("runplan answered job %s, the prompts named %s", job.JobID, p1.JobID)
		}
		mu.Lock()
		out.Done++
		mu.Unlock()
		return nil
	}
	failed := func(i int, err error) {
		mu.Lock()
		if len(out.Errors) < 10 {
			out.Errors = append(out.Errors, fmt.Sprintf("plan on debtor %d: %v", i+1, err))
		}
		mu.Unlock()
	}
	start := time.Now()
	if atOnce {
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				if err := one(socks[i], i+1); err != nil {
					failed(i, err)
				}
			})
		}
		wg.Wait()
	} else {
		for i := range n {
			if err := one(socks[0], i+1); err != nil {
				failed(i, err)
				break
			}
		}
	}
	out.Secs = time.Since(start).Seconds()
	out.First, out.Second, out.All = latencyOf(first), latencyOf(second), latencyOf(append(slices.Clone(first), second...))
	return out
}

func printCollect(cfg config, res []collectResult) {
	if len(res) == 0 {
		return
	}
	r0 := res[0]
	fmt.Printf("COLLECT  issue 9, through the full stack (app.Build on an httptest server over loopback, clients in the same\n")
	fmt.Printf("         process), over %d debtors stored by collect.SeedDebtors (3 fields each; de_status NEW on 1 row in 5).\n", r0.Rows)
	fmt.Printf("         Row GET: GET %s (bearer token of one login, x-collect-database) against the\n", r0.GetPath)
	fmt.Printf("         authenticated GET /ictcore/contacts/{id} on the same server, %d workers, %d requests each after %d\n", cfg.workers, cfg.requests, cfg.warmup)
	fmt.Printf("         warm-up, alternating in %d rounds, each figure pooling its rounds.\n\n", httpRounds)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "store\thandler\tbytes\treq/s\tp50\tp99\tcollect/ictcore\ttarget\t")
	for _, r := range res {
		fmt.Fprintf(w, "%s\tictcore contact\t%d\t%.0f\t%s\t%s\t\t\t\n", r.Store, r.ICTBytes, r.ICT.RPS, dur(r.ICT.P50), dur(r.ICT.P99))
		ratio := r.Get.RPS / r.ICT.RPS
		fmt.Fprintf(w, "%s\tcollect row\t%d\t%.0f\t%s\t%s\t%.2f\t≥ %.1f %s\t\n", r.Store, r.GetBytes, r.Get.RPS, dur(r.Get.P50), dur(r.Get.P99),
			ratio, targetCollectGetRatio, verdict(ratio >= targetCollectGetRatio))
	}
	w.Flush()
	fmt.Println()

	fmt.Printf("         Pages: GET /collect/api/v1/collect/data/debtor?limit=100 (numRecords always counted), median of %d,\n", listRounds)
	fmt.Printf("         the requests taking turns; ratio = time ÷ the unfiltered first page; target: the filtered, sorted page\n")
	fmt.Printf("         ≤ %.0f× (the other two for information).\n\n", targetCollectPageRatio)
	w = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "store\trows\trequest\tms\tratio\ttarget\t")
	var notes []string
	for _, r := range res {
		if len(r.Pages) == 0 {
			continue
		}
		base := r.Pages[0].Ms
		for _, p := range r.Pages {
			t := ""
			if p.Name == collectPageFiltered {
				t = fmt.Sprintf("≤ %.0f %s", targetCollectPageRatio, verdict(p.Ms/base <= targetCollectPageRatio))
			}
			fmt.Fprintf(w, "%s\t%d\t%s\t%.2f\t%.2f\t%s\t\n", r.Store, r.Rows, p.Name, p.Ms, p.Ms/base, t)
		}
		for _, n := range r.Notes {
			notes = append(notes, r.Store+": "+n)
		}
	}
	w.Flush()
	for _, n := range notes {
		fmt.Println("  CHECK FAILED:", n)
	}
	fmt.Println()

	fmt.Printf("         Plans: %d operators, each logged in with its own /collect/websocket (key handshake), start plan\n", r0.Conns)
	fmt.Printf("         %s (a button prompt, a form prompt, then de_status set) with POST …/app/runplan on debtors\n", collectPlan)
	fmt.Printf("         1…%d all at once and answer both prompts; alone = one operator running %d plans one after another.\n", r0.Conns, collectAlone)
	fmt.Printf("         The prompts carry no send time: 1st = runplan request sent → first prompt read, 2nd = first answer\n")
	fmt.Printf("         sent → second prompt read (after its end); all = both. No target in the issue but none lost.\n\n")
	w = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "store\trun\tplans/s\t1st p50\t1st p99\t2nd p50\t2nd p99\tall p99\tmax\tprompts\tplans done\ttarget\t")
	for _, r := range res {
		for _, p := range []struct {
			name string
			run  planRun
		}{{"alone", r.Alone}, {fmt.Sprintf("%d at once", r.Conns), r.Burst}} {
			x := p.run
			fmt.Fprintf(w, "%s\t%s\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%d/%d\t%d/%d\tnone lost %s\t\n", r.Store, p.name, float64(x.Done)/x.Secs,
				dur(x.First.P50), dur(x.First.P99), dur(x.Second.P50), dur(x.Second.P99), dur(x.All.P99), dur(max(x.First.Max, x.Second.Max)),
				x.Prompts, 2*x.Plans, x.Done, x.Plans, verdict(x.Done == x.Plans && x.Prompts == 2*x.Plans))
		}
	}
	w.Flush()
	for _, r := range res {
		for _, e := range append(slices.Clone(r.Alone.Errors), r.Burst.Errors...) {
			fmt.Printf("  %s: %s\n", r.Store, e)
		}
	}
	fmt.Println()
}
