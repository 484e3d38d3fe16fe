package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
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
	}, docsHeaders(cspIndex))
	for _, name := range names {
		base := "/docs/" + name + "/"
		ui := v5emb.New(fmt.Sprintf("Switchboard: %s", name), "/openapi/"+name+".yaml", base)
		csp, err := swaggerCSP(ui, base)
		if err != nil {
			return fmt.Errorf("docs %s: %w", name, err)
		}
		e.GET("/docs/"+name, func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, base) }, docsHeaders(csp))
		e.GET(base+"*", echo.WrapHandler(ui), docsHeaders(csp))
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
	}, docsHeaders(cspIndex))
	return nil
}

// cspIndex is the policy of pages that need nothing but their own markup: the docs index, and the raw
// contracts should a browser ever render one.
const cspIndex = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// docsHeaders: the docs may not be framed (clickjacking), run only the scripts they ship (csp), and,
// being static and public, may be kept by a browser as long as it revalidates (the UI's assets carry
// ETags). harden's no-store is for the vendor APIs' answers.
func docsHeaders(csp string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set(echo.HeaderXFrameOptions, "DENY")
			h.Set(echo.HeaderContentSecurityPolicy, csp)
			h.Set(echo.HeaderCacheControl, "no-cache")
			return next(c)
		}
	}
}

// inlineScript matches the page's inline scripts (those with no attributes; the bundles come by src).
var inlineScript = regexp.MustCompile(`(?s)<script>(.*?)</script>`)

// swaggerCSP answers the policy of one contract's Swagger UI. Its page carries two inline scripts (the
// page and its settings, fixed once the handler is built): they are allowed by their SHA-256 hashes,
// so an injected script still cannot run. Styles stay 'unsafe-inline' (the page's own <style>, and
// markup rendered from contract descriptions may carry style attributes): CSS cannot run script. The
// icons are data: images in its CSS; the contract and "Try it out" calls go to this server
// (connect-src 'self', the contracts' servers are relative). Checked in headless Chromium: the UI
// renders with no CSP violation, and without the hashes it renders nothing.
func swaggerCSP(ui http.Handler, base string) (string, error) {
	page := &pageCapture{header: http.Header{}}
	ui.ServeHTTP(page, &http.Request{Method: http.MethodGet, URL: &url.URL{Path: base}, Header: http.Header{}})
	scripts := inlineScript.FindAllSubmatch(page.body.Bytes(), -1)
	if page.status != http.StatusOK || len(scripts) == 0 {
		return "", fmt.Errorf("swagger UI page: status %d with %d inline scripts", page.status, len(scripts))
	}
	src := "'self'"
	for _, s := range scripts {
		sum := sha256.Sum256(s[1])
		src += " 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	return "default-src 'none'; script-src " + src + "; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
		"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'", nil
}

// pageCapture is the least http.ResponseWriter that keeps a page in memory.
type pageCapture struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (p *pageCapture) Header() http.Header { return p.header }
func (p *pageCapture) WriteHeader(status int) {
	if p.status == 0 {
		p.status = status
	}
}
func (p *pageCapture) Write(b []byte) (int, error) {
	p.WriteHeader(http.StatusOK)
	return p.body.Write(b)
}
