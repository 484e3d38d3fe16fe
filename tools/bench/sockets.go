package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
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
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/coder/websocket"

	"switchboard/handlers/accolades"
	"switchboard/models/events"
	"switchboard/realtime"
	"switchboard/server"

	model "switchboard/models/accolades"
)

// SOCKETS: socketsConns concurrent Accolades CRM WebSockets on one in-process server, its memory per
// connection, and the latency of a burst of one incomingCall per connection from the node's call-event bus
// (realtime.Bus, then the Accolades listener) to the client's read, beside a bare coder/websocket server
// that accepts the same authRequest and hands its events from one intake queue to a queue per connection.
// The server runs in the measuring child and the clients in a second process (this binary with -child
// sockets-client, sockets_client.go), so the memory is the server's alone and neither process needs more
// than socketsConns file descriptors.
const (
	socketsConns     = 10_000
	socketsDialers   = 64 // clients connecting at once
	socketsBursts    = 5
	targetSocketsP99 = 100 * time.Millisecond
)

type socketsResult struct {
	Store, Mode string
	Conns       int
	NoFile      uint64  // the server process's RLIMIT_NOFILE
	ConnectSecs float64 // the client's dial + authRequest + authSucces of every connection
	HeapPerConn float64 // bytes: Go heap in use + goroutine stacks, after GC, per connection
	RSSPerConn  float64 // bytes: VmRSS growth per connection
	Bursts      []socketsBurst
	Errors      []string `json:",omitempty"` // the client's
}

// socketsBurst is one burst: how long the server's loop took to hand it over (Deliver, or the bare queue),
// and the latencies the client saw.
type socketsBurst struct {
	SendSecs      float64
	Received      int
	P50, P99, Max time.Duration
	ServerCPU     time.Duration // the server process's CPU time from the first send to the client's line
	ClientCPU     time.Duration // the client process's, from its line before the burst to its last read of it
}

// socketsClientLine is what the client process prints: once connected (Connected set), then after each
// burst (Burst set) or on giving up (Errors).
type socketsClientLine struct {
	ConnectSecs float64       `json:",omitempty"`
	Burst       *socketsBurst `json:",omitempty"`
	Errors      []string      `json:",omitempty"`
}

// median answers the burst whose p99 is the median of the bursts' (the figure the target is read on:
// one burst is one sample on a noisy two-core machine, so the bench sends socketsBursts of them).
func (r socketsResult) median() socketsBurst {
	if len(r.Bursts) == 0 {
		return socketsBurst{}
	}
	bs := slices.Clone(r.Bursts)
	slices.SortFunc(bs, func(a, b socketsBurst) int { return cmp.Compare(a.P99, b.P99) })
	return bs[len(bs)/2]
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
		// The burst enters where every node's call events do: the node's bus (realtime.Bus, which the
		// Publisher or the Postgres relay feed), whose delivery goroutine hands them to the Accolades listener.
		bus := realtime.NewBus(log)
		defer bus.Close()
		defer bus.Subscribe(h.Deliver)()
		push = func(i int) {
			bus.Deliver(events.CallEvent{UniqueID: strconv.FormatInt(time.Now().UnixNano(), 10) + "." + strconv.Itoa(i),
				Direction: events.Inbound, Phone: "0211234567", Agent: benchCrmID(i), State: events.Ringing})
		}
	case "bare":
		b := newBareSockets(n)
		defer close(b.intake)
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
	next := func() (socketsClientLine, error) {
		var l socketsClientLine
		if !lines.Scan() {
			return l, fmt.Errorf("client: no answer: %v", lines.Err())
		}
		if err := json.Unmarshal(lines.Bytes(), &l); err != nil {
			return l, fmt.Errorf("client: %q: %w", lines.Text(), err)
		}
		res.Errors = append(res.Errors, l.Errors...)
		return l, nil
	}
	l, err := next()
	if err != nil || l.ConnectSecs == 0 {
		return nil, fmt.Errorf("client did not connect: %v %v", err, l.Errors)
	}
	res.ConnectSecs = l.ConnectSecs
	heap1, rss1 := memNow()
	res.HeapPerConn, res.RSSPerConn = (heap1-heap0)/float64(n), (rss1-rss0)/float64(n)

	for range socketsBursts {
		time.Sleep(time.Second) // let the last burst's garbage and writes settle
		perfCtl("enable")
		cpu0 := selfCPU()
		start := time.Now()
		for i := range n {
			push(i)
		}
		sent := time.Since(start).Seconds()
		l, err := next()
		cpu := selfCPU() - cpu0
		perfCtl("disable")
		if err != nil {
			return nil, err
		}
		if l.Burst == nil {
			break // the client gave up; its errors say why
		}
		l.Burst.SendSecs, l.Burst.ServerCPU = sent, cpu
		res.Bursts = append(res.Bursts, *l.Burst)
	}
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
// each connection's messages from a queue of its own, as a hand-written server would. Events come in as
// the full server's do: onto one intake queue, which one goroutine hands out to the connections' queues.
type bareSockets struct {
	mu     sync.Mutex
	conns  map[string]chan []byte
	intake chan bareEvent
}

type bareEvent struct {
	crm string
	msg []byte
}

func newBareSockets(n int) *bareSockets {
	b := &bareSockets{conns: map[string]chan []byte{}, intake: make(chan bareEvent, n)}
	go func() {
		for e := range b.intake {
			b.mu.Lock()
			q := b.conns[e.crm]
			b.mu.Unlock()
			select {
			case q <- e.msg:
			default:
			}
		}
	}()
	return b
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
	b.intake <- bareEvent{benchCrmID(i), []byte(`{"type":"incomingCall","phoneNumber":"0211234567","uniqueId":"` +
		strconv.FormatInt(time.Now().UnixNano(), 10) + "." + strconv.Itoa(i) + `","callCenter":"no"}`)}
}

func printSockets(res []socketsResult) {
	fmt.Printf("SOCKETS  %d concurrent CRM WebSockets on one in-process server; the clients run in a second process, and\n", socketsConns)
	fmt.Printf("         each side raises RLIMIT_NOFILE to its hard limit. full = /accolades (echo, realtime hub, the Accolades\n")
	fmt.Printf("         protocol; every authRequest checked against the store and leased); bare = coder/websocket alone,\n")
	fmt.Printf("         answering the same authRequest, its events handed out by one goroutine from an intake queue to a\n")
	fmt.Printf("         queue per connection. The client is one thread reading every ready socket once per epoll wake, so\n")
	fmt.Printf("         that it takes as little as it can of the cores it shares with the server. Memory is the server\n")
	fmt.Printf("         process's growth per connection (Go heap in use + goroutine stacks after GC, and VmRSS). A burst is\n")
	fmt.Printf("         one ringing call event per connection, %d in a row, timed from the send (full: into the node's\n", socketsConns)
	fmt.Printf("         call-event bus, realtime.Bus, whose listener is the Accolades hub) to the client's read of its\n")
	fmt.Printf("         incomingCall; server CPU = the server process's CPU time from the burst's first send until the\n")
	fmt.Printf("         client has read it all, client CPU = the client's. %d bursts a second apart on the same connections,\n", socketsBursts)
	fmt.Printf("         since one burst is one sample on this machine: the columns up to max are the median burst's (by\n")
	fmt.Printf("         p99), the target is read on it, and every burst's p99 is listed.\n\n")
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "store\tserver\tconnect/s\theap+stacks/conn\tRSS/conn\tburst sent in\tserver CPU\tclient CPU\tp50\tp99\tmax\treceived\tp99 full/bare\tevery burst's p99\ttarget\t")
	var bare *socketsResult
	for i, r := range res {
		if r.Mode == "bare" {
			bare = &res[i]
		}
	}
	for _, r := range res {
		m, store, ratio, target := r.median(), r.Store, "", ""
		received, p99s := 0, make([]string, len(r.Bursts))
		for i, b := range r.Bursts {
			received += b.Received
			p99s[i] = dur(b.P99)
		}
		all := received == r.Conns*socketsBursts
		if r.Mode == "bare" {
			store = "-"
		} else {
			if bare != nil && bare.median().P99 > 0 {
				ratio = fmt.Sprintf("%.2f", float64(m.P99)/float64(bare.median().P99))
			}
			target = fmt.Sprintf("p99 < %s, none lost %s", dur(targetSocketsP99), verdict(m.P99 > 0 && m.P99 < targetSocketsP99 && all))
		}
		fmt.Fprintf(w, "%s\t%s\t%.0f\t%.1f KiB\t%.1f KiB\t%s\t%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\t%s\t\n", store, r.Mode, float64(r.Conns)/r.ConnectSecs,
			r.HeapPerConn/1024, r.RSSPerConn/1024, dur(time.Duration(m.SendSecs*float64(time.Second))), dur(m.ServerCPU), dur(m.ClientCPU),
			dur(m.P50), dur(m.P99), dur(m.Max), received, r.Conns*socketsBursts, ratio, strings.Join(p99s, " "), target)
	}
	w.Flush()
	for _, r := range res {
		for _, e := range r.Errors {
			fmt.Printf("  %s %s: %s\n", r.Store, r.Mode, e)
		}
	}
	fmt.Println()
}

// perfCtl writes cmd (enable, disable) to the perf control FIFO named by BENCH_PERF_CTL, if set: run the
// bench under `perf record -D -1 --control fifo:FILE` to profile the bursts alone.
func perfCtl(cmd string) {
	if p := os.Getenv("BENCH_PERF_CTL"); p != "" {
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err == nil {
			_, _ = f.WriteString(cmd + "\n")
			f.Close()
		}
	}
}
