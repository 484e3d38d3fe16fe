package ictcore

import (
	"time"

	"gorm.io/gorm"

	"switchboard/models"
)

// What a user's life does to its ICTCore accounts: creating a user creates its default account (ICTCore's
// usr_insert trigger), deleting one dissociates its accounts (the contract's deleteUser). Both run inside
// the user's own transaction (identity.CreateUser, identity.DeleteUser), so either all of it happens or
// none of it. They write the accounts table directly, by its migration-6 columns.

// DefaultAccount is what a new user's default account copies from the user.
type DefaultAccount struct {
	UserID                                            int64
	Username, FirstName, LastName, Phone, Email, Addr string
	Active                                            bool
}

// CreateUserDefaultAccount stores the default account of a new user in tx: type `account`, the user's
// username, names, e-mail, phone, address and activity, owned by the user, without a password. An account of
// that type and username already there is a Conflict.
func CreateUserDefaultAccount(tx *gorm.DB, a DefaultAccount) error {
	var n int64
	if err := tx.Table("accounts").Where("type = ? AND username = ?", "account", a.Username).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return models.Errorf(models.Conflict, "an account of type account with username %q already exists (every new user gets one of its username)", a.Username)
	}
	active := 0
	if a.Active {
		active = 1
	}
	now := time.Now().Unix()
	return tx.Table("accounts").Create(map[string]any{
		"type": "account", "username": a.Username, "first_name": a.FirstName, "last_name": a.LastName,
		"phone": a.Phone, "email": a.Email, "address": a.Addr, "active": active, "user_id": a.UserID,
		"created_at": now, "updated_at": now,
	}).Error
}

// ReleaseUserAccounts dissociates every account of user id in tx (user_id becomes NULL; the accounts stay,
// an admin's alone to see), as deleting the user does.
func ReleaseUserAccounts(tx *gorm.DB, id int64) error {
	return tx.Table("accounts").Where("user_id = ?", id).
		Updates(map[string]any{"user_id": nil, "updated_at": time.Now().Unix()}).Error
}
