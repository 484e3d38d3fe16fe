package collect

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"switchboard/models"
)

// User interface forms (issue 9, item 4; notes/vendors.md 1.5): a form of a database (id a UUID, name,
// alias, width, height) with its fields and buttons in order, stored in collect_forms and
// collect_form_items (migration 20). Forms are made and deleted, never changed. Every query goes through a
// Scope.

// Form is a row of collect_forms with its items.
type Form struct {
	ID         int64 `gorm:"primaryKey;column:id"`
	DatabaseID int64
	UUID       string `gorm:"column:uuid"`
	Name       string
	Alias      string
	Width      int32
	Height     int32
	CreatedAt  int64
	Fields     []FormItem `gorm:"-"`
	Buttons    []FormItem `gorm:"-"`
}

// TableName is the table of forms.
func (Form) TableName() string { return "collect_forms" }

// FormItem is a row of collect_form_items: a field (Name, Label, Alias, Editable) or a button (Label, Value).
type FormItem struct {
	ID         int64 `gorm:"primaryKey;column:id"`
	DatabaseID int64
	FormID     int64
	Position   int
	Kind       string
	UUID       string `gorm:"column:uuid"`
	Name       string
	Label      string
	Alias      string
	Editable   bool
	Value      int32
}

// TableName is the table of form fields and buttons.
func (FormItem) TableName() string { return "collect_form_items" }

const (
	itemField  = "field"
	itemButton = "button"
)

// NewUUID answers a random (version 4) UUID.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func formNotFound(id string) error {
	return models.Errorf(models.NotFound, "form %s not found", id)
}

// CreateForm stores f (its UUID, and its items' UUIDs, made when empty; UUIDs kept lower-case) in the scope's
// database: an id the database has already is a Conflict, a field named twice or a button value used twice
// Invalid.
func CreateForm(ctx context.Context, db *gorm.DB, s Scope, f *Form) error {
	if f.UUID == "" {
		f.UUID = NewUUID()
	}
	f.UUID = strings.ToLower(f.UUID)
	f.DatabaseID, f.CreatedAt = s.DatabaseID, time.Now().Unix()
	names, values := map[string]bool{}, map[int32]bool{}
	for i := range f.Fields {
		it := &f.Fields[i]
		if names[it.Name] {
			return models.Errorf(models.Invalid, "field %s is listed twice", it.Name)
		}
		names[it.Name] = true
		it.Kind, it.Position = itemField, i
	}
	for i := range f.Buttons {
		it := &f.Buttons[i]
		if values[it.Value] {
			return models.Errorf(models.Invalid, "button value %d is used twice", it.Value)
		}
		values[it.Value] = true
		it.Kind, it.Position = itemButton, len(f.Fields)+i
	}
	items := append(append([]FormItem{}, f.Fields...), f.Buttons...)
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := lockDatabase(tx, s.DatabaseID, "SHARE"); err != nil {
			return err
		}
		var n int64
		if err := s.Query(ctx, tx, &Form{}).Where("uuid = ?", f.UUID).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return models.Errorf(models.Conflict, "the database has a form %s already", f.UUID)
		}
		if err := tx.Create(f).Error; err != nil {
			return err
		}
		for i := range items {
			items[i].DatabaseID, items[i].FormID = s.DatabaseID, f.ID
			if items[i].UUID == "" {
				items[i].UUID = NewUUID()
			}
			items[i].UUID = strings.ToLower(items[i].UUID)
		}
		if len(items) > 0 {
			return tx.Create(&items).Error
		}
		return nil
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return models.Wrap(models.Conflict, err, "the database has a form "+f.UUID+" already")
	}
	if err != nil {
		return err
	}
	f.Fields, f.Buttons = items[:len(f.Fields)], items[len(f.Fields):]
	return nil
}

// GetForm loads the scope's form id (a UUID, any case); another database's is NotFound.
func GetForm(ctx context.Context, db *gorm.DB, s Scope, id string) (*Form, error) {
	var f Form
	err := s.Query(ctx, db, &Form{}).Where("uuid = ?", strings.ToLower(id)).Take(&f).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, formNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	return &f, loadItems(ctx, db, s, []*Form{&f})
}

func loadItems(ctx context.Context, db *gorm.DB, s Scope, forms []*Form) error {
	if len(forms) == 0 {
		return nil
	}
	byID := map[int64]*Form{}
	ids := make([]int64, len(forms))
	for i, f := range forms {
		ids[i], byID[f.ID] = f.ID, f
	}
	var items []FormItem
	if err := s.Query(ctx, db, &FormItem{}).Where("form_id IN ?", ids).Order("form_id, position").Find(&items).Error; err != nil {
		return err
	}
	for _, it := range items {
		f := byID[it.FormID]
		if it.Kind == itemButton {
			f.Buttons = append(f.Buttons, it)
		} else {
			f.Fields = append(f.Fields, it)
		}
	}
	return nil
}

// ListForms answers one page of the scope's forms in the order they were made, with their items.
func ListForms(ctx context.Context, db *gorm.DB, s Scope, lq models.ListQuery) (models.PageOf[Form], error) {
	page, err := models.List(ctx, s.Query(ctx, db, &Form{}), "id", lq, func(f *Form) int64 { return f.ID })
	if err != nil {
		return page, err
	}
	forms := make([]*Form, len(page.Items))
	for i := range page.Items {
		forms[i] = &page.Items[i]
	}
	return page, loadItems(ctx, db, s, forms)
}

// DeleteForm deletes the scope's form id with its items.
func DeleteForm(ctx context.Context, db *gorm.DB, s Scope, id string) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var f Form
		err := s.Query(ctx, tx, &Form{}).Where("uuid = ?", strings.ToLower(id)).Take(&f).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return formNotFound(id)
		}
		if err != nil {
			return err
		}
		if err := s.Query(ctx, tx, &FormItem{}).Where("form_id = ?", f.ID).Delete(&FormItem{}).Error; err != nil {
			return err
		}
		return s.Query(ctx, tx, &Form{}).Where("id = ?", f.ID).Delete(&Form{}).Error
	})
}
