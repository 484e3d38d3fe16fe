package models

import "gorm.io/gorm"

// Step 18: Collect! record definitions and their rows, stored generically (issue 9, items 2 and 3).
// A definition (collect_record_defs) names a record of one database, its rowid column and, for a
// sub-record, its parent record and the field holding the parent's rowid; collect_field_defs are its fields
// with their types. collect_rows holds one row per record (its id is the rowid), collect_values one value
// per field of a row: text_value always holds the value as answered (numbers in their canonical form too),
// num_value the number of a number field, so numbers compare and sort as numbers. Every row carries its
// database's id (DESIGN §4); field ids belong to one definition of one database, so the indexes on
// (field_id, value, row_id) answer a filter condition as one index range, whatever the table size.
type collectRecordDefV18 struct {
	ID          int64  `gorm:"primaryKey;column:id"`
	DatabaseID  int64  `gorm:"not null;uniqueIndex:idx_collect_record_defs_name,priority:1"`
	Name        string `gorm:"size:64;not null;uniqueIndex:idx_collect_record_defs_name,priority:2"`
	RowIDField  string `gorm:"column:rowid_field;size:64;not null"`
	Parent      string `gorm:"size:64;not null;default:''"`
	ParentField string `gorm:"size:64;not null;default:''"`
	CreatedAt   int64  `gorm:"not null"`
}

func (collectRecordDefV18) TableName() string { return "collect_record_defs" }

type collectFieldDefV18 struct {
	ID         int64  `gorm:"primaryKey;column:id"`
	DatabaseID int64  `gorm:"not null"`
	RecordID   int64  `gorm:"not null;uniqueIndex:idx_collect_field_defs_name,priority:1"`
	Name       string `gorm:"size:64;not null;uniqueIndex:idx_collect_field_defs_name,priority:2"`
	Type       string `gorm:"size:16;not null"`
	Position   int    `gorm:"not null"`
	Default    string `gorm:"column:default_value;not null;default:''"`
}

func (collectFieldDefV18) TableName() string { return "collect_field_defs" }

type collectRowV18 struct {
	ID         int64 `gorm:"primaryKey;column:id"`
	DatabaseID int64 `gorm:"not null;index:idx_collect_rows_record,priority:1"`
	RecordID   int64 `gorm:"not null;index:idx_collect_rows_record,priority:2"`
	CreatedAt  int64 `gorm:"not null"`
	UpdatedAt  int64 `gorm:"not null"`
}

func (collectRowV18) TableName() string { return "collect_rows" }

type collectValueV18 struct {
	RowID      int64    `gorm:"primaryKey;autoIncrement:false"`
	FieldID    int64    `gorm:"primaryKey;autoIncrement:false"`
	DatabaseID int64    `gorm:"not null"`
	TextValue  string   `gorm:"not null"`
	NumValue   *float64 `gorm:""`
}

func (collectValueV18) TableName() string { return "collect_values" }

func migrateV18(tx *gorm.DB) error {
	if err := tx.Migrator().CreateTable(&collectRecordDefV18{}, &collectFieldDefV18{}, &collectRowV18{}, &collectValueV18{}); err != nil {
		return err
	}
	// Byte order for text, as the filters compare: SQLite's default BINARY, and the column's collation "C" on
	// Postgres (then every comparison of it, and its index, use byte order with no COLLATE in the queries).
	if IsPostgres(tx) {
		if err := tx.Exec(`ALTER TABLE collect_values ALTER COLUMN text_value TYPE text COLLATE "C"`).Error; err != nil {
			return err
		}
	}
	text := `CREATE INDEX idx_collect_values_text ON collect_values (field_id, text_value, row_id)`
	for _, q := range []string{text, `CREATE INDEX idx_collect_values_num ON collect_values (field_id, num_value, row_id)`} {
		if err := tx.Exec(q).Error; err != nil {
			return err
		}
	}
	return nil
}
