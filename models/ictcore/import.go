package ictcore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"

	"switchboard/models"
)

// A bulk import commits batch by batch, so other writers get the store between batches, yet stays all or
// nothing: its contacts carry its import_id and every read and write of contacts skips them (visible)
// until the import is done; a failed import deletes them again. contact_imports (migration step 2) holds
// each import's state: 'running', 'done' or 'failed'.

const (
	// ImportStaleAfter is how long a running import may go without a sign of life before a sweep takes it
	// for abandoned by a killed process. A live import refreshes its row every importHeartbeat however
	// slowly its upload arrives, so only a dead one gets this old.
	ImportStaleAfter = 10 * time.Minute
	importHeartbeat  = time.Minute

	// cleanupBatch is how many contacts of a failed import one short transaction deletes.
	cleanupBatch = 5000
	// cleanupTimeout bounds a failed import's cleanup, which runs even when the client has gone; what it
	// leaves, a later sweep finishes.
	cleanupTimeout = 10 * time.Minute
)

// visibleSQL keeps the contacts that are not part of an unfinished import. The subquery reads the few
// imports that are not done (a partial index), so a keyset page still walks the primary key in order.
const visibleSQL = "(contacts.import_id IS NULL OR contacts.import_id NOT IN (SELECT import_id FROM contact_imports WHERE state <> 'done'))"

// visible is the one scope every read and write of contacts goes through.
func visible(q *gorm.DB) *gorm.DB { return q.Where(visibleSQL) }

// importDone answers whether the contacts of import id are visible, as visibleSQL decides: the import is
// done, or its row is gone. Both are final (an import leaves 'running' only for 'done' or 'failed', and
// ids are never reused), so a yes is remembered per pool; a no is asked again each time.
func importDone(ctx context.Context, db *gorm.DB, id int64) (bool, error) {
	pool, _ := db.DB()
	k := doneKey{pool, id}
	doneMu.Lock()
	_, ok := doneImports[k]
	doneMu.Unlock()
	if ok {
		return true, nil
	}
	var states []string
	if err := db.WithContext(ctx).Raw("SELECT state FROM contact_imports WHERE import_id = ?", id).Scan(&states).Error; err != nil {
		return false, err
	}
	if len(states) > 0 && states[0] != "done" {
		return false, nil
	}
	doneMu.Lock()
	if len(doneImports) >= doneImportsMax {
		clear(doneImports) // a plain bound: forgetting only costs one more read
	}
	doneImports[k] = struct{}{}
	doneMu.Unlock()
	return true, nil
}

type doneKey struct {
	pool *sql.DB
	id   int64
}

const doneImportsMax = 10000

var (
	doneMu      sync.Mutex
	doneImports = map[doneKey]struct{}{}
)

// errImportLost: a sweep took the import for abandoned (its heartbeat failed for ImportStaleAfter) and
// has failed it, or its group was deleted; nothing of it stays (groupGone answers NotFound for the latter).
var errImportLost = models.Errorf(models.Busy, "the import was interrupted, retry it")

// contactImport is a row of contact_imports.
type contactImport struct {
	ID             int64 `gorm:"primaryKey;column:import_id"`
	GroupID        int64
	State          string
	Rows           int64
	FirstContactID *int64
	LastContactID  *int64
	CreatedAt      int64
	UpdatedAt      int64
}

func (contactImport) TableName() string { return "contact_imports" }

// ImportGroupContacts creates contacts and links them to the group, batch by batch as next yields them
// (an empty batch ends the import): the bulk path of CSV import. Each batch is a short transaction of its
// own, so the store stays open to other writers, but the contacts stay invisible until the last batch is
// in and the group's count is updated. If next or the store fails, or the group is deleted meanwhile, the
// import is failed and what it wrote is deleted. It answers how many contacts it created. A batch is the
// caller's to reuse as soon as next is called again (the import copies it), and next is never called
// from two goroutines at once.
func ImportGroupContacts(ctx context.Context, db *gorm.DB, groupID int64, next func() ([]Contact, error)) (int64, error) {
	if err := SweepImports(ctx, db, ImportStaleAfter); err != nil {
		return 0, err
	}
	id, err := beginImport(ctx, db, groupID)
	if err != nil {
		return 0, err
	}
	hbCtx, stop := context.WithCancel(ctx)
	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		heartbeat(hbCtx, db, id)
	}()
	total, err := writeBatches(ctx, db, id, groupID, next)
	stop()
	<-hbDone
	if err == nil {
		err = finishImport(ctx, db, id, groupID, total)
	}
	if err != nil {
		// The client may be gone (its context canceled): the cleanup must run anyway.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		abandonImport(cctx, db, id)
		return 0, groupGone(cctx, db, groupID, err)
	}
	return total, nil
}

// beginImport checks that the group exists and records a running import of it.
func beginImport(ctx context.Context, db *gorm.DB, groupID int64) (int64, error) {
	now := time.Now().Unix()
	imp := contactImport{GroupID: groupID, State: "running", CreatedAt: now, UpdatedAt: now}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := LockGroup(tx, groupID); err != nil {
			return err
		}
		return tx.Create(&imp).Error
	})
	return imp.ID, err
}

// heartbeat refreshes the import's updated_at until ctx ends, so a sweep can tell a slow upload from a
// dead process. A failed beat is left to the next one: the sweep is the safety net.
func heartbeat(ctx context.Context, db *gorm.DB, id int64) {
	t := time.NewTicker(importHeartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			db.WithContext(ctx).Exec("UPDATE contact_imports SET updated_at = ? WHERE import_id = ? AND state = 'running'",
				time.Now().Unix(), id)
		}
	}
}

// importWriters is how many batches of one import Postgres writes at once, each on its own connection in
// its own transaction: a link and a contact are written by one backend each way, so a second one uses the
// second core while the first waits on its COPY (the bench measured http/copy 0.65 with one writer). SQLite
// has one writer whatever we do.
const importWriters = 2

// writeBatches reads batches on the calling goroutine and writes them on others, so parsing the upload and
// writing to the store overlap. The batch next returns is copied into one of writers+1 recycled buffers
// (next may reuse its own), which keeps memory flat. The first failure, of next or of a write, stops the
// rest and is the answer.
func writeBatches(ctx context.Context, db *gorm.DB, id, groupID int64, next func() ([]Contact, error)) (int64, error) {
	write, writers := insertSmall, 1
	if models.IsPostgres(db) {
		write, writers = copyBatch, importWriters
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	free := make(chan []Contact, writers+1)
	for range writers + 1 {
		free <- nil
	}
	work := make(chan []Contact)
	var total atomic.Int64
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for cs := range work {
				if err := write(ctx, db, id, groupID, cs); err != nil {
					cancel(err)
				} else {
					total.Add(int64(len(cs)))
				}
				free <- cs
			}
		})
	}
	readErr := feed(ctx, next, free, work)
	close(work)
	wg.Wait()
	if readErr != nil {
		return 0, readErr
	}
	if err := context.Cause(ctx); err != nil {
		return 0, err
	}
	return total.Load(), nil
}

// feed hands the batches of next to the writers until next ends or fails, or ctx ends.
func feed(ctx context.Context, next func() ([]Contact, error), free, work chan []Contact) error {
	for {
		var buf []Contact
		select {
		case buf = <-free:
		case <-ctx.Done():
			return nil
		}
		// Read outside any transaction: a slow upload holds no lock.
		cs, err := next()
		if err != nil || len(cs) == 0 {
			return err
		}
		buf = append(buf[:0], cs...)
		select {
		case work <- buf:
		case <-ctx.Done():
			return nil
		}
	}
}

// touchSQL records a batch in its own transaction: the count, the id range and a sign of life. It
// matches no row once a sweep has failed the import or the group is gone (links have no foreign key to
// stop a batch), and then the batch rolls back; groupGone tells the two apart.
// Batches written at once may commit in either order, so the bounds only ever widen.
const touchSQL = `UPDATE contact_imports SET rows = rows + ?,
	first_contact_id = CASE WHEN first_contact_id IS NULL OR first_contact_id > ? THEN ? ELSE first_contact_id END,
	last_contact_id = CASE WHEN last_contact_id IS NULL OR last_contact_id < ? THEN ? ELSE last_contact_id END,
	updated_at = ? WHERE import_id = ? AND state = 'running'
	AND EXISTS (SELECT 1 FROM contact_groups WHERE contact_groups.group_id = contact_imports.group_id)`

// touchArgs are touchSQL's arguments for a batch of n contacts with ids first to last.
func touchArgs(n int, first, last, id int64) []any {
	return []any{n, first, first, last, last, time.Now().Unix(), id}
}

// insertBatch (SQLite) runs one prepared single-row INSERT per contact. SQLite is in-process, so a
// statement costs no round trip, while the driver binds a multi-row INSERT's values with a scan over all
// of them per value (cost grows with the square of the rows per statement: the bench measured 20k rows/s
// at 500 rows each).
// sqliteTxRows is how many rows one SQLite transaction of an import writes. Other writers queue behind
// it (models' write gate), so it bounds their wait; commits are cheap under WAL with synchronous=NORMAL (no
// fsync each).
var sqliteTxRows = 1000

// insertSmall writes a batch in transactions of sqliteTxRows rows.
func insertSmall(ctx context.Context, db *gorm.DB, id, groupID int64, cs []Contact) error {
	for len(cs) > 0 {
		n := min(len(cs), sqliteTxRows)
		if err := insertBatch(ctx, db, id, groupID, cs[:n]); err != nil {
			return err
		}
		cs = cs[n:]
	}
	return nil
}

// pgTouchSQL is touchSQL with pgx's numbered placeholders.
var pgTouchSQL = numbered(touchSQL)

func insertBatch(ctx context.Context, db *gorm.DB, id, groupID int64, cs []Contact) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		pool := tx.Statement.ConnPool
		ins, err := pool.PrepareContext(ctx, `INSERT INTO contacts (first_name, last_name, phone, phone_rev, email,
			address, custom1, custom2, custom3, description, user_id, created_at, updated_at, import_id)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
		if err != nil {
			return err
		}
		defer ins.Close()
		link, err := pool.PrepareContext(ctx, `INSERT INTO contact_links (group_id, contact_id) VALUES (?, ?)`)
		if err != nil {
			return err
		}
		defer link.Close()
		for i := range cs {
			if err := insertOne(ctx, ins, link, id, groupID, &cs[i]); err != nil {
				return err
			}
		}
		res := tx.Exec(touchSQL, touchArgs(len(cs), cs[0].ID, cs[len(cs)-1].ID, id)...)
		if res.Error == nil && res.RowsAffected == 0 {
			return errImportLost
		}
		return res.Error
	})
}

func insertOne(ctx context.Context, ins, link *sql.Stmt, id, groupID int64, c *Contact) error {
	res, err := ins.ExecContext(ctx, c.FirstName, c.LastName, c.Phone, reverse(c.Phone), c.Email, c.Address,
		c.Custom1, c.Custom2, c.Custom3, c.Description, c.UserID, c.CreatedAt, c.UpdatedAt, id)
	if err != nil {
		return err
	}
	if c.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	_, err = link.ExecContext(ctx, groupID, c.ID)
	return err
}

// contactColumns is the COPY column list, in the order copyRow gives them.
var contactColumns = []string{"contact_id", "first_name", "last_name", "phone", "phone_rev", "email", "address",
	"custom1", "custom2", "custom3", "description", "user_id", "created_at", "updated_at", "import_id"}

func copyRow(c *Contact, id int64) []any {
	return []any{c.ID, c.FirstName, c.LastName, c.Phone, reverse(c.Phone), c.Email, c.Address,
		c.Custom1, c.Custom2, c.Custom3, c.Description, c.UserID, c.CreatedAt, c.UpdatedAt, id}
}

// copyBatch (Postgres) streams a batch with COPY in a pgx transaction of its own (the bench measured 39k
// rows/s for INSERT … SELECT unnest and 49k for COPY at a million rows). Ids come from the sequence
// first, so the links can be copied too. The connection goes back to the pool between batches, so slow
// uploads do not hold the pool.
func copyBatch(ctx context.Context, db *gorm.DB, id, groupID int64, cs []Contact) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(driverConn any) error {
		sc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("bulk import: unexpected Postgres driver %T", driverConn)
		}
		return pgx.BeginFunc(ctx, sc.Conn(), func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, `SELECT nextval(pg_get_serial_sequence('contacts', 'contact_id')) FROM generate_series(1, $1)`, len(cs))
			if err != nil {
				return err
			}
			ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			if err != nil {
				return err
			}
			if len(ids) != len(cs) {
				return errors.New("bulk import: the sequence answered too few ids")
			}
			for i := range cs {
				cs[i].ID = ids[i]
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"contacts"}, contactColumns,
				pgx.CopyFromSlice(len(cs), func(i int) ([]any, error) { return copyRow(&cs[i], id), nil })); err != nil {
				return err
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"contact_links"}, []string{"group_id", "contact_id"},
				pgx.CopyFromSlice(len(ids), func(i int) ([]any, error) { return []any{groupID, ids[i]}, nil })); err != nil {
				return err
			}
			// nextval answers in order within a statement, so ids[0] and the last are the batch's bounds.
			tag, err := tx.Exec(ctx, pgTouchSQL, touchArgs(len(cs), ids[0], ids[len(ids)-1], id)...)
			if err == nil && tag.RowsAffected() == 0 {
				return errImportLost
			}
			return err
		})
	})
}

// finishImport makes the import's contacts visible and counts them in the group, in one short
// transaction. Locking the group first makes a concurrent delete of it wait, or fail us with NotFound.
func finishImport(ctx context.Context, db *gorm.DB, id, groupID, total int64) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := LockGroup(tx, groupID); err != nil {
			return err
		}
		res := tx.Exec("UPDATE contact_imports SET state = 'done', updated_at = ? WHERE import_id = ? AND state = 'running'",
			time.Now().Unix(), id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errImportLost
		}
		return addToTotal(tx, groupID, total)
	})
}

// abandonImport fails a running import and deletes what it wrote. If it cannot (the store is down, or a
// sweep got there first), the import is left to the sweep, which finishes the job; meanwhile its
// contacts stay invisible, so nothing of it is ever seen.
func abandonImport(ctx context.Context, db *gorm.DB, id int64) {
	res := db.WithContext(ctx).Exec("UPDATE contact_imports SET state = 'failed', updated_at = ? WHERE import_id = ? AND state = 'running'",
		time.Now().Unix(), id)
	if res.Error == nil && res.RowsAffected == 1 {
		_ = cleanImport(ctx, db, id)
	}
}

// groupGone answers NotFound for an import whose group was deleted under it (a batch's touch or the
// final step found it gone), and err as it is otherwise.
func groupGone(ctx context.Context, db *gorm.DB, groupID int64, err error) error {
	if !errors.Is(err, errImportLost) {
		return err
	}
	if _, gerr := GetGroup(ctx, db, AnyOwner, groupID); models.KindOf(gerr) == models.NotFound {
		return gerr
	}
	return err
}

// SweepImports fails the imports abandoned by a killed process (running, and silent for olderThan) and
// deletes their contacts, and finishes the cleanup of failed imports that one left halfway. Run it at
// start and before each import; several nodes may sweep at once, each import is cleaned by one of them.
func SweepImports(ctx context.Context, db *gorm.DB, olderThan time.Duration) error {
	db = db.WithContext(ctx)
	cutoff := time.Now().Add(-olderThan).Unix()
	var ids []int64
	if err := db.Raw(`SELECT import_id FROM contact_imports WHERE state <> 'done' AND updated_at < ?
		AND (state = 'running' OR first_contact_id IS NOT NULL)`, cutoff).Scan(&ids).Error; err != nil {
		return err
	}
	for _, id := range ids {
		// The claim: a live import refreshes updated_at (and holds its row while a batch commits), so it is
		// never claimed; of several sweepers, one wins.
		res := db.Exec("UPDATE contact_imports SET state = 'failed', updated_at = ? WHERE import_id = ? AND state <> 'done' AND updated_at < ?",
			time.Now().Unix(), id, cutoff)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			continue
		}
		if err := cleanImport(ctx, db, id); err != nil {
			return err
		}
	}
	return nil
}

// cleanImport deletes a failed import's contacts and links, cleanupBatch contacts per short transaction,
// walking the primary key over the import's id range.
func cleanImport(ctx context.Context, db *gorm.DB, id int64) error {
	for {
		finished := false
		err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			q := "SELECT first_contact_id, last_contact_id FROM contact_imports WHERE import_id = ?"
			if models.IsPostgres(tx) {
				q += " FOR UPDATE" // one cleaner at a time per import
			}
			var first, last sql.NullInt64
			if err := tx.Raw(q, id).Row().Scan(&first, &last); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if !first.Valid || !last.Valid {
				finished = true
				return nil
			}
			lo, hi := first.Int64, last.Int64
			var bound []int64
			if err := tx.Raw(`SELECT contact_id FROM contacts WHERE contact_id BETWEEN ? AND ? AND import_id = ?
				ORDER BY contact_id LIMIT 1 OFFSET ?`, lo, hi, id, cleanupBatch-1).Scan(&bound).Error; err != nil {
				return err
			}
			if len(bound) > 0 {
				hi = bound[0]
			}
			// The range on contact_links too, so Postgres walks its contact_id index instead of scanning it.
			if err := tx.Exec(`DELETE FROM contact_links WHERE contact_id BETWEEN ? AND ? AND contact_id IN
				(SELECT contact_id FROM contacts WHERE contact_id BETWEEN ? AND ? AND import_id = ?)`, lo, hi, lo, hi, id).Error; err != nil {
				return err
			}
			if err := tx.Exec("DELETE FROM contacts WHERE contact_id BETWEEN ? AND ? AND import_id = ?", lo, hi, id).Error; err != nil {
				return err
			}
			var nextFirst, nextLast any = hi + 1, last.Int64
			if hi >= last.Int64 {
				nextFirst, nextLast, finished = nil, nil, true
			}
			return tx.Exec("UPDATE contact_imports SET first_contact_id = ?, last_contact_id = ?, updated_at = ? WHERE import_id = ?",
				nextFirst, nextLast, time.Now().Unix(), id).Error
		})
		if err != nil || finished {
			return err
		}
	}
}

// numbered turns ? placeholders into $1, $2, … (the SQL here has no ? inside literals).
func numbered(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
