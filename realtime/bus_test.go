package realtime_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"switchboard/models"
	"switchboard/models/events"
	"switchboard/realtime"
	"switchboard/scratchdb"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// recorder is a listener that keeps what it got and signals each event.
type recorder struct {
	mu  sync.Mutex
	got []events.CallEvent
	ch  chan events.CallEvent
}

func newRecorder() *recorder { return &recorder{ch: make(chan events.CallEvent, 1000)} }

func (r *recorder) listen(e events.CallEvent) {
	r.mu.Lock()
	r.got = append(r.got, e)
	r.mu.Unlock()
	r.ch <- e
}

// next waits for the next event; a bus that never delivers fails the test after a generous bound.
func (r *recorder) next(t *testing.T) events.CallEvent {
	t.Helper()
	select {
	case e := <-r.ch:
		return e
	case <-time.After(30 * time.Second):
		t.Fatal("no event arrived")
		return events.CallEvent{}
	}
}

func (r *recorder) ids() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for _, e := range r.got {
		ids = append(ids, e.UniqueID+"/"+e.State)
	}
	return strings.Join(ids, " ")
}

func ev(id string) events.CallEvent {
	return events.CallEvent{UniqueID: id, Direction: events.Inbound, State: events.Ringing, Phone: "0211234567", Agent: "crm"}
}

// TestBusOrderAndIsolation: every listener gets every event in order; a listener that panics does not
// keep the others (or the later events) from theirs; an unsubscribed listener gets nothing more; Close
// hands out what was queued first, and Deliver after Close does nothing.
func TestBusOrderAndIsolation(t *testing.T) {
	t.Parallel()
	bus := realtime.NewBus(quiet)
	a, b, gone := newRecorder(), newRecorder(), newRecorder()
	bus.Subscribe(func(e events.CallEvent) {
		if e.UniqueID == "2" {
			panic("listener bug")
		}
	})
	bus.Subscribe(a.listen)
	bus.Subscribe(b.listen)
	unsubscribe := bus.Subscribe(gone.listen)
	bus.Deliver(ev("1"))
	gone.next(t)
	unsubscribe()
	for _, id := range []string{"2", "3", "4"} {
		bus.Deliver(ev(id))
	}
	bus.Close()
	bus.Deliver(ev("5"))
	want := "1/ringing 2/ringing 3/ringing 4/ringing"
	if a.ids() != want || b.ids() != want {
		t.Fatalf("a got %q, b got %q, want %q each", a.ids(), b.ids(), want)
	}
	if gone.ids() != "1/ringing" {
		t.Fatalf("an unsubscribed listener got %q", gone.ids())
	}
}

// TestBusNeverBlocks: Deliver returns while a listener is stuck; the events wait and reach it once it
// moves again.
func TestBusNeverBlocks(t *testing.T) {
	t.Parallel()
	bus := realtime.NewBus(quiet)
	defer bus.Close()
	release := make(chan struct{})
	got := newRecorder()
	bus.Subscribe(func(e events.CallEvent) {
		<-release
		got.listen(e)
	})
	for i := range 1000 {
		bus.Deliver(ev(fmt.Sprint(i))) // would deadlock the test if it waited for the listener
	}
	close(release)
	for i := range 1000 {
		if e := got.next(t); e.UniqueID != fmt.Sprint(i) {
			t.Fatalf("event %d arrived as %s", i, e.UniqueID)
		}
	}
}

// pgStore answers a migrated Postgres store of its own, or skips when Postgres is unreachable.
func pgStore(t *testing.T) string {
	t.Helper()
	root := os.Getenv("TEST_DATABASE_URL")
	if root == "" {
		root = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	ctx := context.Background()
	if err := scratchdb.Ping(ctx, root); err != nil {
		if os.Getenv("REQUIRE_POSTGRES") == "1" {
			t.Fatalf("REQUIRE_POSTGRES=1 but Postgres is unreachable: %v", err)
		}
		t.Skipf("Postgres is unreachable: %v", err)
	}
	url, drop, err := scratchdb.CreateDatabase(ctx, root, "sb_test_")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Errorf("drop: %v", err)
		}
	})
	db := open(t, url)
	if _, err := models.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	return url
}

func open(t *testing.T, url string) *gorm.DB {
	t.Helper()
	db, err := models.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = models.Close(db) })
	return db
}

// node is one process's share of the stream: its own pool, bus and relay, and a listener.
type node struct {
	db    *gorm.DB
	bus   *realtime.Bus
	relay *realtime.Relay
	got   *recorder
}

func startNode(t *testing.T, url string) *node {
	t.Helper()
	n := &node{db: open(t, url), bus: realtime.NewBus(quiet), got: newRecorder()}
	n.bus.Subscribe(n.got.listen)
	var err error
	// A reconnect waits long enough for the test to publish while both nodes are deaf.
	if n.relay, err = realtime.NewRelay(n.bus, n.db, quiet, realtime.RelayOptions{MinWait: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if err := n.relay.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.relay.Stop(); n.bus.Close() })
	return n
}

// TestRelay: two nodes on one Postgres store each get every event, from either node, once: whole events
// and events too large for a notification (read back by id); a duplicate publishes nothing; and after
// both LISTEN connections are killed, the event published while neither listened still arrives, once.
func TestRelay(t *testing.T) {
	t.Parallel()
	url := pgStore(t)
	a, b := startNode(t, url), startNode(t, url)
	pubA := events.NewRecorder(events.Config{DB: a.db, Local: func(events.CallEvent) { t.Error("Local is for stores without NOTIFY") }})
	pubB := events.NewRecorder(events.Config{DB: b.db})
	ctx := context.Background()
	publish := func(p *events.Recorder, e events.CallEvent, wantFresh bool) {
		t.Helper()
		if _, fresh, err := p.Publish(ctx, e); err != nil || fresh != wantFresh {
			t.Fatalf("publish %s: fresh %v, %v", e.UniqueID, fresh, err)
		}
	}
	expect := func(id string) events.CallEvent {
		t.Helper()
		var got events.CallEvent
		for _, n := range []*node{a, b} {
			if got = n.got.next(t); got.UniqueID != id {
				t.Fatalf("got %s, want %s (all: %s)", got.UniqueID, id, n.got.ids())
			}
		}
		return got
	}

	publish(pubA, ev("A"), true)
	expect("A")
	publish(pubB, ev("A"), false) // the same event from the other node: nothing new
	publish(pubB, ev("B"), true)
	expect("B") // and not A again

	big := ev("C")
	big.Variables = map[string]string{}
	for i := range 20 {
		big.Variables[fmt.Sprintf("var%02d", i)] = strings.Repeat("x", events.MaxVariableValue)
	}
	publish(pubA, big, true)
	if got := expect("C"); len(got.Variables) != 20 || got.Variables["var07"] != big.Variables["var07"] {
		t.Fatalf("a large event came back with %d variables", len(got.Variables))
	}

	// Both LISTEN connections die; D is published while neither node listens (they reconnect after 2 s).
	var killed int
	if err := a.db.Raw(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN %'`).Scan(&killed).Error; err != nil || killed != 2 {
		t.Fatalf("killed %d LISTEN connections (%v), want 2", killed, err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		var left int
		if err := a.db.Raw(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'`).
			Scan(&left).Error; err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d LISTEN connections still there", left)
		}
		time.Sleep(10 * time.Millisecond)
	}
	publish(pubB, ev("D"), true)
	expect("D") // read back once each node listens again
	publish(pubA, ev("E"), true)
	expect("E") // live again, and D not twice
	for _, n := range []*node{a, b} {
		if got := n.got.ids(); got != "A/ringing B/ringing C/ringing D/ringing E/ringing" {
			t.Fatalf("a node got %s", got)
		}
	}
}
