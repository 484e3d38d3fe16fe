package ictcore

import (
	"context"

	"github.com/labstack/echo/v4"

	"switchboard/auth"
	"switchboard/gen/ictcoreapi"
	"switchboard/models"
	"switchboard/models/identity"
	"switchboard/server"
)

var errBadCredentials = models.Errorf(models.Unauthenticated, "Invalid credentials, access is denied")

// Identify reads a request's credentials: a token in Authorization or the guide's Authentication
// header, or HTTP Basic with a username, e-mail or user id. The user must exist and be active.
func (h *Handler) Identify(c echo.Context) (*auth.Principal, error) {
	r := c.Request()
	ctx := r.Context()
	var (
		user *identity.User
		err  error
	)
	if tok, ok := auth.Bearer(r.Header.Get("Authorization")); ok {
		user, err = h.userFromToken(ctx, tok)
	} else if tok, ok := auth.Bearer(r.Header.Get("Authentication")); ok {
		user, err = h.userFromToken(ctx, tok)
	} else if name, pw, ok := r.BasicAuth(); ok {
		if user, err = h.login(ctx, name, pw, r.RemoteAddr); err == nil {
			err = h.grantsOf(ctx, user)
		}
	} else {
		return nil, errBadCredentials
	}
	if err != nil {
		return nil, err
	}
	return &auth.Principal{UserID: user.ID, Username: user.Username, Roles: user.RoleList(), Permissions: user.Permissions}, nil
}

func (h *Handler) userFromToken(ctx context.Context, tok string) (*identity.User, error) {
	claims, err := h.tokens.Parse(tok)
	if err != nil {
		return nil, errBadCredentials
	}
	// A user read in the last few seconds is trusted as it was: a deactivated user or a changed role
	// takes effect within userCacheTTL, and a token request costs no extra query.
	u, ok := h.users.Get(claims.UserID)
	if !ok {
		if u, err = identity.FindUserByID(ctx, h.db, claims.UserID); err != nil {
			if models.KindOf(err) == models.NotFound {
				return nil, errBadCredentials
			}
			return nil, err // the store: busy, never a 401
		}
		if u.Permissions, err = h.granted(ctx, u); err != nil {
			return nil, err
		}
		h.users.Put(claims.UserID, u)
	}
	if !u.Active {
		return nil, errBadCredentials
	}
	return u, nil
}

// grantsOf fills in the permissions granted to u (a user just read for a password login) directly: from the
// user cache when it is fresh there, else from the store, caching u, so HTTP Basic on every request costs
// no extra query either.
func (h *Handler) grantsOf(ctx context.Context, u *identity.User) error {
	if cached, ok := h.users.Get(u.ID); ok {
		u.Permissions = cached.Permissions
		return nil
	}
	var err error
	if u.Permissions, err = h.granted(ctx, u); err != nil {
		return err
	}
	h.users.Put(u.ID, u)
	return nil
}

// granted reads the permissions granted to u directly; an admin holds every permission already.
func (h *Handler) granted(ctx context.Context, u *identity.User) ([]string, error) {
	if u.HasRole(identity.AdminRole) {
		return nil, nil
	}
	return identity.GrantedPermissions(ctx, h.db, u.ID)
}

// forget drops user id from the user cache after a change to it, so this node's next request of that user
// sees the change at once (other nodes within userCacheTTL).
func (h *Handler) forget(id int64) { h.users.Delete(id) }

// login checks a password through the shared login guard; a bad one answers ICTCore's wording.
func (h *Handler) login(ctx context.Context, login, pw, addr string) (*identity.User, error) {
	u, err := identity.Login(ctx, h.db, h.logins, login, addr, pw)
	if models.KindOf(err) == models.Unauthenticated {
		return nil, errBadCredentials
	}
	return u, err
}

// Authenticate (POST /authenticate) trades a username and password for a token.
func (h *Handler) Authenticate(ctx context.Context, req ictcoreapi.AuthenticateRequestObject) (ictcoreapi.AuthenticateResponseObject, error) {
	u, err := h.login(ctx, req.Body.Username, req.Body.Password, server.ClientAddr(ctx))
	if models.KindOf(err) == models.Unauthenticated {
		return nil, models.Errorf(models.Unauthenticated, "Invalid user name and password")
	}
	if err != nil {
		return nil, err
	}
	tok, err := h.tokens.Issue(u.ID, u.Username, isAdmin(&auth.Principal{Roles: u.RoleList()}))
	if err != nil {
		return nil, err
	}
	return ictcoreapi.Authenticate200JSONResponse{
		Token: tok, AccessToken: &tok, TokenType: ictcoreapi.Bearer,
		ExpiresIn: int64(h.tokens.TTL().Seconds()), UserId: u.ID, Username: u.Username,
	}, nil
}
