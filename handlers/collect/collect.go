// Package collect serves the Collect! contract in openapi/collect.yaml and its prompt socket
// (asyncapi/collect-ws.yaml): login, token refresh and logout, the data server's records (records.go),
// files (files.go), forms (forms.go), contact plans over the socket (plans.go, socket.go) and reports
// (reports.go), every error in Collect!'s shape.
package collect

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"switchboard/auth"
	"switchboard/blob"
	"switchboard/gen/collectapi"
	"switchboard/models"
	"switchboard/models/collect"
	"switchboard/queue"
	"switchboard/server"
)

// Handler serves the Collect! API. Operations not built yet come from the embedded Unimplemented.
type Handler struct {
	collectapi.Unimplemented
	db       *gorm.DB
	sessions *collect.Sessions
	blobs    blob.Store // uploaded files (files.go)
	fileMax  int64      // largest uploaded file, bytes
	prompts  *prompts   // the WebSocket and the contact plans' pending prompts (socket.go, plans.go)
	defs     *collect.DefCache
	log      *slog.Logger

	watchMu  sync.Mutex // watching: the check of open sockets' sessions runs (watchSessions)
	watching bool
}

var (
	_ collectapi.StrictServerInterface = (*Handler)(nil)
	_ server.API                       = (*Handler)(nil)
)

// Config is what the Collect! handler is built from.
type Config struct {
	DB     *gorm.DB
	Logins *auth.Guard // the server's one login guard: a client throttled on one API is throttled on all
	// Clock measures token lifetimes; nil: time.Now (tests move it instead of sleeping).
	Clock func() time.Time
	// Blobs stores uploaded files; FileMax bounds one (0: DefaultFileMax).
	Blobs   blob.Store
	FileMax int64
	// PromptTimeout bounds how long a contact plan waits for a prompt's answer (0: DefaultPromptTimeout).
	PromptTimeout time.Duration
	// Queue, when set, runs the sweep that fails plan runs orphaned by a stopped node (register before it
	// starts). Log is the handler's log (nil: slog.Default()).
	Queue *queue.Queue
	Log   *slog.Logger
	// Revocations, on Postgres, is how the node hears the other nodes' session revocations (the relay's);
	// while it does, session lookups are kept between requests (collect.Sessions.KeepLookups). The
	// embedded store keeps them always.
	Revocations *collect.Revocations
}

// DefaultFileMax is the upload limit the contract states (20 MiB).
const DefaultFileMax = 20 << 20

// New builds the Collect! API.
func New(c Config) *Handler {
	h := &Handler{db: c.DB, sessions: collect.NewSessions(c.DB, c.Logins, c.Clock), blobs: c.Blobs, fileMax: c.FileMax, defs: collect.NewDefCache()}
	h.sessions.KeepLookups(c.Revocations)
	h.prompts = newPrompts(c.PromptTimeout)
	if h.fileMax == 0 {
		h.fileMax = DefaultFileMax
	}
	h.log = c.Log
	if h.log == nil {
		h.log = slog.Default()
	}
	if c.Queue != nil {
		sweepOrphans(c.DB, c.Queue, h.log)
	}
	return h
}

// Name is the contract's name and mount prefix.
func (h *Handler) Name() string { return "collect" }

// Register mounts the generated routes.
func (h *Handler) Register(g *echo.Group) {
	collectapi.RegisterHandlers(g, collectapi.NewStrictHandler(h, nil))
}

// Statuses: bad input is 400 (the contract's BadRequest).
func (h *Handler) Statuses() map[models.Kind]int { return statuses }

var statuses = models.Statuses(http.StatusBadRequest)

// WriteError writes Collect!'s error body; its status always equals the HTTP status (ambiguity 1).
func (h *Handler) WriteError(c echo.Context, status int, msg string) error {
	return WriteError(c, status, msg)
}

// WriteError writes Collect!'s error body; its status always equals the HTTP status (ambiguity 1). A
// message longer than the contract's 2000 characters (a validation error quoting an oversized value) is
// cut to fit.
func WriteError(c echo.Context, status int, msg string) error {
	if utf8.RuneCountInString(msg) > maxMessage {
		msg = string([]rune(msg)[:maxMessage-1]) + "…"
	}
	return c.JSON(status, collectapi.CollectError{Status: int32(status), Message: msg})
}

// maxMessage is CollectError.message's maxLength.
const maxMessage = 2000

// databaseOf answers the database a request names: its x-collect-database, or the default database.
func databaseOf(name *string) string {
	if name == nil || *name == "" {
		return collect.DefaultDatabase
	}
	return *name
}

// Login (POST /api/v1/auth/login) checks an operator's password against the database the request names and
// answers the operator with a new access and refresh token, both bound to that database.
func (h *Handler) Login(ctx context.Context, req collectapi.LoginRequestObject) (collectapi.LoginResponseObject, error) {
	op, toks, err := h.sessions.Login(ctx, databaseOf(req.Params.XCollectDatabase), req.Body.OpId, req.Body.OpPassword,
		server.ClientAddr(ctx))
	if err != nil {
		return nil, err
	}
	return collectapi.Login200JSONResponse(loginReply(op, toks)), nil
}

// RefreshToken (POST /api/v1/auth/refresh) trades a refresh token for new tokens; the old ones stop working.
func (h *Handler) RefreshToken(ctx context.Context, req collectapi.RefreshTokenRequestObject) (collectapi.RefreshTokenResponseObject, error) {
	op, toks, err := h.sessions.Refresh(ctx, databaseOf(req.Params.XCollectDatabase), req.Body.RefreshToken)
	if err != nil {
		return nil, err
	}
	return collectapi.RefreshToken200JSONResponse(loginReply(op, toks)), nil
}

// Logout (POST /api/v1/auth/logout) ends the session of the access token the request came with.
func (h *Handler) Logout(ctx context.Context, _ collectapi.LogoutRequestObject) (collectapi.LogoutResponseObject, error) {
	p := auth.PrincipalFrom(ctx)
	if err := h.sessions.Logout(ctx, callerOf(p)); err != nil {
		return nil, err
	}
	h.closeSessionSockets(p.SessionID)
	return collectapi.Logout200JSONResponse{Status: collectapi.N200}, nil
}

func loginReply(op *collect.Operator, toks collect.Tokens) collectapi.LoginReply {
	return collectapi.LoginReply{Status: collectapi.N200, Result: collectapi.LoginResult{
		NxOperator: collectapi.NxOperator{OpRowid: strconv.FormatInt(op.ID, 10), OpId: op.OpID, OpName: op.OpName,
			OpLevel: op.OpLevel, OpFunction: op.OpFunction},
		AccessToken: toks.Access, RefreshToken: toks.Refresh,
	}}
}
