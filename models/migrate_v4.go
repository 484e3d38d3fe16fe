package models

import "gorm.io/gorm"

// blobV4 is a frozen copy of blobs as step 4 created it: one row per blob of the database blob store
// (package blob), which Postgres stores use so that every node reads what any node stored. SQLite gets the
// same schema, so both stores migrate alike, though its blobs go to a directory.
//
// A blob is 'writing' while its Put streams chunks (each chunk refreshes updated_at, so a sweep can tell a
// slow upload from one a killed process left), 'current' once complete (at most one per key: a partial
// unique index), and 'dead' once replaced, deleted or failed, until its chunks and then its row are gone.
// Only a writing blob becomes current, and a dead one stays dead, so a reader that resolved a blob_id
// either reads that blob's own chunks or finds them gone; ids are never reused (a sequence; AUTOINCREMENT).
//
// blob_key is at most 1024 bytes (package blob checks), well under Postgres's B-tree entry limit.
type blobV4 struct {
	ID        int64  `gorm:"primaryKey;column:blob_id"`
	BlobKey   string `gorm:"size:1024;not null"`
	State     string `gorm:"size:16;not null;check:chk_blobs_state,state IN ('writing','current','dead')"`
	Size      int64  `gorm:"not null;default:0"`
	SHA256    string `gorm:"column:sha256;size:64;not null;default:''"` // lower-case hex, set when current
	CreatedAt int64  `gorm:"not null"`
	UpdatedAt int64  `gorm:"not null"` // unix seconds
}

func (blobV4) TableName() string { return "blobs" }

// blobChunkV4 is a frozen copy of blob_chunks: a blob's content in pieces numbered from 0. No foreign key:
// a chunk is written in one transaction with an update of its blob's row that must find it 'writing', and
// a dead blob loses its chunks before its row, so no chunk outlives its blob (as with contact_links, the
// model keeps the guarantee; see package blob).
type blobChunkV4 struct {
	BlobID int64  `gorm:"primaryKey;autoIncrement:false;not null"`
	Seq    int64  `gorm:"primaryKey;autoIncrement:false;not null"`
	Data   []byte `gorm:"not null"`
}

func (blobChunkV4) TableName() string { return "blob_chunks" }

func migrateV4(tx *gorm.DB) error {
	if err := tx.Migrator().CreateTable(&blobV4{}, &blobChunkV4{}); err != nil {
		return err
	}
	stmts := []string{
		"CREATE UNIQUE INDEX idx_blobs_current ON blobs (blob_key) WHERE state = 'current'",
		// The sweep's search: the few blobs that are not current, without reading the current ones. On
		// blob_id, not updated_at, so the refresh each chunk makes stays a HOT update on Postgres.
		"CREATE INDEX idx_blobs_open ON blobs (blob_id) WHERE state <> 'current'",
	}
	if IsPostgres(tx) {
		// Media is compressed already (audio, fax TIFF): out of line without trying pglz on every chunk.
		stmts = append(stmts, "ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL")
	}
	for _, s := range stmts {
		if err := tx.Exec(s).Error; err != nil {
			return err
		}
	}
	return nil
}
