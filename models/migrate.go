package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// migration is one schema step. Steps are applied in order, each in its own transaction, and recorded in
// schema_migrations. Add new steps at the end of the list; never edit one that has shipped.
type migration struct {
	version int
	name    string
	up      func(tx *gorm.DB) error
	// own, set instead of up, is a step that needs transactions of its own (River's migrations on Postgres
	// cannot share one: a later version uses an enum value an earlier one adds). It runs on the migrating
	// connection, must be safe to run again after an interruption (and alongside another SQLite process),
	// and is recorded in a transaction of its own once it has run.
	own func(conn *gorm.DB) error
}

var migrations = []migration{
	{1, "users, settings, contacts, groups", migrateV1, nil},
	{2, "contact imports: batched, invisible until done", migrateV2, nil},
	{3, "contact links without foreign keys", migrateV3, nil},
	{4, "blobs: chunked rows for shared media", migrateV4, nil},
	{5, "ICTCore messages: texts, templates, documents, recordings", migrateV5, nil},
	{6, "ICTCore providers, accounts, account settings, permissions", migrateV6, nil},
	{7, "ICTCore programs", migrateV7, nil},
	{8, "ICTCore transmissions, spools, spool results", migrateV8, nil},
	{9, "River job queue tables", nil, migrateRiver},
	{10, "ICTCore account program subscriptions", migrateV10, nil},
	{11, "ICTCore provider gateway_flag", migrateV11, nil},
	{12, "ICTCore schedules", migrateV12, nil},
	{13, "ICTCore spools claimed in batches by a job", migrateV13, nil},
	{14, "ICTCore campaigns", migrateV14, nil},
	{15, "platform API keys", migrateV15, nil},
	{16, "do-not-call lists", migrateV16, nil},
	{17, "Collect! databases, operators and sessions", migrateV17, nil},
	{18, "Collect! record definitions and records", migrateV18, nil},
	{19, "Collect! contact plans and their jobs", migrateV19, nil},
	{20, "Collect! files and forms", migrateV20, nil},
	{21, "Collect! reports", migrateV21, nil},
	{22, "Expertflow CIM schema, contacts, mapping and interactions", migrateV22, nil},
	{23, "uContact users, sessions, campaigns, calls, uploads, dispositions and SMS", migrateV23, nil},
	{24, "Accolades accounts, agents and CRM connection leases", migrateV24, nil},
	{25, "call events, webhook subscriptions and their delivery log", migrateV25, nil},
	{26, "Collect! sessions remember their last rotated refresh token", migrateV26, nil},
	{27, "webhook delivery attempts by time, for retention", migrateV27, nil},
	{28, "Collect! plan runs carry a deadline, so runs orphaned by a stopped node are failed", migrateV28, nil},
	{29, "Collect! rows carry their values as one JSON object, for reads by id", migrateV29, nil},
	{30, "an ICTCore attempt's results are one JSON array on its spool", migrateV30, nil},
	{31, "ICTCore campaign progress as rows the campaign's tick folds in", migrateV31, nil},
	{32, "open ICTCore delivery batches, which later sends may join", migrateV32, nil},
	{33, "an index of ICTCore campaigns' transmissions not yet ended", migrateV33, nil},
}

type schemaMigration struct {
	Version   int `gorm:"primaryKey;autoIncrement:false"`
	Name      string
	AppliedAt int64
}

func (schemaMigration) TableName() string { return "schema_migrations" }

// migrateLockKey is the Postgres advisory lock Migrate holds. Earlier releases took the same key per step
// (pg_advisory_xact_lock); session and transaction locks on one key exclude each other, so a rolling
// upgrade's old and new nodes still take turns.
const migrateLockKey = 7001

// Migrate brings the schema up to date and reports how many steps it applied. Everything, creating
// schema_migrations included, runs on one dedicated connection; on Postgres that connection holds a
// session advisory lock throughout, so nodes that start together migrate one after the other and the later
// ones find nothing to do. Each step still commits or rolls back alone, in its own transaction.
func Migrate(ctx context.Context, db *gorm.DB) (applied int, err error) {
	err = db.WithContext(ctx).Connection(func(conn *gorm.DB) error {
		if IsPostgres(conn) {
			if err := conn.Exec("SELECT pg_advisory_lock(?)", migrateLockKey).Error; err != nil {
				discard(conn) // interrupted: the lock may have been granted all the same
				return fmt.Errorf("migration lock: %w", err)
			}
			defer unlockMigrations(conn)
		}
		// In a transaction too: on SQLite (immediate transactions) that is what serializes two processes.
		if err := conn.Transaction(func(tx *gorm.DB) error { return tx.AutoMigrate(&schemaMigration{}) }); err != nil {
			return fmt.Errorf("schema_migrations: %w", err)
		}
		for _, m := range migrations {
			done := false
			// record applies up (when set) and records the step, unless it is recorded already.
			record := func(up func(tx *gorm.DB) error) func(tx *gorm.DB) error {
				return func(tx *gorm.DB) error {
					var n int64
					if err := tx.Model(&schemaMigration{}).Where("version = ?", m.version).Count(&n).Error; err != nil {
						return err
					}
					if n > 0 {
						return nil
					}
					if up != nil {
						if err := up(tx); err != nil {
							return err
						}
					}
					done = true
					return tx.Create(&schemaMigration{Version: m.version, Name: m.name, AppliedAt: time.Now().Unix()}).Error
				}
			}
			var err error
			if m.own != nil {
				err = migrateOwn(conn, m, record(nil))
			} else {
				err = conn.Transaction(record(m.up))
			}
			if err != nil {
				return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
			}
			if done {
				applied++
			}
		}
		return nil
	})
	return applied, err
}

// migrateOwn runs a step with transactions of its own unless it is recorded, then records it.
func migrateOwn(conn *gorm.DB, m migration, record func(tx *gorm.DB) error) error {
	var n int64
	// A session of its own: conn's statement must not keep this query's model and condition for the
	// steps after this one (it did: step 10 then tried to create schema_migrations).
	if err := conn.Session(&gorm.Session{}).Model(&schemaMigration{}).Where("version = ?", m.version).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if err := m.own(conn); err != nil {
		return err
	}
	return conn.Transaction(record)
}

// unlockMigrations releases the session lock, even when ctx has ended. A connection that cannot say
// whether it released the lock is discarded, never handed back to the pool still holding it (closing it
// ends the session, which releases the lock).
func unlockMigrations(conn *gorm.DB) {
	var released bool
	err := conn.WithContext(context.WithoutCancel(conn.Statement.Context)).
		Raw("SELECT pg_advisory_unlock(?)", migrateLockKey).Row().Scan(&released)
	if err != nil || !released {
		discard(conn)
	}
}

// discard makes the pool close the dedicated connection instead of reusing it.
func discard(conn *gorm.DB) {
	if c, ok := conn.Statement.ConnPool.(*sql.Conn); ok {
		_ = c.Raw(func(any) error { return driver.ErrBadConn })
	}
}

// The v1 structs are frozen copies of the tables as step 1 created them; later steps alter, never edit.
type userV1 struct {
	ID           int64   `gorm:"primaryKey;column:user_id"`
	Username     string  `gorm:"size:128;not null;uniqueIndex"`
	Email        *string `gorm:"size:128;uniqueIndex"`
	PasswordHash string  `gorm:"size:255;not null"`
	FirstName    string  `gorm:"size:128;not null;default:''"`
	LastName     string  `gorm:"size:128;not null;default:''"`
	Phone        string  `gorm:"size:32;not null;default:''"`
	Address      string  `gorm:"size:128;not null;default:''"`
	Company      string  `gorm:"size:128;not null;default:''"`
	Roles        string  `gorm:"size:255;not null;default:''"`
	Active       bool    `gorm:"not null;default:true"`
	CreatedAt    int64   `gorm:"not null"`
	UpdatedAt    int64   `gorm:"not null"`
}

func (userV1) TableName() string { return "users" }

type settingV1 struct {
	Name  string `gorm:"primaryKey;size:64"`
	Value string `gorm:"not null"`
}

func (settingV1) TableName() string { return "settings" }

// contactV1: first_name and last_name have no index on purpose: ICTCore filters them by substring
// (LIKE '%v%'), which no B-tree serves, and each index costs every import a write.
type contactV1 struct {
	ID          int64  `gorm:"primaryKey;column:contact_id"`
	FirstName   string `gorm:"size:64;not null;default:''"`
	LastName    string `gorm:"size:64;not null;default:''"`
	Phone       string `gorm:"size:32;not null;default:''"` // searched through phone_rev
	PhoneRev    string `gorm:"size:32;not null;default:''"` // phone reversed: its index serves suffix (and exact) search
	Email       string `gorm:"size:64;not null;default:'';index"`
	Address     string `gorm:"size:128;not null;default:''"`
	Custom1     string `gorm:"size:128;not null;default:''"`
	Custom2     string `gorm:"size:128;not null;default:''"`
	Custom3     string `gorm:"size:128;not null;default:''"`
	Description string `gorm:"size:255;not null;default:''"`
	UserID      int64  `gorm:"not null;index"`
	CreatedAt   int64  `gorm:"not null;index"`
	UpdatedAt   int64  `gorm:"not null"`
}

func (contactV1) TableName() string { return "contacts" }

type groupV1 struct {
	ID           int64  `gorm:"primaryKey;column:group_id"`
	Name         string `gorm:"size:128;not null;index"`
	Description  string `gorm:"size:255;not null;default:''"`
	ContactTotal int64  `gorm:"not null;default:0"`
	UserID       int64  `gorm:"not null;index"`
	CreatedAt    int64  `gorm:"not null;index"`
	UpdatedAt    int64  `gorm:"not null"`
}

func (groupV1) TableName() string { return "contact_groups" }

type contactLinkV1 struct {
	GroupID   int64     `gorm:"primaryKey;autoIncrement:false"`
	ContactID int64     `gorm:"primaryKey;autoIncrement:false;index"`
	Group     groupV1   `gorm:"foreignKey:GroupID;references:ID;constraint:OnDelete:CASCADE"`
	Contact   contactV1 `gorm:"foreignKey:ContactID;references:ID;constraint:OnDelete:CASCADE"`
}

func (contactLinkV1) TableName() string { return "contact_links" }

func migrateV1(tx *gorm.DB) error {
	if err := tx.Migrator().CreateTable(&userV1{}, &settingV1{}, &contactV1{}, &groupV1{}, &contactLinkV1{}); err != nil {
		return err
	}
	// Byte order ("C" collation on Postgres, SQLite's default BINARY), so a prefix is a range of the index.
	idx := `CREATE INDEX idx_contacts_phone_rev ON contacts (phone_rev)`
	if IsPostgres(tx) {
		idx = `CREATE INDEX idx_contacts_phone_rev ON contacts (phone_rev COLLATE "C")`
	}
	return tx.Exec(idx).Error
}
