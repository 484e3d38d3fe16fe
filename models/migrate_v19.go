package models

import "gorm.io/gorm"

// Step 19: Collect! contact plans and their runs (issue 9, item 5). collect_plans holds a database's plans
// by code (the vendor's cp_code), the record types each applies to (comma-joined) and its steps as JSON;
// collect_plan_jobs holds one row per run (its jobid, an upper-case UUID), written apart from the run's
// changes so a failed run's row stays with its reason while the changes are rolled back.
type collectPlanV19 struct {
	ID          int64  `gorm:"primaryKey;column:id"`
	DatabaseID  int64  `gorm:"not null;uniqueIndex:idx_collect_plans_code,priority:1"`
	Code        string `gorm:"size:32;not null;uniqueIndex:idx_collect_plans_code,priority:2"`
	Description string `gorm:"size:255;not null;default:''"`
	Records     string `gorm:"size:255;not null"`
	Steps       string `gorm:"not null"`
	NeedsSocket bool   `gorm:"not null"`
	CreatedAt   int64  `gorm:"not null"`
}

func (collectPlanV19) TableName() string { return "collect_plans" }

type collectPlanJobV19 struct {
	ID          string `gorm:"primaryKey;size:36;column:id"`
	DatabaseID  int64  `gorm:"not null;index:idx_collect_plan_jobs_db,priority:1"`
	OperatorID  int64  `gorm:"not null"`
	PlanID      int64  `gorm:"not null;index:idx_collect_plan_jobs_db,priority:2"`
	PlanCode    string `gorm:"size:32;not null"`
	Record      string `gorm:"size:64;not null"`
	RowID       int64  `gorm:"column:row_id;not null"`
	WebsocketID string `gorm:"size:24;not null;default:''"`
	Status      string `gorm:"size:16;not null"`
	Reason      string `gorm:"size:2000;not null;default:''"`
	CreatedAt   int64  `gorm:"not null"`
	FinishedAt  int64  `gorm:"not null;default:0"`
}

func (collectPlanJobV19) TableName() string { return "collect_plan_jobs" }

func migrateV19(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&collectPlanV19{}, &collectPlanJobV19{})
}
