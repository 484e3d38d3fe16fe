// Package platform implements Switchboard's own contract in openapi/platform.yaml: health, call events in
// (published on the call-event stream) and the webhooks that send them out, API keys, do-not-call lists,
// and Collect! databases and operators.
package platform

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"switchboard/auth"
	"switchboard/gen/platformapi"
	"switchboard/models"
	"switchboard/models/events"
	"switchboard/server"
)

// Handler serves the platform API. Operations not built yet come from the embedded Unimplemented.
type Handler struct {
	platformapi.Unimplemented
	db      *gorm.DB
	tokens  *auth.Tokens
	version string
	region  string
	events  events.Publisher
}

var (
	_ platformapi.StrictServerInterface = (*Handler)(nil)
	_ server.API                        = (*Handler)(nil)
)

// Config is what the platform handler is built from.
type Config struct {
	DB      *gorm.DB
	Tokens  *auth.Tokens // checks ICTCore tokens, the other way in besides an API key
	Version string
	// Region reads national phone numbers of do-not-call lists (PHONE_DEFAULT_REGION, an ISO country
	// code); empty: only E.164 numbers are accepted.
	Region string
	// Events publishes the call events of POST /call-events (nil: that operation answers 503).
	Events events.Publisher
}

// New builds the platform API.
func New(c Config) *Handler {
	return &Handler{db: c.DB, tokens: c.Tokens, version: c.Version, region: c.Region, events: c.Events}
}

// Name is the contract's name and mount prefix.
func (h *Handler) Name() string { return "platform" }

// Register mounts the generated routes; the CSV import takes text/plain as the stream it is.
func (h *Handler) Register(g *echo.Group) {
	platformapi.RegisterHandlersWithOptions(g, platformapi.NewStrictHandler(h, nil), platformapi.RegisterHandlersOptions{
		OperationMiddlewares: map[string][]echo.MiddlewareFunc{"importDncNumbersCsv": {server.PlainTextAsCSV}},
	})
}

// Statuses: bad input is 400, as RFC 7807 APIs answer.
func (h *Handler) Statuses() map[models.Kind]int { return statuses }

var statuses = models.Statuses(http.StatusBadRequest)

// WriteError writes an RFC 7807 problem document; a 401 names the bearer scheme (the other way in is the
// X-API-Key header, which has no challenge of its own).
func (h *Handler) WriteError(c echo.Context, status int, msg string) error {
	if status == http.StatusUnauthorized {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="Switchboard platform"`)
	}
	body, err := json.Marshal(platformapi.Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: msg})
	if err != nil {
		return err
	}
	return c.Blob(status, "application/problem+json", body)
}

// GetHealth (GET /platform/health) pings the store.
func (h *Handler) GetHealth(ctx context.Context, _ platformapi.GetHealthRequestObject) (platformapi.GetHealthResponseObject, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	v := h.version
	if err := models.Ping(ctx, h.db); err != nil {
		return platformapi.GetHealth503JSONResponse{Status: platformapi.HealthStatusUnavailable, Database: platformapi.HealthDatabaseUnavailable, Version: &v}, nil
	}
	return platformapi.GetHealth200JSONResponse{Status: platformapi.HealthStatusOk, Database: platformapi.HealthDatabaseOk, Version: &v}, nil
}
