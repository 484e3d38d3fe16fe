// Package ictcore implements the ICTCore API contract in openapi/ictcore.yaml.
package ictcore

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"switchboard/auth"
	"switchboard/blob"
	"switchboard/gen/ictcoreapi"
	"switchboard/models"
	"switchboard/models/identity"
	"switchboard/server"
)

// Handler serves ICTCore. Operations not built yet come from the embedded Unimplemented and answer 501.
type Handler struct {
	ictcoreapi.Unimplemented
	db       *gorm.DB
	tokens   *auth.Tokens
	logins   *auth.Guard
	users    *auth.Cache[int64, *identity.User]
	log      *slog.Logger
	blobs    blob.Store
	mediaMax int64
	sender   Sender
	dialer   Dialer
	bareIDs  bool           // answer creates with the bare id (review R10)
	zone     *time.Location // schedules' cron-like fields are read in it
}

var (
	_ ictcoreapi.StrictServerInterface = (*Handler)(nil)
	_ server.API                       = (*Handler)(nil)
)

// userCacheTTL bounds how long a deactivation, role change or permission grant may take to reach token
// requests (on the node that made the change through the API, at once: users.go forgets the user).
const userCacheTTL = 5 * time.Second

// Config is what the ICTCore handler is built from.
type Config struct {
	DB       *gorm.DB
	Tokens   *auth.Tokens
	Logins   *auth.Guard // the login guard shared by every API
	Log      *slog.Logger
	Blobs    blob.Store // message media
	MediaMax int64      // bytes of one media upload
	Sender   Sender     // starts transmission attempts; nil: send and retry answer 503
	Dialer   Dialer     // starts and stops campaigns; nil: those answer 503
	// BareIDs answers creates with the bare id, as the reference code and its web UI do, instead of the
	// guide's {"<x>_id": n} (ICTCORE_CREATE_ANSWER=bare; review R10).
	BareIDs bool
	// ScheduleZone is the time zone schedules' cron-like fields are read in (SCHEDULE_TIME_ZONE); nil: UTC.
	ScheduleZone *time.Location
}

// New builds the ICTCore handler.
func New(c Config) *Handler {
	return &Handler{
		db: c.DB, tokens: c.Tokens, logins: c.Logins, log: c.Log, blobs: c.Blobs, mediaMax: c.MediaMax, sender: c.Sender,
		dialer: c.Dialer, bareIDs: c.BareIDs, zone: c.ScheduleZone,
		users: auth.NewCache[int64, *identity.User](userCacheTTL, 10000),
	}
}

// Name is the contract's name and mount prefix.
func (h *Handler) Name() string { return "ictcore" }

// Register mounts the generated routes, each alias operation on its target's handler (aliases.go).
// server.New has loaded and validated the contract before, so an error here is a broken build.
func (h *Handler) Register(g *echo.Group) {
	aliases, err := contractAliases()
	if err != nil {
		panic(err)
	}
	rec := &routes{}
	ictcoreapi.RegisterHandlers(rec, ictcoreapi.NewStrictHandler(h, nil))
	if err := rec.mount(g, aliases); err != nil {
		panic(err)
	}
}

// Permissions is the operationId → permissions table (permissions.go).
func (h *Handler) Permissions() map[string][]string { return permissions }

// statuses: ICTCore answers bad input with 412 "Data validation failed" (the guide's only validation status).
var statuses = models.Statuses(http.StatusPreconditionFailed)

// Statuses is ICTCore's kind → status table.
func (h *Handler) Statuses() map[models.Kind]int { return statuses }

// WriteError writes ICTCore's {"error":{"code","message"}} body; a 401 also names the realm, as ICTCore
// does, and a validation message starts as ICTCore's do.
func (h *Handler) WriteError(c echo.Context, status int, msg string) error {
	switch status {
	case http.StatusUnauthorized:
		c.Response().Header().Set("WWW-Authenticate", `Basic realm="Switchboard ICTCore :: REST API Server"`)
	case http.StatusPreconditionFailed:
		if !strings.HasPrefix(msg, "Data validation failed") {
			msg = "Data validation failed, " + msg
		}
	}
	return c.JSON(status, ictcoreapi.Error{Error: ictcoreapi.ErrorDetail{Code: status, Message: capitalize(msg)}})
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// LenientScalars: ICTCore clients send ids as strings of digits (the n8n node) and phones and prefixes as
// JSON numbers (the guide types them number); the contract middleware turns both into the contract's type
// before validation (server.Lenient; review R1, R2).
func (h *Handler) LenientScalars() bool { return true }
