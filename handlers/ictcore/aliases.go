package ictcore

import (
	"fmt"
	"net/url"
	"regexp"

	"github.com/labstack/echo/v4"

	"switchboard/gen/ictcoreapi"
	"switchboard/server"
)

// Aliases (review R7, R8, R9). The contract lists every path real clients use: the guide's, the
// reference code's bare message paths (/documents, ...), /authentication, the n8n node's /faxes and
// /calls, and GET forms of deletes. An alias is an operation of its own in the contract (its own
// operationId, so its permissions and answers are checked as any other) marked
// `x-switchboard-alias-of: <operationId>`: Register routes it to that operation's generated handler,
// so an alias never has code of its own. `x-switchboard-alias-query` adds query parameters
// (GET /faxes is GET /transmissions?service_flag=2).

// route is one route the generated RegisterHandlers asked for.
type route struct {
	method, path string
	h            echo.HandlerFunc
	m            []echo.MiddlewareFunc
}

// routes records the generated routes (it is the generated code's EchoRouter) so Register can swap
// handlers before mounting them.
type routes struct{ list []route }

func (r *routes) add(method, path string, h echo.HandlerFunc, m []echo.MiddlewareFunc) *echo.Route {
	r.list = append(r.list, route{method: method, path: path, h: h, m: m})
	return &echo.Route{Method: method, Path: path}
}

func (r *routes) CONNECT(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add("CONNECT", p, h, m)
}
func (r *routes) DELETE(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add("DELETE", p, h, m)
}
func (r *routes) GET(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add("GET", p, h, m)
}
func (r *routes) HEAD(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add("HEAD", p, h, m)
}
func (r *routes) OPTIONS(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add("OPTIONS", p, h, m)
}
func (r *routes) PATCH(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add("PATCH", p, h, m)
}
func (r *routes) POST(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add("POST", p, h, m)
}
func (r *routes) PUT(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add("PUT", p, h, m)
}
func (r *routes) TRACE(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add("TRACE", p, h, m)
}

var _ ictcoreapi.EchoRouter = (*routes)(nil)

// alias is an alias operation's target route ("GET /transmissions", echo's spelling) and added query.
type alias struct {
	target string
	query  url.Values
}

var pathParam = regexp.MustCompile(`\{([^}/]+)\}`)

// contractAliases reads the alias operations of the contract, keyed by their own route.
func contractAliases() (map[string]alias, error) {
	c, err := server.LoadContract("ictcore")
	if err != nil {
		return nil, err
	}
	byID := map[string]string{}
	type pending struct{ key, of, query string }
	var found []pending
	for path, item := range c.Doc.Paths.Map() {
		for method, op := range item.Operations() {
			key := method + " " + pathParam.ReplaceAllString(path, ":$1")
			byID[op.OperationID] = key
			if of, ok := op.Extensions["x-switchboard-alias-of"].(string); ok {
				q, _ := op.Extensions["x-switchboard-alias-query"].(string)
				found = append(found, pending{key, of, q})
			}
		}
	}
	out := make(map[string]alias, len(found))
	for _, p := range found {
		target, ok := byID[p.of]
		if !ok {
			return nil, fmt.Errorf("contract ictcore: %s is an alias of %s, which it lacks", p.key, p.of)
		}
		q, err := url.ParseQuery(p.query)
		if err != nil {
			return nil, fmt.Errorf("contract ictcore: %s: x-switchboard-alias-query: %w", p.key, err)
		}
		out[p.key] = alias{target: target, query: q}
	}
	return out, nil
}

// mount registers the recorded routes on g, each alias with its target's handler.
func (r *routes) mount(g *echo.Group, aliases map[string]alias) error {
	byKey := make(map[string]echo.HandlerFunc, len(r.list))
	for _, rt := range r.list {
		byKey[rt.method+" "+rt.path] = rt.h
	}
	for _, rt := range r.list {
		h := rt.h
		if a, ok := aliases[rt.method+" "+rt.path]; ok {
			target, ok := byKey[a.target]
			if !ok {
				return fmt.Errorf("alias %s %s: no route %s", rt.method, rt.path, a.target)
			}
			h = withQuery(target, a.query)
		}
		if rt.method == "POST" && rt.path == "/groups/:group_id/csv" {
			h = server.PlainTextAsCSV(h) // review R9
		}
		g.Add(rt.method, rt.path, h, rt.m...)
	}
	return nil
}

// withQuery sets the alias's query parameters (over the client's) before the generated handler binds them.
func withQuery(h echo.HandlerFunc, set url.Values) echo.HandlerFunc {
	if len(set) == 0 {
		return h
	}
	return func(c echo.Context) error {
		q := c.QueryParams()
		for k, v := range set {
			q[k] = v
		}
		c.Request().URL.RawQuery = q.Encode()
		return h(c)
	}
}
