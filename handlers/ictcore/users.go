package ictcore

import (
	"context"
	"strings"

	"gorm.io/gorm"

	"switchboard/auth"
	"switchboard/convert"
	"switchboard/gen/ictcoreapi"
	"switchboard/models"
	"switchboard/models/ictcore"
	"switchboard/models/identity"
	"switchboard/server"
)

// Users, their passwords, roles and directly granted permissions (tag Users). The permission table makes
// them admin-only except what ICTCore's user role holds (user_read, user_password) and what an admin grants
// one by one; a caller who is not an admin sees and changes only itself (userScope: another user answers
// 404, never data) and grants nothing (403). Passwords are hashed at once and never answered or logged.
// Every change to a user drops it from the user cache (forget), so it reaches that user's next request on
// this node at once and on other nodes within userCacheTTL.

// userScope is whose user rows the request may touch: every user for an admin, else the caller alone.
func userScope(ctx context.Context) identity.Scope {
	p := auth.PrincipalFrom(ctx)
	if isAdmin(p) {
		return identity.AllUsers
	}
	return identity.Scope(p.UserID)
}

// onlyAdminGrants refuses a role or permission grant by a caller who is not an admin: one allowed to change
// only itself could otherwise raise itself to admin.
func onlyAdminGrants(ctx context.Context) error {
	if !isAdmin(auth.PrincipalFrom(ctx)) {
		return models.Errorf(models.Forbidden, "only an admin grants roles and permissions")
	}
	return nil
}

// ictcoreRoles are the two fixed roles of the contract, by id.
var ictcoreRoles = []ictcoreapi.Role{
	{RoleId: 1, Name: "admin", Description: ptr("Administrator, holds every permission")},
	{RoleId: 2, Name: "user", Description: ptr("Regular user")},
}

func roleName(id int64) (string, error) {
	for _, r := range ictcoreRoles {
		if r.RoleId == id {
			return r.Name, nil
		}
	}
	return "", models.Errorf(models.NotFound, "role %d not found", id)
}

func ptr[T any](v T) *T { return &v }

// newPassword hashes the password of a body that may name it `password` or `passwd` (ambiguity 57); both
// must then agree. It answers "" when neither is given.
func newPassword(password, passwd *string) (string, error) {
	pw := password
	switch {
	case password != nil && passwd != nil && *password != *passwd:
		return "", models.Errorf(models.Invalid, "password and passwd differ")
	case pw == nil:
		pw = passwd
	}
	if pw == nil {
		return "", nil
	}
	return auth.HashPassword(*pw)
}

// email answers the stored form of an e-mail address: none for empty.
func email(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

func (h *Handler) CreateUser(ctx context.Context, req ictcoreapi.CreateUserRequestObject) (ictcoreapi.CreateUserResponseObject, error) {
	in := req.Body
	hash, err := newPassword(in.Password, in.Passwd)
	if err != nil {
		return nil, err
	}
	if hash == "" {
		return nil, models.Errorf(models.Invalid, "password is required (as password or passwd)")
	}
	u := &identity.User{Username: in.Username, PasswordHash: hash, FirstName: convert.Deref(in.FirstName),
		LastName: convert.Deref(in.LastName), Phone: convert.Deref(in.Phone), Address: convert.Deref(in.Address), Company: convert.Deref(in.Company),
		Roles: "user", Active: in.Active == nil || *in.Active == ictcoreapi.UserInputActiveN1,
		CountryID: in.CountryId, LanguageID: convert.Deref(in.LanguageId), TimezoneID: in.TimezoneId}
	if in.Email != nil {
		u.Email = email(string(*in.Email))
	}
	err = identity.CreateUser(ctx, h.db, u, func(tx *gorm.DB) error {
		return ictcore.CreateUserDefaultAccount(tx, ictcore.DefaultAccount{UserID: u.ID, Username: u.Username,
			FirstName: u.FirstName, LastName: u.LastName, Phone: u.Phone, Email: convert.Deref(u.Email), Addr: u.Address,
			Active: u.Active})
	})
	if err != nil {
		return nil, err
	}
	return ictcoreapi.CreateUser200JSONResponse(idAnswer[ictcoreapi.UserCreated](h.bareIDs, "user_id", u.ID)), nil
}

func (h *Handler) ListUsers(ctx context.Context, req ictcoreapi.ListUsersRequestObject) (ictcoreapi.ListUsersResponseObject, error) {
	p := req.Params
	page, err := identity.ListUsers(ctx, h.db, userScope(ctx), identity.UserFilter{ID: p.UserId, CreatedBy: p.CreatedBy,
		Username: p.Username, Phone: p.Phone, Email: p.Email, FirstName: p.FirstName, LastName: p.LastName,
		Before: p.Before, After: p.After, ListQuery: pageQuery(p.Limit, p.Offset, p.Count)})
	if err != nil {
		return nil, err
	}
	out := convert.Each(page.Items, toAPIUser)
	return ictcoreapi.ListUsers200JSONResponse{Body: out, Headers: ictcoreapi.ListUsers200ResponseHeaders{
		XTotalCount: totalHeader(page.Total), Link: server.PageLink(ctx, page, "")}}, nil
}

func (h *Handler) GetUser(ctx context.Context, req ictcoreapi.GetUserRequestObject) (ictcoreapi.GetUserResponseObject, error) {
	u, err := identity.GetUser(ctx, h.db, userScope(ctx), req.UserId)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.GetUser200JSONResponse(toAPIUser(u)), nil
}

func (h *Handler) UpdateUser(ctx context.Context, req ictcoreapi.UpdateUserRequestObject) (ictcoreapi.UpdateUserResponseObject, error) {
	in := req.Body
	hash, err := newPassword(in.Password, in.Passwd) // before the transaction: hashing is slow
	if err != nil {
		return nil, err
	}
	u, err := h.updateUser(ctx, req.UserId, func(u *identity.User) error {
		set(&u.Username, in.Username)
		if hash != "" {
			u.PasswordHash = hash
		}
		set(&u.FirstName, in.FirstName)
		set(&u.LastName, in.LastName)
		set(&u.Phone, in.Phone)
		if in.Email != nil {
			u.Email = email(*in.Email)
		}
		set(&u.Address, in.Address)
		set(&u.Company, in.Company)
		if in.CountryId != nil {
			u.CountryID = in.CountryId
		}
		set(&u.LanguageID, in.LanguageId)
		if in.TimezoneId != nil {
			u.TimezoneID = in.TimezoneId
		}
		if in.Active != nil {
			u.Active = *in.Active == ictcoreapi.UserUpdateActiveN1
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ictcoreapi.UpdateUser200JSONResponse(toAPIUser(u)), nil
}

// DeleteUser (DELETE /users/{user_id}) deletes the user with its granted permissions and dissociates its
// accounts (the contract), in one transaction. Decision: the contacts, groups and messages the user owned
// are kept, as ICTCore keeps them (its rows only name their creator) and as the contract keeps the accounts:
// deleting a user never deletes work, an admin still sees and can reassign or delete those rows, and user ids
// are never reused (AUTOINCREMENT, sequences), so no later user inherits them.
func (h *Handler) DeleteUser(ctx context.Context, req ictcoreapi.DeleteUserRequestObject) (ictcoreapi.DeleteUserResponseObject, error) {
	id := req.UserId
	err := identity.DeleteUser(ctx, h.db, userScope(ctx), auth.PrincipalFrom(ctx).UserID, id, func(tx *gorm.DB) error {
		return ictcore.ReleaseUserAccounts(tx, id)
	})
	if err != nil {
		return nil, err
	}
	h.forget(id)
	return ictcoreapi.DeleteUser200JSONResponse(true), nil
}

// UpdateUserPassword (PUT /users/{user_id}/password): as the contract says, no old password is asked; an
// admin sets anyone's, any other user its own.
func (h *Handler) UpdateUserPassword(ctx context.Context, req ictcoreapi.UpdateUserPasswordRequestObject) (ictcoreapi.UpdateUserPasswordResponseObject, error) {
	hash, err := auth.HashPassword(req.Body.Password)
	if err != nil {
		return nil, err
	}
	u, err := h.updateUser(ctx, req.UserId, func(u *identity.User) error {
		u.PasswordHash = hash
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ictcoreapi.UpdateUserPassword200JSONResponse(toAPIUser(u)), nil
}

func (h *Handler) AddUserRole(ctx context.Context, req ictcoreapi.AddUserRoleRequestObject) (ictcoreapi.AddUserRoleResponseObject, error) {
	u, err := h.setRole(ctx, req.UserId, req.RoleId, true)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.AddUserRole200JSONResponse(toAPIUser(u)), nil
}

func (h *Handler) RemoveUserRole(ctx context.Context, req ictcoreapi.RemoveUserRoleRequestObject) (ictcoreapi.RemoveUserRoleResponseObject, error) {
	if _, err := h.setRole(ctx, req.UserId, req.RoleId, false); err != nil {
		return nil, err
	}
	return ictcoreapi.RemoveUserRole200JSONResponse(true), nil
}

// setRole gives or takes role id; taking the admin role from the last active admin is refused by the model.
func (h *Handler) setRole(ctx context.Context, userID, roleID int64, on bool) (*identity.User, error) {
	if on {
		if err := onlyAdminGrants(ctx); err != nil {
			return nil, err
		}
	}
	name, err := roleName(roleID)
	if err != nil {
		return nil, err
	}
	return h.updateUser(ctx, userID, func(u *identity.User) error {
		u.SetRole(name, on)
		return nil
	})
}

func (h *Handler) AddUserPermission(ctx context.Context, req ictcoreapi.AddUserPermissionRequestObject) (ictcoreapi.AddUserPermissionResponseObject, error) {
	if err := onlyAdminGrants(ctx); err != nil {
		return nil, err
	}
	s := userScope(ctx)
	if err := identity.GrantPermission(ctx, h.db, s, req.UserId, req.PermissionId); err != nil {
		return nil, err
	}
	h.forget(req.UserId)
	u, err := identity.GetUser(ctx, h.db, s, req.UserId)
	if err != nil {
		return nil, err
	}
	return ictcoreapi.AddUserPermission200JSONResponse(toAPIUser(u)), nil
}

func (h *Handler) RemoveUserPermission(ctx context.Context, req ictcoreapi.RemoveUserPermissionRequestObject) (ictcoreapi.RemoveUserPermissionResponseObject, error) {
	if err := identity.RevokePermission(ctx, h.db, userScope(ctx), req.UserId, req.PermissionId); err != nil {
		return nil, err
	}
	h.forget(req.UserId)
	return ictcoreapi.RemoveUserPermission200JSONResponse(true), nil
}

// ListRoles (GET /roles, Switchboard's addition): the two fixed roles, filtered.
func (h *Handler) ListRoles(_ context.Context, req ictcoreapi.ListRolesRequestObject) (ictcoreapi.ListRolesResponseObject, error) {
	p := req.Params
	out := ictcoreapi.ListRoles200JSONResponse{}
	for _, r := range ictcoreRoles {
		if (p.RoleId == nil || *p.RoleId == r.RoleId) && (p.Name == nil || strings.HasPrefix(r.Name, *p.Name)) {
			out = append(out, r)
		}
	}
	return out, nil
}

// ListPermissions (GET /permissions, Switchboard's addition): the names a user can be granted directly.
func (h *Handler) ListPermissions(ctx context.Context, req ictcoreapi.ListPermissionsRequestObject) (ictcoreapi.ListPermissionsResponseObject, error) {
	p := req.Params
	page, err := identity.ListPermissions(ctx, h.db, identity.PermissionFilter{ID: p.PermissionId, Name: p.Name,
		ListQuery: listQuery(p.Limit, p.Offset, nil, p.Count)})
	if err != nil {
		return nil, err
	}
	out := make([]ictcoreapi.Permission, len(page.Items))
	for i, perm := range page.Items {
		out[i] = ictcoreapi.Permission{PermissionId: perm.ID, Name: perm.Name, Description: &perm.Description}
	}
	return ictcoreapi.ListPermissions200JSONResponse{Body: out, Headers: ictcoreapi.ListPermissions200ResponseHeaders{
		XTotalCount: page.Total, Link: server.PageLink(ctx, page, "")}}, nil
}

// updateUser applies change to a user the caller may see and forgets the cached copy.
func (h *Handler) updateUser(ctx context.Context, id int64, change func(*identity.User) error) (*identity.User, error) {
	u, err := identity.UpdateUser(ctx, h.db, userScope(ctx), id, change)
	if err != nil {
		return nil, err
	}
	h.forget(id)
	return u, nil
}

// toAPIUser answers a user as the contract shows it: never its password hash, roles or grants.
func toAPIUser(u *identity.User) ictcoreapi.User {
	active := ictcoreapi.UserActiveN0
	if u.Active {
		active = ictcoreapi.UserActiveN1
	}
	return ictcoreapi.User{UserId: u.ID, Username: u.Username, FirstName: &u.FirstName, LastName: &u.LastName,
		Phone: &u.Phone, Email: u.Email, Address: &u.Address, Company: &u.Company, CountryId: u.CountryID,
		LanguageId: &u.LanguageID, TimezoneId: u.TimezoneID, Active: active}
}
