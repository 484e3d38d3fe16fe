// Package identity holds the people who sign in: one users table for every API (ICTCore users today;
// uContact agents, CIM users and Accolades CRM ids later). Role names are stored as given; what a role may
// do is each API's own model (handlers/<api>).
package identity

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"switchboard/auth"
	"switchboard/models"
)

// User is anyone who signs in.
type User struct {
	ID           int64   `gorm:"primaryKey;column:user_id"`
	Username     string  `gorm:"size:128"`
	Email        *string `gorm:"size:128"`
	PasswordHash string  `gorm:"size:255"`
	FirstName    string
	LastName     string
	Phone        string
	Address      string
	Company      string
	Roles        string // comma-separated role names, e.g. "admin,user"
	Active       bool
	CreatedAt    int64 `gorm:"autoCreateTime"`
	UpdatedAt    int64 `gorm:"autoUpdateTime"`
}

// RoleList splits Roles.
func (u *User) RoleList() []string {
	var out []string
	for _, r := range strings.Split(u.Roles, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

// CreateUser stores u; a taken username or e-mail is a Conflict.
func CreateUser(ctx context.Context, db *gorm.DB, u *User) error {
	now := time.Now().Unix()
	u.CreatedAt, u.UpdatedAt = now, now
	err := db.WithContext(ctx).Create(u).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return models.Wrap(models.Conflict, err, "user "+strconv.Quote(u.Username)+" already exists")
	}
	return err
}

// FindUserByID loads one user.
func FindUserByID(ctx context.Context, db *gorm.DB, id int64) (*User, error) {
	return findUser(ctx, db, "user_id", id)
}

// FindUserByLogin finds a user by what ICTCore accepts as a login: a numeric user id, an e-mail address,
// or a username.
func FindUserByLogin(ctx context.Context, db *gorm.DB, login string) (*User, error) {
	if id, err := strconv.ParseInt(login, 10, 64); err == nil && id > 0 {
		return FindUserByID(ctx, db, id)
	}
	if strings.Contains(login, "@") {
		return findUser(ctx, db, "email", login)
	}
	return findUser(ctx, db, "username", login)
}

func findUser(ctx context.Context, db *gorm.DB, col string, v any) (*User, error) {
	var u User
	err := db.WithContext(ctx).Where(col+" = ?", v).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, models.Errorf(models.NotFound, "user %v not found", v)
	}
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// AnyUser tells whether any user exists yet (first start creates the admin).
func AnyUser(ctx context.Context, db *gorm.DB) (bool, error) {
	var ids []int64
	err := db.WithContext(ctx).Model(&User{}).Limit(1).Pluck("user_id", &ids).Error
	return len(ids) > 0, err
}

// Login checks a password login against the users table through the guard, the one login path of every
// API: an unknown login costs the same work as a wrong password, failures are throttled per login and per
// client address, and hashing is bounded. Errors are kinded: Unauthenticated, Throttled (with RetryAfter),
// Busy (no hashing slot, or the store).
func Login(ctx context.Context, db *gorm.DB, g *auth.Guard, login, addr, pw string) (*User, error) {
	u, err := FindUserByLogin(ctx, db, login)
	found := err == nil
	if err != nil && models.KindOf(err) != models.NotFound {
		return nil, err
	}
	hash := ""
	if found {
		hash = u.PasswordHash
	}
	var throttled *auth.ThrottledError
	switch err := g.Check(ctx, login, addr, hash, found, pw); {
	case err == nil:
	case errors.As(err, &throttled):
		return nil, &models.Error{Kind: models.Throttled, Msg: throttled.Error(), RetryAfter: throttled.RetryAfter, Err: err}
	case errors.Is(err, auth.ErrBusy):
		return nil, models.Wrap(models.Busy, err, "too many logins in progress, retry shortly")
	default:
		return nil, models.Wrap(models.Unauthenticated, err, "invalid credentials")
	}
	if !found || !u.Active {
		return nil, models.Errorf(models.Unauthenticated, "invalid credentials")
	}
	return u, nil
}
