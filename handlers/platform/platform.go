// Package platform implements Switchboard's own contract in openapi/platform.yaml: health now, call
// events later (their operation answers 501 until then).
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
	"switchboard/server"
)

// Handler serves the platform API.
type Handler struct {
	platformapi.Unimplemented
	db      *gorm.DB
	version string
}

var (
	_ platformapi.StrictServerInterface = (*Handler)(nil)
	_ server.API                        = (*Handler)(nil)
)

// New builds the platform API.
func New(db *gorm.DB, version string) *Handler { return &Handler{db: db, version: version} }

// Name is the contract's name and mount prefix.
func (h *Handler) Name() string { return "platform" }

// Register mounts the generated routes.
func (h *Handler) Register(g *echo.Group) {
	platformapi.RegisterHandlers(g, platformapi.NewStrictHandler(h, nil))
}

// Identify: API keys are not built yet, so secured operations answer 501.
func (h *Handler) Identify(echo.Context) (*auth.Principal, error) {
	return nil, models.Errorf(models.NotBuilt, "Not implemented yet")
}

// Permissions is empty until API keys are built: no secured operation gets past Identify.
func (h *Handler) Permissions() map[string][]string { return nil }

// Allows grants nothing yet.
func (h *Handler) Allows(*auth.Principal, string) bool { return false }

// Statuses: bad input is 400, as RFC 7807 APIs answer.
func (h *Handler) Statuses() map[models.Kind]int { return statuses }

var statuses = models.Statuses(http.StatusBadRequest)

// WriteError writes an RFC 7807 problem document.
func (h *Handler) WriteError(c echo.Context, status int, msg string) error {
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
