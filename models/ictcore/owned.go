package ictcore

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"switchboard/models"
)

// Owner is whose rows a request may see and change: a user who is not an admin sees only its own
// (issue 7, ownership); AnyOwner is an admin's view of every row. A row of another owner is answered as
// not found, so ids do not tell a user what others have.
type Owner int64

// AnyOwner sees every row.
const AnyOwner Owner = 0

// scope limits q to the owner's rows of a table whose owner column is user_id.
func (o Owner) scope(q *gorm.DB) *gorm.DB { return o.scopeOn("user_id")(q) }

// scopeOn limits a query to the owner's rows by the owner column col (qualified where a join needs it).
func (o Owner) scopeOn(col string) models.Where {
	return func(q *gorm.DB) *gorm.DB {
		if o == AnyOwner {
			return q
		}
		return q.Where(col+" = ?", int64(o))
	}
}

// lockShare share-locks the rows a query reads (Postgres), so they cannot be deleted before the
// transaction ends.
var lockShare = clause.Locking{Strength: "SHARE"}

// table names one owned table for the shared reads and writes below.
type table struct {
	name, id, noun string // table, id column, what the API calls a row ("text")
}

func (t table) notFound(id int64) error {
	return models.Errorf(models.NotFound, "%s %d not found", t.noun, id)
}

// getOwned loads row id of t if the owner may see it.
func getOwned[T any](ctx context.Context, db *gorm.DB, t table, o Owner, id int64) (*T, error) {
	return models.TakeOne[T](o.scope(db.WithContext(ctx).Table(t.name)).Where(t.id+" = ?", id),
		func() error { return t.notFound(id) })
}

// updateOwned loads row id of t in a transaction (locked on Postgres), lets change edit it and check the
// result, and saves it. change answers an error to refuse the update; nothing is written then.
func updateOwned[T any](ctx context.Context, db *gorm.DB, t table, o Owner, id int64, change func(*T) error) (*T, error) {
	var v T
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := o.scope(tx.Table(t.name)).Where(t.id+" = ?", id)
		if models.IsPostgres(tx) {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.Take(&v).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return t.notFound(id)
			}
			return err
		}
		if err := change(&v); err != nil {
			return err
		}
		return tx.Table(t.name).Save(&v).Error
	})
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// deleteOwned deletes row id of t if the owner may; then, if after is not nil, runs it in the same
// transaction (to remove what hangs on the row).
func deleteOwned(ctx context.Context, db *gorm.DB, t table, o Owner, id int64, after func(tx *gorm.DB) error) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := o.scope(tx.Table(t.name)).Where(t.id+" = ?", id).Delete(nil)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return t.notFound(id)
		}
		if after != nil {
			return after(tx)
		}
		return nil
	})
}

// listOwned answers one page of t's rows the owner may see that match where, in id order.
func listOwned[T any](ctx context.Context, db *gorm.DB, t table, o Owner, lq models.ListQuery, id func(*T) int64, where ...models.Where) (models.PageOf[T], error) {
	return models.List(ctx, o.scope(db.Table(t.name)), t.id, lq, id, where...)
}

// stamp sets the create and update times of a new row.
func stamp(created, updated *int64) {
	now := time.Now().Unix()
	*created, *updated = now, now
}

// stampUpdate sets a changed row's update time.
func stampUpdate(updated *int64) { *updated = time.Now().Unix() }

// touched stamps the update time unless the change was refused (err), and answers err.
func touched(err error, updated *int64) error {
	if err == nil {
		stampUpdate(updated)
	}
	return err
}
