// Package realtime holds Switchboard's WebSocket hubs (DESIGN §6): connections registered under an id,
// each with an owner the protocol on top decides about, a bounded send queue drained by one writer, and a
// ping/pong keepalive. A slow client whose queue fills up is closed with CloseSlow; sending never blocks.
// The hub knows nothing of any vendor's messages: the Collect! prompts (handlers/collect) and the
// Accolades CRM socket (handlers/accolades) put their protocols on top of it. Messages queued before a
// close go out before the close frame (except to a client closed for being slow).
package realtime

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Close codes a hub uses.
const (
	// CloseSlow closes a client that does not read its messages fast enough (its send queue is full).
	CloseSlow = websocket.StatusTryAgainLater // 1013
	// ClosePolicy closes a client that is no longer allowed (refused handshake, logout).
	ClosePolicy = websocket.StatusPolicyViolation // 1008
	// CloseShutdown closes every client when the hub stops.
	CloseShutdown = websocket.StatusGoingAway // 1001
)

// Options tune a hub; zero fields take the defaults.
type Options struct {
	SendQueue    int           // messages waiting for one client (default 64)
	PingInterval time.Duration // how often the server pings (default 30 s)
	PongTimeout  time.Duration // how long a ping may wait for its pong, and a write for the client (default 10 s)
	ReadLimit    int64         // largest client message in bytes (default 1 MiB)
}

func (o Options) withDefaults() Options {
	if o.SendQueue <= 0 {
		o.SendQueue = 64
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 30 * time.Second
	}
	if o.PongTimeout <= 0 {
		o.PongTimeout = 10 * time.Second
	}
	if o.ReadLimit <= 0 {
		o.ReadLimit = 1 << 20
	}
	return o
}

// Hub is a set of open connections by id.
type Hub struct {
	opts    Options
	epoch   time.Time // writes are timed from here on the monotonic clock
	mu      sync.Mutex
	conns   map[string]*Conn
	keeping bool // keep runs (while the hub has connections)
}

// New builds a hub.
func New(o Options) *Hub {
	return &Hub{opts: o.withDefaults(), epoch: time.Now(), conns: map[string]*Conn{}}
}

// Conn is one open connection.
type Conn struct {
	ID    string // 16 random bytes, standard base64 (24 characters)
	hub   *Hub
	ws    *websocket.Conn
	send  chan []byte
	wake  chan struct{} // a token when the writer has more than the queue to look at: a close, a ping due
	done  chan struct{}
	ended atomic.Bool // done is closed (Send reads it without a select)
	once  sync.Once
	mu    sync.Mutex
	owner any
	code  websocket.StatusCode
	why   string

	writingSince atomic.Int64 // when the write under way began (ns since the hub's epoch), 0 between writes
	pingDue      atomic.Bool
	lastPing     time.Duration // when keep last asked for a ping (since the epoch; keep's own)
}

// Owner answers what the protocol attached to the connection (nil until SetOwner).
func (c *Conn) Owner() any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.owner
}

// SetOwner attaches the protocol's owner (e.g. the authenticated operator) to the connection.
func (c *Conn) SetOwner(v any) {
	c.mu.Lock()
	c.owner = v
	c.mu.Unlock()
}

// Done is closed once the connection has ended, for whatever reason.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Send queues one text message. It never blocks: when the queue is full the client is too slow and is
// closed with CloseSlow, and Send answers false (as it does once the connection has ended).
func (c *Conn) Send(msg []byte) bool {
	if c.ended.Load() {
		return false
	}
	select {
	case c.send <- msg:
		return true
	default:
		c.Close(CloseSlow, "send queue full: client too slow")
		return false
	}
}

// Close ends the connection with a close code and reason (the first call wins).
func (c *Conn) Close(code websocket.StatusCode, reason string) {
	c.once.Do(func() {
		c.mu.Lock()
		c.code, c.why = code, reason
		c.mu.Unlock()
		c.ended.Store(true)
		close(c.done)
		c.poke()
	})
}

// poke hands the writer a token, unless one waits already.
func (c *Conn) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Get answers the open connection with id, or nil.
func (h *Hub) Get(id string) *Conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.conns[id]
}

// CloseWhere closes every open connection whose owner matches.
func (h *Hub) CloseWhere(match func(owner any) bool, code websocket.StatusCode, reason string) {
	h.mu.Lock()
	var hit []*Conn
	for _, c := range h.conns {
		if match(c.Owner()) {
			hit = append(hit, c)
		}
	}
	h.mu.Unlock()
	for _, c := range hit {
		c.Close(code, reason)
	}
}

// Owners answers the owners of the open connections (nil ones left out).
func (h *Hub) Owners() []any {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]any, 0, len(h.conns))
	for _, c := range h.conns {
		if o := c.Owner(); o != nil {
			out = append(out, o)
		}
	}
	return out
}

// Len answers how many connections are open.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// Handler is the protocol on top of a connection.
type Handler interface {
	// Open runs once the connection is registered, before any message is read; an error closes the
	// connection with ClosePolicy and the error's text. It may read the first messages itself with read.
	Open(ctx context.Context, c *Conn, read func(ctx context.Context) ([]byte, error)) error
	// Message handles one text message from the client, on the connection's read goroutine.
	Message(c *Conn, msg []byte)
	// Closed runs once the connection has ended and left the hub.
	Closed(c *Conn)
}

// Serve upgrades the request and runs the connection until it ends: the calling goroutine reads (handing
// text messages to p.Message), one more writes the send queue and pings. It answers once both have stopped.
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, owner any, p Handler) error {
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{})
	if err != nil {
		return err // Accept answered the client already
	}
	ws.SetReadLimit(h.opts.ReadLimit)
	c := &Conn{ID: newID(), hub: h, ws: ws, send: make(chan []byte, h.opts.SendQueue), wake: make(chan struct{}, 1),
		done: make(chan struct{}), owner: owner, lastPing: time.Since(h.epoch)}
	h.mu.Lock()
	for h.conns[c.ID] != nil {
		c.ID = newID()
	}
	h.conns[c.ID] = c
	if !h.keeping {
		h.keeping = true
		go h.keep()
	}
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.conns, c.ID)
		h.mu.Unlock()
		p.Closed(c)
	}()

	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	defer cancel()
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		defer cancel() // the close handshake is over (or timed out): a read still pending stops
		h.write(ctx, c)
	}()
	read := func(ctx context.Context) ([]byte, error) {
		for {
			typ, msg, err := ws.Read(ctx)
			if err != nil {
				return nil, err
			}
			if typ == websocket.MessageText {
				return msg, nil
			}
		}
	}
	if err := p.Open(ctx, c, read); err != nil {
		c.Close(ClosePolicy, err.Error())
	} else {
		// This goroutine reads (one goroutine fewer per connection than a reader of its own): until the
		// client goes, or, once the connection ends, until the writer's close handshake is over and it
		// cancels ctx.
		for {
			msg, err := read(ctx)
			if err != nil {
				c.Close(websocket.StatusNormalClosure, "")
				break
			}
			p.Message(c, msg)
		}
	}
	<-writerDone // the close handshake, bounded by PongTimeout
	return nil
}

// write drains the send queue, and pings when keep asks, until the connection ends; then it sends the
// close frame. It waits on two channels only: a burst to thousands of clients wakes each writer once.
func (h *Hub) write(ctx context.Context, c *Conn) {
	for {
		select {
		case msg := <-c.send:
			c.writingSince.Store(int64(max(time.Since(h.epoch), 1)))
			err := c.ws.Write(context.Background(), websocket.MessageText, msg)
			c.writingSince.Store(0)
			if err != nil {
				c.Close(websocket.StatusInternalError, "write failed")
			}
		case <-c.wake:
			if c.ended.Load() {
				h.closeFrame(c)
				return
			}
			if c.pingDue.Swap(false) {
				pctx, cancel := context.WithTimeout(ctx, h.opts.PongTimeout)
				err := c.ws.Ping(pctx)
				cancel()
				if err != nil {
					c.Close(websocket.StatusPolicyViolation, "no pong")
				}
			}
		}
	}
}

// closeFrame writes what was queued before the close (a last answer, a goodbye; not to a client closed
// for being slow, which would not read it), then the close frame, within PongTimeout.
func (h *Hub) closeFrame(c *Conn) {
	c.mu.Lock()
	code, why := c.code, c.why
	c.mu.Unlock()
	if len(why) > 120 { // a close frame's reason is at most 123 bytes
		why = why[:120]
	}
	wctx, cancel := context.WithTimeout(context.Background(), h.opts.PongTimeout)
	defer cancel()
	if code != CloseSlow {
		flush(wctx, c)
	}
	_ = closeWithin(wctx, c.ws, code, why)
}

// keep runs while the hub has connections, every quarter of the shorter of PingInterval and PongTimeout:
//   - It asks each connection's writer for a ping once PingInterval has passed since the last.
//   - It cuts off a client that has not taken a message within PongTimeout (its write fails, and the writer
//     closes the connection). Messages are written without a deadline: a context deadline or a timer per
//     message costs a timer-heap entry and an AfterFunc registration each, which a burst to thousands of
//     clients feels (in the sockets bench, a timer per message took the server's CPU for a burst of 10,000
//     from 128-143 ms to 167 ms).
func (h *Hub) keep() {
	tick := time.NewTicker(max(min(h.opts.PingInterval, h.opts.PongTimeout)/4, time.Millisecond))
	defer tick.Stop()
	var stuck []*Conn
	for range tick.C {
		now := time.Since(h.epoch)
		h.mu.Lock()
		if len(h.conns) == 0 {
			h.keeping = false
			h.mu.Unlock()
			return
		}
		for _, c := range h.conns {
			if since := c.writingSince.Load(); since != 0 && now-time.Duration(since) > h.opts.PongTimeout {
				stuck = append(stuck, c)
			}
			if now-c.lastPing >= h.opts.PingInterval {
				c.lastPing = now
				c.pingDue.Store(true)
				c.poke()
			}
		}
		h.mu.Unlock()
		for _, c := range stuck {
			_ = c.ws.CloseNow()
		}
		stuck = stuck[:0]
	}
}

// flush writes the messages still queued when the connection ended, in order, until the queue is empty,
// a write fails or ctx ends: a protocol may Send a last message and Close at once.
func flush(ctx context.Context, c *Conn) {
	for {
		select {
		case msg := <-c.send:
			if c.ws.Write(ctx, websocket.MessageText, msg) != nil {
				return
			}
		default:
			return
		}
	}
}

// closeWithin sends the close frame and waits for the client's, at most until ctx ends.
func closeWithin(ctx context.Context, ws *websocket.Conn, code websocket.StatusCode, why string) error {
	done := make(chan error, 1)
	go func() { done <- ws.Close(code, why) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		_ = ws.CloseNow()
		return errors.New("close handshake timed out")
	}
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}
