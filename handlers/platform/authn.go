package platform

import (
	"slices"

	"github.com/labstack/echo/v4"

	"switchboard/auth"
	"switchboard/models"
	"switchboard/models/identity"
	"switchboard/models/platform"
)

// Identify reads a request's credentials: an API key in X-API-Key (when present, it alone counts), or an
// ICTCore token as Authorization: Bearer. What either may do is Allows's to say, so a valid credential
// without the right is a 403, never a 401.
func (h *Handler) Identify(c echo.Context) (*auth.Principal, error) {
	r := c.Request()
	ctx := r.Context()
	if key := r.Header.Get("X-API-Key"); key != "" {
		k, err := platform.AuthenticateKey(ctx, h.db, key)
		if err != nil {
			return nil, err
		}
		return &auth.Principal{KeyID: k.ID, Username: "API key " + k.Name, Scope: k.Scope}, nil
	}
	if tok, ok := auth.Bearer(r.Header.Get(echo.HeaderAuthorization)); ok {
		u, err := identity.TokenUser(ctx, h.db, h.tokens, tok)
		if err != nil {
			return nil, err
		}
		return &auth.Principal{UserID: u.ID, Username: u.Username, Roles: u.RoleList()}, nil
	}
	return nil, errNoCredentials
}

var errNoCredentials = models.Errorf(models.Unauthenticated, "missing credentials (X-API-Key, or an ICTCore admin's bearer token)")

// Allows is the platform's role model: a key of scope admin, or an ICTCore user with the admin role, may do
// everything; a key of scope events may only publish call events.
func (h *Handler) Allows(p *auth.Principal, perm string) bool {
	if p.KeyID != 0 {
		return p.Scope == platform.ScopeAdmin || (p.Scope == platform.ScopeEvents && perm == permEvents)
	}
	return slices.Contains(p.Roles, identity.AdminRole)
}
