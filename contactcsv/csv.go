// Package contactcsv reads and writes ICTCore's contact CSV: no header row, the nine columns
// phone, first_name, last_name, email, address, custom1, custom2, custom3, description (a row with a
// single column is a phone alone). Import streams rows into a group in batches; export streams them out.
package contactcsv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"switchboard/csvio"
	"switchboard/models"
	"switchboard/models/ictcore"
)

// Sample is ICTCore's data/contact_sample.csv, byte for byte.
const Sample = `"923330000000","Valid","Contact","email@domain.com","street address","custome 1","custome 2","custome 3","any comments will be here"
"923331111111","First2","Last2","other@domain.com","street address","custome value 1","custome value 2","custome value 3",""`

// ErrEmpty means the upload had no rows at all.
var ErrEmpty = models.Errorf(models.Invalid, "empty file: no rows to import")

// Limits on a report, and the batch size of inserts.
const (
	MaxReportedErrors = 1000
	batchSize         = 5000 // rows per call to the store; it sizes its own statements

	// A row over these is reported and skipped without being held in memory. The longest column is 255
	// characters (up to 1020 bytes of UTF-8), so no valid row comes near them.
	maxField  = 4 << 10
	maxRecord = 64 << 10
)

// RowError is one rejected row.
type RowError struct {
	Line    int64
	Message string
}

// Report says what an import did.
type Report struct {
	Imported, Rejected int64
	Errors             []RowError
	ErrorsTruncated    bool
}

func (r *Report) reject(line int64, format string, args ...any) {
	r.Rejected++
	if len(r.Errors) >= MaxReportedErrors {
		r.ErrorsTruncated = true
		return
	}
	r.Errors = append(r.Errors, RowError{Line: line, Message: fmt.Sprintf(format, args...)})
}

// column limits, in CSV order, as the contract's ContactInput sets them.
var columns = []struct {
	name string
	max  int
}{
	{"phone", 32}, {"first_name", 64}, {"last_name", 64}, {"email", 64}, {"address", 128},
	{"custom1", 128}, {"custom2", 128}, {"custom3", 128}, {"description", 255},
}

type batchSizeKey struct{}

// WithBatchSize answers ctx asking Import to store rows n at a time instead of batchSize: tests use it to
// see an import midway without writing thousands of rows first.
func WithBatchSize(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, batchSizeKey{}, n)
}

// Import reads CSV rows from r and adds each valid one to the group as a new contact owned by userID.
// It is all or nothing: an upload that breaks off (or exceeds its size limit) leaves no contact, though
// batches commit one by one so other writers are not held up (ictcore.ImportGroupContacts). Bad rows are
// skipped and reported. Memory stays flat for any input: csvio bounds what a row may hold, and rows are
// stored in batches.
func Import(ctx context.Context, db *gorm.DB, groupID, userID int64, r io.Reader) (*Report, error) {
	rep := &Report{}
	cr := csvio.NewReader(r, csvio.Limits{MaxField: maxField, MaxRecord: maxRecord})
	size := batchSize
	if n, ok := ctx.Value(batchSizeKey{}).(int); ok && n > 0 {
		size = n
	}
	batch := make([]ictcore.Contact, 0, size)
	now := time.Now().Unix()
	rows := int64(0)
	// next answers the next batch of valid rows, an empty one at the end of the file.
	next := func() ([]ictcore.Contact, error) {
		batch = batch[:0]
		for len(batch) < size {
			rec, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				var re *csvio.RowError
				if !errors.As(err, &re) {
					return nil, err // the upload itself failed: the import is undone
				}
				rows++
				rep.reject(re.Line, "%s", re.Msg) // csvio says what: a quote never closed, a field or row too long
				continue
			}
			rows++
			c, msg := toContact(rec.Fields)
			if msg != "" {
				rep.reject(rec.Line, "%s", msg)
				continue
			}
			c.UserID, c.CreatedAt, c.UpdatedAt = userID, now, now
			batch = append(batch, c)
		}
		if len(batch) == 0 && rows == 0 {
			return nil, ErrEmpty
		}
		return batch, nil
	}
	n, err := ictcore.ImportGroupContacts(ctx, db, groupID, next)
	if err != nil {
		return nil, err
	}
	rep.Imported = n
	return rep, nil
}

// toContact checks one record; a non-empty message says why it is rejected. Each field loses the leading
// ' that Export adds to a formula-like cell (csvio.Restore), then its surrounding spaces, and is checked
// as it will be stored, so an exported file re-imports unchanged.
func toContact(rec []string) (ictcore.Contact, string) {
	if len(rec) != 1 && len(rec) != len(columns) {
		return ictcore.Contact{}, fmt.Sprintf("row has %d columns, want 1 (phone) or %d", len(rec), len(columns))
	}
	var vals [9]string // len(columns)
	for i, v := range rec {
		if !utf8.ValidString(v) {
			return ictcore.Contact{}, fmt.Sprintf("column %s is not valid UTF-8", columns[i].name)
		}
		v = strings.TrimSpace(csvio.Restore(v))
		if utf8.RuneCountInString(v) > columns[i].max {
			return ictcore.Contact{}, fmt.Sprintf("column %s is longer than %d characters", columns[i].name, columns[i].max)
		}
		vals[i] = v
	}
	c := ictcore.Contact{
		Phone: vals[0], FirstName: vals[1], LastName: vals[2], Email: vals[3], Address: vals[4],
		Custom1: vals[5], Custom2: vals[6], Custom3: vals[7], Description: vals[8],
	}
	if err := c.Check(); err != nil {
		return c, models.Message(err)
	}
	return c, ""
}

// Export writes every contact of the group to w in the import's format, every field quoted (RFC 4180)
// and guarded against formula injection (csvio.Neutralize: a leading ' that Import removes again).
func Export(ctx context.Context, db *gorm.DB, groupID int64, w io.Writer) error {
	var buf bytes.Buffer
	return ictcore.EachGroupContact(ctx, db, groupID, func(c *ictcore.Contact) error {
		buf.Reset()
		for i, f := range []string{c.Phone, c.FirstName, c.LastName, c.Email, c.Address, c.Custom1, c.Custom2, c.Custom3, c.Description} {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.WriteByte('"')
			buf.WriteString(strings.ReplaceAll(csvio.Neutralize(f), `"`, `""`))
			buf.WriteByte('"')
		}
		buf.WriteByte('\n')
		_, err := w.Write(buf.Bytes())
		return err
	})
}
