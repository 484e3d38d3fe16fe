package models

import (
	"database/sql"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"gorm.io/gorm"
)

// Step 8: ICTCore transmissions, their attempts (spools) and the attempts' step results; step 9: the tables
// of River, the job queue that delivers them.
//
// Spools and results carry the owner (user_id) of their transmission: they outlive a deleted transmission
// (as in ICTCore), and ownership checks must not need the transmission to still exist. No foreign keys
// for the same reason, and because the dialer writes these rows at a high rate: the ids are checked by
// the writes that make them.

type transmissionV8 struct {
	ID          int64  `gorm:"primaryKey;column:transmission_id"`
	Title       string `gorm:"size:255;not null;default:''"`
	ServiceFlag int    `gorm:"not null"`
	AccountID   *int64 `gorm:"index"` // nil: the owner had no account
	ContactID   int64  `gorm:"not null;index"`
	ProgramID   int64  `gorm:"not null;index"`
	Origin      string `gorm:"size:128;not null;default:''"`
	Direction   string `gorm:"size:16;not null;default:'outbound'"`
	Status      string `gorm:"size:16;not null;default:'pending';index"` // the dialer looks for pending ones
	Response    string `gorm:"size:255;not null;default:''"`
	TryAllowed  int    `gorm:"not null;default:1"`
	TryDone     int    `gorm:"not null;default:0"`
	LastRun     *int64
	CampaignID  *int64 `gorm:"index"`
	UserID      int64  `gorm:"not null;index"`
	CreatedAt   int64  `gorm:"not null;index"`
	UpdatedAt   int64  `gorm:"not null"`
}

func (transmissionV8) TableName() string { return "transmissions" }

type spoolV8 struct {
	ID             int64 `gorm:"primaryKey;column:spool_id"`
	TransmissionID int64 `gorm:"not null;index"`
	TimeSpool      int64 `gorm:"not null"`
	TimeStart      *int64
	TimeConnect    *int64
	TimeEnd        *int64
	Status         string `gorm:"size:16;not null;default:'queued'"`
	Response       string `gorm:"size:255;not null;default:''"`
	ServiceFlag    int    `gorm:"not null"`
	AccountID      *int64
	ProviderID     *int64 // the provider whose gateway made the attempt; nil: the simulator
	Gateway        string `gorm:"size:32;not null;default:''"`
	UserID         int64  `gorm:"not null;index"`
}

func (spoolV8) TableName() string { return "spools" }

type spoolResultV8 struct {
	ID            int64 `gorm:"primaryKey;column:spool_result_id"`
	SpoolID       int64 `gorm:"not null;index"`
	ApplicationID *int64
	Type          string `gorm:"size:80;not null"`
	Name          string `gorm:"size:80;not null"`
	Data          string `gorm:"size:255;not null;default:''"`
	DateCreated   int64  `gorm:"not null"`
	UserID        int64  `gorm:"not null"`
}

func (spoolResultV8) TableName() string { return "spool_results" }

func migrateV8(tx *gorm.DB) error {
	return tx.Migrator().CreateTable(&transmissionV8{}, &spoolV8{}, &spoolResultV8{})
}

// migrateRiver (step 9) brings River's own tables up to the version of the River linked in: one River
// version per transaction on the migrating connection, because on Postgres a version may use an enum value
// an earlier one adds, which Postgres refuses in the transaction that added it. Through database/sql on
// both stores: each transaction is a *sql.Tx of gorm's pool, which riverdatabasesql (Postgres) and
// riversqlite take as it is. River skips the versions it finds applied, so an interrupted run resumes, and
// a later River that brings migrations of its own gets a step of ours that calls this again.
func migrateRiver(conn *gorm.DB) error {
	if IsPostgres(conn) {
		return riverUp(conn, riverdatabasesql.New(nil))
	}
	return riverUp(conn, riversqlite.New(nil))
}

func riverUp(conn *gorm.DB, drv riverdriver.Driver[*sql.Tx]) error {
	m, err := rivermigrate.New(drv, &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	for {
		applied := 0
		err := conn.Transaction(func(tx *gorm.DB) error {
			sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
			if !ok {
				return fmt.Errorf("not a database/sql transaction (%T)", tx.Statement.ConnPool)
			}
			// MigrateTx one version at a time is what River's Migrate does, except that Migrate decides
			// what to apply before its transactions begin, so two SQLite processes starting together both
			// apply version 1; here each transaction reads River's migration table itself, after taking
			// the write lock (SQLite) or behind our advisory lock (Postgres).
			//lint:ignore SA1019 see above: Migrate races on SQLite.
			res, err := m.MigrateTx(tx.Statement.Context, sqlTx, rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{MaxSteps: 1})
			if err != nil {
				return err
			}
			applied = len(res.Versions)
			return nil
		})
		if err != nil {
			return fmt.Errorf("river migrations: %w", err)
		}
		if applied == 0 {
			return nil
		}
	}
}
