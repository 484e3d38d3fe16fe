package ucontact

import (
	"context"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"switchboard/auth"
	"switchboard/models"
	"switchboard/models/ucontact"
)

var errNoKey = models.Errorf(models.Unauthenticated, "missing API key (Authorization: Basic <APIKey>)")

// Identify reads a request's API key (Authorization: Basic <APIKey>, the scheme in any case) and answers
// the user it was issued to. A key that is unknown, ended, or whose user was deleted answers 401; so does
// any other API's credential (a bearer token, an ICTCore password in HTTP Basic): it is no uContact key.
func (h *Handler) Identify(c echo.Context) (*auth.Principal, error) {
	r := c.Request()
	key, ok := basic(r.Header.Get(echo.HeaderAuthorization))
	if !ok {
		return nil, errNoKey
	}
	caller, err := h.sessions.Authenticate(r.Context(), key)
	if err != nil {
		return nil, err
	}
	return &auth.Principal{UserID: caller.User.ID, Username: caller.User.Name, Roles: []string{caller.User.Role},
		SessionID: caller.SessionID}, nil
}

// basic answers the credentials of an "Authorization: Basic <credentials>" header value.
func basic(header string) (string, bool) {
	const p = "basic "
	if len(header) > len(p) && strings.EqualFold(header[:len(p)], p) {
		return strings.TrimSpace(header[len(p):]), true
	}
	return "", false
}

// The permissions: permAgent is what an agent's key may call (its own call handling), permSupervisor the
// rest. A supervisor holds both.
const (
	permAgent      = "agent"
	permSupervisor = "supervisor"
)

// Allows is uContact's role model: a supervisor may do everything, an agent only permAgent.
func (h *Handler) Allows(p *auth.Principal, perm string) bool {
	if slices.Contains(p.Roles, ucontact.RoleSupervisor) {
		return true
	}
	return perm == permAgent && slices.Contains(p.Roles, ucontact.RoleAgent)
}

// Permissions is the operationId → permissions table.
func (h *Handler) Permissions() map[string][]string { return permissions }

// permissions lists every secured operation of openapi/ucontact.yaml (the three logins take no key); an
// operation without an entry is refused with 500 (fail closed).
var permissions = map[string][]string{
	"endSession":      {permAgent},
	"agentLogoff":     {permAgent},
	"agentCall":       {permAgent},
	"dispositionCall": {permAgent},
	"sendSms":         {permAgent},
	"sendSmsV2":       {permAgent},

	"listDispositions":   {permSupervisor},
	"dialerTask":         {permSupervisor},
	"scheduleDialerCall": {permSupervisor},
	"uploadBase":         {permSupervisor},
	"webcallback":        {permSupervisor},
	"uploadSmsBase":      {permSupervisor},
	"receiveUrlSms":      {permSupervisor},
}

// forSelf refuses an agent acting for another agent (a supervisor may act for any): AgentLogoff and
// AgentCall name the agent in their form.
func forSelf(ctx context.Context, agent string) error {
	p := auth.PrincipalFrom(ctx)
	if p == nil || slices.Contains(p.Roles, ucontact.RoleSupervisor) || p.Username == agent {
		return nil
	}
	return models.Errorf(models.Forbidden, "an agent's key acts for that agent only, not for %q", agent)
}

// caller answers the id of the user whose key the request came with (0 when none).
func caller(ctx context.Context) int64 {
	if p := auth.PrincipalFrom(ctx); p != nil {
		return p.UserID
	}
	return 0
}
