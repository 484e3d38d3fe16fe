package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"switchboard/models"
)

// statusClientClosed is what the log and metrics record for a request whose client went away (nginx's 499).
const statusClientClosed = 499

// mapErrors answers whatever a handler or the contract middleware returned in the vendor's shape: the
// error's kind (models.KindOf) picks the status from the API's table, the message is the error's own
// client-facing text, and anything unclassified is a 500 whose text stays in the log.
func mapErrors(api API, log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			err := next(c)
			if err == nil {
				return nil
			}
			return writeError(c, api, log, err)
		}
	}
}

func writeError(c echo.Context, api API, log *slog.Logger, err error) error {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		err = fromHTTPError(he)
	}
	var se *statusError
	status, msg := 0, models.Message(err)
	kind := models.KindOf(err)
	switch {
	case errors.As(err, &se):
		status, msg = se.status, se.msg
	case kind == models.Canceled && c.Request().Context().Err() != nil:
		// Nobody reads this answer: record it, don't write it, and don't call it a server error.
		c.Response().Status = statusClientClosed
		return nil
	default:
		var ok bool
		if status, ok = api.Statuses()[kind]; !ok {
			status = http.StatusInternalServerError
		}
	}
	if status == http.StatusInternalServerError {
		log.ErrorContext(c.Request().Context(), "handler failed", "api", api.Name(),
			"operation", c.Get(ctxOperation), "kind", kind.String(), "error", err)
		msg = "Internal server error"
	}
	if c.Response().Committed {
		return nil
	}
	if d := models.RetryAfter(err); d > 0 && (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int((d+999_999_999)/1_000_000_000)))
	}
	return api.WriteError(c, status, msg)
}

// statusError is an answer the contract itself dictates with a status of its own (415 on uploads), outside
// the shared kinds.
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return e.msg }

// fromHTTPError classifies echo's own errors (routing, binding) into kinds.
func fromHTTPError(he *echo.HTTPError) error {
	msg := fmt.Sprint(he.Message)
	switch he.Code {
	case http.StatusBadRequest:
		return models.Errorf(models.Invalid, "Data validation failed, %s", msg)
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return models.Errorf(models.NotFound, "Not Found")
	case http.StatusRequestEntityTooLarge:
		return models.Errorf(models.TooLarge, "%s", msg)
	}
	return &statusError{status: he.Code, msg: msg}
}
