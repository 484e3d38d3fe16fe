package models

import "gorm.io/gorm"

// Step 20: Collect! files and forms (issue 9, item 4). collect_files holds one row per uploaded file: the
// record and row it is attached to (debtor, client or operator and its rowid), the attachment field, the
// file's name (unique per attached row, for the upload's overwrite modes), the key of its content in the blob
// store, its size and media type. Its id is the rowid of the attachment record a download names.
// collect_forms and collect_form_items are the user interface forms of a database (id a UUID) and their
// fields and buttons, in order. Every row carries its database's id (DESIGN §4).
type collectFileV20 struct {
	ID          int64  `gorm:"primaryKey;column:id"`
	DatabaseID  int64  `gorm:"not null;uniqueIndex:idx_collect_files_name,priority:1"`
	Record      string `gorm:"size:64;not null;uniqueIndex:idx_collect_files_name,priority:2"`
	RowID       int64  `gorm:"column:row_id;not null;uniqueIndex:idx_collect_files_name,priority:3"`
	Field       string `gorm:"size:64;not null"`
	FileName    string `gorm:"size:255;not null;uniqueIndex:idx_collect_files_name,priority:4"`
	BlobKey     string `gorm:"size:255;not null"`
	Size        int64  `gorm:"not null"`
	ContentType string `gorm:"size:255;not null"`
	CreatedAt   int64  `gorm:"not null"`
}

func (collectFileV20) TableName() string { return "collect_files" }

type collectFormV20 struct {
	ID         int64  `gorm:"primaryKey;column:id"`
	DatabaseID int64  `gorm:"not null;uniqueIndex:idx_collect_forms_uuid,priority:1"`
	UUID       string `gorm:"column:uuid;size:36;not null;uniqueIndex:idx_collect_forms_uuid,priority:2"`
	Name       string `gorm:"size:255;not null"`
	Alias      string `gorm:"size:255;not null;default:''"`
	Width      int32  `gorm:"not null"`
	Height     int32  `gorm:"not null"`
	CreatedAt  int64  `gorm:"not null"`
}

func (collectFormV20) TableName() string { return "collect_forms" }

// collectFormItemV20 is a field (kind "field": name, label, alias, editable) or a button (kind "button":
// label, value) of a form.
type collectFormItemV20 struct {
	ID         int64  `gorm:"primaryKey;column:id"`
	DatabaseID int64  `gorm:"not null"`
	FormID     int64  `gorm:"not null;index:idx_collect_form_items_form,priority:1"`
	Position   int    `gorm:"not null;index:idx_collect_form_items_form,priority:2"`
	Kind       string `gorm:"size:8;not null"`
	UUID       string `gorm:"column:uuid;size:36;not null"`
	Name       string `gorm:"size:64;not null;default:''"`
	Label      string `gorm:"size:255;not null;default:''"`
	Alias      string `gorm:"size:255;not null;default:''"`
	Editable   bool   `gorm:"not null;default:false"`
	Value      int32  `gorm:"not null;default:0"`
}

func (collectFormItemV20) TableName() string { return "collect_form_items" }

func migrateV20(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&collectFileV20{}, &collectFormV20{}, &collectFormItemV20{})
}
