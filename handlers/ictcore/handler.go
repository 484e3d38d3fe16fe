// Package ictcore implements the ICTCore API contract in openapi/ictcore.yaml.
package ictcore

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"switchboard/auth"
	"switchboard/gen/ictcoreapi"
	"switchboard/models"
	"switchboard/server"
)

// Handler serves ICTCore. Operations not built yet come from the embedded Unimplemented and answer 501.
type Handler struct {
	ictcoreapi.Unimplemented
	db        *gorm.DB
	tokens    *auth.Tokens
	passwords *auth.CheckCache
	users     *auth.Cache[int64, *models.User]
	log       *slog.Logger
}

var (
	_ ictcoreapi.StrictServerInterface = (*Handler)(nil)
	_ server.API                       = (*Handler)(nil)
)

// userCacheTTL bounds how long a deactivation or role change may take to reach token requests.
const userCacheTTL = 5 * time.Second

// New builds the ICTCore handler.
func New(db *gorm.DB, tokens *auth.Tokens, log *slog.Logger) *Handler {
	return &Handler{
		db: db, tokens: tokens, log: log,
		passwords: auth.NewCheckCache(time.Minute, 10000),
		users:     auth.NewCache[int64, *models.User](userCacheTTL, 10000),
	}
}

// Name is the contract's name and mount prefix.
func (h *Handler) Name() string { return "ictcore" }

// Register mounts the generated routes.
func (h *Handler) Register(g *echo.Group) {
	ictcoreapi.RegisterHandlers(g, ictcoreapi.NewStrictHandler(h, nil))
}

// ValidationStatus: ICTCore answers bad input with 412 "Data validation failed".
func (h *Handler) ValidationStatus() int { return http.StatusPreconditionFailed }
