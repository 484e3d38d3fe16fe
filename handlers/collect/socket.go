package collect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"switchboard/auth"
	"switchboard/models"
	"switchboard/models/collect"
	"switchboard/realtime"
)

// The Collect! prompt socket, /collect/websocket (openapi/asyncapi/collect-ws.yaml), on a realtime hub.
// A socket belongs to one operator of one database: the access token is checked at the upgrade
// (`access_token` query parameter or `Authorization: Bearer`), or, for the document's client that opens
// the socket with no credentials (R15), in its `key` handshake (`{"type":"key","access_token":…}` as the
// first message). Then the server sends `key` with the socket's id. The socket only carries the
// prompts of runs that named it; answers go to the run waiting for them.

// Defaults of the prompt socket.
const (
	DefaultPromptTimeout = 300 * time.Second // an unanswered prompt fails its plan
	handshakeTimeout     = 10 * time.Second  // a socket opened without a token must send its key handshake by then
)

// socketOwner is who a socket belongs to.
type socketOwner struct {
	operatorID, databaseID, sessionID int64
}

// prompts is the hub and the prompts waiting for an answer, by jobid (a run has at most one at a time).
type prompts struct {
	hub     *realtime.Hub
	timeout time.Duration
	mu      sync.Mutex
	waiting map[string]*waiting
}

// waiting is one pending prompt.
type waiting struct {
	socket string
	step   collect.Step
	answer chan answer // buffered: the first valid answer is kept
}

// answer is a buttonAnswer or formAnswer.
type answer struct {
	JobID  string            `json:"jobid"`
	Button *int32            `json:"button"`
	Data   map[string]string `json:"data,omitempty"`
}

func newPrompts(timeout time.Duration) *prompts {
	if timeout <= 0 {
		timeout = DefaultPromptTimeout
	}
	return &prompts{hub: realtime.New(realtime.Options{}), timeout: timeout, waiting: map[string]*waiting{}}
}

// Sockets mounts the prompt socket (server.Sockets).
func (h *Handler) Sockets() map[string]echo.HandlerFunc {
	return map[string]echo.HandlerFunc{"/collect/websocket": h.serveSocket}
}

// serveSocket authenticates the upgrade when it carries a token (a bad one answers 401 in Collect!'s error
// shape, and no socket is opened), then runs the socket.
func (h *Handler) serveSocket(c echo.Context) error {
	r := c.Request()
	tok := r.URL.Query().Get("access_token")
	if b, ok := auth.Bearer(r.Header.Get(echo.HeaderAuthorization)); ok && tok == "" {
		tok = b
	}
	var owner any
	if tok != "" {
		var caller *collect.Caller
		var err error
		if name := r.Header.Get("x-collect-database"); name != "" {
			caller, err = h.sessions.Authenticate(r.Context(), name, tok)
		} else {
			caller, err = h.sessions.AuthenticateAny(r.Context(), tok)
		}
		if err != nil {
			status, ok := statuses[models.KindOf(err)]
			if !ok {
				status = http.StatusInternalServerError
			}
			return WriteError(c, status, models.Message(err))
		}
		owner = ownerOf(caller)
	}
	return h.prompts.hub.Serve(c.Response(), r, owner, &socketProtocol{h: h})
}

func ownerOf(c *collect.Caller) *socketOwner {
	return &socketOwner{operatorID: c.Operator.ID, databaseID: c.Database.ID, sessionID: c.SessionID}
}

// socketProtocol is the Collect! protocol on a hub connection.
type socketProtocol struct{ h *Handler }

// keyRequest is the client's key handshake (R15).
type keyRequest struct {
	Type        string `json:"type"`
	AccessToken string `json:"access_token"`
}

// Open authenticates a socket opened without a token through its key handshake, then sends `key`.
func (p *socketProtocol) Open(ctx context.Context, c *realtime.Conn, read func(context.Context) ([]byte, error)) error {
	if c.Owner() == nil {
		rctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
		msg, err := read(rctx)
		cancel()
		if err != nil {
			return errors.New("not authorized: no key handshake")
		}
		var k keyRequest
		if err := strictJSON(msg, &k); err != nil || k.Type != "key" || k.AccessToken == "" {
			return errors.New(`not authorized: the first message must be {"type":"key","access_token":…}`)
		}
		caller, err := p.h.sessions.AuthenticateAny(ctx, k.AccessToken)
		if err != nil {
			return errors.New("not authorized: " + models.Message(err))
		}
		c.SetOwner(ownerOf(caller))
	}
	out, _ := json.Marshal(map[string]string{"type": "key", "message": c.ID})
	c.Send(out)
	p.h.watchSessions()
	return nil
}

var jobIDPattern = regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$`)

// Message takes a prompt answer. One that is not a buttonAnswer or formAnswer, names a jobid with no
// prompt pending on this socket, or a button the prompt did not offer, is ignored (the prompt stays
// pending until a valid answer or its timeout).
func (p *socketProtocol) Message(c *realtime.Conn, msg []byte) {
	var a answer
	if err := strictJSON(msg, &a); err != nil || a.Button == nil || !jobIDPattern.MatchString(a.JobID) {
		return
	}
	ps := p.h.prompts
	ps.mu.Lock()
	w := ps.waiting[a.JobID]
	if w == nil || w.socket != c.ID || !w.step.Offers(*a.Button) {
		ps.mu.Unlock()
		return
	}
	delete(ps.waiting, a.JobID)
	ps.mu.Unlock()
	w.answer <- a
}

// Closed: a run waiting on the socket notices through the connection's Done.
func (p *socketProtocol) Closed(*realtime.Conn) {}

// strictJSON decodes one JSON object with no unknown fields.
func strictJSON(msg []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(msg))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

// sessionCheck is how often a node with open sockets looks whether a revocation was made or heard since the
// last look, and if so closes the sockets whose session has ended (closeEndedSockets).
const sessionCheck = time.Second

// watchSessions runs the session check while the node holds sockets; a socket's Open starts it.
func (h *Handler) watchSessions() {
	h.watchMu.Lock()
	defer h.watchMu.Unlock()
	if h.watching {
		return
	}
	h.watching = true
	go func() {
		t := time.NewTicker(sessionCheck)
		defer t.Stop()
		seen := collect.RevocationCount(h.db)
		for range t.C {
			h.watchMu.Lock()
			if h.prompts.hub.Len() == 0 {
				h.watching = false
				h.watchMu.Unlock()
				return
			}
			h.watchMu.Unlock()
			if now := collect.RevocationCount(h.db); now != seen && h.closeEndedSockets() {
				seen = now
			}
		}
	}()
}

// closeEndedSockets closes, with 1008, the sockets whose session has ended: logged out, refreshed away
// with a replayed token, or ended with its operator (new password, deactivated, deleted), on whichever
// node. It answers false when the store could not tell (the next check tries again).
func (h *Handler) closeEndedSockets() bool {
	var ids []int64
	for _, o := range h.prompts.hub.Owners() {
		if so, ok := o.(*socketOwner); ok {
			ids = append(ids, so.sessionID)
		}
	}
	if len(ids) == 0 {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	live, err := collect.LiveSessions(ctx, h.db, ids)
	if err != nil {
		h.log.Warn("Collect!: checking the sessions of open sockets", "error", err)
		return false
	}
	h.prompts.hub.CloseWhere(func(o any) bool {
		so, ok := o.(*socketOwner)
		return ok && !live[so.sessionID]
	}, realtime.ClosePolicy, "session ended")
	return true
}

// closeSessionSockets closes the sockets opened with a session (logout).
func (h *Handler) closeSessionSockets(sessionID int64) {
	h.prompts.hub.CloseWhere(func(o any) bool {
		so, ok := o.(*socketOwner)
		return ok && so.sessionID == sessionID
	}, realtime.ClosePolicy, "logged out")
}
