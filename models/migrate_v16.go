package models

import "gorm.io/gorm"

// Step 16: do-not-call lists. A global list applies to every campaign; another applies to the campaigns
// in dnc_list_campaigns (no foreign key to campaigns: deleting a campaign leaves an attachment that
// matches nothing). Times are unix seconds.
type dncListV16 struct {
	ID          int64  `gorm:"primaryKey;column:id"`
	Name        string `gorm:"size:128;not null;uniqueIndex"`
	Global      bool   `gorm:"not null;default:false"`
	Description string `gorm:"size:255;not null;default:''"`
	CreatedAt   int64  `gorm:"not null"`
	UpdatedAt   int64  `gorm:"not null"`
}

func (dncListV16) TableName() string { return "dnc_lists" }

// dncListCampaignV16: the index on campaign_id serves the dialer's "lists of this campaign".
type dncListCampaignV16 struct {
	ListID     int64 `gorm:"primaryKey;autoIncrement:false"`
	CampaignID int64 `gorm:"primaryKey;autoIncrement:false;index"`
}

func (dncListCampaignV16) TableName() string { return "dnc_list_campaigns" }

func migrateV16(tx *gorm.DB) error {
	if err := tx.Migrator().CreateTable(&dncListV16{}, &dncListCampaignV16{}); err != nil {
		return err
	}
	// dnc_numbers holds E.164 numbers (16 characters at most; the column takes 32, as contacts' phones).
	// Written as SQL: byte order on both stores (COLLATE "C" on Postgres, SQLite's default BINARY), so a
	// list pages by number along its primary key; on SQLite WITHOUT ROWID, so that key is the table and not
	// a second copy. The index on number serves lookups across lists (the dialer's).
	numbers := `CREATE TABLE dnc_numbers (list_id integer NOT NULL, number varchar(32) NOT NULL,
		created_at integer NOT NULL, PRIMARY KEY (list_id, number)) WITHOUT ROWID`
	if IsPostgres(tx) {
		numbers = `CREATE TABLE dnc_numbers (list_id bigint NOT NULL, number varchar(32) COLLATE "C" NOT NULL,
		created_at bigint NOT NULL, PRIMARY KEY (list_id, number))`
	}
	for _, q := range []string{numbers, "CREATE INDEX idx_dnc_numbers_number ON dnc_numbers (number)"} {
		if err := tx.Exec(q).Error; err != nil {
			return err
		}
	}
	return nil
}
