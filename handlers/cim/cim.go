// Package cim serves the Expertflow CIM contract in openapi/cim.yaml. No operation is built yet: every
// route answers the contract's 501 in CIM's error shape.
package cim

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"switchboard/gen/cimapi"
	"switchboard/handlers/pending"
	"switchboard/models"
)

// New builds the CIM API.
func New() *pending.API {
	return pending.New("cim", func(g *echo.Group) {
		cimapi.RegisterHandlers(g, cimapi.NewStrictHandler(cimapi.Unimplemented{}, nil))
	}, models.Statuses(http.StatusBadRequest), WriteError)
}

// WriteError writes CIM's error body (ambiguity 28).
func WriteError(c echo.Context, status int, msg string) error {
	return c.JSON(status, cimapi.CimError{StatusCode: status, Error: http.StatusText(status), Message: msg})
}
