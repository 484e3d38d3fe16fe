package ictcore

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"switchboard/models"
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
	Owner           Owner // whose groups; AnyOwner: everyone's
	GroupID, UserID *int64
	Name            *string // contains, case-insensitive
	Before, After   *int64
	models.ListQuery
}

// CreateGroup stores g and sets its id.
func CreateGroup(ctx context.Context, db *gorm.DB, g *Group) error {
	now := time.Now().Unix()
	g.ID, g.ContactTotal, g.CreatedAt, g.UpdatedAt = 0, 0, now, now
	return db.WithContext(ctx).Create(g).Error
}

// GetGroup loads one group the owner may see.
func GetGroup(ctx context.Context, db *gorm.DB, o Owner, id int64) (*Group, error) {
	return models.TakeOne[Group](o.scope(db.WithContext(ctx)).Where("group_id = ?", id),
		func() error { return groupNotFound(id) })
}

func groupNotFound(id int64) error { return models.Errorf(models.NotFound, "group %d not found", id) }

// UpdateGroup applies ch to group id and answers the result.
func UpdateGroup(ctx context.Context, db *gorm.DB, o Owner, id int64, ch GroupChanges) (*Group, error) {
	set := map[string]any{"updated_at": time.Now().Unix()}
	if ch.Name != nil {
		set["name"] = *ch.Name
	}
	if ch.Description != nil {
		set["description"] = *ch.Description
	}
	res := o.scope(db.WithContext(ctx).Model(&Group{})).Where("group_id = ?", id).Updates(set)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		return nil, groupNotFound(id)
	}
	return GetGroup(ctx, db, o, id)
}

// DeleteGroup removes a group and its links; the contacts stay.
func DeleteGroup(ctx context.Context, db *gorm.DB, o Owner, id int64) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockGroup(tx, o, id); err != nil {
			return err
		}
		if err := tx.Exec("DELETE FROM contact_links WHERE group_id = ?", id).Error; err != nil {
			return err
		}
		return tx.Exec("DELETE FROM contact_groups WHERE group_id = ?", id).Error
	})
}

// ListGroups answers one page of the groups that match f, ordered by id.
func ListGroups(ctx context.Context, db *gorm.DB, f GroupFilter) (models.PageOf[Group], error) {
	return models.List(ctx, db.Model(&Group{}), "group_id", f.ListQuery, func(g *Group) int64 { return g.ID },
		f.Owner.scopeOn("user_id"),
		models.Equal("group_id", f.GroupID),
		models.Equal("user_id", f.UserID),
		models.Contains("name", f.Name),
		models.AtMost("created_at", f.Before),
		models.AtLeast("created_at", f.After),
	)
}

// LinkContact puts a contact in a group. Linking twice changes nothing, so a retried request is harmless.
func LinkContact(ctx context.Context, db *gorm.DB, o Owner, contactID, groupID int64) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockBoth(tx, o, contactID, groupID); err != nil {
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
func UnlinkContact(ctx context.Context, db *gorm.DB, o Owner, contactID, groupID int64) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockBoth(tx, o, contactID, groupID); err != nil {
			return err
		}
		res := tx.Exec("DELETE FROM contact_links WHERE group_id = ? AND contact_id = ?", groupID, contactID)
		if res.Error != nil {
			return res.Error
		}
		return addToTotal(tx, groupID, -res.RowsAffected)
	})
}

// LockGroup checks, inside a transaction, that the group exists, and locks its row until the transaction
// ends, so a link or an import and a delete of the same group take turns instead of racing into the
// foreign key. On SQLite the immediate transaction already holds the store's write lock.
func LockGroup(tx *gorm.DB, groupID int64) error { return lockGroup(tx, AnyOwner, groupID) }

// lockGroup is LockGroup for a group the owner may change.
func lockGroup(tx *gorm.DB, o Owner, groupID int64) error {
	q := o.scope(tx.Model(&Group{}))
	if models.IsPostgres(tx) {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var ids []int64
	if err := q.Where("group_id = ?", groupID).Pluck("group_id", &ids).Error; err != nil {
		return err
	}
	if len(ids) == 0 {
		return groupNotFound(groupID)
	}
	return nil
}

// lockBoth locks the contact, then the group (always in that order, so two writers cannot deadlock).
func lockBoth(tx *gorm.DB, o Owner, contactID, groupID int64) error {
	if _, err := lockContact(tx, o, contactID); err != nil {
		return err
	}
	return lockGroup(tx, o, groupID)
}

func addToTotal(tx *gorm.DB, groupID, n int64) error {
	if n == 0 {
		return nil
	}
	return tx.Exec("UPDATE contact_groups SET contact_total = contact_total + ?, updated_at = ? WHERE group_id = ?",
		n, time.Now().Unix(), groupID).Error
}
