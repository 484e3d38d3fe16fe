package ictcore

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"switchboard/auth"
	"switchboard/contactcsv"
	"switchboard/gen/ictcoreapi"
	"switchboard/models"
)

// apiError is an error that already knows its status and its client-facing message.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func fail(status int, format string, args ...any) error {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...)}
}

var errForbidden = fail(http.StatusForbidden, "User not permitted to perform required action")

// allow answers errForbidden unless the caller holds perm.
func allow(ctx context.Context, perm string) error {
	if !auth.PrincipalFrom(ctx).Can(perm) {
		return errForbidden
	}
	return nil
}

// MapError turns a handler's error into ICTCore's status and message. Store errors carry what was not
// found ("contact 7: not found"); anything unknown is a 500 whose text stays in the log.
func (h *Handler) MapError(err error) (int, string) {
	var ae *apiError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae.status, ae.msg
	case errors.Is(err, ictcoreapi.ErrNotImplemented):
		return http.StatusNotImplemented, "Feature not implemented"
	case errors.Is(err, models.ErrNotFound):
		return http.StatusNotFound, capitalize(err.Error())
	case errors.Is(err, contactcsv.ErrEmpty):
		return http.StatusPreconditionFailed, "Data validation failed, " + err.Error()
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("upload is larger than %d bytes", mbe.Limit)
	default:
		return http.StatusInternalServerError, "Internal server error"
	}
}

// WriteError writes ICTCore's {"error":{"code","message"}} body; a 401 also names the realm, as ICTCore does.
func (h *Handler) WriteError(c echo.Context, status int, msg string) error {
	if status == http.StatusUnauthorized {
		c.Response().Header().Set("WWW-Authenticate", `Basic realm="Switchboard ICTCore :: REST API Server"`)
	}
	return c.JSON(status, ictcoreapi.Error{Error: ictcoreapi.ErrorDetail{Code: status, Message: msg}})
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
