// Package ucontact serves the uContact Integra contract in openapi/ucontact.yaml: the logins and their API
// keys (auth.go), agent login and logoff, two-step calls and dispositions (telephony.go), the dialer's
// records and bases, dialled by jobs on the job queue (dialer.go), and SMS through the gateway layer
// (sms.go); every error in uContact's own plain-text form (0, or ERROR for SendSMS and ReceiveURLSMS).
package ucontact

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"switchboard/auth"
	"switchboard/gateway"
	"switchboard/gen/ucontactapi"
	"switchboard/models"
	"switchboard/models/events"
	"switchboard/models/ucontact"
	"switchboard/queue"
	"switchboard/server"
)

// Handler serves the uContact API.
type Handler struct {
	db       *gorm.DB
	sessions *ucontact.Sessions
	queue    *queue.Queue
	sim      *gateway.Simulator
	events   events.Publisher
	region   string
	zone     *time.Location
	log      *slog.Logger
}

var (
	_ ucontactapi.StrictServerInterface = (*Handler)(nil)
	_ server.API                        = (*Handler)(nil)
)

// Config is what the uContact handler is built from.
type Config struct {
	DB     *gorm.DB
	Logins *auth.Guard // the server's one login guard
	// Queue runs the dialer's calls and the SMS bases' messages; New registers their workers on it.
	Queue *queue.Queue
	// Sim is the simulator: every call the dialer places, and SMS when no active ICTCore provider offers SMS.
	Sim gateway.SimConfig
	// Events receives AgentCall's call event and the answered dialer calls' events; nil publishes none.
	Events events.Publisher
	// Region reads national numbers for the do-not-call check (PHONE_DEFAULT_REGION).
	Region string
	// Zone reads the `YYYY-MM-DD HH:MM:SS` dates of the dialer and of reschedules; nil: UTC.
	Zone *time.Location
	Log  *slog.Logger
}

// New builds the uContact API and registers its workers on the queue (before the queue starts). A
// simulator configuration out of range answers an error of kind Invalid.
func New(c Config) (*Handler, error) {
	sim, err := gateway.NewSimulator(c.Sim)
	if err != nil {
		return nil, err
	}
	if c.Zone == nil {
		c.Zone = time.UTC
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	h := &Handler{db: c.DB, sessions: ucontact.NewSessions(c.DB, c.Logins), queue: c.Queue, sim: sim, events: c.Events,
		region: c.Region, zone: c.Zone, log: c.Log}
	h.registerWorkers()
	return h, nil
}

// Name is the contract's name and mount prefix.
func (h *Handler) Name() string { return "ucontact" }

// Register mounts the generated routes.
func (h *Handler) Register(g *echo.Group) {
	ucontactapi.RegisterHandlers(g, ucontactapi.NewStrictHandler(h, nil))
}

// Statuses: bad input is 400.
func (h *Handler) Statuses() map[models.Kind]int { return statuses }

var statuses = models.Statuses(http.StatusBadRequest)

// WriteError writes uContact's plain-text error body.
func (h *Handler) WriteError(c echo.Context, status int, msg string) error {
	return WriteError(c, status, msg)
}

// smsOperations answer errors with the SMS services' own body, ERROR, instead of 0 (ambiguity 35).
var smsOperations = map[string]bool{"sendSms": true, "receiveUrlSms": true}

// WriteError writes uContact's plain-text error body with the real status, and the reason in
// X-Switchboard-Error (ambiguity 30), cut to the contract's 2000 characters and to one line.
func WriteError(c echo.Context, status int, msg string) error {
	c.Response().Header().Set("X-Switchboard-Error", headerText(msg))
	body := "0"
	if smsOperations[server.OperationID(c)] {
		body = "ERROR"
	}
	return c.String(status, body)
}

// headerText makes msg a header value: control characters (a quoted line of an upload) become spaces,
// and it is cut to the contract's 2000 characters.
func headerText(msg string) string {
	r := []rune(msg)
	if len(r) > 2000 {
		r = append(r[:1999], '…')
	}
	for i, c := range r {
		if c < 0x20 || c == 0x7f {
			r[i] = ' '
		}
	}
	return string(r)
}
