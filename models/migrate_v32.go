package models

import "gorm.io/gorm"

// deliveryBatchV32 marks a delivery job whose batch is still open: later sends of the node that inserted
// it may add their spools to it until the job seals it (deletes the row) just before reading its spools.
// Sends that arrive together are often a few dozen, and a job per such batch cost the sends bench most of
// its delivery time in per-job work.
type deliveryBatchV32 struct {
	JobID int64 `gorm:"primaryKey;autoIncrement:false"`
}

func (deliveryBatchV32) TableName() string { return "delivery_batches" }

func migrateV32(tx *gorm.DB) error { return tx.Migrator().CreateTable(&deliveryBatchV32{}) }
