package accolades

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/labstack/echo/v4"

	"switchboard/models"
	"switchboard/models/accolades"
	"switchboard/realtime"
)

// The CRM socket, /accolades (openapi/asyncapi/accolades-crm.yaml), on a realtime hub. A connection starts
// unauthenticated: `version` works, `configuration` gets error NOT_AUTHENTICATED, and `authRequest{idCrm}`
// either authenticates it as the agent with that CRM id (`authSucces`) or is refused (`authFailed`, then
// close code 4001). One connection per CRM id: on this node the registry (byCrm) says so, across nodes the
// CRM id's lease (models/accolades/leases.go), which the node's heartbeat renews while it holds any. Call
// events reach an authenticated connection through Deliver (deliver.go).

// Close codes of the CRM socket beyond the hub's (1001 shutdown, 1008 no pong, 1009 message too big, 1013
// too slow).
const (
	// CloseAuth closes a connection whose authentication failed (the reason is authFailed's, or
	// AUTH_TIMEOUT when no authRequest came in time).
	CloseAuth websocket.StatusCode = 4001
	// CloseGone closes a connection whose CRM id is no longer its own: the agent was deleted
	// (AGENT_DELETED) or another node took the CRM id's lease after this node missed its renewals
	// (LEASE_LOST).
	CloseGone websocket.StatusCode = 4002
)

// session is one connection: its address, and once authenticated, its CRM id and lease token.
type session struct {
	conn *realtime.Conn
	addr string // the connection's remote address (IP allow-lists)

	mu       sync.Mutex
	crm      string // set while taking the CRM id and once it is held
	token    string // the lease's token
	authed   bool   // the CRM id is held: call events are pushed
	leasedAt time.Time
	timer    *time.Timer // closes a connection that does not authenticate in time
}

func (s *session) authenticated() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authed
}

// Sockets mounts the CRM socket (server.Sockets).
func (h *Handler) Sockets() map[string]echo.HandlerFunc {
	return map[string]echo.HandlerFunc{"/accolades": h.serveSocket}
}

func (h *Handler) serveSocket(c echo.Context) error {
	r := c.Request()
	return h.hub.Serve(c.Response(), r, &session{addr: r.RemoteAddr}, protocol{h})
}

// The messages the server sends.
type (
	authSucces struct {
		Type    string `json:"type"`
		Version string `json:"version"`
	}
	reasoned struct { // authFailed and error
		Type   string `json:"type"`
		Reason string `json:"reason"`
	}
	versionMsg struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	}
	entity struct {
		ID   string `json:"id"`
		Data string `json:"data"`
	}
	configurationMsg struct {
		Type    string `json:"type"`
		Account entity `json:"account"`
		Phone   entity `json:"phone"`
		Agent   entity `json:"agent"`
	}
)

// The reasons of error messages (Switchboard's addition) and of authFailed.
const (
	errInvalid         = "INVALID_MESSAGE"
	errUnknownType     = "UNKNOWN_TYPE"
	errNotAuthed       = "NOT_AUTHENTICATED"
	errAlreadyAuthed   = "ALREADY_AUTHENTICATED"
	errUnavailable     = "SERVICE_UNAVAILABLE"
	failIDNotFound     = "ID_NOT_FOUND"
	failIPMismatch     = "IP_MISSMATCH" // sic: the document's spelling, which clients match (ambiguity 36)
	failExists         = "CONNECTION_EXISTS"
	reasonAuthTimeout  = "AUTH_TIMEOUT"
	reasonAgentDeleted = "AGENT_DELETED"
	reasonLeaseLost    = "LEASE_LOST"
)

func send(c *realtime.Conn, v any) {
	b, err := json.Marshal(v)
	if err == nil {
		c.Send(b)
	}
}

var connectionClosed = []byte(`{"type":"connectionClosed"}`)

// goodbye sends connectionClosed and closes: the server ends a connection that did nothing wrong.
func goodbye(c *realtime.Conn, code websocket.StatusCode, reason string) {
	c.Send(connectionClosed)
	c.Close(code, reason)
}

// protocol is the Accolades CRM protocol on a hub connection.
type protocol struct{ h *Handler }

// Open registers the connection and starts its authentication clock; a connection arriving while the
// node shuts down is told so at once.
func (p protocol) Open(_ context.Context, c *realtime.Conn, _ func(context.Context) ([]byte, error)) error {
	h := p.h
	s := c.Owner().(*session)
	s.conn = c
	h.mu.Lock()
	closing := h.closing
	if !closing {
		h.all[s] = struct{}{}
	}
	h.mu.Unlock()
	if closing {
		goodbye(c, websocket.StatusGoingAway, "server shutting down")
		return nil
	}
	s.mu.Lock()
	s.timer = time.AfterFunc(h.authTimeout, func() {
		if !s.authenticated() {
			c.Close(CloseAuth, reasonAuthTimeout)
		}
	})
	s.mu.Unlock()
	return nil
}

// incoming is what every client message is read as: its type, and authRequest's CRM id. Other fields are
// ignored (the document's messages carry none, and a client's additions are no error).
type incoming struct {
	Type  *string         `json:"type"`
	IDCrm json.RawMessage `json:"idCrm"`
}

// Message answers one client message, on the connection's read goroutine (so one at a time).
func (p protocol) Message(c *realtime.Conn, msg []byte) {
	s := c.Owner().(*session)
	var in incoming
	if err := json.Unmarshal(msg, &in); err != nil || in.Type == nil {
		send(c, reasoned{"error", errInvalid})
		return
	}
	switch *in.Type {
	case "version":
		send(c, versionMsg{"version", Version})
	case "authRequest":
		var crm string
		if err := json.Unmarshal(in.IDCrm, &crm); err != nil || crm == "" || len(crm) > 64 {
			send(c, reasoned{"error", errInvalid})
			return
		}
		if s.authenticated() {
			send(c, reasoned{"error", errAlreadyAuthed})
			return
		}
		p.h.authenticate(s, crm)
	case "configuration":
		if !s.authenticated() {
			send(c, reasoned{"error", errNotAuthed})
			return
		}
		p.h.configuration(s)
	default:
		send(c, reasoned{"error", errUnknownType})
	}
}

// storeTimeout bounds the store's work for one message.
const storeTimeout = 10 * time.Second

// authenticate answers an authRequest: the agent must exist (ID_NOT_FOUND), allow the connection's address
// (IP_MISSMATCH), and have no live connection on any node (CONNECTION_EXISTS); a refusal closes with 4001. A
// store that does not answer gets error SERVICE_UNAVAILABLE, and the connection may try again.
func (h *Handler) authenticate(s *session, crm string) {
	c := s.conn
	ctx, cancel := context.WithTimeout(h.ctx, storeTimeout)
	defer cancel()
	fail := func(reason string) {
		send(c, reasoned{"authFailed", reason})
		c.Close(CloseAuth, reason)
	}
	found, err := accolades.FindByCrmID(ctx, h.db, crm)
	switch {
	case models.KindOf(err) == models.NotFound:
		fail(failIDNotFound)
		return
	case err != nil:
		h.log.Warn("accolades: authRequest: store", "error", err)
		send(c, reasoned{"error", errUnavailable})
		return
	case !found.Agent.Allows(s.addr):
		fail(failIPMismatch)
		return
	}

	// This node first: a live connection holding or taking the CRM id refuses; one that has ended but not
	// yet left (its close handshake under way) gives way.
	token := newToken()
	h.mu.Lock()
	if h.closing { // the node is stopping: this connection has its connectionClosed already
		h.mu.Unlock()
		return
	}
	if old := h.byCrm[crm]; old != nil && !ended(old.conn) {
		h.mu.Unlock()
		fail(failExists)
		return
	}
	h.byCrm[crm] = s
	h.mu.Unlock()
	s.mu.Lock()
	s.crm, s.token = crm, token
	s.mu.Unlock()
	release := func() {
		h.mu.Lock()
		if h.byCrm[crm] == s {
			delete(h.byCrm, crm)
		}
		h.mu.Unlock()
		s.mu.Lock()
		s.crm, s.token = "", ""
		s.mu.Unlock()
	}

	// Then every node, through the lease.
	now := time.Now()
	ok, err := h.leases.Acquire(ctx, crm, token, now)
	if err != nil {
		release()
		h.log.Warn("accolades: authRequest: lease", "error", err)
		send(c, reasoned{"error", errUnavailable})
		return
	}
	if !ok {
		release()
		fail(failExists)
		return
	}
	s.mu.Lock()
	// The lease counts as taken once Acquire has committed, not when it began: a heartbeat whose renewal
	// started in between does not see it, and must not judge this connection by it.
	s.authed, s.leasedAt = true, time.Now()
	if s.timer != nil {
		s.timer.Stop()
	}
	s.mu.Unlock()
	send(c, authSucces{"authSucces", Version})
	h.startHeartbeat()
}

// ended tells whether a connection has ended (it may not have left the hub yet).
func ended(c *realtime.Conn) bool {
	select {
	case <-c.Done():
		return true
	default:
		return false
	}
}

func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// configuration answers the account's, the phone's and the agent's ids and texts, read afresh. An agent
// deleted meanwhile ends the connection (connectionClosed, 4002 AGENT_DELETED).
func (h *Handler) configuration(s *session) {
	s.mu.Lock()
	crm := s.crm
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(h.ctx, storeTimeout)
	defer cancel()
	found, err := accolades.FindByCrmID(ctx, h.db, crm)
	switch {
	case models.KindOf(err) == models.NotFound:
		goodbye(s.conn, CloseGone, reasonAgentDeleted)
		return
	case err != nil:
		h.log.Warn("accolades: configuration: store", "error", err)
		send(s.conn, reasoned{"error", errUnavailable})
		return
	}
	send(s.conn, configurationMsg{Type: "configuration",
		Account: entity{ID: found.Account.AccountNumber, Data: found.Account.Data},
		Phone:   entity{ID: found.Agent.DeviceID, Data: found.Agent.PhoneData},
		Agent:   entity{ID: strconv.FormatInt(found.Agent.ID, 10), Data: found.Agent.Data}})
}

// Closed forgets the connection and gives up its lease.
func (p protocol) Closed(c *realtime.Conn) {
	h := p.h
	s := c.Owner().(*session)
	s.mu.Lock()
	crm, token, authed := s.crm, s.token, s.authed
	if s.timer != nil {
		s.timer.Stop()
	}
	s.mu.Unlock()
	h.mu.Lock()
	delete(h.all, s)
	if crm != "" && h.byCrm[crm] == s {
		delete(h.byCrm, crm)
	}
	h.mu.Unlock()
	if !authed {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(h.ctx), storeTimeout)
	defer cancel()
	if err := h.leases.Release(ctx, crm, token); err != nil {
		h.log.Warn("accolades: release lease (it expires by itself)", "error", err)
	}
}

// startHeartbeat runs the lease heartbeat unless it runs already; it stops when the node holds no
// connection, and starts again with the next.
func (h *Handler) startHeartbeat() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.beating || h.closing {
		return
	}
	h.beating = true
	go h.heartbeat()
}

// heartbeat renews the node's leases every renew interval, and ends each connection whose lease is gone
// (its agent was deleted) or taken (another node's after this one missed renewals).
func (h *Handler) heartbeat() {
	t := time.NewTicker(h.renew)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
		}
		h.mu.Lock()
		if len(h.byCrm) == 0 || h.closing {
			h.beating = false
			h.mu.Unlock()
			return
		}
		h.mu.Unlock()
		start := time.Now()
		ctx, cancel := context.WithTimeout(h.ctx, storeTimeout)
		held, err := h.leases.Renew(ctx, start)
		cancel()
		if err != nil {
			h.log.Warn("accolades: renew leases", "error", err)
			continue
		}
		type lost struct {
			s           *session
			crm, reason string
		}
		var gone []lost
		h.mu.Lock()
		for crm, s := range h.byCrm {
			s.mu.Lock()
			judge := s.authed && s.leasedAt.Before(start) // a lease taken after the renewal began is not in held
			token := s.token
			s.mu.Unlock()
			if !judge {
				continue
			}
			switch t, ok := held[crm]; {
			case !ok:
				gone = append(gone, lost{s, crm, reasonAgentDeleted})
			case t != token:
				gone = append(gone, lost{s, crm, reasonLeaseLost})
			}
		}
		h.mu.Unlock()
		for _, g := range gone {
			if g.reason == reasonAgentDeleted { // or another node took the lease (and may have given it up since)
				ctx, cancel := context.WithTimeout(h.ctx, storeTimeout)
				_, err := accolades.FindByCrmID(ctx, h.db, g.crm)
				cancel()
				if err == nil {
					g.reason = reasonLeaseLost
				} else if models.KindOf(err) != models.NotFound {
					continue // the store will tell at the next beat
				}
			}
			goodbye(g.s.conn, CloseGone, g.reason)
		}
	}
}

// Stop ends every CRM connection (connectionClosed, close code 1001) and releases the node's leases, so
// the CRMs reconnect to another node, or to this one restarted, at once; then it waits until the
// connections have gone, or ctx ends. Call it before the store closes; calling it again does nothing new.
func (h *Handler) Stop(ctx context.Context) {
	h.shutdown()
	for {
		h.mu.Lock()
		n := len(h.all)
		h.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// shutdown is Stop without the wait, also run when the handler's context ends; a second call waits
// for the first to finish.
func (h *Handler) shutdown() { h.stopOnce.Do(h.closeAll) }

func (h *Handler) closeAll() {
	h.mu.Lock()
	h.closing = true
	all := make([]*session, 0, len(h.all))
	for s := range h.all {
		all = append(all, s)
	}
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := h.leases.ReleaseAll(ctx); err != nil {
		h.log.Warn("accolades: release leases at shutdown (they expire by themselves)", "error", err)
	}
	for _, s := range all {
		goodbye(s.conn, websocket.StatusGoingAway, "server shutting down")
	}
}
