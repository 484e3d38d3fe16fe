// Package cim serves the Expertflow CIM contract in openapi/cim.yaml: contacts with the run-time schema
// (contacts.go), the schema itself (schema.go), the mapping that finds a call's contact (mapping.go) and the
// interaction history of calls (interactions.go), behind Switchboard API keys (authn.go), every error in
// CIM's shape. The rows and rules are models/cim's.
package cim

import (
	"context"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"switchboard/convert"
	"switchboard/gen/cimapi"
	"switchboard/models"
	"switchboard/models/cim"
	"switchboard/server"
)

// Handler serves the CIM API.
type Handler struct {
	db *gorm.DB
}

var (
	_ cimapi.StrictServerInterface = (*Handler)(nil)
	_ server.API                   = (*Handler)(nil)
)

// Config is what the CIM handler is built from.
type Config struct {
	DB *gorm.DB
}

// New builds the CIM API.
func New(c Config) *Handler { return &Handler{db: c.DB} }

// Name is the contract's name and mount prefix.
func (h *Handler) Name() string { return "cim" }

// Register mounts the generated routes.
func (h *Handler) Register(g *echo.Group) {
	cimapi.RegisterHandlers(g, cimapi.NewStrictHandler(h, nil))
}

// Statuses: bad input is 400 (ambiguity 28).
func (h *Handler) Statuses() map[models.Kind]int { return statuses }

var statuses = models.Statuses(http.StatusBadRequest)

// WriteError writes CIM's error body.
func (h *Handler) WriteError(c echo.Context, status int, msg string) error {
	return WriteError(c, status, msg)
}

// WriteError writes CIM's error body: statusCode equals the HTTP status (ambiguity 28). A message longer
// than the contract's 2000 characters (a validation error quoting an oversized value) is cut to fit.
func WriteError(c echo.Context, status int, msg string) error {
	if utf8.RuneCountInString(msg) > maxMessage {
		msg = string([]rune(msg)[:maxMessage-1]) + "…"
	}
	return c.JSON(status, cimapi.CimError{StatusCode: status, Error: http.StatusText(status), Message: msg})
}

// maxMessage is CimError.message's maxLength.
const maxMessage = 2000

// id reads a path id the contract has held to 24 hex digits; one Switchboard never makes is NotFound.
func id(s, what string) (int64, error) {
	n, exact, ok := cim.ParseID(s)
	if !ok || !exact {
		return 0, models.Errorf(models.NotFound, "%s %s not found", what, s)
	}
	return n, nil
}

// window is the list query of a list with offset paging.
func window(limit, offset *int, count *bool) models.ListQuery {
	return models.ListQuery{Limit: convert.Deref(limit), Offset: int64(convert.Deref(offset)), Count: convert.Deref(count)}
}

// total answers X-Total-Count when the page was counted.
func total[T any](page models.PageOf[T]) *int {
	if page.Total == nil {
		return nil
	}
	n := int(*page.Total)
	return &n
}

// contactListLimit is the contact list's page size when the request names none (ambiguity 23).
const contactListLimit = 25

// loadMoreLink answers the Link header of a contact list page: the loadMore URL after the page's last
// contact, on the mount the request came through, with the request's query (its limit) kept.
func loadMoreLink(ctx context.Context, page models.PageOf[cim.Contact]) *string {
	u := server.RequestURL(ctx)
	if !page.More || u == nil {
		return nil
	}
	base := strings.TrimSuffix(u.Path, "/getContactList")
	if i := strings.LastIndex(u.Path, "/contacts/loadMore/"); i >= 0 {
		base = u.Path[:i]
	}
	next := base + "/contacts/loadMore/" + cim.FormatID(page.NextAfter)
	if q := u.Query().Encode(); q != "" {
		next += "?" + q
	}
	link := "<" + next + `>; rel="next"`
	return &link
}
