package models

import (
	"fmt"

	"gorm.io/gorm"
)

// migrateV3 drops contact_links' two foreign keys. Each link row paid two referential checks, each a
// query plus a row lock on the contact and the group: measured on Postgres, inserting 300k links took
// 6.2 s with them and 1.2 s without (the 300k contacts themselves 6.8 s), so a CSV import of a group spent
// half its store time checking rows it had just written. The model keeps the same guarantees itself:
// every write of a link locks the contact and the group first, and deleting either locks its row first
// and deletes its links in the same transaction (models/ictcore). A link of an import to a group deleted
// mid-import belongs to an invisible contact and goes with the import's cleanup.
//
// SQLite cannot drop a constraint: the table is rebuilt, as WITHOUT ROWID, so the primary key is the table
// and a link costs one B-tree write instead of two.
func migrateV3(tx *gorm.DB) error {
	if IsPostgres(tx) {
		var names []string
		if err := tx.Raw(`SELECT conname FROM pg_constraint
			WHERE conrelid = 'contact_links'::regclass AND contype = 'f' ORDER BY conname`).Scan(&names).Error; err != nil {
			return err
		}
		for _, n := range names {
			if err := tx.Exec(fmt.Sprintf("ALTER TABLE contact_links DROP CONSTRAINT %q", n)).Error; err != nil {
				return err
			}
		}
		return nil
	}
	for _, s := range []string{
		`CREATE TABLE contact_links_v3 (group_id integer NOT NULL, contact_id integer NOT NULL,
			PRIMARY KEY (group_id, contact_id)) WITHOUT ROWID`,
		`INSERT INTO contact_links_v3 (group_id, contact_id) SELECT group_id, contact_id FROM contact_links`,
		`DROP TABLE contact_links`,
		`ALTER TABLE contact_links_v3 RENAME TO contact_links`,
		`CREATE INDEX idx_contact_links_contact_id ON contact_links (contact_id)`,
	} {
		if err := tx.Exec(s).Error; err != nil {
			return err
		}
	}
	return nil
}
