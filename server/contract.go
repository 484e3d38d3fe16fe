package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"switchboard/auth"
	"switchboard/models"
)

func init() {
	// Uploads are validated by their handlers as streams; these decoders only let responses and small
	// bodies of these types through kin-openapi.
	for _, ct := range []string{"text/csv", "application/pdf", "audio/wav", "audio/x-wav", "text/html"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
	}
}

// Keys under which the contract middleware leaves what it found on the echo.Context.
const (
	ctxAPI       = "sb.api"
	ctxOperation = "sb.operation"
)

// Limits bounds request bodies: JSON and forms at Body, upload routes (binary request bodies) at Upload.
type Limits struct {
	Body         int64
	Upload       int64
	BodyTimeouts BodyTimeouts // how long a body may take to arrive (harden.go)
}

// contract is the per-API middleware. In order: find the operation in the contract (unknown → 404 in the
// vendor's shape), cap the body, authenticate when the operation needs it (before reading the body, so
// a stranger cannot make us buffer a large one), then validate the request against the contract.
func contract(api API, doc *openapi3.T, router routers.Router, prefix string, lim Limits) echo.MiddlewareFunc {
	g := &guard{api: api, doc: doc, router: router, prefix: prefix, lim: lim, ops: indexOperations(doc, prefix)}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Set(ctxAPI, api.Name())
			op, params, ok := g.lookup(c)
			if !ok {
				return models.Errorf(models.NotFound, "Not Found")
			}
			c.Set(ctxOperation, op.route.Operation.OperationID)
			// Each step either passes (answered false) or has written the vendor's error.
			if answered, err := g.capBody(c, op.route.Operation, op.upload); answered || err != nil {
				return err
			}
			if err := g.authenticate(c, op.route.Operation); err != nil {
				return err
			}
			if answered, err := g.validate(c, op.unsecured, params, op.upload); answered || err != nil {
				return err
			}
			return next(c)
		}
	}
}

// guard holds what the contract middleware needs for one API.
type guard struct {
	api    API
	doc    *openapi3.T
	router routers.Router
	prefix string
	lim    Limits
	ops    map[string]*operation // by method and echo route path: see indexOperations
}

// operation is what the middleware needs of one contract operation, worked out once.
type operation struct {
	route     *routers.Route
	unsecured *routers.Route // route without security, for kin-openapi (see withoutSecurity)
	upload    bool
}

func newOperation(route *routers.Route) *operation {
	return &operation{route: route, unsecured: withoutSecurity(route), upload: isUpload(route.Operation)}
}

// pathParam is a contract path parameter ({contact_id}); echo writes it :contact_id.
var pathParam = regexp.MustCompile(`\{([^}/]+)\}`)

// indexOperations keys every operation by its method and the route echo registers for it (the generated
// RegisterHandlers mounts the contract's paths with :params under the group prefix), so a request that
// echo routed finds its operation with one map lookup instead of kin-openapi's scan of every path.
func indexOperations(doc *openapi3.T, prefix string) map[string]*operation {
	ops := map[string]*operation{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			route := &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
			ops[method+" "+prefix+pathParam.ReplaceAllString(path, ":$1")] = newOperation(route)
		}
	}
	return ops
}

// lookup finds the request's operation: by echo's matched route when echo matched one of the contract's,
// else (the group's catch-all for unknown paths) through kin-openapi's router, which answers not found.
func (g *guard) lookup(c echo.Context) (*operation, map[string]string, bool) {
	if op, ok := g.ops[c.Request().Method+" "+c.Path()]; ok {
		names, values := c.ParamNames(), c.ParamValues()
		params := make(map[string]string, len(names))
		for i, name := range names {
			v := values[i]
			if u, err := url.PathUnescape(v); err == nil {
				v = u
			}
			params[name] = v
		}
		return op, params, true
	}
	route, params, ok := g.find(c.Request())
	if !ok {
		return nil, nil, false
	}
	return newOperation(route), params, true
}

// validationOptions: short messages (the schema is in the contract), formats such as email checked, and
// the validated body kept for the strict handler so it is not decoded twice. Credentials were checked
// by guard.authenticate, so kin-openapi's security pass is a no-op.
var validationOptions = openapi3filter.Options{
	AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
	KeepValidatedValue: true,
	SchemaValidationOptions: []openapi3.SchemaValidationOption{
		openapi3.DisableSchemaErrorDetails(), openapi3.EnableFormatValidation(),
	},
}

// uploadValidationOptions leave the body alone: the handler streams it.
var uploadValidationOptions = func() openapi3filter.Options {
	o := validationOptions
	o.ExcludeRequestBody = true
	return o
}()

// find looks the request up in the contract; the router knows paths without the mount prefix.
func (g *guard) find(req *http.Request) (*routers.Route, map[string]string, bool) {
	// A shallow copy with its own URL: the router reads only the method, URL and Host.
	lookup, u := *req, *req.URL
	u.Path, u.RawPath = strings.TrimPrefix(req.URL.Path, g.prefix), ""
	if u.Path == "" {
		u.Path = "/"
	}
	lookup.URL = &u
	route, params, err := g.router.FindRoute(&lookup)
	return route, params, err == nil
}

// capBody refuses a body announced larger than the limit, caps the rest, and checks an upload's media type.
func (g *guard) capBody(c echo.Context, op *openapi3.Operation, upload bool) (bool, error) {
	req := c.Request()
	limit := g.limit(upload)
	if req.ContentLength > limit {
		return true, tooLarge(upload, limit)
	}
	limitBodyTime(c, upload, g.lim.BodyTimeouts)
	req.Body = http.MaxBytesReader(c.Response(), req.Body, limit)
	if upload && !acceptsContentType(op, req.Header.Get(echo.HeaderContentType)) {
		status := g.api.Statuses()[models.Invalid]
		if op.Responses.Status(http.StatusUnsupportedMediaType) != nil {
			status = http.StatusUnsupportedMediaType
		}
		return true, &statusError{status: status, msg: fmt.Sprintf("Content-Type %q is not accepted here", req.Header.Get(echo.HeaderContentType))}
	}
	return false, nil
}

func (g *guard) limit(upload bool) int64 {
	if upload {
		return g.lim.Upload
	}
	return g.lim.Body
}

// authenticate identifies the caller of a secured operation, enforces the API's permission table, and
// puts the principal and the request URL on the request context. Public operations get the URL only.
func (g *guard) authenticate(c echo.Context, op *openapi3.Operation) error {
	req := c.Request()
	ctx := context.WithValue(req.Context(), requestKey{}, &requestInfo{url: *req.URL, addr: req.RemoteAddr})
	if needsAuth(g.doc, op) {
		p, err := g.api.Identify(c)
		if err != nil {
			return err
		}
		if err := g.authorize(p, op.OperationID); err != nil {
			return err
		}
		ctx = auth.WithPrincipal(ctx, p)
	}
	c.SetRequest(req.WithContext(ctx))
	return nil
}

// errForbidden is ICTCore's wording, plain enough for every API.
var errForbidden = models.Errorf(models.Forbidden, "User not permitted to perform required action")

// authorize checks the permission table: every permission the operation lists must be held. An operation
// missing from the table is refused as a server error, never let through.
func (g *guard) authorize(p *auth.Principal, operationID string) error {
	perms, ok := g.api.Permissions()[operationID]
	if !ok {
		return fmt.Errorf("operation %s.%s has no entry in the permission table", g.api.Name(), operationID)
	}
	for _, perm := range perms {
		if !g.api.Allows(p, perm) {
			return errForbidden
		}
	}
	return nil
}

// validate checks the request against the contract. A non-upload body is read first (it is capped) and
// refused unless it is UTF-8: Go's JSON decoder would silently store U+FFFD instead.
func (g *guard) validate(c echo.Context, route *routers.Route, params map[string]string, upload bool) (bool, error) {
	req := c.Request()
	opts := &validationOptions
	if upload {
		opts = &uploadValidationOptions
	} else if req.Body != nil && req.Body != http.NoBody {
		body, err := io.ReadAll(req.Body)
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return true, tooLarge(false, g.lim.Body)
		case err != nil:
			return true, models.Wrap(models.Invalid, err, "Data validation failed, request body could not be read")
		case !utf8.Valid(body):
			return true, models.Errorf(models.Invalid, "Data validation failed, request body is not valid UTF-8")
		}
		ct := req.Header.Get(echo.HeaderContentType)
		v, err := checkBody(ct, body)
		if err != nil {
			return true, err
		}
		if v != nil && lenient(g.api, route.Operation) && normalizeBody(route.Operation, ct, v) {
			if body, err = json.Marshal(v); err != nil {
				return true, err
			}
		}
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	}
	if err := checkQuery(req.URL.Query()); err != nil {
		return true, err
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return true, tooLarge(upload, g.limit(upload))
		}
		return true, models.Wrap(models.Invalid, err, validationMessage(err))
	}
	return false, nil
}

// tooLarge answers an oversized body: 413 on upload routes (their contracts say so), and the vendor's
// validation status elsewhere, since every JSON operation documents that one.
func tooLarge(upload bool, limit int64) error {
	if upload {
		return models.Errorf(models.TooLarge, "upload is larger than %d bytes", limit)
	}
	return models.Errorf(models.Invalid, "Data validation failed, request body is larger than %d bytes", limit)
}

// isUpload: an operation whose request body is a binary stream, or a multipart form with a binary part (a
// file), is an upload route: its handler streams the body, which is never read whole here.
func isUpload(op *openapi3.Operation) bool {
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		return false
	}
	for name, mt := range op.RequestBody.Value.Content {
		if mt.Schema == nil || mt.Schema.Value == nil {
			continue
		}
		if mt.Schema.Value.Format == "binary" {
			return true
		}
		if strings.HasPrefix(name, "multipart/") {
			for _, p := range mt.Schema.Value.Properties {
				if p != nil && p.Value != nil && p.Value.Format == "binary" {
					return true
				}
			}
		}
	}
	return false
}

// acceptsContentType: the body's media type is one the operation's contract lists (wildcards included).
// Uploads skip body validation, so this is their only media-type check before the handler.
func acceptsContentType(op *openapi3.Operation, ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return op.RequestBody.Value.Content.Get(mt) != nil
}

// withoutSecurity answers a copy of route whose operation declares no security. Credentials were checked
// above; kin-openapi's own security pass would only read the whole body into memory (uploads included)
// to hand it to a no-op.
func withoutSecurity(route *routers.Route) *routers.Route {
	op := *route.Operation
	op.Security = &openapi3.SecurityRequirements{}
	r := *route
	r.Operation = &op
	return &r
}

// needsAuth reads the operation's security, falling back to the document's; an empty list means public.
func needsAuth(doc *openapi3.T, op *openapi3.Operation) bool {
	sec := doc.Security
	if op.Security != nil {
		sec = *op.Security
	}
	return len(sec) > 0
}

// validationMessage shortens kin-openapi's errors to the part a client can act on.
func validationMessage(err error) string {
	var re *openapi3filter.RequestError
	if errors.As(err, &re) {
		var se *openapi3.SchemaError
		if errors.As(re.Err, &se) {
			where := "request body"
			if re.Parameter != nil {
				where = fmt.Sprintf("%s parameter %q", re.Parameter.In, re.Parameter.Name)
			}
			if p := se.JSONPointer(); len(p) > 0 {
				where += " at /" + strings.Join(p, "/")
			}
			return fmt.Sprintf("Data validation failed, %s: %s", where, se.Reason)
		}
		if re.Parameter != nil {
			return fmt.Sprintf("Data validation failed, %s parameter %q: %s", re.Parameter.In, re.Parameter.Name, re.Err)
		}
		return "Data validation failed, " + re.Error()
	}
	return "Data validation failed, " + err.Error()
}
