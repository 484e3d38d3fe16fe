package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Group is an ICTCore contact group; ContactTotal is kept in step with its links in every write.
type Group struct {
	ID           int64 `gorm:"primaryKey;column:group_id"`
	Name         string
	Description  string
	ContactTotal int64
	UserID       int64
	CreatedAt    int64
	UpdatedAt    int64
}

// TableName: "groups" is a reserved word in SQL.
func (Group) TableName() string { return "contact_groups" }

// ContactLink says that a contact belongs to a group.
type ContactLink struct {
	GroupID   int64 `gorm:"primaryKey;autoIncrement:false"`
	ContactID int64 `gorm:"primaryKey;autoIncrement:false"`
}

// GroupChanges holds the fields an update sets; nil leaves a field as it is.
type GroupChanges struct {
	Name, Description *string
}

// GroupFilter is the whitelist of ICTCore's group search parameters.
type GroupFilter struct {
	GroupID, UserID *int64
	Name            *string // contains, case-insensitive
	Before, After   *int64
	Page
}

// CreateGroup stores g and sets its id.
func CreateGroup(ctx context.Context, db *gorm.DB, g *Group) error {
	now := time.Now().Unix()
	g.ID, g.ContactTotal, g.CreatedAt, g.UpdatedAt = 0, 0, now, now
	return db.WithContext(ctx).Create(g).Error
}

// GetGroup loads one group.
func GetGroup(ctx context.Context, db *gorm.DB, id int64) (*Group, error) {
	var g Group
	err := db.WithContext(ctx).Where("group_id = ?", id).Take(&g).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("group %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return &g, nil
}

// UpdateGroup applies ch to group id and answers the result.
func UpdateGroup(ctx context.Context, db *gorm.DB, id int64, ch GroupChanges) (*Group, error) {
	set := map[string]any{"updated_at": time.Now().Unix()}
	if ch.Name != nil {
		set["name"] = *ch.Name
	}
	if ch.Description != nil {
		set["description"] = *ch.Description
	}
	res := db.WithContext(ctx).Model(&Group{}).Where("group_id = ?", id).Updates(set)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		return nil, fmt.Errorf("group %d: %w", id, ErrNotFound)
	}
	return GetGroup(ctx, db, id)
}

// DeleteGroup removes a group and its links; the contacts stay.
func DeleteGroup(ctx context.Context, db *gorm.DB, id int64) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("DELETE FROM contact_links WHERE group_id = ?", id).Error; err != nil {
			return err
		}
		res := tx.Exec("DELETE FROM contact_groups WHERE group_id = ?", id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("group %d: %w", id, ErrNotFound)
		}
		return nil
	})
}

// ListGroups answers one page of the groups that match f, ordered by id, and how many match in all.
func ListGroups(ctx context.Context, db *gorm.DB, f GroupFilter) ([]Group, int64, error) {
	q := db.WithContext(ctx).Model(&Group{})
	q = eqInt(q, "group_id", f.GroupID)
	q = eqInt(q, "user_id", f.UserID)
	if f.Name != nil {
		q = q.Where(`LOWER(name) LIKE ? ESCAPE '\'`, contains(*f.Name))
	}
	q = createdBetween(q, "created_at", f.Before, f.After)
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, err
	}
	var out []Group
	if err := f.Page.apply(q.Order("group_id")).Find(&out).Error; err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// LinkContact puts a contact in a group. Linking twice changes nothing, so a retried request is harmless.
func LinkContact(ctx context.Context, db *gorm.DB, contactID, groupID int64) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := mustExist(tx, contactID, groupID); err != nil {
			return err
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&ContactLink{GroupID: groupID, ContactID: contactID})
		if res.Error != nil {
			return res.Error
		}
		return addToTotal(tx, groupID, res.RowsAffected)
	})
}

// UnlinkContact takes a contact out of a group; unlinking one that is not in it changes nothing.
func UnlinkContact(ctx context.Context, db *gorm.DB, contactID, groupID int64) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := mustExist(tx, contactID, groupID); err != nil {
			return err
		}
		res := tx.Exec("DELETE FROM contact_links WHERE group_id = ? AND contact_id = ?", groupID, contactID)
		if res.Error != nil {
			return res.Error
		}
		return addToTotal(tx, groupID, -res.RowsAffected)
	})
}

// LockGroup checks, inside a transaction, that the group exists.
func LockGroup(tx *gorm.DB, groupID int64) error {
	var n int64
	if err := tx.Model(&Group{}).Where("group_id = ?", groupID).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("group %d: %w", groupID, ErrNotFound)
	}
	return nil
}

func mustExist(tx *gorm.DB, contactID, groupID int64) error {
	var n int64
	if err := tx.Model(&Contact{}).Where("contact_id = ?", contactID).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("contact %d: %w", contactID, ErrNotFound)
	}
	return LockGroup(tx, groupID)
}

func addToTotal(tx *gorm.DB, groupID, n int64) error {
	if n == 0 {
		return nil
	}
	return tx.Exec("UPDATE contact_groups SET contact_total = contact_total + ?, updated_at = ? WHERE group_id = ?",
		n, time.Now().Unix(), groupID).Error
}
