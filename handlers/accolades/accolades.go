// Package accolades serves the Accolades CRM: the WebSocket at /accolades (openapi/asyncapi/accolades-crm.yaml,
// socket.go) that tells a CRM about its agent's calls, the listener that feeds it from the call-event
// stream (Deliver, deliver.go), and the REST API at /accolades-api (openapi/accolades-api.yaml, rest.go:
// ping/ and dial/), every error in Accolades' shape.
package accolades

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"switchboard/auth"
	"switchboard/gateway"
	"switchboard/gen/accoladesapi"
	"switchboard/models"
	"switchboard/models/accolades"
	"switchboard/models/events"
	"switchboard/realtime"
	"switchboard/server"
)

// Handler serves the Accolades REST API and CRM WebSocket of one node.
type Handler struct {
	accoladesapi.Unimplemented
	db        *gorm.DB
	log       *slog.Logger
	logins    *auth.Guard
	publisher events.Publisher // nil: calls started here reach this node's sockets only
	ring      gateway.Gateway  // rings dial/'s device
	ctx       context.Context  // the handler's lifetime (dial/'s rings run in it)

	hub         *realtime.Hub
	leases      *accolades.Leases
	authTimeout time.Duration
	renew       time.Duration

	mu      sync.Mutex
	byCrm   map[string]*session   // connections that hold (or are taking) a CRM id on this node
	all     map[*session]struct{} // every open connection
	beating bool                  // the lease heartbeat runs
	closing bool                  // the handler is shutting down

	stopOnce sync.Once
}

var (
	_ accoladesapi.StrictServerInterface = (*Handler)(nil)
	_ server.API                         = (*Handler)(nil)
	_ server.Sockets                     = (*Handler)(nil)
	_ events.Listener                    = (*Handler)(nil).Deliver
)

// Config is what the Accolades handler is built from. Zero durations take the defaults.
type Config struct {
	DB     *gorm.DB
	Log    *slog.Logger
	Logins *auth.Guard // the server's one login guard: REST passwords are throttled with every other login
	// Publisher publishes the calls dial/ starts (and the bus built on it calls Deliver on every node). Nil
	// until the call-event stream is wired: dial/'s events then go straight to this node's Deliver.
	Publisher events.Publisher
	// Sim is the delivery simulator dial/ rings devices through.
	Sim gateway.SimConfig
	// Hub tunes the WebSocket hub; zero fields take the Accolades defaults (DefaultHub).
	Hub realtime.Options
	// AuthTimeout closes a connection that has not authenticated by then (DefaultAuthTimeout).
	AuthTimeout time.Duration
	// LeaseRenew and LeaseTTL time the CRM id leases (accolades.LeaseRenew, accolades.LeaseTTL).
	LeaseRenew, LeaseTTL time.Duration
}

// Defaults of the CRM socket.
const (
	DefaultAuthTimeout = 30 * time.Second
	// Version is the API version the socket answers (the document's "current API is at version 1.1.0").
	Version = "1.1.0"
)

// DefaultHub is the Accolades hub: a ping every 15 s with 5 s for its pong, so a CRM whose network dropped
// frees its CRM id within 20 s (ambiguity 43); messages of at most 4 KiB (the largest the document shows is
// under 100 bytes); 64 messages queued per CRM before it counts as too slow.
var DefaultHub = realtime.Options{SendQueue: 64, PingInterval: 15 * time.Second, PongTimeout: 5 * time.Second, ReadLimit: 4 << 10}

// New builds the Accolades API of this node. When ctx ends, or at Stop, every CRM connection gets
// connectionClosed and close code 1001, and the node's leases are released.
func New(ctx context.Context, c Config) (*Handler, error) {
	ring, err := gateway.NewSimulator(c.Sim)
	if err != nil {
		return nil, err
	}
	o := c.Hub
	d := DefaultHub
	if o.SendQueue <= 0 {
		o.SendQueue = d.SendQueue
	}
	if o.PingInterval <= 0 {
		o.PingInterval = d.PingInterval
	}
	if o.PongTimeout <= 0 {
		o.PongTimeout = d.PongTimeout
	}
	if o.ReadLimit <= 0 {
		o.ReadLimit = d.ReadLimit
	}
	h := &Handler{db: c.DB, log: c.Log, logins: c.Logins, publisher: c.Publisher, ring: ring, ctx: ctx,
		hub: realtime.New(o), leases: accolades.NewLeases(c.DB, newNode(), c.LeaseTTL),
		authTimeout: c.AuthTimeout, renew: c.LeaseRenew,
		byCrm: map[string]*session{}, all: map[*session]struct{}{}}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.logins == nil {
		h.logins = auth.NewGuard(auth.GuardConfig{})
	}
	if h.authTimeout <= 0 {
		h.authTimeout = DefaultAuthTimeout
	}
	if h.renew <= 0 {
		h.renew = accolades.LeaseRenew
	}
	context.AfterFunc(ctx, h.shutdown)
	return h, nil
}

// newNode answers this process's node id, which its leases carry.
func newNode() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Name is the REST contract's name and mount prefix.
func (h *Handler) Name() string { return "accolades-api" }

// Register mounts the generated REST routes.
func (h *Handler) Register(g *echo.Group) {
	accoladesapi.RegisterHandlers(g, accoladesapi.NewStrictHandler(h, nil))
}

// Identify is never called: every REST operation is public to the contract middleware and checks the
// account's password from its form itself (a credential in the body, which OpenAPI cannot declare).
func (h *Handler) Identify(echo.Context) (*auth.Principal, error) {
	return nil, models.Errorf(models.Unauthenticated, "Unauthorized")
}

// Permissions is empty: no operation is secured in the contract's sense.
func (h *Handler) Permissions() map[string][]string { return nil }

// Allows grants nothing (nothing asks).
func (h *Handler) Allows(*auth.Principal, string) bool { return false }

// Statuses: the vendor's 400; a throttled password (too many failures) is its "IP address rejected" 403,
// and a conflict with a concurrent write is a busy store (the only writes are call events).
func (h *Handler) Statuses() map[models.Kind]int { return statuses }

var statuses = map[models.Kind]int{
	models.Invalid:         http.StatusBadRequest,
	models.Unsupported:     http.StatusBadRequest,
	models.Unauthenticated: http.StatusUnauthorized,
	models.Throttled:       http.StatusForbidden,
	models.Forbidden:       http.StatusForbidden,
	models.NotFound:        http.StatusNotFound,
	models.TooLarge:        http.StatusRequestEntityTooLarge,
	models.Conflict:        http.StatusServiceUnavailable,
	models.Busy:            http.StatusServiceUnavailable,
}

// errorBody is the vendor's error: {"type":"Error","message":…,"code":…}.
type errorBody struct {
	Type    string `json:"type"`
	Message string `json:"message"`
	Code    string `json:"code"`
}

// tooLargePrefix starts the server's message for a form or JSON body over the body limit, which it answers
// with the API's validation status: the vendor documents 413 for it.
const tooLargePrefix = "Data validation failed, request body is larger than"

// WriteError writes Accolades' error body: the vendor's message for the status (a 400, 404 or 503 adds
// what is wrong), and the status as code (403.6 for a rejected address).
func (h *Handler) WriteError(c echo.Context, status int, msg string) error {
	return WriteError(c, status, msg)
}

// WriteError writes Accolades' error body (see Handler.WriteError).
func WriteError(c echo.Context, status int, msg string) error {
	if status == http.StatusBadRequest && strings.HasPrefix(msg, tooLargePrefix) {
		status = http.StatusRequestEntityTooLarge
	}
	code := strconv.Itoa(status)
	detail := strings.TrimPrefix(msg, "Data validation failed, ")
	switch status {
	case http.StatusBadRequest:
		msg = "Bad request: " + detail
	case http.StatusUnauthorized:
		msg = "Unauthorized"
	case http.StatusForbidden:
		msg, code = "IP address rejected", "403.6"
	case http.StatusNotFound:
		msg = "Not found"
		if detail != "" && detail != "Not Found" {
			msg += ": " + detail
		}
	case http.StatusRequestEntityTooLarge:
		msg = "Payload Too Large"
	case http.StatusInternalServerError:
		msg = "Internal server error"
	case http.StatusServiceUnavailable:
		msg = "Service unavailable: " + detail
	}
	if len(msg) > 2000 {
		msg = msg[:2000]
	}
	return c.JSON(status, errorBody{Type: "Error", Message: strings.ToValidUTF8(msg, ""), Code: code})
}
