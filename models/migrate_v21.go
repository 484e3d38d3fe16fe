package models

import "gorm.io/gorm"

// Step 21: Collect! reports (issue 9, item 4). collect_reports holds a database's report definitions: a
// name (unique per database, what runReport's `report` names), the record it starts on, the columns it lists
// (field names of that record, comma-joined, in order) and an optional title. Every row carries its
// database's id (DESIGN §4).
type collectReportV21 struct {
	ID         int64  `gorm:"primaryKey;column:id"`
	DatabaseID int64  `gorm:"not null;uniqueIndex:idx_collect_reports_name,priority:1;index:idx_collect_reports_start,priority:1"`
	Name       string `gorm:"size:255;not null;uniqueIndex:idx_collect_reports_name,priority:2"`
	StartOn    string `gorm:"column:start_on;size:64;not null;index:idx_collect_reports_start,priority:2"`
	Title      string `gorm:"size:255;not null;default:''"`
	Columns    string `gorm:"column:column_list;type:text;not null"`
	CreatedAt  int64  `gorm:"not null"`
}

func (collectReportV21) TableName() string { return "collect_reports" }

func migrateV21(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&collectReportV21{})
}
