package platform

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"gorm.io/gorm"

	"switchboard/csvio"
	"switchboard/models"
)

// A CSV import is all or nothing for whatever the client causes: the whole upload is taken into a scratch
// file, then every number checked and normalised into a spool file before the first is stored, so a bad row, a broken upload or
// one over the limit adds nothing. Only then are the numbers written, importBatch to a transaction: the
// store's write lock is never held for the length of an upload (on SQLite a write transaction of more than
// a few seconds would make every other writer fail as busy). A store failure midway leaves part of the
// file added; adding is idempotent, so the client sends it again.

// importBatch is the numbers one transaction adds: short on SQLite, where writers take turns.
const importBatch = 1000

// Reading bounds: a number is short, but further columns are ignored, not refused.
const (
	importMaxField  = 4 << 10
	importMaxRecord = 64 << 10
)

// ImportReport says what an import did: numbers read (header and blank lines not counted), added, and
// those the list held already or the file repeats.
type ImportReport struct{ Rows, Added, Duplicates int64 }

// ImportNumbers adds the numbers of a CSV upload to list id: the first column of each line, a header line
// skipped when its first field has no digit. A bad row is Invalid naming its line, and nothing is added.
func ImportNumbers(ctx context.Context, db *gorm.DB, region string, id int64, r io.Reader) (ImportReport, error) {
	var rep ImportReport
	if _, err := GetList(ctx, db, id); err != nil {
		return rep, err // a missing list is 404 before a byte of the body is read
	}
	// The upload is taken in whole first, as it arrives, and checked afterwards: the server's upload
	// deadline follows the client's rate, and checking numbers as they arrive made a slow check (20k
	// numbers on a loaded machine) look like a slow client.
	raw, err := tempFile()
	if err != nil {
		return rep, err
	}
	defer raw.remove()
	if _, err := io.Copy(raw, r); err != nil {
		return rep, uploadFailed(err)
	}
	if _, err := raw.Seek(0, io.SeekStart); err != nil {
		return rep, err
	}
	spool, err := tempFile()
	if err != nil {
		return rep, err
	}
	defer spool.remove()
	if rep.Rows, err = readNumbers(bufio.NewReader(raw), region, spool); err != nil {
		return rep, err
	}
	if rep.Rows == 0 {
		return rep, models.Errorf(models.Invalid, "the file has no numbers")
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return rep, err
	}
	// The upload is in and valid: the write finishes even if the client leaves now.
	rep.Added, err = writeNumbers(context.WithoutCancel(ctx), db, id, spool)
	rep.Duplicates = rep.Rows - rep.Added
	return rep, err
}

// temp is a scratch file, removed with remove.
type temp struct{ *os.File }

func tempFile() (temp, error) {
	f, err := os.CreateTemp("", "switchboard-dnc-*")
	return temp{f}, err
}

func (t temp) remove() {
	t.Close()
	os.Remove(t.Name())
}

// readNumbers checks each row of the CSV in r and writes its number in E.164 to w, a line each; it
// answers how many numbers it wrote. Memory stays flat: csvio bounds a row, and w holds the rest.
func readNumbers(r io.Reader, region string, w io.Writer) (int64, error) {
	cr := csvio.NewReader(r, csvio.Limits{MaxField: importMaxField, MaxRecord: importMaxRecord})
	bw := bufio.NewWriter(w)
	var rows int64
	for first := true; ; first = false {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		var re *csvio.RowError
		if errors.As(err, &re) {
			return 0, models.Errorf(models.Invalid, "line %d: %s", re.Line, re.Msg)
		}
		if err != nil {
			return 0, uploadFailed(err)
		}
		// A leading ' is a spreadsheet's text guard, not part of the number.
		field := strings.TrimSpace(csvio.Restore(rec.Fields[0]))
		if first && !strings.ContainsAny(field, "0123456789") {
			continue // the header
		}
		if field == "" {
			return 0, models.Errorf(models.Invalid, "line %d: no number in the first column", rec.Line)
		}
		n, err := E164(field, region)
		if err != nil {
			return 0, models.Errorf(models.Invalid, "line %d: %s", rec.Line, models.Message(err))
		}
		bw.WriteString(n)
		bw.WriteByte('\n')
		rows++
	}
	return rows, bw.Flush()
}

// uploadFailed classifies a failed read of the upload: over the limit (413) and a client gone stay what
// they are; anything else the client sent broke off (400). The cause stays in the chain, so a read
// deadline the server set is answered as such.
func uploadFailed(err error) error {
	if models.KindOf(err) == models.Internal {
		return models.Wrap(models.Invalid, err, "the upload could not be read to its end")
	}
	return err
}

// writeNumbers adds the spooled numbers to list id, importBatch to a transaction, and answers how many
// were new.
func writeNumbers(ctx context.Context, db *gorm.DB, id int64, spool io.Reader) (int64, error) {
	sc := bufio.NewScanner(spool)
	batch := make([]string, 0, importBatch)
	var added int64
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		var n int64
		err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var err error
			n, err = insertNumbers(tx, id, batch, time.Now().Unix())
			return err
		})
		if err == nil {
			added += n // counted once committed
		}
		batch = batch[:0]
		return err
	}
	for sc.Scan() {
		if batch = append(batch, sc.Text()); len(batch) == importBatch {
			if err := flush(); err != nil {
				return added, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return added, fmt.Errorf("spool: %w", err)
	}
	return added, flush()
}
