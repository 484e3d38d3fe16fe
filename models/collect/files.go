package collect

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"switchboard/models"
)

// Files (issue 9, item 4; notes/vendors.md 1.8–1.9): a file uploaded to a debtor, client or operator is
// stored in the blob store and recorded as a collect_files row (migration 20), the "attachment record" of
// its owner: attachment for a debtor, cl_attachment for a client, op_attachment for an operator. Its id is
// the attachment record's rowid a download names. Every query goes through a Scope.

// File is a row of collect_files.
type File struct {
	ID          int64 `gorm:"primaryKey;column:id"`
	DatabaseID  int64
	Record      string // the owner's record: debtor, client or operator
	RowID       int64  `gorm:"column:row_id"` // the owner's rowid
	Field       string // the attachment field holding the file
	FileName    string
	BlobKey     string
	Size        int64
	ContentType string
	CreatedAt   int64
}

// TableName is the table of files.
func (File) TableName() string { return "collect_files" }

// Attachments: the owner records an upload takes, the attachment record each one's files are downloaded
// from, and that record's single attachment field.
var Attachments = map[string]struct{ Record, Field string }{
	"debtor":   {"attachment", "at_file"},
	"client":   {"cl_attachment", "cl_at_file"},
	"operator": {"op_attachment", "op_at_file"},
}

// OwnerOf answers the owner record whose files attachment record rec holds ("" when rec holds none).
func OwnerOf(rec string) string {
	for owner, a := range Attachments {
		if a.Record == rec {
			return owner
		}
	}
	return ""
}

// Overwrite modes of an upload.
const (
	OverwriteYes = "yes"
	OverwriteNo  = "no"
	OverwriteInc = "inc"
)

// maxIncrement bounds the names inc tries (Test-2.txt … Test-1000.txt).
const maxIncrement = 1000

// CheckOwner answers NotFound unless row rowid of owner (debtor, client: a record of the scope's database;
// operator: one of its operators) exists.
func CheckOwner(ctx context.Context, db *gorm.DB, s Scope, owner string, rowid int64) error {
	if owner == "operator" {
		_, err := GetOperator(ctx, db, s, rowid)
		return err
	}
	d, err := FindRecordDef(ctx, db, s, owner)
	if err != nil {
		return err
	}
	_, err = takeRow(ctx, db, s, d, rowid, "")
	return err
}

// FileExists answers whether the owner row has a file named name.
func FileExists(ctx context.Context, db *gorm.DB, s Scope, owner string, rowid int64, name string) (bool, error) {
	var n int64
	err := s.Query(ctx, db, &File{}).Where("record = ? AND row_id = ? AND file_name = ?", owner, rowid, name).Count(&n).Error
	return n > 0, err
}

// incremented is name with -n before its extension (Test.txt, 2 → Test-2.txt).
func incremented(name string, n int) string {
	base, ext := name, ""
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		base, ext = name[:i], name[i:]
	}
	return base + "-" + strconv.Itoa(n) + ext
}

// AttachFile records f (its blob already stored) on its owner row with the overwrite mode: yes replaces a
// file of the same name (answering the replaced row's blob key, for the caller to delete), no answers
// Conflict when the name exists, inc stores it under the first free incremented name. A row that went
// away meanwhile is NotFound. On an error the caller deletes f's blob.
func AttachFile(ctx context.Context, db *gorm.DB, s Scope, f *File, mode string) (oldKey string, err error) {
	f.DatabaseID, f.CreatedAt = s.DatabaseID, time.Now().Unix()
	f.Field = Attachments[f.Record].Field
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := CheckOwner(ctx, tx, s, f.Record, f.RowID); err != nil {
			return err
		}
		var old File
		q := s.Query(ctx, tx, &File{}).Where("record = ? AND row_id = ? AND file_name = ?", f.Record, f.RowID, f.FileName)
		err := q.Take(&old).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			return tx.Create(f).Error
		case err != nil:
			return err
		}
		switch mode {
		case OverwriteYes:
			oldKey = old.BlobKey
			f.ID = old.ID
			return s.Query(ctx, tx, &File{}).Where("id = ?", old.ID).Updates(map[string]any{
				"blob_key": f.BlobKey, "size": f.Size, "content_type": f.ContentType, "created_at": f.CreatedAt}).Error
		case OverwriteInc:
			name := f.FileName
			for n := 2; n <= maxIncrement; n++ {
				f.FileName = incremented(name, n)
				if len(f.FileName) > 255 {
					return models.Errorf(models.Invalid, "file name %q is too long to increment", name)
				}
				taken, err := FileExists(ctx, tx, s, f.Record, f.RowID, f.FileName)
				if err != nil {
					return err
				}
				if !taken {
					return tx.Create(f).Error
				}
			}
			return models.Errorf(models.Conflict, "%s %d has files %s up to %s already", f.Record, f.RowID, name, f.FileName)
		default:
			return models.Errorf(models.Conflict, "%s %d has a file %s already (overwrite is no)", f.Record, f.RowID, f.FileName)
		}
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return "", models.Wrap(models.Conflict, err, "a file "+f.FileName+" was stored meanwhile on "+f.Record+" "+strconv.FormatInt(f.RowID, 10))
	}
	return oldKey, err
}

// GetFile answers the file of attachment record rec, rowid id, of the scope's database (NotFound for
// another database's file, an id of another attachment record, or a record that holds no files).
func GetFile(ctx context.Context, db *gorm.DB, s Scope, rec string, id int64) (*File, error) {
	owner := OwnerOf(rec)
	if owner == "" {
		return nil, models.Errorf(models.NotFound, "record %s holds no files (files are downloaded from attachment, cl_attachment or op_attachment)", rec)
	}
	return models.TakeOne[File](s.Query(ctx, db, &File{}).Where("id = ? AND record = ?", id, owner),
		func() error { return models.Errorf(models.NotFound, "%s %d not found", rec, id) })
}
