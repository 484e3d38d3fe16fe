package realtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"switchboard/models/events"
)

// Relay carries call events between the nodes of one Postgres store: each node LISTENs on the store's
// channel on a connection of its own and hands every event announced there (by pg_notify, at the commit
// of the transaction that recorded it, on any node) to its bus. An event too large for a notification
// comes by id and is read back.
//
// When the connection drops, the relay reconnects with a backoff (RelayMinWait doubling to RelayMaxWait)
// and, once listening again, reads back the events received since a little before the drop (catchUpMargin,
// for commits under way and clocks a little apart; at most catchUpLimit events, and none older than
// CatchUp), so a short outage loses none. A relay remembers the ids it delivered lately (recentKept) and
// does not deliver one twice. Other notices on the channel go to their watchers (Watch): Collect!'s session
// revocations.
type Relay struct {
	bus     *Bus
	db      *gorm.DB
	dsn     string
	log     *slog.Logger
	channel string

	minWait, maxWait, catchUp, idle time.Duration

	mu   sync.Mutex
	seen recentIDs

	watchers map[string]Watcher // by notice (Watch)

	cancel context.CancelFunc
	done   chan struct{}
}

// Watcher hears a notice announced on the store's channel (events.Announce) that is not a call event, and
// whether the relay listens: a notice sent while it did not is lost, so what it stands for must be assumed.
type Watcher interface {
	Heard()
	Listening(on bool)
}

// Watch hands the notices equal to notice to w, and tells it whether the relay listens. Call it before
// Start.
func (r *Relay) Watch(notice string, w Watcher) {
	if r.watchers == nil {
		r.watchers = map[string]Watcher{}
	}
	r.watchers[notice] = w
}

// listening tells every watcher whether the relay listens now.
func (r *Relay) listening(on bool) {
	for _, w := range r.watchers {
		w.Listening(on)
	}
}

// Relay timing: the reconnect backoff, how far back a reconnect reads missed events at most, and how long
// the connection may stay silent before the relay checks it with a ping.
const (
	RelayMinWait  = 100 * time.Millisecond
	RelayMaxWait  = 30 * time.Second
	CatchUp       = 5 * time.Minute
	catchUpMargin = 10 * time.Second
	relayIdle     = 30 * time.Second
	catchUpLimit  = 10000
	recentKept    = 1 << 14
)

// RelayOptions tune a relay; zero values take the defaults above.
type RelayOptions struct {
	MinWait, MaxWait, CatchUp time.Duration
}

// NewRelay answers the relay of a Postgres store (the URL it was opened with gives the LISTEN
// connection) into bus.
func NewRelay(bus *Bus, db *gorm.DB, log *slog.Logger, o RelayOptions) (*Relay, error) {
	d, ok := db.Dialector.(*postgres.Dialector)
	if !ok || d.Config == nil || d.Config.DSN == "" {
		return nil, errors.New("relay: the Postgres store was opened without a URL to listen on")
	}
	if log == nil {
		log = slog.Default()
	}
	r := &Relay{bus: bus, db: db, dsn: d.Config.DSN, log: log.With("component", "call-event relay"),
		minWait: o.MinWait, maxWait: o.MaxWait, catchUp: o.CatchUp, idle: relayIdle, seen: newRecentIDs(recentKept)}
	if r.minWait <= 0 {
		r.minWait = RelayMinWait
	}
	if r.maxWait <= 0 {
		r.maxWait = RelayMaxWait
	}
	r.maxWait = max(r.maxWait, r.minWait)
	if r.catchUp <= 0 {
		r.catchUp = CatchUp
	}
	return r, nil
}

// Start listens, and answers once the node hears events: an event committed after Start returned reaches
// this node's bus. The relay runs until Stop (not until ctx ends: a signal must not cut it before the
// HTTP server has drained).
func (r *Relay) Start(ctx context.Context) error {
	ch, err := events.Channel(ctx, r.db)
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	r.channel = ch
	conn, err := r.listen(ctx)
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.cancel, r.done = cancel, make(chan struct{})
	r.listening(true)
	go r.run(runCtx, conn)
	return nil
}

// Stop closes the LISTEN connection and waits for the relay to end.
func (r *Relay) Stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	<-r.done
	r.listening(false)
}

// listen opens the connection and LISTENs on the channel.
func (r *Relay) listen(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, r.dsn)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{r.channel}.Sanitize()); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return conn, nil
}

func (r *Relay) run(ctx context.Context, conn *pgx.Conn) {
	defer close(r.done)
	wait := r.minWait
	var lost time.Time
	for {
		if conn != nil {
			err := r.receive(ctx, conn)
			r.listening(false)
			lost = time.Now()
			closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = conn.Close(closeCtx)
			cancel()
			conn = nil
			if ctx.Err() != nil {
				return
			}
			r.log.Warn("LISTEN connection lost; reconnecting", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		c, err := r.listen(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			wait = min(2*wait, r.maxWait)
			r.log.Warn("LISTEN reconnect failed", "error", err, "retry_in", wait)
			continue
		}
		conn, wait = c, r.minWait
		r.listening(true)
		r.catchUpMissed(ctx, lost)
		r.log.Info("LISTEN connection restored")
	}
}

// receive hands on notifications until the connection fails or ctx ends. A connection silent for
// r.idle is pinged, so a dead one is noticed.
func (r *Relay) receive(ctx context.Context, conn *pgx.Conn) error {
	for {
		waitCtx, cancel := context.WithTimeout(ctx, r.idle)
		n, err := conn.WaitForNotification(waitCtx)
		cancel()
		switch {
		case err == nil:
			r.handle(ctx, n.Payload)
			continue
		case ctx.Err() != nil:
			return ctx.Err()
		case pgconn.Timeout(err) && !conn.IsClosed():
			pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err = conn.Ping(pingCtx)
			cancel()
			if err == nil {
				continue
			}
		}
		return err
	}
}

// handle delivers the event of one notification, read back when it came by id.
func (r *Relay) handle(ctx context.Context, payload string) {
	if w, ok := r.watchers[payload]; ok {
		w.Heard()
		return
	}
	rec, whole, err := events.DecodeNotification(payload)
	if err != nil {
		r.log.Warn("ignored a notification that is not a call event", "error", err)
		return
	}
	if !whole {
		if rec, err = events.Get(ctx, r.db, rec.ID); err != nil {
			r.log.Error("a call event announced by id could not be read", "id", rec.ID, "error", err)
			return
		}
	}
	r.deliver(rec)
}

// catchUpMissed delivers the events recorded while the connection was down (lost at lost).
func (r *Relay) catchUpMissed(ctx context.Context, lost time.Time) {
	since := lost.Add(-catchUpMargin)
	if oldest := time.Now().Add(-r.catchUp); since.Before(oldest) {
		since = oldest
	}
	missed, err := events.Since(ctx, r.db, 0, since, catchUpLimit)
	if err != nil {
		r.log.Error("reading the call events missed while LISTEN was down failed", "error", err)
		return
	}
	for _, rec := range missed {
		r.deliver(rec)
	}
}

func (r *Relay) deliver(rec events.Record) {
	r.mu.Lock()
	fresh := r.seen.add(rec.ID)
	r.mu.Unlock()
	if fresh {
		r.bus.Deliver(rec.CallEvent)
	}
}

// recentIDs remembers the last n ids added.
type recentIDs struct {
	set  map[int64]struct{}
	ring []int64
	at   int
}

func newRecentIDs(n int) recentIDs {
	return recentIDs{set: make(map[int64]struct{}, n), ring: make([]int64, 0, n)}
}

// add answers false when id is remembered already, else remembers it (forgetting the oldest).
func (s *recentIDs) add(id int64) bool {
	if _, ok := s.set[id]; ok {
		return false
	}
	if len(s.ring) < cap(s.ring) {
		s.ring = append(s.ring, id)
	} else {
		delete(s.set, s.ring[s.at])
		s.ring[s.at] = id
		s.at = (s.at + 1) % len(s.ring)
	}
	s.set[id] = struct{}{}
	return true
}
