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
	CountryID    *int64
	LanguageID   string // two letters, or empty
	TimezoneID   *int64
	CreatedAt    int64 `gorm:"autoCreateTime"`
	UpdatedAt    int64 `gorm:"autoUpdateTime"`
	// Permissions are the names granted to the user directly (user_permissions), when loaded with
	// GrantedPermissions; not a column.
	Permissions []string `gorm:"-"`
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

// CreateUser stores u and sets its id; a taken username or e-mail is a Conflict. Each of then runs after
// the insert in the same transaction, for what a new user brings along (an error there undoes the user).
func CreateUser(ctx context.Context, db *gorm.DB, u *User, then ...func(tx *gorm.DB) error) error {
	now := time.Now().Unix()
	u.ID, u.CreatedAt, u.UpdatedAt = 0, now, now
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := checkUnique(tx, u); err != nil {
			return err
		}
		if err := tx.Create(u).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) { // a concurrent create won the race
				return models.Wrap(models.Conflict, err, "user "+strconv.Quote(u.Username)+" or its e-mail address already exists")
			}
			return err
		}
		for _, f := range then {
			if err := f(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		u.ID = 0 // rolled back
	}
	return err
}

// checkUnique answers a Conflict naming the value when another user has u's username or e-mail (the unique
// indexes stay the guard against a race; this only says which value is taken).
func checkUnique(tx *gorm.DB, u *User) error {
	var others []User
	q := tx.Select("user_id", "username", "email").Where("user_id <> ?", u.ID)
	if u.Email != nil {
		q = q.Where("username = ? OR email = ?", u.Username, *u.Email)
	} else {
		q = q.Where("username = ?", u.Username)
	}
	if err := q.Limit(2).Find(&others).Error; err != nil {
		return err
	}
	for _, o := range others {
		if o.Username == u.Username {
			return models.Errorf(models.Conflict, "user %q already exists", u.Username)
		}
	}
	if len(others) > 0 {
		return models.Errorf(models.Conflict, "e-mail address %q is another user's", *u.Email)
	}
	return nil
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
	return models.TakeOne[User](db.WithContext(ctx).Where(col+" = ?", v),
		func() error { return models.Errorf(models.NotFound, "user %v not found", v) })
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
	if ok, err := GuardedCheck(ctx, g, login, addr, hash, found, pw); err != nil {
		return nil, err
	} else if !ok {
		return nil, models.Errorf(models.Unauthenticated, "invalid credentials")
	}
	if !found || !u.Active {
		return nil, models.Errorf(models.Unauthenticated, "invalid credentials")
	}
	return u, nil
}

// GuardedCheck checks a password through the login guard (equal work whether the login was found, per
// login and per address throttling) for every API's login: ok tells whether it matched; the error is a
// throttled client (Throttled, with Retry-After) or too many logins at once (Busy).
func GuardedCheck(ctx context.Context, g *auth.Guard, login, addr, hash string, found bool, pw string) (ok bool, err error) {
	var throttled *auth.ThrottledError
	switch err := g.Check(ctx, login, addr, hash, found, pw); {
	case err == nil:
		return true, nil
	case errors.As(err, &throttled):
		return false, &models.Error{Kind: models.Throttled, Msg: throttled.Error(), RetryAfter: throttled.RetryAfter, Err: err}
	case errors.Is(err, auth.ErrBusy):
		return false, models.Wrap(models.Busy, err, "too many logins in progress, retry shortly")
	}
	return false, nil
}

// TokenUser answers the active user a Switchboard token (auth.Tokens) was issued to: the token path of an
// API that takes ICTCore's tokens without ICTCore's caches. A bad or expired token, an unknown or an
// inactive user are Unauthenticated; a failing store stays what it is (busy, never a 401).
func TokenUser(ctx context.Context, db *gorm.DB, tokens *auth.Tokens, token string) (*User, error) {
	claims, err := tokens.Parse(token)
	if err != nil {
		return nil, models.Wrap(models.Unauthenticated, err, "invalid credentials")
	}
	u, err := FindUserByID(ctx, db, claims.UserID)
	if models.KindOf(err) == models.NotFound || (err == nil && !u.Active) {
		return nil, models.Errorf(models.Unauthenticated, "invalid credentials")
	}
	return u, err
}
