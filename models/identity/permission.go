package identity

import (
	"context"
	"errors"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"switchboard/models"
)

// Permission is a permission name a user can be granted directly, on top of its roles (migration step 6
// seeds models.PermissionNames, ids from 1). What a name allows is each API's own model.
type Permission struct {
	ID          int64 `gorm:"primaryKey;column:permission_id"`
	Name        string
	Description string
}

// userPermission is one direct grant.
type userPermission struct {
	UserID       int64 `gorm:"primaryKey;autoIncrement:false"`
	PermissionID int64 `gorm:"primaryKey;autoIncrement:false"`
}

func (userPermission) TableName() string { return "user_permissions" }

// PermissionFilter is the whitelist of the permission list's parameters: the id, and the start of the name
// (as ICTCore's `name LIKE 'v%'`).
type PermissionFilter struct {
	ID   *int64
	Name *string
	models.ListQuery
}

// ListPermissions answers one page of the permission names that match f, in id order.
func ListPermissions(ctx context.Context, db *gorm.DB, f PermissionFilter) (models.PageOf[Permission], error) {
	return models.List(ctx, db.Model(&Permission{}), "permission_id", f.ListQuery, func(p *Permission) int64 { return p.ID },
		models.Equal("permission_id", f.ID), models.StartsWith("name", f.Name))
}

// GrantedPermissions answers the names granted to user id directly, in name order.
func GrantedPermissions(ctx context.Context, db *gorm.DB, id int64) ([]string, error) {
	var names []string
	err := db.WithContext(ctx).Table("user_permissions").
		Joins("JOIN permissions ON permissions.permission_id = user_permissions.permission_id").
		Where("user_permissions.user_id = ?", id).Order("permissions.name").Pluck("permissions.name", &names).Error
	return names, err
}

// GrantPermission grants permission permID to user id (if s may see it); granting twice is harmless.
// An unknown user or permission is NotFound.
func GrantPermission(ctx context.Context, db *gorm.DB, s Scope, id, permID int64) error {
	return changeGrant(ctx, db, s, id, permID, func(tx *gorm.DB, g *userPermission) error {
		return tx.Clauses(clause.OnConflict{DoNothing: true}).Create(g).Error
	})
}

// RevokePermission withdraws a permission granted to user id directly (if s may see the user); one it does
// not hold is no error. An unknown user or permission is NotFound.
func RevokePermission(ctx context.Context, db *gorm.DB, s Scope, id, permID int64) error {
	return changeGrant(ctx, db, s, id, permID, func(tx *gorm.DB, g *userPermission) error {
		return tx.Where("user_id = ? AND permission_id = ?", g.UserID, g.PermissionID).Delete(&userPermission{}).Error
	})
}

// changeGrant checks the user (locked, so a concurrent delete of the user cannot leave a grant behind) and
// the permission, then applies change, in one transaction.
func changeGrant(ctx context.Context, db *gorm.DB, s Scope, id, permID int64, change func(*gorm.DB, *userPermission) error) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var u User
		if err := lockUser(tx, s, id, &u); err != nil {
			return err
		}
		var p Permission
		err := tx.Where("permission_id = ?", permID).Take(&p).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return models.Errorf(models.NotFound, "permission %d not found", permID)
		}
		if err != nil {
			return err
		}
		return change(tx, &userPermission{UserID: id, PermissionID: permID})
	})
}
