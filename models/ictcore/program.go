package ictcore

import (
	"context"

	"gorm.io/gorm"

	"switchboard/models"
)

// Program is an ICTCore program (migration step 7): what a transmission does, as a type and its
// parameters. Only the parameters of its type are set.
type Program struct {
	ID          int64 `gorm:"primaryKey;column:program_id"`
	Name        string
	Type        string
	ParentID    *int64
	AccountID   *int64
	DocumentID  *int64 // sendfax
	TemplateID  *int64 // sendemail
	TextID      *int64 // sendsms
	RecordingID *int64 // voicemessage
	Text        string // voicetts
	Delay       int    // voicetts, seconds
	UserID      int64
	CreatedAt   int64
	UpdatedAt   int64
}

var programs = table{"programs", "program_id", "program"}

// ProgramFilter is the whitelist of the program list's parameters.
type ProgramFilter struct {
	ID            *int64
	Name, Type    *string // contains
	UserID        *int64
	Before, After *int64 // created at, unix seconds, inclusive
	models.ListQuery
}

// CreateProgram checks that what p names exists and that the owner may use it, then stores p and sets its
// id, in one transaction (a reference deleted meanwhile cannot slip in between).
func CreateProgram(ctx context.Context, db *gorm.DB, o Owner, p *Program) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return createProgram(tx, o, p) })
}

// createProgram is CreateProgram inside the transaction tx.
func createProgram(tx *gorm.DB, o Owner, p *Program) error {
	for _, ref := range []struct {
		t  table
		id *int64
	}{
		{documents, p.DocumentID}, {templates, p.TemplateID}, {texts, p.TextID}, {recordings, p.RecordingID},
		{programs, p.ParentID}, {accounts, p.AccountID},
	} {
		if ref.id == nil {
			continue
		}
		if err := exists(tx, ref.t, o, *ref.id); err != nil {
			return err
		}
	}
	p.ID = 0
	stamp(&p.CreatedAt, &p.UpdatedAt)
	return tx.Create(p).Error
}

// exists answers NotFound unless row id of t exists and the owner may see it; on Postgres it share-locks
// the row until the transaction ends, so a concurrent delete waits.
func exists(tx *gorm.DB, t table, o Owner, id int64) error {
	q := o.scope(tx.Table(t.name)).Where(t.id+" = ?", id)
	if models.IsPostgres(tx) {
		q = q.Clauses(lockShare)
	}
	var ids []int64
	if err := q.Pluck(t.id, &ids).Error; err != nil {
		return err
	}
	if len(ids) == 0 {
		return t.notFound(id)
	}
	return nil
}

// GetProgram loads a program the owner may see.
func GetProgram(ctx context.Context, db *gorm.DB, o Owner, id int64) (*Program, error) {
	return getOwned[Program](ctx, db, programs, o, id)
}

// DeleteProgram deletes a program and the accounts' subscriptions to it; transmissions made with it keep
// its id.
func DeleteProgram(ctx context.Context, db *gorm.DB, o Owner, id int64) error {
	return deleteOwned(ctx, db, programs, o, id, func(tx *gorm.DB) error {
		return tx.Where("program_id = ?", id).Delete(&accountProgram{}).Error
	})
}

// ListPrograms answers a page of the owner's programs.
func ListPrograms(ctx context.Context, db *gorm.DB, o Owner, f ProgramFilter) (models.PageOf[Program], error) {
	return listOwned(ctx, db, programs, o, f.ListQuery, func(p *Program) int64 { return p.ID },
		models.Equal("program_id", f.ID), models.Contains("name", f.Name), models.Contains("type", f.Type),
		models.Equal("user_id", f.UserID), models.AtMost("created_at", f.Before), models.AtLeast("created_at", f.After))
}
