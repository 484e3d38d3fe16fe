package ictcore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"

	"switchboard/models"
)

// ImportGroupContacts creates contacts and links them to the group, batch by batch as next yields them
// (an empty batch ends the import), all in one transaction: the bulk path of CSV import. If next or the
// store fails, nothing is written. It sets each contact's id and answers how many it created; the batches
// are the caller's to reuse once next is called again.
func ImportGroupContacts(ctx context.Context, db *gorm.DB, groupID int64, next func() ([]Contact, error)) (int64, error) {
	if models.IsPostgres(db) {
		return importPostgres(ctx, db, groupID, next)
	}
	return importSQLite(ctx, db, groupID, next)
}

// importSQLite runs one prepared single-row INSERT per contact. SQLite is in-process, so a statement costs
// no round trip, while the driver binds a multi-row INSERT's values with a scan over all of them per value
// (cost grows with the square of the rows per statement: the bench measured 20k rows/s at 500 rows each).
func importSQLite(ctx context.Context, db *gorm.DB, groupID int64, next func() ([]Contact, error)) (int64, error) {
	var total int64
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := LockGroup(tx, groupID); err != nil {
			return err
		}
		pool := tx.Statement.ConnPool
		ins, err := pool.PrepareContext(ctx, `INSERT INTO contacts (first_name, last_name, phone, phone_rev, email,
			address, custom1, custom2, custom3, description, user_id, created_at, updated_at)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`)
		if err != nil {
			return err
		}
		defer ins.Close()
		link, err := pool.PrepareContext(ctx, `INSERT INTO contact_links (group_id, contact_id) VALUES (?, ?)`)
		if err != nil {
			return err
		}
		defer link.Close()
		for {
			cs, err := next()
			if err != nil || len(cs) == 0 {
				if err == nil {
					err = addToTotal(tx, groupID, total)
				}
				return err
			}
			for i := range cs {
				if err := insertOneSQLite(ctx, ins, link, groupID, &cs[i]); err != nil {
					return err
				}
			}
			total += int64(len(cs))
		}
	})
	return total, err
}

func insertOneSQLite(ctx context.Context, ins, link *sql.Stmt, groupID int64, c *Contact) error {
	res, err := ins.ExecContext(ctx, c.FirstName, c.LastName, c.Phone, reverse(c.Phone), c.Email, c.Address,
		c.Custom1, c.Custom2, c.Custom3, c.Description, c.UserID, c.CreatedAt, c.UpdatedAt)
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
	"custom1", "custom2", "custom3", "description", "user_id", "created_at", "updated_at"}

func copyRow(c *Contact) []any {
	return []any{c.ID, c.FirstName, c.LastName, c.Phone, reverse(c.Phone), c.Email, c.Address,
		c.Custom1, c.Custom2, c.Custom3, c.Description, c.UserID, c.CreatedAt, c.UpdatedAt}
}

// importPostgres streams each batch with COPY, on one connection in one pgx transaction (the bench
// measured 39k rows/s for INSERT … SELECT unnest and 49k for COPY at a million rows). Ids come from the
// sequence first, so the links can be copied too.
func importPostgres(ctx context.Context, db *gorm.DB, groupID int64, next func() ([]Contact, error)) (int64, error) {
	sqlDB, err := db.DB()
	if err != nil {
		return 0, err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	var total int64
	err = conn.Raw(func(driverConn any) error {
		sc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("bulk import: unexpected Postgres driver %T", driverConn)
		}
		return pgx.BeginFunc(ctx, sc.Conn(), func(tx pgx.Tx) error {
			// Lock the group row: a concurrent delete waits for the import instead of racing it.
			var id int64
			err := tx.QueryRow(ctx, `SELECT group_id FROM contact_groups WHERE group_id = $1 FOR UPDATE`, groupID).Scan(&id)
			if errors.Is(err, pgx.ErrNoRows) {
				return groupNotFound(groupID)
			}
			if err != nil {
				return err
			}
			for {
				cs, err := next()
				if err != nil {
					return err
				}
				if len(cs) == 0 {
					break
				}
				if err := copyBatch(ctx, tx, groupID, cs); err != nil {
					return err
				}
				total += int64(len(cs))
			}
			_, err = tx.Exec(ctx, `UPDATE contact_groups SET contact_total = contact_total + $1, updated_at = $2 WHERE group_id = $3`,
				total, time.Now().Unix(), groupID)
			return err
		})
	})
	if err != nil {
		return 0, err
	}
	return total, nil
}

func copyBatch(ctx context.Context, tx pgx.Tx, groupID int64, cs []Contact) error {
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
		pgx.CopyFromSlice(len(cs), func(i int) ([]any, error) { return copyRow(&cs[i]), nil })); err != nil {
		return err
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"contact_links"}, []string{"group_id", "contact_id"},
		pgx.CopyFromSlice(len(ids), func(i int) ([]any, error) { return []any{groupID, ids[i]}, nil }))
	return err
}
