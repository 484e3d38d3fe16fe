package ictcore

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"switchboard/auth"
	"switchboard/gen/ictcoreapi"
	"switchboard/models"
)

var errBadCredentials = errors.New("Invalid credentials, access is denied")

// Identify reads a request's credentials: a token in Authorization or the guide's Authentication
// header, or HTTP Basic with a username, e-mail or user id. The user must exist and be active.
func (h *Handler) Identify(c echo.Context) (*auth.Principal, error) {
	r := c.Request()
	ctx := r.Context()
	var (
		user *models.User
		err  error
	)
	if tok, ok := bearer(r.Header.Get("Authorization")); ok {
		user, err = h.userFromToken(ctx, tok)
	} else if tok, ok := bearer(r.Header.Get("Authentication")); ok {
		user, err = h.userFromToken(ctx, tok)
	} else if name, pw, ok := r.BasicAuth(); ok {
		user, err = h.checkPassword(ctx, name, pw)
	} else {
		return nil, errBadCredentials
	}
	if err != nil {
		return nil, errBadCredentials
	}
	return &auth.Principal{UserID: user.ID, Username: user.Username, Roles: user.RoleList()}, nil
}

func bearer(header string) (string, bool) {
	const p = "bearer "
	if len(header) > len(p) && strings.EqualFold(header[:len(p)], p) {
		return strings.TrimSpace(header[len(p):]), true
	}
	return "", false
}

func (h *Handler) userFromToken(ctx context.Context, tok string) (*models.User, error) {
	claims, err := h.tokens.Parse(tok)
	if err != nil {
		return nil, err
	}
	// A user read in the last few seconds is trusted as it was: a deactivated user or a changed role
	// takes effect within userCacheTTL, and a token request costs no extra query.
	u, ok := h.users.Get(claims.UserID)
	if !ok {
		if u, err = models.FindUserByID(ctx, h.db, claims.UserID); err != nil {
			return nil, err
		}
		h.users.Put(claims.UserID, u)
	}
	if !u.Active {
		return nil, errBadCredentials
	}
	return u, nil
}

func (h *Handler) checkPassword(ctx context.Context, login, pw string) (*models.User, error) {
	u, err := models.FindUserByLogin(ctx, h.db, login)
	if err != nil {
		return nil, err
	}
	if err := h.passwords.Check(u.PasswordHash, pw); err != nil {
		return nil, err
	}
	if !u.Active {
		return nil, errBadCredentials
	}
	return u, nil
}

// Authenticate (POST /authenticate) trades a username and password for a token.
func (h *Handler) Authenticate(ctx context.Context, req ictcoreapi.AuthenticateRequestObject) (ictcoreapi.AuthenticateResponseObject, error) {
	u, err := h.checkPassword(ctx, req.Body.Username, req.Body.Password)
	if errors.Is(err, models.ErrNotFound) || errors.Is(err, auth.ErrBadPassword) || errors.Is(err, errBadCredentials) {
		return nil, fail(http.StatusUnauthorized, "Invalid user name and password")
	}
	if err != nil {
		return nil, err
	}
	p := auth.Principal{Roles: u.RoleList()}
	tok, err := h.tokens.Issue(u.ID, u.Username, p.IsAdmin())
	if err != nil {
		return nil, err
	}
	return ictcoreapi.Authenticate200JSONResponse{
		Token: tok, AccessToken: &tok, TokenType: ictcoreapi.Bearer,
		ExpiresIn: int64(h.tokens.TTL().Seconds()), UserId: u.ID, Username: u.Username,
	}, nil
}
