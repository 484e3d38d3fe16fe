// Package server wires Switchboard's HTTP surface: one echo group per vendor API, each behind its own
// contract middleware (route lookup, body limit, authentication, kin-openapi request validation) and
// error mapper, plus health, metrics, Swagger UI and the raw contracts.
package server

import (
	"errors"

	"github.com/labstack/echo/v4"

	"switchboard/auth"
)

// API is one vendor contract served under its own prefix. Each handlers/<api> package provides one.
type API interface {
	// Name is the contract's file name without .yaml, e.g. "ictcore".
	Name() string
	// Register mounts the generated routes on g (the group already carries the prefix).
	Register(g *echo.Group)
	// Identify checks the credentials of a request to an operation that requires them.
	Identify(c echo.Context) (*auth.Principal, error)
	// ValidationStatus is the status the vendor answers for bad input (ICTCore 412, most others 400).
	ValidationStatus() int
	// MapError turns an error a handler returned into a status and a message safe to show.
	MapError(err error) (status int, message string)
	// WriteError writes an error in the vendor's documented error shape.
	WriteError(c echo.Context, status int, message string) error
}

// ErrAuthNotBuilt is what Identify answers for an API whose authentication is not built yet: every
// secured operation of it answers the contract's 501, never a silent pass.
var ErrAuthNotBuilt = errors.New("authentication for this API is not implemented yet")

// OperationID answers the operationId of the request's operation, once the contract middleware found it.
func OperationID(c echo.Context) string {
	op, _ := c.Get(ctxOperation).(string)
	return op
}
