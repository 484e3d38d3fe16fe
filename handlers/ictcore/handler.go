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
	"switchboard/server"
)

// Handler serves ICTCore. Operations not built yet come from the embedded Unimplemented and answer 501.
type Handler struct {
	ictcoreapi.Unimplemented
	db        *gorm.DB
	tokens    *auth.Tokens
	passwords *auth.CheckCache
	log       *slog.Logger
}

var (
	_ ictcoreapi.StrictServerInterface = (*Handler)(nil)
	_ server.API                       = (*Handler)(nil)
)

// New builds the ICTCore handler.
func New(db *gorm.DB, tokens *auth.Tokens, log *slog.Logger) *Handler {
	return &Handler{db: db, tokens: tokens, passwords: auth.NewCheckCache(time.Minute, 10000), log: log}
}

// Name is the contract's name and mount prefix.
func (h *Handler) Name() string { return "ictcore" }

// Register mounts the generated routes.
func (h *Handler) Register(g *echo.Group) {
	ictcoreapi.RegisterHandlers(g, ictcoreapi.NewStrictHandler(h, nil))
}

// ValidationStatus: ICTCore answers bad input with 412 "Data validation failed".
func (h *Handler) ValidationStatus() int { return http.StatusPreconditionFailed }
