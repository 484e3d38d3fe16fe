// Package contactcsv reads and writes ICTCore's contact CSV: no header row, the nine columns
// phone, first_name, last_name, email, address, custom1, custom2, custom3, description (a row with a
// single column is a phone alone). Import streams rows into a group in batches; export streams them out.
package contactcsv

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

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

// Import reads CSV rows from r and adds each valid one to the group as a new contact owned by userID.
// It runs in one transaction, so an upload that breaks off (or exceeds its size limit) writes nothing;
// bad rows are skipped and reported. Memory stays flat: rows are read one by one, stored in batches.
func Import(ctx context.Context, db *gorm.DB, groupID, userID int64, r io.Reader) (*Report, error) {
	rep := &Report{}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.LazyQuotes = true
	batch := make([]ictcore.Contact, 0, batchSize)
	now := time.Now().Unix()
	rows := int64(0)
	// next answers the next batch of valid rows, an empty one at the end of the file.
	next := func() ([]ictcore.Contact, error) {
		batch = batch[:0]
		for len(batch) < batchSize {
			rec, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				var pe *csv.ParseError
				if !errors.As(err, &pe) {
					return nil, err // the upload itself failed: roll back
				}
				rows++
				rep.reject(int64(pe.StartLine), "malformed CSV: %v", pe.Err)
				continue
			}
			rows++
			line, _ := cr.FieldPos(0)
			c, msg := toContact(rec)
			if msg != "" {
				rep.reject(int64(line), "%s", msg)
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

// toContact checks one record; a non-empty message says why it is rejected.
func toContact(rec []string) (ictcore.Contact, string) {
	if len(rec) != 1 && len(rec) != len(columns) {
		return ictcore.Contact{}, fmt.Sprintf("row has %d columns, want 1 (phone) or %d", len(rec), len(columns))
	}
	for i, v := range rec {
		if !utf8.ValidString(v) {
			return ictcore.Contact{}, fmt.Sprintf("column %s is not valid UTF-8", columns[i].name)
		}
		if utf8.RuneCountInString(v) > columns[i].max {
			return ictcore.Contact{}, fmt.Sprintf("column %s is longer than %d characters", columns[i].name, columns[i].max)
		}
	}
	get := func(i int) string {
		if i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	c := ictcore.Contact{
		Phone: get(0), FirstName: get(1), LastName: get(2), Email: get(3), Address: get(4),
		Custom1: get(5), Custom2: get(6), Custom3: get(7), Description: get(8),
	}
	if err := c.Check(); err != nil {
		return c, models.Message(err)
	}
	return c, ""
}

// Export writes every contact of the group to w in the import's format, every field quoted (RFC 4180).
func Export(ctx context.Context, db *gorm.DB, groupID int64, w io.Writer) error {
	var buf bytes.Buffer
	return ictcore.EachGroupContact(ctx, db, groupID, func(c *ictcore.Contact) error {
		buf.Reset()
		for i, f := range []string{c.Phone, c.FirstName, c.LastName, c.Email, c.Address, c.Custom1, c.Custom2, c.Custom3, c.Description} {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.WriteByte('"')
			buf.WriteString(strings.ReplaceAll(f, `"`, `""`))
			buf.WriteByte('"')
		}
		buf.WriteByte('\n')
		_, err := w.Write(buf.Bytes())
		return err
	})
}
