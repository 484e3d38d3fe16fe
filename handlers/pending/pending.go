// Package pending serves a vendor contract none of whose operations is built yet: every route of the
// contract exists, is validated, and answers the contract's 501 in the vendor's error shape.
package pending

import (
	"github.com/labstack/echo/v4"

	"switchboard/auth"
	"switchboard/models"
)

// API is a server.API for a contract that is routed but not built.
type API struct {
	name     string
	register func(g *echo.Group)
	statuses map[models.Kind]int
	write    func(c echo.Context, status int, msg string) error
}

// New describes a pending contract: its name, how to mount its generated routes (with the generated
// Unimplemented as the handler), its kind → status table, and its error writer.
func New(name string, register func(*echo.Group), statuses map[models.Kind]int, write func(echo.Context, int, string) error) *API {
	return &API{name: name, register: register, statuses: statuses, write: write}
}

// errAuthNotBuilt: every secured operation answers the contract's 501, never a silent pass.
var errAuthNotBuilt = models.Errorf(models.NotBuilt, "Not implemented yet")

// Name is the contract's name and mount prefix.
func (a *API) Name() string { return a.name }

// Register mounts the generated routes.
func (a *API) Register(g *echo.Group) { a.register(g) }

// Identify: this API's authentication is not built, so secured operations answer 501.
func (a *API) Identify(echo.Context) (*auth.Principal, error) { return nil, errAuthNotBuilt }

// Permissions is empty: no secured operation gets past Identify until the API is built.
func (a *API) Permissions() map[string][]string { return nil }

// Allows grants nothing.
func (a *API) Allows(*auth.Principal, string) bool { return false }

// Statuses is the vendor's kind → status table.
func (a *API) Statuses() map[models.Kind]int { return a.statuses }

// WriteError writes the vendor's error shape.
func (a *API) WriteError(c echo.Context, status int, msg string) error {
	return a.write(c, status, msg)
}
