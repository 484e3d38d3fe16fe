package server

import (
	"mime"

	"github.com/labstack/echo/v4"
)

// PlainTextAsCSV is a route middleware for CSV uploads whose contract takes text/plain as well as text/csv
// (what spreadsheets and curl send): the generated strict handler would read a text/plain body whole into
// memory, so the body is handed on as the text/csv stream it is. The contract middleware has checked the
// media type before.
func PlainTextAsCSV(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if mt, params, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType)); err == nil && mt == "text/plain" {
			req.Header.Set(echo.HeaderContentType, mime.FormatMediaType("text/csv", params))
		}
		return next(c)
	}
}
