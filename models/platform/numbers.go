package platform

import (
	"context"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"switchboard/models"
)

// Number is a row of dnc_numbers: a number in E.164 on a list. Times are unix seconds.
type Number struct {
	ListID    int64  `gorm:"primaryKey;autoIncrement:false"`
	Number    string `gorm:"primaryKey"`
	CreatedAt int64
}

// TableName is the table of do-not-call numbers.
func (Number) TableName() string { return "dnc_numbers" }

// Added says what adding numbers did: how many the list did not hold, and how many it held already or
// were given twice.
type Added struct{ Added, Duplicates int64 }

// AddNumbers adds numbers (as given; normalised here) to list id, all or none. A number that is not a
// valid phone number is Invalid, naming it, and nothing is added.
func AddNumbers(ctx context.Context, db *gorm.DB, region string, id int64, numbers []string) (Added, error) {
	norm := make([]string, len(numbers))
	for i, n := range numbers {
		var err error
		if norm[i], err = E164(n, region); err != nil {
			return Added{}, err
		}
	}
	var added int64
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		added, err = insertNumbers(tx, id, norm, time.Now().Unix())
		return err
	})
	return Added{Added: added, Duplicates: int64(len(norm)) - added}, err
}

// insertNumbers adds E.164 numbers to list id inside tx and answers how many were new. It locks the list
// first, so a list deleted meanwhile is NotFound instead of left with numbers that belong to nothing.
func insertNumbers(tx *gorm.DB, id int64, numbers []string, now int64) (int64, error) {
	if _, err := lockList(tx, id, "SHARE"); err != nil {
		return 0, err
	}
	// In order: two writers adding overlapping numbers on Postgres wait for each other's keys in the same
	// order instead of deadlocking.
	sorted := slices.Clone(numbers)
	slices.Sort(sorted)
	rows := make([]Number, 0, len(sorted))
	for _, n := range slices.Compact(sorted) {
		rows = append(rows, Number{ListID: id, Number: n, CreatedAt: now})
	}
	// DO NOTHING skips numbers the list holds already, on both stores; the rows affected are those added.
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&rows)
	return res.RowsAffected, res.Error
}

// NumberPage is one page of a list's numbers; Next is the cursor of the next page, "" on the last.
type NumberPage struct {
	Items []Number
	Next  string
}

// ListNumbers answers one page of list id's numbers in byte order, after the number after (keyset; "" from
// the start). The primary key (list_id, number) serves it at any depth.
func ListNumbers(ctx context.Context, db *gorm.DB, id int64, limit int, after string) (NumberPage, error) {
	var page NumberPage
	if _, err := GetList(ctx, db, id); err != nil {
		return page, err
	}
	if limit <= 0 {
		limit = models.DefaultLimit
	}
	limit = min(limit, models.MaxLimit)
	err := db.WithContext(ctx).Where("list_id = ? AND number > ?", id, after).Order("number").Limit(limit + 1).Find(&page.Items).Error
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.Next = page.Items[limit-1].Number
	}
	return page, err
}

// DeleteNumber removes a number (as given; normalised here) from list id; one the list does not hold is
// NotFound.
func DeleteNumber(ctx context.Context, db *gorm.DB, region string, id int64, number string) error {
	n, err := E164(number, region)
	if err != nil {
		return err
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := lockList(tx, id, "SHARE"); err != nil {
			return err
		}
		res := tx.Where("list_id = ? AND number = ?", id, n).Delete(&Number{})
		if res.Error == nil && res.RowsAffected == 0 {
			return models.Errorf(models.NotFound, "number %s is not on do-not-call list %d", n, id)
		}
		return res.Error
	})
}
