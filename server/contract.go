package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"switchboard/auth"
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
	Body   int64
	Upload int64
}

// contract is the per-API middleware. In order: find the operation in the contract (unknown → 404 in the
// vendor's shape), cap the body, authenticate when the operation needs it (before reading the body, so
// a stranger cannot make us buffer a large one), then validate the request against the contract.
func contract(api API, doc *openapi3.T, router routers.Router, prefix string, lim Limits, log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			c.Set(ctxAPI, api.Name())
			// The router knows paths without the mount prefix (servers are ignored on purpose).
			lookup := req.Clone(req.Context())
			lookup.URL.Path = strings.TrimPrefix(req.URL.Path, prefix)
			if lookup.URL.Path == "" {
				lookup.URL.Path = "/"
			}
			lookup.URL.RawPath = ""
			route, params, err := router.FindRoute(lookup)
			if err != nil {
				return api.WriteError(c, http.StatusNotFound, "Not Found")
			}
			op := route.Operation
			c.Set(ctxOperation, op.OperationID)

			upload := isUpload(op)
			limit := lim.Body
			if upload {
				limit = lim.Upload
			}
			if req.ContentLength > limit {
				return tooLarge(api, c, upload, limit)
			}
			req.Body = http.MaxBytesReader(c.Response(), req.Body, limit)
			if upload && !acceptsContentType(op, req.Header.Get(echo.HeaderContentType)) {
				status := api.ValidationStatus()
				if op.Responses.Status(http.StatusUnsupportedMediaType) != nil {
					status = http.StatusUnsupportedMediaType
				}
				return api.WriteError(c, status, fmt.Sprintf("Content-Type %q is not accepted here", req.Header.Get(echo.HeaderContentType)))
			}

			if needsAuth(doc, op) {
				p, err := api.Identify(c)
				if errors.Is(err, ErrAuthNotBuilt) {
					return api.WriteError(c, http.StatusNotImplemented, "Not implemented yet")
				}
				if err != nil {
					return api.WriteError(c, http.StatusUnauthorized, err.Error())
				}
				req = req.WithContext(auth.WithPrincipal(req.Context(), p))
				c.SetRequest(req)
			}

			if !upload && req.Body != nil && req.Body != http.NoBody {
				// Go's JSON decoder silently turns bad UTF-8 into U+FFFD; refuse it instead, so no
				// mangled text is stored. The body is capped above, so reading it here is bounded.
				body, err := io.ReadAll(req.Body)
				if err != nil {
					var mbe *http.MaxBytesError
					if errors.As(err, &mbe) {
						return tooLarge(api, c, false, limit)
					}
					return api.WriteError(c, api.ValidationStatus(), "Data validation failed, request body could not be read")
				}
				if !utf8.Valid(body) {
					return api.WriteError(c, api.ValidationStatus(), "Data validation failed, request body is not valid UTF-8")
				}
				req.Body = io.NopCloser(bytes.NewReader(body))
			}
			in := &openapi3filter.RequestValidationInput{
				Request:    req,
				PathParams: params,
				Route:      withoutSecurity(route),
				Options: &openapi3filter.Options{
					AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
					ExcludeRequestBody: upload,
					KeepValidatedValue: true,
					// Short messages (the schema is in the contract), and formats such as email checked.
					SchemaValidationOptions: []openapi3.SchemaValidationOption{
						openapi3.DisableSchemaErrorDetails(), openapi3.EnableFormatValidation(),
					},
				},
			}
			if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					return tooLarge(api, c, upload, limit)
				}
				return api.WriteError(c, api.ValidationStatus(), validationMessage(err))
			}
			return next(c)
		}
	}
}

// tooLarge answers an oversized body: 413 on upload routes (their contracts say so), and the vendor's
// validation status elsewhere, since every JSON operation documents that one.
func tooLarge(api API, c echo.Context, upload bool, limit int64) error {
	if upload {
		return api.WriteError(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("upload is larger than %d bytes", limit))
	}
	return api.WriteError(c, api.ValidationStatus(), fmt.Sprintf("request body is larger than %d bytes", limit))
}

// isUpload: an operation whose request body is a binary stream is an upload route.
func isUpload(op *openapi3.Operation) bool {
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		return false
	}
	for _, mt := range op.RequestBody.Value.Content {
		if mt.Schema != nil && mt.Schema.Value != nil && mt.Schema.Value.Format == "binary" {
			return true
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
