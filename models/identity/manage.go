package identity

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"switchboard/models"
)

// Managing users (ICTCore's /users routes): reads and writes scoped to what the caller may see, and the
// one rule every write keeps: at least one active admin remains. Writes that may take the admin role away
// (update, delete) first lock the active admins' rows, in id order, so two requests demoting the last two
// admins take turns and the second is refused (SQLite's write transactions take turns anyway).

// Scope is whose user rows a request may see and change: AllUsers for an admin, else one user id, the
// caller's own row. Another user's row answers not found, so ids tell a caller nothing.
type Scope int64

// AllUsers sees every user.
const AllUsers Scope = 0

func (s Scope) where(q *gorm.DB) *gorm.DB {
	if s == AllUsers {
		return q
	}
	return q.Where("user_id = ?", int64(s))
}

// AdminRole is the role that administers users: the last active user holding it may not be deleted,
// deactivated, or lose it.
const AdminRole = "admin"

// HasRole tells whether u holds role.
func (u *User) HasRole(role string) bool { return slices.Contains(u.RoleList(), role) }

// SetRole gives u role (on) or takes it away; holding it already, or not, is no error.
func (u *User) SetRole(role string, on bool) {
	roles := slices.DeleteFunc(u.RoleList(), func(r string) bool { return r == role })
	if on {
		roles = append(roles, role)
	}
	u.Roles = strings.Join(roles, ",")
}

func userNotFound(id int64) error { return models.Errorf(models.NotFound, "user %d not found", id) }

// GetUser loads user id if s may see it.
func GetUser(ctx context.Context, db *gorm.DB, s Scope, id int64) (*User, error) {
	return models.TakeOne[User](s.where(db.WithContext(ctx)).Where("user_id = ?", id),
		func() error { return userNotFound(id) })
}

// UserFilter is the whitelist of the user list's parameters, all exact matches as in ICTCore. Before and
// After bound the creation time (unix seconds), inclusive. CreatedBy is ICTCore's alias of the owner
// filter, and a user row's owner is that user: no creator is recorded, so it filters by id as ID does.
type UserFilter struct {
	ID, CreatedBy, Before, After                *int64
	Username, Phone, Email, FirstName, LastName *string
	models.ListQuery
}

// ListUsers answers one page of the users s may see that match f, in id order.
func ListUsers(ctx context.Context, db *gorm.DB, s Scope, f UserFilter) (models.PageOf[User], error) {
	return models.List(ctx, s.where(db.Model(&User{})), "user_id", f.ListQuery, func(u *User) int64 { return u.ID },
		models.Equal("user_id", f.ID), models.Equal("user_id", f.CreatedBy), models.Equal("username", f.Username), models.Equal("phone", f.Phone),
		models.Equal("email", f.Email), models.Equal("first_name", f.FirstName), models.Equal("last_name", f.LastName),
		models.AtMost("created_at", f.Before), models.AtLeast("created_at", f.After))
}

// UpdateUser loads user id (if s may see it) in a transaction, lets change edit it, and saves it. A
// username or e-mail another user has is a Conflict, and so is a change that leaves no active admin;
// change answers an error to refuse. Nothing is written unless all is well.
func UpdateUser(ctx context.Context, db *gorm.DB, s Scope, id int64, change func(*User) error) (*User, error) {
	var u User
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		admins, err := lockActiveAdmins(tx)
		if err != nil {
			return err
		}
		if err := lockUser(tx, s, id, &u); err != nil {
			return err
		}
		before := u
		if err := change(&u); err != nil {
			return err
		}
		u.ID = id
		if u.Username != before.Username || (u.Email != nil && (before.Email == nil || *u.Email != *before.Email)) {
			if err := checkUnique(tx, &u); err != nil {
				return err
			}
		}
		if err := keepAnAdmin(admins, &before, &u); err != nil {
			return err
		}
		u.UpdatedAt = time.Now().Unix()
		return tx.Save(&u).Error
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// DeleteUser deletes user id (if s may see it) with its granted permissions, then runs then in the same
// transaction for what else hangs on the user. The caller may not delete itself, nor the last active admin
// (both Conflicts). Rows the user owns elsewhere are not touched: the caller decides through then.
func DeleteUser(ctx context.Context, db *gorm.DB, s Scope, caller, id int64, then func(tx *gorm.DB) error) error {
	if caller == id {
		return models.Errorf(models.Conflict, "a user cannot delete itself")
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		admins, err := lockActiveAdmins(tx)
		if err != nil {
			return err
		}
		var u User
		if err := lockUser(tx, s, id, &u); err != nil {
			return err
		}
		if err := keepAnAdmin(admins, &u, nil); err != nil {
			return err
		}
		if err := tx.Where("user_id = ?", id).Delete(&userPermission{}).Error; err != nil {
			return err
		}
		if err := tx.Where("user_id = ?", id).Delete(&User{}).Error; err != nil {
			return err
		}
		if then != nil {
			return then(tx)
		}
		return nil
	})
}

// lockUser loads user id into u if s may see it, locked against other writers until the transaction ends.
func lockUser(tx *gorm.DB, s Scope, id int64, u *User) error {
	q := s.where(tx).Where("user_id = ?", id)
	if models.IsPostgres(tx) {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	err := q.Take(u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return userNotFound(id)
	}
	return err
}

// lockActiveAdmins answers the ids of the active admins, their rows locked (on Postgres; SQLite's writers
// take turns) so the answer holds until the transaction ends.
func lockActiveAdmins(tx *gorm.DB) ([]int64, error) {
	var ids []int64
	q := tx.Model(&User{}).Where("active = ?", true).
		Where("(',' || replace(roles, ' ', '') || ',') LIKE ?", "%,"+AdminRole+",%")
	if models.IsPostgres(tx) {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	err := q.Order("user_id").Pluck("user_id", &ids).Error
	return ids, err
}

// keepAnAdmin refuses a change of before into after (nil: deleted) that takes the admin role or activity
// from the last active admin; admins are the active admins' ids.
func keepAnAdmin(admins []int64, before, after *User) error {
	if !before.Active || !before.HasRole(AdminRole) || (after != nil && after.Active && after.HasRole(AdminRole)) {
		return nil
	}
	for _, id := range admins {
		if id != before.ID {
			return nil
		}
	}
	return models.Errorf(models.Conflict, "user %q is the last active admin: make another user an admin first", before.Username)
}
