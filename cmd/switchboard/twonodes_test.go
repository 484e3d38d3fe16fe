package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
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
	"switchboard/models"
)

// helperNodeEnv, set, turns this test binary into one Switchboard node (TestHelperNode).
const helperNodeEnv = "SWITCHBOARD_TEST_NODE"

// TestHelperNode is not a test: the tests of this file and kill_test.go run the test binary as a node
// with it. The node waits for a line on stdin (the start signal, so both nodes begin at the same moment),
// then runs `switchboard serve` until interrupted; the process exits 0 only if run returned no error.
func TestHelperNode(t *testing.T) {
	if os.Getenv(helperNodeEnv) == "" {
		t.Skip("a node process for the multi-node tests")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := io.ReadFull(os.Stdin, make([]byte, 1)); err != nil {
		t.Fatalf("start signal: %v", err)
	}
	if err := run(ctx, []string{"switchboard", "serve"}, os.Getenv, os.Stdout); err != nil {
		t.Fatalf("node: %v", err)
	}
}

// TestTwoNodesStartTogether starts two real processes on one empty store at the same moment, as a
// deployment of two nodes does: both must migrate, create or find the first admin, and serve; afterwards
// exactly one admin exists, and exactly one node printed its generated password. Postgres only: it is the
// store nodes share (models.TestConcurrentMigrate races SQLite pools).
func TestTwoNodesStartTogether(t *testing.T) {
	if !slices.Contains(apitest.Kinds(t), "postgres") {
		t.Skip("Postgres is unreachable")
	}
	url := apitest.EmptyStoreURL(t, "postgres")
	nodes := make([]*node, 2)
	for i := range nodes {
		nodes[i] = startNode(t, url)
	}
	for _, n := range nodes {
		if _, err := n.stdin.Write([]byte("\n")); err != nil { // both start now
			t.Fatal(err)
		}
	}
	for _, n := range nodes {
		n.waitReady(t)
	}
	created := 0
	for i, n := range nodes {
		if err := n.cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		if err := n.wait(); err != nil {
			t.Errorf("node %d: %v\n%s", i, err, n.output())
		}
		created += strings.Count(n.stdout.String(), "created user admin with password")
	}
	if created != 1 {
		t.Errorf("%d nodes printed a generated admin password, want 1", created)
	}

	db, err := models.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	defer models.Close(db)
	var users []string
	if err := db.Table("users").Order("user_id").Pluck("username", &users).Error; err != nil {
		t.Fatal(err)
	}
	if len(users) != 1 || users[0] != "admin" {
		t.Fatalf("users after two first starts: %v, want [admin]", users)
	}
}

type node struct {
	cmd            *exec.Cmd
	addr           string
	stdin          io.WriteCloser
	stdout, stderr syncBuffer
	exited         chan struct{} // closed once the process has exited; then exitErr is its outcome
	exitErr        error
}

// startNode starts a node process on the store dbURL, waiting for its start signal (a line on stdin).
// env adds to or overrides the node's environment (NAME=value). When the test ends the node is killed if
// still running and waited for, before cleanups registered earlier (the store's drop) run.
func startNode(t *testing.T, dbURL string, env ...string) *node {
	t.Helper()
	n := &node{addr: freeAddr(t), exited: make(chan struct{})}
	n.cmd = exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperNode$", "-test.count=1")
	// Later entries win: env overrides these defaults.
	n.cmd.Env = append(append(os.Environ(), helperNodeEnv+"=1", "DATABASE_URL="+dbURL, "LISTEN_ADDR="+n.addr,
		"ADMIN_PASSWORD=", "SWITCHBOARD_SECRET="), env...)
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
		_ = n.cmd.Process.Kill() // fails harmlessly when it has exited
		<-n.exited
	})
	return n
}

// wait waits for the process to exit and answers how it ended.
func (n *node) wait() error {
	<-n.exited
	return n.exitErr
}

// output is what the node printed, for failure messages.
func (n *node) output() string {
	return "stdout:\n" + n.stdout.String() + "\nstderr:\n" + n.stderr.String()
}

// waitReady polls /readyz until it answers 200. A node that exits first fails the test; one that hangs
// is left to go test's -timeout.
func (n *node) waitReady(t *testing.T) {
	t.Helper()
	for {
		select {
		case <-n.exited:
			t.Fatalf("node exited before it was ready: %v\n%s", n.exitErr, n.output())
		default:
		}
		resp, err := http.Get("http://" + n.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freeAddr answers a loopback address with a port nothing listens on now. The node binds it moments
// later; main.go does not report the port it got from :0.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// syncBuffer is a bytes.Buffer that exec's copying goroutine may write while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
