// Package pending serves a vendor contract none of whose operations is built yet: every route of the
// contract exists, is validated, and answers the contract's 501 in the vendor's error shape.
package pending

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"switchboard/auth"
	"switchboard/server"
)

// API is a server.API for a contract that is routed but not built.
type API struct {
	name       string
	register   func(g *echo.Group)
	notBuilt   error
	validation int
	write      func(c echo.Context, status int, msg string) error
}

// New describes a pending contract: its name, how to mount its generated routes (with the generated
// Unimplemented as the handler), the generated ErrNotImplemented, its validation status, and its error writer.
func New(name string, register func(*echo.Group), notBuilt error, validation int, write func(echo.Context, int, string) error) *API {
	return &API{name: name, register: register, notBuilt: notBuilt, validation: validation, write: write}
}

// Name is the contract's name and mount prefix.
func (a *API) Name() string { return a.name }

// Register mounts the generated routes.
func (a *API) Register(g *echo.Group) { a.register(g) }

// Identify: this API's authentication is not built, so secured operations answer 501.
func (a *API) Identify(echo.Context) (*auth.Principal, error) { return nil, server.ErrAuthNotBuilt }

// ValidationStatus is the vendor's status for bad input.
func (a *API) ValidationStatus() int { return a.validation }

// MapError: the generated stubs' error is 501; anything else is a 500.
func (a *API) MapError(err error) (int, string) {
	if errors.Is(err, a.notBuilt) {
		return http.StatusNotImplemented, "Not implemented yet"
	}
	return http.StatusInternalServerError, "Internal server error"
}

// WriteError writes the vendor's error shape.
func (a *API) WriteError(c echo.Context, status int, msg string) error {
	return a.write(c, status, msg)
}
