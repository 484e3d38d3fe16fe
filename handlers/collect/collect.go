// Package collect serves the Collect! contract in openapi/collect.yaml. No operation is built yet: every
// route answers the contract's 501 in Collect!'s error shape.
package collect

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"switchboard/gen/collectapi"
	"switchboard/handlers/pending"
	"switchboard/models"
)

// New builds the Collect! API.
func New() *pending.API {
	return pending.New("collect", func(g *echo.Group) {
		collectapi.RegisterHandlers(g, collectapi.NewStrictHandler(collectapi.Unimplemented{}, nil))
	}, models.Statuses(http.StatusBadRequest), WriteError)
}

// WriteError writes Collect!'s error body; its status always equals the HTTP status (ambiguity 1).
func WriteError(c echo.Context, status int, msg string) error {
	return c.JSON(status, collectapi.CollectError{Status: int32(status), Message: msg})
}
