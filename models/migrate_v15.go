package models

import "gorm.io/gorm"

// apiKeyV15 is step 15: the platform API's keys. Only the SHA-256 of a key is kept (auth.HashAPIKey),
// looked up through its unique index; prefix is the key's first characters, for lists. Times are unix
// seconds; last_used_at is refreshed at most once a minute per key.
type apiKeyV15 struct {
	ID         int64  `gorm:"primaryKey;column:id"`
	Name       string `gorm:"size:64;not null"`
	Scope      string `gorm:"size:16;not null"`
	Prefix     string `gorm:"size:16;not null"`
	Hash       string `gorm:"size:64;not null;uniqueIndex"`
	CreatedAt  int64  `gorm:"not null"`
	LastUsedAt *int64
	RevokedAt  *int64
}

func (apiKeyV15) TableName() string { return "api_keys" }

func migrateV15(tx *gorm.DB) error {
	if err := tx.Migrator().CreateTable(&apiKeyV15{}); err != nil {
		return err
	}
	// A name is unique among the keys in force; a revoked key's name may be given again.
	return tx.Exec("CREATE UNIQUE INDEX idx_api_keys_live_name ON api_keys (name) WHERE revoked_at IS NULL").Error
}
