package models

import "gorm.io/gorm"

// Migration steps, for tests that replay one on a store prepared as the step before left it.
var MigrateV30 = migrateV30

// CreateSpoolResultsV8 creates the spool_results table as step 8 did (step 30 drops it).
func CreateSpoolResultsV8(db *gorm.DB) error { return db.Migrator().CreateTable(&spoolResultV8{}) }
