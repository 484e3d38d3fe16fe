// Package ucontact serves the uContact contract in openapi/ucontact.yaml. No operation is built yet:
// every route answers the contract's 501 in uContact's error form.
package ucontact

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"switchboard/gen/ucontactapi"
	"switchboard/handlers/pending"
	"switchboard/models"
	"switchboard/server"
)

// New builds the uContact API.
func New() *pending.API {
	return pending.New("ucontact", func(g *echo.Group) {
		ucontactapi.RegisterHandlers(g, ucontactapi.NewStrictHandler(ucontactapi.Unimplemented{}, nil))
	}, models.Statuses(http.StatusBadRequest), WriteError)
}

// smsOperations answer errors with the SMS services' own body, ERROR, instead of 0 (ambiguity 35).
var smsOperations = map[string]bool{"sendSms": true, "receiveUrlSms": true}

// WriteError writes uContact's plain-text error body with the real status, and the reason in
// X-Switchboard-Error (ambiguity 30).
func WriteError(c echo.Context, status int, msg string) error {
	c.Response().Header().Set("X-Switchboard-Error", msg)
	body := "0"
	if smsOperations[server.OperationID(c)] {
		body = "ERROR"
	}
	return c.String(status, body)
}
