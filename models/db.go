// Package models holds Switchboard's storage: GORM models, migrations and queries, on SQLite or Postgres.
// It never imports the generated API packages: handlers convert between wire types and these.
package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"os"
	"strings"
	"time"

	gosqlite "github.com/glebarez/go-sqlite"
	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// DefaultSQLitePath is the embedded store used when DATABASE_URL is empty.
const DefaultSQLitePath = "switchboard.db"

// sqlitePragmas: busy_timeout must come first; WAL with a size limit so the -wal file does not grow
// without bound; an 8 MiB page cache per connection (the 2 MiB default made a million-row import thrash the
// indexes: 30k rows/s against 35k; 16 MiB gave no more speed and 102 MB peak RSS at a million rows against
// 87 MB); immediate transactions so two writers wait for each other instead of failing.
const sqlitePragmas = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(ON)" +
	"&_pragma=synchronous(NORMAL)&_pragma=journal_size_limit(67108864)&_pragma=cache_size(-8192)&_txlock=immediate"

// Open connects to the store named by url: empty or "sqlite:PATH" for the embedded SQLite file,
// "postgres://…" or "postgresql://…" for Postgres.
func Open(url string) (*gorm.DB, error) {
	// No gorm PrepareStmt: its statement cache is shared by the whole pool, and a transaction that needs a
	// statement another request is still preparing waits for that prepare, which waits for a free
	// connection; on SQLite every other connection can be a writer queued behind that transaction's write
	// lock, so all of them stall until busy_timeout. Postgres keeps a per-connection prepared-statement
	// cache in pgx (least recently used, 512 statements), bounded without gorm; SQLite parses in process.
	cfg := &gorm.Config{Logger: logger.Default.LogMode(logger.Silent), TranslateError: true}
	var (
		db  *gorm.DB
		err error
	)
	switch {
	case url == "" || strings.HasPrefix(url, "sqlite:"):
		path := strings.TrimPrefix(url, "sqlite:")
		if path == "" {
			path = DefaultSQLitePath
		}
		if err := createPrivate(path); err != nil {
			return nil, err
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		db, err = openSQLite(path+sep+sqlitePragmas, cfg)
		if err == nil {
			sqlDB, _ := db.DB()
			// Readers run in parallel under WAL; writers queue on busy_timeout.
			sqlDB.SetMaxOpenConns(8)
			sqlDB.SetMaxIdleConns(8)
		}
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		db, err = gorm.Open(postgres.Open(url), cfg)
		if err == nil {
			sqlDB, _ := db.DB()
			sqlDB.SetMaxOpenConns(20)
			sqlDB.SetMaxIdleConns(20)
			sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		}
	default:
		return nil, fmt.Errorf("DATABASE_URL: want empty, sqlite:PATH or postgres://…, got scheme of %q", redact(url))
	}
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return db, nil
}

// openSQLite opens the embedded store with its write transactions queued on one gate (sqlitegate.go).
func openSQLite(dsn string, cfg *gorm.Config) (*gorm.DB, error) {
	// The registered driver instance: it carries the functions registered in init (sb_lower).
	probe, err := sql.Open(sqlite.DriverName, "")
	if err != nil {
		return nil, err
	}
	drv := probe.Driver()
	_ = probe.Close()
	pool := sql.OpenDB(&gatedConnector{dsn: dsn, drv: drv, gate: &writeGate{}})
	db, err := gorm.Open(sqlite.Dialector{DSN: dsn, Conn: pool}, cfg)
	if err != nil {
		_ = pool.Close()
	}
	return db, err
}

// SQLite's lower() folds ASCII only; Postgres's folds all of Unicode. sb_lower gives SQLite Go's folding,
// so case-insensitive search answers alike on both stores (see Lower). Registered with the driver, which
// installs it on every connection it opens (so before any opens: init); deterministic, so SQLite computes
// it once for a constant argument.
func init() {
	gosqlite.MustRegisterDeterministicScalarFunction("sb_lower", 1,
		func(_ *gosqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			switch v := args[0].(type) {
			case string:
				return strings.ToLower(v), nil
			case []byte:
				return strings.ToLower(string(v)), nil
			default: // NULL stays NULL; numbers have no case
				return v, nil
			}
		})
}

// Lower answers SQL that lowercases expr with the same Unicode folding on either store: lower(expr) on
// Postgres, sb_lower(expr) on SQLite. Compare it with a pattern lowered by strings.ToLower.
func Lower(db *gorm.DB, expr string) string {
	if IsPostgres(db) {
		return "lower(" + expr + ")"
	}
	return "sb_lower(" + expr + ")"
}

// createPrivate creates the SQLite file readable by its owner only, before SQLite does: the file holds
// password hashes and the token secret, and SQLite gives its -wal and -shm files the same mode.
func createPrivate(path string) error {
	name, _, _ := strings.Cut(path, "?")
	if name == "" || name == ":memory:" || strings.HasPrefix(name, "file:") {
		return nil
	}
	f, err := os.OpenFile(name, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("create store file: %w", err)
	}
	return f.Close()
}

// IsPostgres tells which dialect db speaks.
func IsPostgres(db *gorm.DB) bool { return db.Dialector.Name() == "postgres" }

// Ping checks that the store answers.
func Ping(ctx context.Context, db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Close closes the connection pool (and the statements QueryRow prepared on it).
func Close(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	forgetStatements(sqlDB)
	return sqlDB.Close()
}

// redact keeps a URL's scheme only, so a password in it never reaches a log or an error.
func redact(url string) string {
	if i := strings.Index(url, "://"); i >= 0 {
		return url[:i] + "://…"
	}
	if len(url) > 8 {
		return url[:8] + "…"
	}
	return url
}

// CustomPlans runs fn with statements that Postgres plans for their own parameter values on every run
// (plan_cache_mode force_custom_plan, in a read transaction of its own). A cached statement otherwise gets
// a generic plan after five runs, which cannot see how selective a filter's values are: Collect!'s list of
// 100k rows, filtered and sorted, went from 10 to 60–80 ms a page at the sixth run. On SQLite fn runs on db.
func CustomPlans(ctx context.Context, db *gorm.DB, fn func(db *gorm.DB) error) error {
	if !IsPostgres(db) {
		return fn(db)
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SET LOCAL plan_cache_mode = force_custom_plan").Error; err != nil {
			return err
		}
		return fn(tx)
	})
}
