package models

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// User is anyone who signs in: ICTCore users today, and later uContact agents, CIM users and CRM ids.
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

// CreateUser stores u; a taken username or e-mail is ErrConflict.
func CreateUser(ctx context.Context, db *gorm.DB, u *User) error {
	now := time.Now().Unix()
	u.CreatedAt, u.UpdatedAt = now, now
	err := db.WithContext(ctx).Create(u).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return fmt.Errorf("user %q: %w", u.Username, ErrConflict)
	}
	return err
}

// FindUserByID loads one user.
func FindUserByID(ctx context.Context, db *gorm.DB, id int64) (*User, error) {
	var u User
	err := db.WithContext(ctx).Where("user_id = ?", id).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("user %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// FindUserByLogin finds a user by what ICTCore accepts as a login: a numeric user id, an e-mail address,
// or a username.
func FindUserByLogin(ctx context.Context, db *gorm.DB, login string) (*User, error) {
	if id, err := strconv.ParseInt(login, 10, 64); err == nil && id > 0 {
		return FindUserByID(ctx, db, id)
	}
	col := "username"
	if strings.Contains(login, "@") {
		col = "email"
	}
	var u User
	err := db.WithContext(ctx).Where(col+" = ?", login).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("user %q: %w", login, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// CountUsers tells whether any user exists yet (first start creates the admin).
func CountUsers(ctx context.Context, db *gorm.DB) (int64, error) {
	var n int64
	err := db.WithContext(ctx).Model(&User{}).Count(&n).Error
	return n, err
}
