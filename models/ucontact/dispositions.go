package ucontact

import (
	"context"
	"time"

	"gorm.io/gorm"

	"switchboard/models"
)

// Disposition is a row of ucontact_dispositions: every field DispositionCall documents, who sent it, and
// the call its guid names when Switchboard knows it (CallID, UniqueID; 0 and empty otherwise).
type Disposition struct {
	ID               int64 `gorm:"primaryKey;column:id"`
	UserID           int64
	CallID           int64
	UniqueID         string `gorm:"column:unique_id"`
	Campaign         string
	Agent            string
	CallerID         string `gorm:"column:callerid"`
	GUID             string `gorm:"column:guid"`
	L1               string `gorm:"column:l1"`
	L2               string `gorm:"column:l2"`
	L3               string `gorm:"column:l3"`
	D1               string `gorm:"column:d1"`
	D2               string `gorm:"column:d2"`
	Comment          string
	Schedule         string
	CampToReschedule string `gorm:"column:camptoreschedule"`
	Tag              string
	CreatedAt        int64
}

// TableName is the table of uContact dispositions.
func (Disposition) TableName() string { return "ucontact_dispositions" }

// Reschedule is a disposition's reschedule: a dialer call queued with it.
type Reschedule struct {
	Campaign *Campaign
	Call     Call
	Enqueue  Enqueue[Call]
}

// CreateDisposition stores d, linked to the call its GUID names when there is one, and queues the
// reschedule r (nil: none) in the same transaction.
func CreateDisposition(ctx context.Context, db *gorm.DB, d *Disposition, r *Reschedule) error {
	d.ID, d.CreatedAt = 0, time.Now().Unix()
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		c, err := FindCallByGUID(tx, d.GUID)
		if err != nil {
			return err
		}
		if c != nil {
			d.CallID, d.UniqueID = c.ID, c.UniqueID()
		}
		if err := tx.Create(d).Error; err != nil {
			return err
		}
		if r == nil {
			return nil
		}
		return queueCalls(tx, r.Campaign, []Call{r.Call}, r.Enqueue)
	})
}

// DispositionFilter is the whitelist of the disposition list's parameters: exact matches.
type DispositionFilter struct {
	Campaign, Agent, GUID *string
	models.ListQuery
}

// ListDispositions answers one page of the dispositions that match f, in id order.
func ListDispositions(ctx context.Context, db *gorm.DB, f DispositionFilter) (models.PageOf[Disposition], error) {
	return models.List(ctx, db.Model(&Disposition{}), "id", f.ListQuery, func(d *Disposition) int64 { return d.ID },
		models.Equal("campaign", f.Campaign), models.Equal("agent", f.Agent), models.Equal("guid", f.GUID))
}
