package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"switchboard/apitest"
	"switchboard/app"
	"switchboard/models"
	"switchboard/models/events"
	"switchboard/models/platform"
	"switchboard/queue"
	"switchboard/webhooks"
)

// eventsNodeEnv, set, turns this test binary into a Switchboard node whose call-event bus has one more
// listener, which prints every event it gets to stdout ("event <unique_id> <state> <variables>"): what a
// live subscriber on that node (the Accolades hub) would get.
const eventsNodeEnv = "SWITCHBOARD_TEST_EVENTS_NODE"

// TestHelperEventsNode is not a test: TestCallEventsTwoNodes runs the test binary as such a node. Like
// TestHelperNode it waits for a line on stdin, then serves (app.Build as `switchboard serve` builds it, on
// DATABASE_URL and LISTEN_ADDR) until interrupted, and stops as serve does.
func TestHelperEventsNode(t *testing.T) {
	if os.Getenv(eventsNodeEnv) == "" {
		t.Skip("a node process for TestCallEventsTwoNodes")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := io.ReadFull(os.Stdin, make([]byte, 1)); err != nil {
		t.Fatalf("start signal: %v", err)
	}
	db, err := models.Open(os.Getenv("DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer models.Close(db)
	if _, err := models.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	listen := func(e events.CallEvent) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Printf("event %s %s %d\n", e.UniqueID, e.State, len(e.Variables))
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	svc, err := app.Build(ctx, app.Options{DB: db, Log: log, BlobDir: t.TempDir(), Listeners: []events.Listener{listen},
		Queue: queue.Config{PollInterval: 20 * time.Millisecond}, Webhooks: webhooks.Config{RetryDelay: 10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Addr: os.Getenv("LISTEN_ADDR"), Handler: svc, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		t.Fatal(err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		t.Fatal(err)
	}
	if err := svc.Stop(shutdown); err != nil {
		t.Fatal(err)
	}
}

// startEventsNode starts a TestHelperEventsNode process on the store dbURL (as startNode does for
// TestHelperNode) and gives it its start signal.
func startEventsNode(t *testing.T, dbURL string) *node {
	t.Helper()
	n := &node{addr: freeAddr(t), exited: make(chan struct{})}
	n.cmd = exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperEventsNode$", "-test.count=1")
	n.cmd.Env = append(os.Environ(), eventsNodeEnv+"=1", "DATABASE_URL="+dbURL, "LISTEN_ADDR="+n.addr)
	n.cmd.Stdout, n.cmd.Stderr = &n.stdout, &n.stderr
	var err error
	if n.stdin, err = n.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		n.exitErr = n.cmd.Wait()
		close(n.exited)
	}()
	t.Cleanup(func() {
		_ = n.cmd.Process.Kill()
		<-n.exited
	})
	if _, err := n.stdin.Write([]byte("\n")); err != nil {
		t.Fatal(err)
	}
	return n
}

// heardTimes counts how often the node's listener printed the event.
func (n *node) heardTimes(uniqueID, state string, vars int) int {
	return strings.Count(n.stdout.String(), fmt.Sprintf("event %s %s %d\n", uniqueID, state, vars))
}

// waitHeard waits until every node's listener has the event; the bound only stops a hang.
func waitHeard(t *testing.T, nodes []*node, uniqueID, state string, vars int) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		all := true
		for _, n := range nodes {
			all = all && n.heardTimes(uniqueID, state, vars) > 0
		}
		if all {
			return
		}
		if time.Now().After(deadline) {
			for i, n := range nodes {
				t.Logf("node %d:\n%s", i, n.output())
			}
			t.Fatalf("event %s %s did not reach every node", uniqueID, state)
		}
	}
}

// TestCallEventsTwoNodes runs two real processes on one Postgres store: an event posted to node A reaches
// the listeners of both nodes, once (node B's through its LISTEN connection); the same event posted again
// to node B changes nothing; an event too large for a notification arrives whole; and a webhook
// subscription made on node B gets one signed delivery per event, from whichever node's queue works it.
func TestCallEventsTwoNodes(t *testing.T) {
	if !slices.Contains(apitest.Kinds(t), "postgres") {
		t.Skip("Postgres is unreachable")
	}
	url := apitest.EmptyStoreURL(t, "postgres")
	db, err := models.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	defer models.Close(db)
	ctx := context.Background()
	if _, err := models.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	_, key, err := platform.CreateAPIKey(ctx, db, "test", platform.ScopeAdmin)
	if err != nil {
		t.Fatal(err)
	}
	a, b := startEventsNode(t, url), startEventsNode(t, url)
	nodes := []*node{a, b}
	for _, n := range nodes {
		n.waitReady(t)
	}
	call := func(n *node, path string, body any) (int, []byte) {
		t.Helper()
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, "http://"+n.addr+"/platform"+path, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-API-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, out
	}

	got := make(chan []byte, 10)
	var secret string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !webhooks.Verify(secret, r.Header.Get(webhooks.HeaderSignature), r.Header.Get(webhooks.HeaderTimestamp), body, time.Now(), time.Minute) {
			t.Errorf("a delivery whose signature does not verify: %s", body)
		}
		got <- body
	}))
	defer hook.Close()
	status, body := call(b, "/webhooks", map[string]any{"url": hook.URL, "states": []string{"ringing"}})
	var created struct{ Secret string }
	if err := json.Unmarshal(body, &created); status != http.StatusCreated || err != nil {
		t.Fatalf("create webhook: %d %s", status, body)
	}
	secret = created.Secret

	ringing := map[string]any{"direction": "inbound", "phone": "0211234567", "agent": "f8cb549544", "unique_id": "1608743891.1344", "state": "ringing"}
	if status, body := call(a, "/call-events", ringing); status != http.StatusAccepted {
		t.Fatalf("post to A: %d %s", status, body)
	}
	waitHeard(t, nodes, "1608743891.1344", "ringing", 0)
	select {
	case d := <-got:
		if !strings.Contains(string(d), `"unique_id":"1608743891.1344"`) {
			t.Fatalf("delivered %s", d)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("no webhook delivery")
	}

	if status, body := call(b, "/call-events", ringing); status != http.StatusAccepted {
		t.Fatalf("the same event to B: %d %s", status, body)
	}
	big := map[string]any{"direction": "outbound", "phone": "0211234567", "unique_id": "big.1", "state": "answered", "variables": map[string]string{}}
	for i := range 20 {
		big["variables"].(map[string]string)[fmt.Sprintf("var%02d", i)] = strings.Repeat("x", 1000)
	}
	if status, body := call(b, "/call-events", big); status != http.StatusAccepted {
		t.Fatalf("a large event to B: %d %s", status, body)
	}
	waitHeard(t, nodes, "big.1", "answered", 20)
	for i, n := range nodes {
		if c := n.heardTimes("1608743891.1344", "ringing", 0); c != 1 {
			t.Errorf("node %d heard the ringing event %d times, want once", i, c)
		}
	}
	select {
	case d := <-got:
		t.Fatalf("a second delivery (the subscription wants ringing only, once): %s", d)
	default:
	}

	for i, n := range nodes {
		if err := n.cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		if err := n.wait(); err != nil {
			t.Errorf("node %d: %v\n%s", i, err, n.output())
		}
	}
}
