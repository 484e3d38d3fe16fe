package platform

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"switchboard/models"
)

// DNCList is a row of dnc_lists (migration step 16): a global list applies to every campaign, another to
// the campaigns attached to it (dnc_list_campaigns). Times are unix seconds.
type DNCList struct {
	ID          int64 `gorm:"primaryKey;column:id"`
	Name        string
	Global      bool
	Description string
	CreatedAt   int64
	UpdatedAt   int64
	// CampaignIDs are the campaigns the list is attached to, in id order; not a column.
	CampaignIDs []int64 `gorm:"-"`
}

// TableName is the table of do-not-call lists.
func (DNCList) TableName() string { return "dnc_lists" }

// listCampaign is a row of dnc_list_campaigns.
type listCampaign struct {
	ListID     int64 `gorm:"primaryKey;autoIncrement:false"`
	CampaignID int64 `gorm:"primaryKey;autoIncrement:false"`
}

func (listCampaign) TableName() string { return "dnc_list_campaigns" }

// ListFields are a list's writable fields; nil leaves one as it is (on create: empty, not global).
type ListFields struct {
	Name, Description *string
	Global            *bool
}

func listNotFound(id int64) error {
	return models.Errorf(models.NotFound, "do-not-call list %d not found", id)
}

// CreateList stores a new list; a taken name is a Conflict.
func CreateList(ctx context.Context, db *gorm.DB, f ListFields) (*DNCList, error) {
	now := time.Now().Unix()
	l := &DNCList{CreatedAt: now, UpdatedAt: now, CampaignIDs: []int64{}}
	f.apply(l)
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := checkName(tx, l); err != nil {
			return err
		}
		return tx.Create(l).Error
	})
	return l, nameTaken(err, l.Name)
}

func (f ListFields) apply(l *DNCList) {
	if f.Name != nil {
		l.Name = *f.Name
	}
	if f.Description != nil {
		l.Description = *f.Description
	}
	if f.Global != nil {
		l.Global = *f.Global
	}
}

// checkName answers a Conflict naming the name when another list has it (the unique index stays the
// guard against a race: see nameTaken).
func checkName(tx *gorm.DB, l *DNCList) error {
	var n int64
	if err := tx.Model(&DNCList{}).Where("name = ? AND id <> ?", l.Name, l.ID).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return models.Errorf(models.Conflict, "a do-not-call list named %q exists already", l.Name)
	}
	return nil
}

func nameTaken(err error, name string) error {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return models.Wrap(models.Conflict, err, "a do-not-call list named "+name+" exists already")
	}
	return err
}

// GetList loads list id with its campaigns.
func GetList(ctx context.Context, db *gorm.DB, id int64) (*DNCList, error) {
	var l DNCList
	err := db.WithContext(ctx).Where("id = ?", id).Take(&l).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, listNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	ls := []DNCList{l}
	if err := withCampaigns(ctx, db, ls); err != nil {
		return nil, err
	}
	return &ls[0], nil
}

// ListLists answers one page of lists in id order, each with its campaigns.
func ListLists(ctx context.Context, db *gorm.DB, lq models.ListQuery) (models.PageOf[DNCList], error) {
	page, err := models.List(ctx, db.Model(&DNCList{}), "id", lq, func(l *DNCList) int64 { return l.ID })
	if err != nil {
		return page, err
	}
	return page, withCampaigns(ctx, db, page.Items)
}

// withCampaigns fills in the campaigns of ls, in one query.
func withCampaigns(ctx context.Context, db *gorm.DB, ls []DNCList) error {
	ids := make([]int64, len(ls))
	at := make(map[int64]*DNCList, len(ls))
	for i := range ls {
		ids[i], at[ls[i].ID] = ls[i].ID, &ls[i]
		ls[i].CampaignIDs = []int64{}
	}
	if len(ids) == 0 {
		return nil
	}
	var rows []listCampaign
	if err := db.WithContext(ctx).Where("list_id IN ?", ids).Order("list_id, campaign_id").Find(&rows).Error; err != nil {
		return err
	}
	for _, r := range rows {
		l := at[r.ListID]
		l.CampaignIDs = append(l.CampaignIDs, r.CampaignID)
	}
	return nil
}

// UpdateList changes the fields f sets.
func UpdateList(ctx context.Context, db *gorm.DB, id int64, f ListFields) (*DNCList, error) {
	var name string
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		l, err := lockList(tx, id, "UPDATE")
		if err != nil {
			return err
		}
		f.apply(l)
		name = l.Name
		if f.Name != nil {
			if err := checkName(tx, l); err != nil {
				return err
			}
		}
		return tx.Model(&DNCList{}).Where("id = ?", id).
			Updates(map[string]any{"name": l.Name, "description": l.Description, "global": l.Global, "updated_at": time.Now().Unix()}).Error
	})
	if err != nil {
		return nil, nameTaken(err, name)
	}
	return GetList(ctx, db, id)
}

// DeleteList deletes the list with its numbers and campaign attachments, in one transaction.
func DeleteList(ctx context.Context, db *gorm.DB, id int64) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := lockList(tx, id, "UPDATE"); err != nil {
			return err
		}
		for _, q := range []string{
			"DELETE FROM dnc_numbers WHERE list_id = ?",
			"DELETE FROM dnc_list_campaigns WHERE list_id = ?",
			"DELETE FROM dnc_lists WHERE id = ?",
		} {
			if err := tx.Exec(q, id).Error; err != nil {
				return err
			}
		}
		return nil
	})
}

// lockList reads list id inside tx, locked on Postgres (SQLite's write transactions take turns anyway):
// SHARE by writers of its numbers and attachments, UPDATE by a change or delete of the list, so a list
// deleted meanwhile is NotFound rather than left with rows that belong to nothing.
func lockList(tx *gorm.DB, id int64, strength string) (*DNCList, error) {
	q := tx.Model(&DNCList{})
	if models.IsPostgres(tx) {
		q = q.Clauses(clause.Locking{Strength: strength})
	}
	return models.TakeOne[DNCList](q.Where("id = ?", id), func() error { return listNotFound(id) })
}

// AttachList applies list id to the campaign; attaching again is no error. A missing list or campaign is
// NotFound.
func AttachList(ctx context.Context, db *gorm.DB, id, campaignID int64) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := lockList(tx, id, "SHARE"); err != nil {
			return err
		}
		if err := campaignExists(tx, campaignID); err != nil {
			return err
		}
		return tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&listCampaign{ListID: id, CampaignID: campaignID}).Error
	})
}

// DetachList stops applying list id to the campaign; a missing list, or one not attached, is NotFound.
func DetachList(ctx context.Context, db *gorm.DB, id, campaignID int64) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := lockList(tx, id, "SHARE"); err != nil {
			return err
		}
		res := tx.Where("list_id = ? AND campaign_id = ?", id, campaignID).Delete(&listCampaign{})
		if res.Error == nil && res.RowsAffected == 0 {
			return models.Errorf(models.NotFound, "do-not-call list %d is not attached to campaign %d", id, campaignID)
		}
		return res.Error
	})
}

// campaignExists answers NotFound unless the ICTCore campaign exists. The campaigns table is ICTCore's
// (models/ictcore); only its key is read here, so the two contexts share no code.
func campaignExists(db *gorm.DB, id int64) error {
	var ids []int64
	if err := db.Table("campaigns").Where("campaign_id = ?", id).Limit(1).Pluck("campaign_id", &ids).Error; err != nil {
		return err
	}
	if len(ids) == 0 {
		return models.Errorf(models.NotFound, "campaign %d not found", id)
	}
	return nil
}
