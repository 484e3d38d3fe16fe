package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/coder/websocket"

	"switchboard/handlers/accolades"
	"switchboard/models/events"
	"switchboard/server"

	model "switchboard/models/accolades"
)

// SOCKETS: socketsConns concurrent Accolades CRM WebSockets on one in-process server, its memory per
// connection, and the latency of a burst of one incomingCall per connection from the listener (Deliver) to
// the client's read, beside a bare coder/websocket server that accepts the same authRequest and pushes
// from a queue of its own. The server runs in the measuring child and the clients in a second process (this
// binary with -child sockets-client), so the memory is the server's alone and neither process needs more
// than socketsConns file descriptors.
const (
	socketsConns     = 10_000
	socketsDialers   = 64 // clients connecting at once
	targetSocketsP99 = 100 * time.Millisecond
)

type socketsResult struct {
	Store, Mode   string
	Conns         int
	NoFile        uint64  // the server process's RLIMIT_NOFILE
	ConnectSecs   float64 // the client's dial + authRequest + authSucces of every connection
	HeapPerConn   float64 // bytes: Go heap in use + goroutine stacks, after GC, per connection
	RSSPerConn    float64 // bytes: VmRSS growth per connection
	BurstSendSecs float64 // the server's loop handing the burst over (Deliver, or the bare queue)
	Client        socketsClientResult
}

// socketsClientResult is what the client process reports.
type socketsClientResult struct {
	ConnectSecs    float64
	Received       int
	P50, P99, Max  time.Duration
	FirstToLastSec float64
	Errors         []string `json:",omitempty"`
}

// runSockets measures the bare server once and the full one on each store.
func runSockets(ctx context.Context, stores []string, common func(kind, store string) []string) error {
	var res []socketsResult
	for _, run := range append([][2]string{{"bare", stores[0]}}, func() (out [][2]string) {
		for _, s := range stores {
			out = append(out, [2]string{"full", s})
		}
		return
	}()...) {
		progress("sockets: %s %s, %d connections", run[0], run[1], socketsConns)
		var r socketsResult
		if err := runChild(ctx, append(common("sockets", run[1]), "-mode", run[0], "-rows", strconv.Itoa(socketsConns)), &r); err != nil {
			return fmt.Errorf("sockets %s %s: %w", run[0], run[1], err)
		}
		res = append(res, r)
	}
	printSockets(res)
	return nil
}

// raiseNoFile raises the soft limit on open files to the hard limit and answers it.
func raiseNoFile() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	return lim.Cur, nil
}

func benchCrmID(i int) string { return fmt.Sprintf("bench%06d", i) }

// memNow answers the Go heap in use plus goroutine stacks after a GC, and VmRSS, in bytes.
func memNow() (heap, rss float64) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapInuse + m.StackInuse), vmRSS()
}

func vmRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb * 1024
		}
	}
	return 0
}

// benchSockets serves n CRM connections (mode full: the Accolades handler over st; bare: bareSockets),
// has the client process connect them all, measures, and sends the burst.
func benchSockets(ctx context.Context, st *store, mode string, n int) (*socketsResult, error) {
	nofile, err := raiseNoFile()
	if err != nil {
		return nil, err
	}
	if nofile < uint64(n)+200 {
		return nil, fmt.Errorf("RLIMIT_NOFILE hard limit %d is below %d connections (+200)", nofile, n)
	}
	res := &socketsResult{Store: st.kind, Mode: mode, Conns: n, NoFile: nofile}
	var (
		handler http.Handler
		push    func(i int)
	)
	switch mode {
	case "full":
		if err := seedSocketAgents(ctx, st, n); err != nil {
			return nil, err
		}
		hctx, cancel := context.WithCancel(ctx)
		defer cancel()
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		h, err := accolades.New(hctx, accolades.Config{DB: st.db, Log: log})
		if err != nil {
			return nil, err
		}
		if handler, err = server.New(server.Config{DB: st.db, Log: log, APIs: []server.API{h}}); err != nil {
			return nil, err
		}
		push = func(i int) {
			h.Deliver(events.CallEvent{UniqueID: strconv.FormatInt(time.Now().UnixNano(), 10) + "." + strconv.Itoa(i),
				Direction: events.Inbound, Phone: "0211234567", Agent: benchCrmID(i), State: events.Ringing})
		}
	case "bare":
		b := &bareSockets{conns: map[string]chan []byte{}}
		handler = b
		push = func(i int) { b.push(i) }
	default:
		return nil, fmt.Errorf("sockets: unknown mode %q", mode)
	}
	srv := httptest.NewUnstartedServer(handler)
	srv.Config.ReadHeaderTimeout = 10 * time.Second
	srv.Start()
	defer srv.Close()
	heap0, rss0 := memNow()

	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, exe, "-child", "sockets-client", "-url", "ws"+strings.TrimPrefix(srv.URL, "http")+"/accolades",
		"-rows", strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() { _ = cmd.Wait() }()
	lines := bufio.NewScanner(out)
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), "ready") {
		return nil, fmt.Errorf("client: %q %v", lines.Text(), lines.Err())
	}
	heap1, rss1 := memNow()
	res.HeapPerConn, res.RSSPerConn = (heap1-heap0)/float64(n), (rss1-rss0)/float64(n)

	start := time.Now()
	for i := range n {
		push(i)
	}
	res.BurstSendSecs = time.Since(start).Seconds()
	if !lines.Scan() {
		return nil, fmt.Errorf("client: no result: %v", lines.Err())
	}
	if err := json.Unmarshal(lines.Bytes(), &res.Client); err != nil {
		return nil, fmt.Errorf("client result %q: %w", lines.Text(), err)
	}
	res.ConnectSecs = res.Client.ConnectSecs
	return res, nil
}

// seedSocketAgents stores one account and n agents with the CRM ids benchCrmID(0…n-1).
func seedSocketAgents(ctx context.Context, st *store, n int) error {
	a, err := model.CreateAccount(ctx, st.db, model.AccountInput{AccountNumber: "1001", Password: adminPassword})
	if err != nil {
		return err
	}
	rows := make([]model.Agent, n)
	for i := range rows {
		rows[i] = model.Agent{AccountID: a.ID, Name: "Agent " + strconv.Itoa(i), CrmID: benchCrmID(i), DeviceID: strconv.Itoa(100000 + i),
			CreatedAt: time.Now().Unix()}
	}
	return st.db.WithContext(ctx).CreateInBatches(&rows, 500).Error
}

// bareSockets is the baseline: coder/websocket with nothing on top, answering authRequest and pushing
// each connection's messages from a queue of its own, as a hand-written server would.
type bareSockets struct {
	mu    sync.Mutex
	conns map[string]chan []byte
}

func (b *bareSockets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx := context.Background()
	_, msg, err := c.Read(ctx)
	if err != nil {
		return
	}
	var req struct {
		IDCrm string `json:"idCrm"`
	}
	if json.Unmarshal(msg, &req) != nil || c.Write(ctx, websocket.MessageText, []byte(`{"type":"authSucces","version":"1.1.0"}`)) != nil {
		return
	}
	q := make(chan []byte, 64)
	b.mu.Lock()
	b.conns[req.IDCrm] = q
	b.mu.Unlock()
	go func() {
		for m := range q {
			if c.Write(ctx, websocket.MessageText, m) != nil {
				return
			}
		}
	}()
	for {
		if _, _, err := c.Read(ctx); err != nil {
			return
		}
	}
}

func (b *bareSockets) push(i int) {
	b.mu.Lock()
	q := b.conns[benchCrmID(i)]
	b.mu.Unlock()
	msg := []byte(`{"type":"incomingCall","phoneNumber":"0211234567","uniqueId":"` + strconv.FormatInt(time.Now().UnixNano(), 10) + "." +
		strconv.Itoa(i) + `","callCenter":"no"}`)
	select {
	case q <- msg:
	default:
	}
}

// socketsClient is the client process: it opens n CRM connections (authRequest with benchCrmID(i)), prints
// "ready", then reads one message on each and reports the latencies from the send time in its uniqueId.
func socketsClient(args []string) int {
	fs := flag.NewFlagSet("bench -child sockets-client", flag.ContinueOnError)
	url := fs.String("url", "", "the server's /accolades URL")
	n := fs.Int("rows", socketsConns, "connections")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if _, err := raiseNoFile(); err != nil {
		fmt.Fprintln(os.Stderr, "sockets-client:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var (
		res     socketsClientResult
		errMu   sync.Mutex
		next    atomic.Int64
		got     atomic.Int64
		lat     = make([]time.Duration, *n)
		recv    = make([]int64, *n)
		conns   = make([]*websocket.Conn, *n)
		done    = make(chan struct{})
		dialers sync.WaitGroup
	)
	fail := func(err error) {
		errMu.Lock()
		if len(res.Errors) < 10 {
			res.Errors = append(res.Errors, err.Error())
		}
		errMu.Unlock()
	}
	read := func(i int, c *websocket.Conn) {
		_, msg, err := c.Read(ctx)
		now := time.Now()
		if err != nil {
			fail(fmt.Errorf("conn %d: %w", i, err))
			return
		}
		var m struct {
			Type     string `json:"type"`
			UniqueID string `json:"uniqueId"`
		}
		sent, _, _ := strings.Cut(func() string { _ = json.Unmarshal(msg, &m); return m.UniqueID }(), ".")
		ns, err := strconv.ParseInt(sent, 10, 64)
		if m.Type != "incomingCall" || err != nil {
			fail(fmt.Errorf("conn %d: unexpected %s", i, msg))
			return
		}
		lat[i], recv[i] = now.Sub(time.Unix(0, ns)), now.UnixNano()
		if got.Add(1) == int64(*n) {
			close(done)
		}
		// Keep reading, so pings are answered, until the process ends.
		for {
			if _, _, err := c.Read(ctx); err != nil {
				return
			}
		}
	}
	start := time.Now()
	for range socketsDialers {
		dialers.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= *n {
					return
				}
				c, _, err := websocket.Dial(ctx, *url, nil)
				if err == nil {
					err = c.Write(ctx, websocket.MessageText, []byte(`{"type":"authRequest","idCrm":"`+benchCrmID(i)+`"}`))
				}
				var msg []byte
				if err == nil {
					_, msg, err = c.Read(ctx)
				}
				if err == nil && !strings.Contains(string(msg), `"authSucces"`) {
					err = fmt.Errorf("answer %s", msg)
				}
				if err != nil {
					fail(fmt.Errorf("connect %d: %w", i, err))
					continue
				}
				conns[i] = c
				go read(i, c)
			}
		})
	}
	dialers.Wait()
	res.ConnectSecs = time.Since(start).Seconds()
	fmt.Println("ready")
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		fail(errors.New("timed out waiting for the burst"))
	}
	res.Received = int(got.Load())
	var ls []time.Duration
	var first, last int64
	for i, l := range lat {
		if recv[i] == 0 {
			continue
		}
		ls = append(ls, l)
		if first == 0 || recv[i] < first {
			first = recv[i]
		}
		last = max(last, recv[i])
	}
	slices.Sort(ls)
	if len(ls) > 0 {
		res.P50, res.P99, res.Max = ls[len(ls)/2], ls[min(len(ls)-1, len(ls)*99/100)], ls[len(ls)-1]
		res.FirstToLastSec = float64(last-first) / 1e9
	}
	b, _ := json.Marshal(res)
	fmt.Println(string(b))
	for _, c := range conns {
		if c != nil {
			_ = c.CloseNow()
		}
	}
	return 0
}

func printSockets(res []socketsResult) {
	fmt.Printf("SOCKETS  %d concurrent CRM WebSockets on one in-process server; the clients run in a second process, and\n", socketsConns)
	fmt.Printf("         each side raises RLIMIT_NOFILE to its hard limit. full = /accolades (echo, realtime hub, the Accolades\n")
	fmt.Printf("         protocol; every authRequest checked against the store and leased); bare = coder/websocket alone,\n")
	fmt.Printf("         answering the same authRequest and pushing from a queue per connection. Memory is the server\n")
	fmt.Printf("         process's growth per connection (Go heap in use + goroutine stacks after GC, and VmRSS); the burst\n")
	fmt.Printf("         is one incomingCall per connection, %d in a row, timed from the send (full: the listener,\n", socketsConns)
	fmt.Printf("         Handler.Deliver) to the client's read.\n\n")
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "store\tserver\tconnect/s\theap+stacks/conn\tRSS/conn\tburst sent in\tp50\tp99\tmax\treceived\tp99 full/bare\ttarget\t")
	var bare *socketsResult
	for i, r := range res {
		if r.Mode == "bare" {
			bare = &res[i]
		}
	}
	for _, r := range res {
		store, ratio, target := r.Store, "", ""
		if r.Mode == "bare" {
			store = "-"
		} else {
			if bare != nil && bare.Client.P99 > 0 {
				ratio = fmt.Sprintf("%.2f", float64(r.Client.P99)/float64(bare.Client.P99))
			}
			target = fmt.Sprintf("p99 < %s, none lost %s", dur(targetSocketsP99), verdict(r.Client.P99 < targetSocketsP99 && r.Client.Received == r.Conns))
		}
		fmt.Fprintf(w, "%s\t%s\t%.0f\t%.1f KiB\t%.1f KiB\t%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\t\n", store, r.Mode, float64(r.Conns)/r.ConnectSecs,
			r.HeapPerConn/1024, r.RSSPerConn/1024, dur(time.Duration(r.BurstSendSecs*float64(time.Second))),
			dur(r.Client.P50), dur(r.Client.P99), dur(r.Client.Max), r.Client.Received, r.Conns, ratio, target)
	}
	w.Flush()
	for _, r := range res {
		for _, e := range r.Client.Errors {
			fmt.Printf("  %s %s: %s\n", r.Store, r.Mode, e)
		}
	}
	fmt.Println()
}
