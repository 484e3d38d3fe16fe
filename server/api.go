// Package server wires Switchboard's HTTP surface: one echo group per vendor API, each behind its own
// contract middleware (route lookup, body limit, authentication, permission table, kin-openapi request
// validation) and error mapper, plus health, metrics, Swagger UI and the raw contracts.
package server

import (
	"context"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"switchboard/auth"
	"switchboard/models"
)

// API is one vendor contract served under its own prefix. Each handlers/<api> package provides one.
type API interface {
	// Name is the contract's file name without .yaml, e.g. "ictcore".
	Name() string
	// Register mounts the generated routes on g (the group already carries the prefix).
	Register(g *echo.Group)
	// Identify checks the credentials of a request to an operation that requires them. Its errors are
	// kinded (models.Unauthenticated, Throttled, Busy, NotBuilt, …); an unkinded error is a 500.
	Identify(c echo.Context) (*auth.Principal, error)
	// Permissions is the permission table: every secured operationId → the permissions the caller must
	// all hold. The contract middleware enforces it after authentication; an operation without an entry
	// answers 500 (fail closed).
	Permissions() map[string][]string
	// Allows tells whether the principal holds one permission, in this API's own role model.
	Allows(p *auth.Principal, perm string) bool
	// Statuses maps error kinds to this API's HTTP statuses; a kind it does not list is a 500.
	Statuses() map[models.Kind]int
	// WriteError writes an error in the vendor's documented error shape.
	WriteError(c echo.Context, status int, message string) error
}

// Sockets is implemented by an API that serves WebSocket endpoints (an AsyncAPI contract) beside its
// OpenAPI routes: path → handler, mounted outside the contract middleware (the handler authenticates).
type Sockets interface {
	Sockets() map[string]echo.HandlerFunc
}

// OperationID answers the operationId of the request's operation, once the contract middleware found it.
func OperationID(c echo.Context) string {
	op, _ := c.Get(ctxOperation).(string)
	return op
}

// requestKey carries what strict handlers (which receive only the request's context) need of the request
// as the client sent it: validation later fills in the contract's defaults on the live URL.
type requestKey struct{}

type requestInfo struct {
	url  url.URL
	addr string
}

// RequestURL answers the URL of the request a strict handler serves (path with the mount prefix, query),
// for answers that link to other pages of a list.
func RequestURL(ctx context.Context) *url.URL {
	if r, ok := ctx.Value(requestKey{}).(*requestInfo); ok {
		return &r.url
	}
	return nil
}

// ClientAddr answers the address of the connection that sent the request (login throttling keys on it;
// forwarded-for headers are not trusted, since any client can set them).
func ClientAddr(ctx context.Context) string {
	if r, ok := ctx.Value(requestKey{}).(*requestInfo); ok {
		return r.addr
	}
	return ""
}

// NextLink answers an RFC 8288 Link header value pointing at the next page: the request's own URL with
// the query parameters in set replaced (an empty value removes one).
func NextLink(ctx context.Context, set map[string]string) *string {
	u := RequestURL(ctx)
	if u == nil {
		return nil
	}
	q := u.Query()
	for k, v := range set {
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
	}
	next := url.URL{Path: u.Path, RawQuery: q.Encode()}
	link := "<" + next.String() + `>; rel="next"`
	return &link
}

// PageLink answers the Link header of a list page: nil on the last page, else the next page by keyset
// when the list has a cursor parameter (cursorParam, e.g. "after_contact_id"; any offset is dropped), or
// by offset.
func PageLink[T any](ctx context.Context, page models.PageOf[T], cursorParam string) *string {
	if !page.More {
		return nil
	}
	if cursorParam != "" {
		return NextLink(ctx, map[string]string{cursorParam: strconv.FormatInt(page.NextAfter, 10), "offset": ""})
	}
	return NextLink(ctx, map[string]string{"offset": strconv.FormatInt(page.NextOffset, 10)})
}
