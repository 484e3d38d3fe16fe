package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"gorm.io/gorm"

	"switchboard/app"
	"switchboard/models/platform"
	"switchboard/server"
)

// AdminPassword is the password of the "admin" user every Env starts with.
const AdminPassword = "admin-secret"

// Env is one Switchboard under test: its store and its HTTP handler.
type Env struct {
	T       testing.TB
	Kind    string
	DB      *gorm.DB
	Handler http.Handler
}

// New builds Switchboard over a fresh store of the given kind, with an admin user.
func New(t testing.TB, kind string) *Env {
	return NewWithOptions(t, kind, app.Options{})
}

// NewWithOptions is New with build options (limits, token lifetime); DB and Log are filled in.
func NewWithOptions(t testing.TB, kind string, o app.Options) *Env {
	t.Helper()
	return envOn(t, kind, NewDB(t, kind), o)
}

// NewNodes builds n Switchboards over one fresh Postgres store, each on a connection pool of its own with
// a service of its own (job queue, LISTEN relay), as n processes would be: for tests of what must cross
// nodes. Postgres must answer (see Kinds).
func NewNodes(t testing.TB, n int, o app.Options) []*Env {
	t.Helper()
	dsn := newStoreURL(t, "postgres")
	envs := make([]*Env, n)
	for i := range envs {
		envs[i] = envOn(t, "postgres", openStore(t, "postgres", dsn), o)
	}
	return envs
}

// envOn builds Switchboard over the store db, with an admin user.
func envOn(t testing.TB, kind string, db *gorm.DB, o app.Options) *Env {
	t.Helper()
	ctx := context.Background()
	if err := app.EnsureAdmin(ctx, db, AdminPassword, io.Discard); err != nil {
		t.Fatalf("admin: %v", err)
	}
	o.DB = db
	o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	if o.BlobDir == "" {
		o.BlobDir = t.TempDir() // the embedded store's media, never in the package directory
	}
	svc, err := app.Build(ctx, o)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	// Registered after NewDB's cleanups, so it runs before them: the workers stop before the store closes.
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := svc.Stop(stopCtx); err != nil {
			t.Errorf("stop the job queue: %v", err)
		}
	})
	return &Env{T: t, Kind: kind, DB: db, Handler: svc.Handler}
}

// Request is one call to make.
type Request struct {
	Method, Path string
	Body         io.Reader
	Header       http.Header
	// Chunked sends the body without a Content-Length, as a streaming client does.
	Chunked bool
	// DeclaredLength, when set, is the Content-Length the client claims (whatever the body really is).
	DeclaredLength int64
	// RemoteAddr, when set, is the client's address (default 192.0.2.1:1234).
	RemoteAddr string
}

// Response is what came back, already checked against the contract.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// Documented is false when the path matched no operation of the contract (then only a 404 is right).
	Documented bool
}

// JSON decodes the body into v or fails the test.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Do sends req through the whole stack and checks the response against the contract: the status must be
// one the operation documents and the body must match its schema. A violation fails t, the test (or
// subtest) that made the request.
func (e *Env) Do(t testing.TB, req Request) *Response {
	t.Helper()
	resp, err := e.do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.Path, err)
	}
	return resp
}

// Check is Do that answers a contract violation as an error instead of failing the test.
func (e *Env) Check(req Request) (*Response, error) { return e.do(req) }

func (e *Env) do(req Request) (*Response, error) {
	var raw []byte
	if req.Body != nil {
		var err error
		if raw, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
	}
	hr := httptest.NewRequest(req.Method, req.Path, bytes.NewReader(raw))
	for k, vs := range req.Header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	if req.Chunked {
		hr.ContentLength = -1
	}
	if req.DeclaredLength > 0 {
		hr.ContentLength = req.DeclaredLength
	}
	if req.RemoteAddr != "" {
		hr.RemoteAddr = req.RemoteAddr
	}
	return e.serve(hr, raw)
}

// Serve sends a prepared request through the whole stack as it is, its body streamed rather than read
// first (so a test can feed an upload step by step), and checks the response against the contract.
func (e *Env) Serve(hr *http.Request) (*Response, error) { return e.serve(hr, nil) }

func (e *Env) serve(hr *http.Request, reqBody []byte) (*Response, error) {
	rec := httptest.NewRecorder()
	e.Handler.ServeHTTP(rec, hr)
	resp := &Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	return resp, validateResponse(hr, reqBody, resp)
}

// ValidateResponse checks a response to a request against the contract that serves its path.
func validateResponse(hr *http.Request, reqBody []byte, resp *Response) error {
	api, rest, ok := strings.Cut(strings.TrimPrefix(hr.URL.Path, "/"), "/")
	if !ok || hr.URL.Path == "/collect/websocket" { // an AsyncAPI mount inside an OpenAPI prefix
		return nil
	}
	c, err := server.LoadContract(api)
	if err != nil {
		return nil // not a contract prefix (health, docs, metrics)
	}
	lookup := hr.Clone(context.Background())
	lookup.URL.Path = "/" + rest
	lookup.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := c.Router.FindRoute(lookup)
	if err != nil {
		if resp.Status != http.StatusNotFound {
			return fmt.Errorf("%s %s is not in the %s contract but answered %d", hr.Method, hr.URL.Path, api, resp.Status)
		}
		return nil
	}
	resp.Documented = true
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: lookup, PathParams: params, Route: route},
		Status:                 resp.Status,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(resp.Body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("%s %s answered %d %s, which breaks the %s contract: %v", hr.Method, hr.URL.Path, resp.Status, truncate(resp.Body), api, err)
	}
	return nil
}

// Contract answers the loaded contract of an API (servers removed), for tests that walk it.
func Contract(name string) (*openapi3.T, error) {
	c, err := server.LoadContract(name)
	if err != nil {
		return nil, err
	}
	return c.Doc, nil
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// APIKey stores a platform API key of the scope directly, as `switchboard key add` does, and answers it.
func (e *Env) APIKey(t testing.TB, name, scope string) string {
	t.Helper()
	_, key, err := platform.CreateAPIKey(context.Background(), e.DB, name, scope)
	if err != nil {
		t.Fatalf("key %s: %v", name, err)
	}
	return key
}

// SendJSON sends a request with the headers h (which may be empty); body nil sends none, a string is sent
// as it is (JSON), anything else is encoded as JSON. The answer is checked against the contract.
func (e *Env) SendJSON(t testing.TB, h http.Header, method, path string, body any) *Response {
	t.Helper()
	var r io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			r = strings.NewReader(s)
		} else {
			r = JSONBody(t, body)
		}
		h = h.Clone()
		if h == nil {
			h = http.Header{}
		}
		h.Set("Content-Type", "application/json")
	}
	return e.Do(t, Request{Method: method, Path: path, Body: r, Header: h})
}
