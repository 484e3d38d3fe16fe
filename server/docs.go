package server

import (
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/swaggest/swgui/v5emb"

	"switchboard"
)

var docsIndex = template.Must(template.New("docs").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Switchboard API docs</title></head>
<body><h1>Switchboard API contracts</h1><ul>
{{range .OpenAPI}}<li><a href="/docs/{{.}}/">{{.}}</a> (<a href="/openapi/{{.}}.yaml">{{.}}.yaml</a>)</li>
{{end}}</ul><h2>WebSocket contracts (AsyncAPI)</h2><ul>
{{range .AsyncAPI}}<li><a href="/openapi/asyncapi/{{.}}.yaml">{{.}}.yaml</a></li>
{{end}}</ul></body></html>`))

// mountDocs serves Swagger UI for each contract (assets embedded in the binary, so it works offline), an
// index at /docs, and the contract files themselves under /openapi/.
func mountDocs(e *echo.Echo, apis []API) error {
	var names []string
	for _, api := range apis {
		names = append(names, api.Name())
	}
	asyncNames, err := fs.Glob(switchboard.Contracts, "openapi/asyncapi/*.yaml")
	if err != nil {
		return err
	}
	for i, n := range asyncNames {
		asyncNames[i] = strings.TrimSuffix(strings.TrimPrefix(n, "openapi/asyncapi/"), ".yaml")
	}
	index := struct{ OpenAPI, AsyncAPI []string }{names, asyncNames}
	e.GET("/docs", func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
		c.Response().WriteHeader(http.StatusOK)
		return docsIndex.Execute(c.Response(), index)
	})
	for _, name := range names {
		base := "/docs/" + name + "/"
		ui := v5emb.New(fmt.Sprintf("Switchboard: %s", name), "/openapi/"+name+".yaml", base)
		e.GET("/docs/"+name, func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, base) })
		e.GET(base+"*", echo.WrapHandler(ui))
	}
	sub, err := fs.Sub(switchboard.Contracts, "openapi")
	if err != nil {
		return err
	}
	files := http.StripPrefix("/openapi/", http.FileServer(http.FS(sub)))
	e.GET("/openapi/*", func(c echo.Context) error {
		if !strings.HasSuffix(c.Request().URL.Path, ".yaml") {
			return echo.ErrNotFound
		}
		c.Response().Header().Set(echo.HeaderContentType, "application/yaml")
		files.ServeHTTP(c.Response(), c.Request())
		return nil
	})
	return nil
}
